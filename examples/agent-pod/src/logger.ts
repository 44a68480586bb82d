import type { Logger } from '@forge/core';

/** One JSON object per line on stdout: what container log collectors expect. */
export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  return { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') };
}
