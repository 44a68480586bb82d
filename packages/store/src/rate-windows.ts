import type { Sql } from './sql.js';

/** One count taken in a fixed window. */
export interface RateWindowCount {
  /** Requests counted in the window, this one included. */
  count: number;
  /** Epoch ms the window started. */
  windowStart: number;
}

/**
 * Fixed-window request counters shared by the replicas: each request is one upsert that adds one and returns the
 * new count, so replicas counting the same subject at once never lose a count and all see the same figure.
 */
export class RateWindows {
  #swept = 0;

  constructor(private readonly sql: Sql) {}

  /** Adds one to `bucket`'s count in the window holding `now` and returns it. Sweeps old windows now and then. */
  async take(bucket: string, now: number, windowMs: number): Promise<RateWindowCount> {
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const [row] = await this.sql.query<{ count: number }>(
      `insert into forge_rate_windows (bucket, window_start, count) values ($1, $2, 1)
       on conflict (bucket, window_start) do update set count = forge_rate_windows.count + 1
       returning count`,
      [bucket, windowStart],
    );
    // Once per window per process is enough to keep the table to about two windows of rows.
    if (windowStart > this.#swept) {
      this.#swept = windowStart;
      await this.sweep(windowStart - windowMs);
    }
    return { count: Number(row?.count ?? 1), windowStart };
  }

  /** Removes windows that started before `before` (epoch ms). */
  async sweep(before: number): Promise<number> {
    return (await this.sql.query('delete from forge_rate_windows where window_start < $1 returning bucket', [before]))
      .length;
  }
}
