import type { ApprovalRule, Approvals } from './run-policies.js';

export type RuleDecision = 'allow' | 'deny' | 'ask';

/** Decides one permission request by `approvals`: the first rule that matches, else `default` (ask). */
export type ApprovalMatcher = (tool: string, input: unknown) => RuleDecision;

type Test = (value: string) => boolean;

/**
 * A wildcard pattern as a test: `*` any run of characters (`/` included), `?` one character, and the whole value
 * must match. These are not file globs (`*` stops at `/` in picomatch and minimatch, and `{a,b}`, `[…]`, `**` mean
 * things here they must not), so the pattern is turned into an anchored regular expression once, and patterns
 * without wildcards are plain comparisons.
 */
export function wildcardTest(pattern: string): Test {
  if (!/[*?]/.test(pattern)) return (value) => value === pattern;
  const star = pattern.indexOf('*');
  // `prefix*`, the most common form ("git *", "mcp__*"), needs no regular expression.
  if (star === pattern.length - 1 && !pattern.includes('?')) {
    const prefix = pattern.slice(0, -1);
    return (value) => value.startsWith(prefix);
  }
  const source = Array.from(pattern)
    .map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${source}$`, 'u');
  return (value) => re.test(value);
}

interface CompiledRule {
  tool: Test;
  input: [field: string, test: Test][];
  decision: RuleDecision;
}

/** A field's value as the text a pattern is matched against; objects and arrays never match. */
function fieldText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function compileRule(rule: ApprovalRule): CompiledRule {
  return {
    tool: wildcardTest(rule.tool),
    input: Object.entries(rule.input ?? {}).map(([field, pattern]) => [field, wildcardTest(pattern)]),
    decision: rule.decision,
  };
}

function matches(rule: CompiledRule, tool: string, input: unknown): boolean {
  if (!rule.tool(tool)) return false;
  if (rule.input.length === 0) return true;
  if (input === null || typeof input !== 'object') return false;
  for (const [field, test] of rule.input) {
    const text = fieldText((input as Record<string, unknown>)[field]);
    if (text === undefined || !test(text)) return false;
  }
  return true;
}

/** Compiles `approvals` once per run; each request is then matched without building anything. */
export function compileApprovals(approvals: Approvals): ApprovalMatcher {
  const rules = (approvals.rules ?? []).map(compileRule);
  const fallback: RuleDecision = approvals.default ?? 'ask';
  return (tool, input) => {
    for (const rule of rules) if (matches(rule, tool, input)) return rule.decision;
    return fallback;
  };
}
