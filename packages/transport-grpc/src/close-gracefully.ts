/**
 * A server's last step: `ask` closes politely (stop accepting, GOAWAY to open sessions), `force` destroys
 * whatever is still open `graceMs` later; resolves once `closed` has (the server's 'close' event).
 */
export async function closeGracefully(
  closed: Promise<void>,
  graceMs: number,
  ask: () => void,
  force: () => void,
): Promise<void> {
  ask();
  const cut = setTimeout(force, graceMs);
  cut.unref();
  await closed;
  clearTimeout(cut);
}
