import { ForgeError, type PermissionDecision } from '@forge/core';

export interface PermissionOptionLike {
  optionId: string;
  kind: string;
  name?: string;
}

/** Which ACP option kinds answer each Forge decision, best first. */
const KINDS: Record<PermissionDecision, readonly string[]> = {
  allow: ['allow_once', 'allow_always'],
  allow_always: ['allow_always', 'allow_once'],
  deny: ['reject_once', 'reject_always'],
};

/**
 * The option that answers a decision: `allow` → `allow_once` (else `allow_always`), `allow_always`
 * → `allow_always` (else `allow_once`), `deny` → `reject_once` (else `reject_always`). An agent that
 * offers none of them gets no guess: the caller is told (`PERMISSION_OPTION_MISSING`).
 */
export function pickPermissionOption(options: readonly PermissionOptionLike[], decision: PermissionDecision): string {
  for (const kind of KINDS[decision]) {
    const option = options.find((o) => o.kind === kind);
    if (option) return option.optionId;
  }
  throw new ForgeError(
    'PERMISSION_OPTION_MISSING',
    `The agent offered no option for "${decision}" (offered: ${options.map((o) => `${o.optionId}/${o.kind}`).join(', ') || 'none'})`,
    'provider',
    { details: { decision, options } },
  );
}
