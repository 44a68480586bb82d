import { type AgentCapabilities, relayDeclaration } from '@forge/core';
import { acpProviderNotes } from '@forge/acp/internal';
import { claudeCodeProviderNotes } from '@forge/claude-code/internal';
import { codexProviderNotes } from '@forge/codex/internal';
import { dialHomeProviderNotes } from '@forge/dial-home/internal';
import { opencodeProviderNotes } from '@forge/opencode/internal';
import { grpcAgentProviderNotes } from '@forge/transport-grpc/internal';

/*
 * The provider tables of README.md and docs/architecture.md, rendered from what each adapter declares
 * (its `declared-capabilities.ts`, which its `capabilities()` returns too) and the short notes kept beside it
 * (`provider-notes.ts`: how it does what it declares). `pnpm docs` writes them between marker comments;
 * scripts/docs.test.ts fails when a committed table is not what this renders.
 */

type Flag = 'resume' | 'cancel' | 'permissionReplies' | 'questions' | 'textDeltas' | 'reasoning';

/** What an adapter keeps beside its code for the tables. */
export interface ProviderNotes {
  /** The first column (markdown). */
  provider: string;
  package: string;
  /** The adapter's static declaration, or `relayed` for a transport whose capabilities are the remote agent's. */
  capabilities: AgentCapabilities | 'relayed';
  /** Capabilities the agent's own handshake decides at run time (false in the static declaration). */
  probed?: readonly (keyof AgentCapabilities)[];
  notes: Partial<Record<Flag, string>> & {
    /** Tokens and cost, as the adapter reports them. */
    usage: string;
    /** How `run.respond()` / `run.answer()` reach the agent. */
    answers: string;
  };
}

/** Every provider, in table order. */
export const PROVIDERS: readonly ProviderNotes[] = [
  claudeCodeProviderNotes,
  opencodeProviderNotes,
  ...codexProviderNotes,
  ...acpProviderNotes,
  grpcAgentProviderNotes,
  dialHomeProviderNotes,
];

function flagCell(p: ProviderNotes, flag: Flag): string {
  const note = p.notes[flag];
  if (p.capabilities === 'relayed') return note ? `the remote agent's (${note})` : "the remote agent's";
  if (p.probed?.includes(flag)) return note ? `from \`initialize\`: ${note}` : 'from `initialize`';
  const value = p.capabilities[flag] ? 'yes' : 'no';
  return note ? `${value} (${note})` : value;
}

/** A markdown table with padded columns (the layout a formatter would give it). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escapePipes = (cell: string) => cell.replaceAll('|', '\\|');
  const all = [header, ...rows].map((r) => r.map(escapePipes));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(all[0]!), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...all.slice(1).map(line)].join('\n');
}

/** README.md's overview: what each provider does and how. */
export function readmeProviderTable(providers: readonly ProviderNotes[] = PROVIDERS): string {
  return markdownTable(
    [
      'provider',
      'package',
      'resume',
      'cancel',
      'permissions',
      'questions',
      'text deltas',
      'reasoning',
      'usage / cost',
      'optional request fields',
    ],
    providers.map((p) => [
      p.provider,
      `\`${p.package}\``,
      flagCell(p, 'resume'),
      flagCell(p, 'cancel'),
      flagCell(p, 'permissionReplies'),
      flagCell(p, 'questions'),
      flagCell(p, 'textDeltas'),
      flagCell(p, 'reasoning'),
      p.notes.usage,
      honouredFields(p),
    ]),
  );
}

/** docs/architecture.md's "What each provider supports": who answers permissions and questions, and how. */
export function architectureProviderTable(providers: readonly ProviderNotes[] = PROVIDERS): string {
  return markdownTable(
    ['provider', 'permissionReplies', 'questions', 'how the answer travels'],
    providers.map((p) => [p.provider, flagCell(p, 'permissionReplies'), flagCell(p, 'questions'), p.notes.answers]),
  );
}

