import type { Logger } from '@forge/core';

/** One JSON object per line on stdout, easy to read and to collect. FORGE_DEBUG=1 adds debug lines. */
export function jsonLogger(
  write: (line: string) => void = (l) => process.stdout.write(l),
  debug = process.env.FORGE_DEBUG === '1',
): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  return { debug: debug ? log('debug') : () => {}, info: log('info'), warn: log('warn'), error: log('error') };
}
