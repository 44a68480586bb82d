/** A day: long enough for any real run, short enough to catch a unit mistake (seconds vs ms). */
export const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