/** The declared request fields and run features, in column order, with their column titles. */
const FIELD_COLUMNS: readonly [keyof AgentCapabilities, string][] = [
  ['attachments', 'files'],
  ['images', 'images'],
  ['systemPrompt', 'systemPrompt'],
  ['toolFilter', 'allowed/disallowedTools'],
  ['maxTurns', 'maxTurns'],
  ['env', 'per-run env'],
  ['mcpServers', 'mcpServers'],
  ['structuredOutput', 'outputSchema'],
  ['effort', 'effort'],
  ['approvals', 'approvals'],
  ['questionDeadlines', 'questions.unanswered'],
  ['budget', 'budget'],
  ['fork', 'fork'],
  ['steering', 'steer()'],
  ['sessionPortability', 'session portability'],
];

function fieldCell(p: ProviderNotes, field: keyof AgentCapabilities): string {
  if (p.capabilities === 'relayed') {
    const relay = relayDeclaration();
    if (relay.probed.includes(field)) return "the remote agent's";
    return 'no (not on the wire yet)';
  }
  if (p.probed?.includes(field)) return 'from `initialize`';
  const value = p.capabilities[field];
  return value === true ? 'yes' : value === false ? 'no' : String(value);
}

/** README's one-cell summary of FIELD_COLUMNS: what the provider honours (everything else is refused up front). */
function honouredFields(p: ProviderNotes): string {
  if (p.capabilities === 'relayed') {
    const unrelayed = FIELD_COLUMNS.filter(([field]) => fieldCell(p, field) !== "the remote agent's");
    return unrelayed.length
      ? `the remote agent's; ${unrelayed.map(([, title]) => title).join(', ')} not on the wire yet`
      : "the remote agent's, every field (each crosses the wire)";
  }
  const cells = FIELD_COLUMNS.filter(([field]) => field !== 'steering' && field !== 'sessionPortability').map(
    ([field, title]) => ({ title, cell: fieldCell(p, field) }),
  );
  const parts = cells.flatMap(({ title, cell }) =>
    cell === 'no' ? [] : cell === 'yes' ? [title] : [`${title} (${cell})`],
  );
  return parts.length ? parts.join(', ') : 'none';
}

/** docs/architecture.md's "The request, the events, the declaration": what each provider honours, refuses the rest. */
export function fieldsProviderTable(providers: readonly ProviderNotes[] = PROVIDERS): string {
  return markdownTable(
    ['provider', ...FIELD_COLUMNS.map(([, title]) => title)],
    providers.map((p) => [p.provider, ...FIELD_COLUMNS.map(([field]) => fieldCell(p, field))]),
  );
}

/** The generated regions: file (from the repository root) → marker name → content. */
export function generatedRegions(): Record<string, Record<string, string>> {
  return {
    'README.md': { providers: readmeProviderTable(), 'provider-fields': fieldsProviderTable() },
    'docs/architecture.md': {
      providers: readmeProviderTable(),
      'provider-replies': architectureProviderTable(),
      'provider-fields': fieldsProviderTable(),
    },
  };
}

const begin = (name: string) =>
  `<!-- generated:${name} — \`pnpm docs\` writes this from each adapter's declared-capabilities.ts and provider-notes.ts; do not edit -->`;
const end = (name: string) => `<!-- /generated:${name} -->`;

/** `markdown` with each marked region replaced; throws when a region's markers are missing. */
export function replaceRegions(markdown: string, regions: Record<string, string>, file: string): string {
  let out = markdown;
  for (const [name, content] of Object.entries(regions)) {
    const pattern = new RegExp(`<!-- generated:${name}[ —][^\\n]*-->\\n[\\s\\S]*?<!-- /generated:${name} -->`);
    if (!pattern.test(out)) throw new Error(`${file}: no ${begin(name)} … ${end(name)} markers`);
    out = out.replace(pattern, () => `${begin(name)}\n\n${content}\n\n${end(name)}`);
  }
  return out;
}
