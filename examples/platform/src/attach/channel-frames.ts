/**
 * The Kubernetes exec channel protocol (`v5.channel.k8s.io`): binary WebSocket frames whose first
 * byte is the channel. What the platform's attach endpoint speaks, so any Kubernetes exec client works.
 */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

/** v5 adds channel 255 (close one stream: stdin's EOF); v4 clients end stdin by closing the socket. */
export const ATTACH_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export function frame(channel: number, data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(body.byteLength + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

/** A Kubernetes `Status` (metav1) for an exit: what kubectl and client-node read the exit code from. */
export function exitStatus(exit: { code: number | null; signal: string | null }, reason?: string): object {
  if (exit.code === 0) return { metadata: {}, status: 'Success' };
  const code = exit.code ?? 137;
  return {
    metadata: {},
    status: 'Failure',
    message:
      reason ??
      (exit.code === null
        ? `command terminated by signal ${exit.signal ?? 'unknown'}`
        : `command terminated with non-zero exit code: ${code}`),
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** `{"Width":…,"Height":…}` on channel 4; undefined when it is not one. */
export function parseResize(data: Uint8Array): { cols: number; rows: number } | undefined {
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as { Width?: unknown; Height?: unknown };
    const cols = Number(v.Width);
    const rows = Number(v.Height);
    return Number.isInteger(cols) && Number.isInteger(rows) ? { cols, rows } : undefined;
  } catch {
    return undefined;
  }
}
