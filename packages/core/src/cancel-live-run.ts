/** `CodeAgent.cancel` over a map of the agent's live runs: false when the run is not (or no longer) live. */
export async function cancelLiveRun(
  live: ReadonlyMap<string, { cancel(): Promise<unknown> }>,
  runId: string,
): Promise<boolean> {
  const run = live.get(runId);
  if (!run) return false;
  await run.cancel();
  return true;
}
