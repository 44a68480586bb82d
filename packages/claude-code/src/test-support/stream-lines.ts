/** Stream-json lines as the CLI prints them, for scripted processes. */
/** One stream-json line, newline-terminated. */
export const line = (message: Record<string, unknown>) => `${JSON.stringify(message)}\n`;

export const SESSION = '0b6c8f6e-1111-4222-8333-944455556666';

export const initLine = (sessionId = SESSION) =>
  line({
    type: 'system',
    subtype: 'init',
    session_id: sessionId,
    cwd: '/work',
    model: 'claude-test',
    tools: ['Bash', 'Read'],
    permissionMode: 'default',
  });

export const assistantText = (text: string, id = 'msg_1') =>
  line({
    type: 'assistant',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content: [{ type: 'text', text }],
      usage: { input_tokens: 10, output_tokens: 3 },
    },
    session_id: SESSION,
  });

export const resultLine = (fields: Record<string, unknown> = {}) =>
  line({
    type: 'result',
    subtype: 'success',
    is_error: false,
    duration_ms: 12,
    num_turns: 1,
    result: 'Hello.',
    session_id: SESSION,
    total_cost_usd: 0.001,
    usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 1, cache_creation_input_tokens: 2 },
    ...fields,
  });

/** What the CLI prints after SIGINT: the interruption, then an error result with the session id. */
export const interruptedLines = () =>
  line({
    type: 'user',
    message: { role: 'user', content: [{ type: 'text', text: '[Request interrupted by user]' }] },
    session_id: SESSION,
  }) + resultLine({ subtype: 'error_during_execution', is_error: true, result: undefined, num_turns: 1 });
