import type { Logger } from '@forge/core';

/**
 * One JSON object per line on stdout, easy to read and to collect. FORGE_DEBUG=1 adds debug lines. `also` gets
 * each line too (without its newline): the log the platform reads over the link.
 */
export function jsonLogger(
  write: (line: string) => void = (l) => process.stdout.write(l),
  debug = process.env.FORGE_DEBUG === '1',
  also?: (line: string) => void,
): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
    write(`${line}\n`);
    also?.(line);
  };
  return { debug: debug ? log('debug') : () => {}, info: log('info'), warn: log('warn'), error: log('error') };
}
