import { readFileSync, statSync } from 'node:fs';
import { ValidationError } from '@forge/core';

/**
 * The platform's own secrets. Each may be given in a file named by `<NAME>_FILE` instead: an
 * environment variable stays readable in `/proc/<pid>/environ` of this process (deleting it from
 * `process.env` does not change that) and of every launcher that passed it on (shell, npx, pnpm),
 * by anything running as the platform's user. A file of mode 0600 owned by the platform's user is
 * read once and is out of reach of agents running as FORGE_AGENT_USER.
 */
export const PLATFORM_SECRETS = [
  'FORGE_API_KEYS',
  'FORGE_HUB_SECRET',
  'FORGE_DATABASE_URL',
  'FORGE_REPLICA_SECRET',
] as const;
export type PlatformSecretName = (typeof PLATFORM_SECRETS)[number];

/** Where one of the platform's secrets came from: what the start-up warning about exposure looks at. */
export interface SecretSource {
  name: PlatformSecretName;
  /** `env`: the variable itself; `file`: the file `<name>_FILE` (or a flag) names; `argv`: a flag's value. */
  from: 'env' | 'file' | 'argv';
  /** The file, for `from: 'file'`. */
  path?: string;
  /** The setting as the operator typed it: `FORGE_HUB_SECRET_FILE`, `--database-url`. */
  setting: string;
}

function bad(setting: string, message: string): never {
  throw new ValidationError('INVALID_CONFIG', `${setting}: ${message}`, [
    { path: setting, code: 'INVALID_CONFIG', message },
  ]);
}

/** Refuses `NAME` together with the file setting for it (`NAME_FILE`, a flag): which one wins would be a guess. */
export function oneSourceOf(
  name: PlatformSecretName,
  env: NodeJS.ProcessEnv,
  file: { setting: string; value: string | undefined } = { setting: `${name}_FILE`, value: env[`${name}_FILE`] },
): void {
  if (env[name] && file.value)
    bad(
      name,
      `both ${name} and ${file.setting} are set; keep only the file (an environment variable can be read from /proc/<pid>/environ)`,
    );
}

/** A secret's text from the file `setting` names, without its trailing newline; unreadable or empty is an error. */
export function readSecretFile(setting: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    bad(setting, `cannot read "${path}": ${(error as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value.trim() === '') bad(setting, `"${path}" is empty`);
  return value;
}

/** The secret `name` from `NAME` or the file `NAME_FILE` names; undefined when neither is set. */
export function secretSetting(
  name: Exclude<PlatformSecretName, 'FORGE_API_KEYS'>,
  env: NodeJS.ProcessEnv,
  sources: SecretSource[],
): string | undefined {
  oneSourceOf(name, env);
  const file = env[`${name}_FILE`];
  if (file) {
    sources.push({ name, from: 'file', path: file, setting: `${name}_FILE` });
    return readSecretFile(`${name}_FILE`, file);
  }
  if (env[name]) sources.push({ name, from: 'env', setting: name });
  return env[name] || undefined;
}

/** Secret files other users may read (mode bits for group or others): `FORGE_HUB_SECRET_FILE (/etc/…, mode 644)`. */
export function looseSecretFiles(sources: readonly SecretSource[]): string[] {
  const loose: string[] = [];
  for (const s of sources) {
    if (s.from !== 'file' || !s.path) continue;
    try {
      const mode = statSync(s.path).mode & 0o777;
      if (mode & 0o077) loose.push(`${s.setting} (${s.path}, mode ${mode.toString(8)})`);
    } catch {
      // Read a moment ago; gone now is not this check's business.
    }
  }
  return loose;
}
