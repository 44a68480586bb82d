/** A NUL cannot cross argv or the environment: the spawn would fail, so it is refused as bad input. */
export const noNul = (s: string): boolean => !s.includes('\u0000');
export const NUL_MESSAGE = 'must not contain a NUL byte';
