import { defaultResponder, type FakeApiRequest, type FakeResponder } from './fake-anthropic-api.js';

/** The tool the CLI offers the model for `--json-schema`; the run's `structured_output` is its input. */
export const STRUCTURED_OUTPUT_TOOL = 'StructuredOutput';

/**
 * Calls `tool` once with `input` (when the request offers it), then echoes what the tool answered:
 * "Offline stand-in model here. The tool answered: …". Without the tool on offer, it says so.
 */
export function callToolScenario(tool: string, input: unknown = {}): FakeResponder {
  return (req) => {
    if (req.hasToolResult) return defaultResponder(req);
    if (!req.tools.includes(tool)) return { text: `No tool ${tool} was offered (${req.tools.length} tools).` };
    return { toolUse: { name: tool, input } };
  };
}

/** Calls the `nonce` tool of the MCP server `server` (as the CLI names it) and echoes the nonce it answered. */
export const mcpNonceScenario = (server = 'probe'): FakeResponder => callToolScenario(`mcp__${server}__nonce`, {});

/**
 * Gives `value` as the structured answer: through the CLI's `StructuredOutput` tool when the request offers it
 * (`--json-schema`), else as JSON text (what a program without a native tool gets).
 */
export function structuredOutputScenario(value: unknown): FakeResponder {
  return (req) => {
    if (req.tools.includes(STRUCTURED_OUTPUT_TOOL) && !req.hasToolResult)
      return { toolUse: { name: STRUCTURED_OUTPUT_TOOL, input: value } };
    return { text: JSON.stringify(value) };
  };
}

/** Says which images and documents reached it: "Received 2: image image/png 68 bytes; document …". */
export const attachmentsScenario: FakeResponder = (req: FakeApiRequest) => ({
  text: `Received ${req.attachments.length}${req.attachments.length ? ': ' : ''}${req.attachments
    .map((a) => `${a.type} ${a.mediaType} ${a.size} bytes${a.title ? ` "${a.title}"` : ''}`)
    .join('; ')}`,
});

/**
 * A runaway: calls `tool` on every model turn (`input(n)` for the n-th call, from 1), whatever the tool answered,
 * so only a budget, a cancel or a timeout stops the run. Requests the scenario does not own (`done(req)` true,
 * e.g. a follow-up prompt on the resumed session) get the default answer.
 */
export function runawayScenario(
  tool: string,
  input: (n: number) => unknown,
  done: (req: FakeApiRequest) => boolean = () => false,
): FakeResponder {
  let calls = 0;
  return (req) => (done(req) ? defaultResponder(req) : { toolUse: { name: tool, input: input(++calls) } });
}

/** The words every repair prompt of core starts with ("Your answer did not match the required JSON Schema: …"). */
export const REPAIR_MARKER = 'did not match the required JSON Schema';

/**
 * Structured output that needs core's repair turn: answers `first` (as `structuredOutputScenario` does) until the
 * newest user message is core's repair prompt, then `repaired`. `repaired` equal to `first` never matches.
 */
export function outputRepairScenario(first: unknown, repaired: unknown): FakeResponder {
  let repairing = false;
  const before = structuredOutputScenario(first);
  const after = structuredOutputScenario(repaired);
  return (req) => {
    if (req.lastUserText.includes(REPAIR_MARKER)) repairing = true;
    return (repairing ? after : before)(req);
  };
}
