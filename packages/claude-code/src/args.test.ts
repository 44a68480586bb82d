import { validateRequest, type AgentRequestInput } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { buildClaudeArgs, sessionArgs } from './args.js';

const args = (input: Omit<AgentRequestInput, 'prompt'>) => buildClaudeArgs(validateRequest({ prompt: 'x', ...input }));
const flag = (all: string[], name: string) => all.filter((a) => a === name || a.startsWith(`${name}=`));

describe('buildClaudeArgs', () => {
  it('gives MCP servers as one inline --mcp-config with --strict-mcp-config: stdio, http and sse', () => {
    const all = args({
      mcpServers: [
        { name: 'probe', command: '/usr/bin/node', args: ['server.mjs', '--flag'], env: { TOKEN: 't' } },
        { name: 'docs', url: 'https://docs.example/mcp', headers: { authorization: 'Bearer x' } },
        { name: 'old', url: 'http://127.0.0.1:9/sse', transport: 'sse' },
      ],
    });
    const [config] = flag(all, '--mcp-config');
    expect(JSON.parse(config!.slice('--mcp-config='.length))).toEqual({
      mcpServers: {
        probe: { type: 'stdio', command: '/usr/bin/node', args: ['server.mjs', '--flag'], env: { TOKEN: 't' } },
        docs: { type: 'http', url: 'https://docs.example/mcp', headers: { authorization: 'Bearer x' } },
        old: { type: 'sse', url: 'http://127.0.0.1:9/sse' },
      },
    });
    expect(all).toContain('--strict-mcp-config');
    // No servers, no flags: the CLI's own configuration applies as before.
    expect(flag(args({}), '--mcp-config')).toEqual([]);
    expect(args({ mcpServers: [] })).not.toContain('--strict-mcp-config');
  });

  it('passes outputSchema as --json-schema and effort as --effort', () => {
    const schema = { type: 'object', properties: { verdict: { type: 'string' } }, required: ['verdict'] };
    const all = args({ outputSchema: schema, effort: 'high' });
    expect(JSON.parse(flag(all, '--json-schema')[0]!.slice('--json-schema='.length))).toEqual(schema);
    expect(flag(all, '--effort')).toEqual(['--effort=high']);
  });

  it('passes the native budget caps: --max-budget-usd, and the tighter of maxTurns and budget.maxTurns', () => {
    expect(flag(args({ budget: { maxCostUsd: 0.25 } }), '--max-budget-usd')).toEqual(['--max-budget-usd=0.25']);
    expect(flag(args({ budget: { maxTurns: 4 } }), '--max-turns')).toEqual(['--max-turns=4']);
    expect(flag(args({ maxTurns: 3, budget: { maxTurns: 9 } }), '--max-turns')).toEqual(['--max-turns=3']);
    expect(flag(args({ maxTurns: 9, budget: { maxTurns: 3 } }), '--max-turns')).toEqual(['--max-turns=3']);
    // maxTokens has no flag of its own: core enforces it from the usage events.
    expect(args({ budget: { maxTokens: 1000 } }).join(' ')).not.toMatch(/max-(turns|budget)/);
  });

  it('forks with --resume <id> --fork-session; the warm-session key (sessionArgs) has neither', () => {
    const request = validateRequest({ prompt: 'x', sessionId: 'ses-1', fork: true });
    const all = buildClaudeArgs(request);
    expect(all.slice(all.indexOf('--resume=ses-1'), all.indexOf('--resume=ses-1') + 2)).toEqual([
      '--resume=ses-1',
      '--fork-session',
    ]);
    expect(buildClaudeArgs(validateRequest({ prompt: 'x', sessionId: 'ses-1' }))).not.toContain('--fork-session');
    expect(sessionArgs(request).join(' ')).not.toMatch(/resume|fork/);
  });
});
