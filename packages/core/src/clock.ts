/** Injectable time source, so tests can control `time` and `durationMs`. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
