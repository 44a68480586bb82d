import type { Sql } from './sql.js';

/** What one API key spent on one UTC day. */
export interface Spend {
  costUsd: number;
  tokens: number;
}

/** The UTC day of `ms` as stored: `2026-12-07`. */
export const spendDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Each API key's spend per UTC day, added to in one statement (an upsert), so replicas counting runs of one key
 * at once never lose an addition and all read the same figure.
 */
export class KeySpend {
  constructor(private readonly sql: Sql) {}

  /** Adds to the key's figure for `day` and returns the new total. */
  async add(keyId: string, day: string, spend: Spend): Promise<Spend> {
    const [row] = await this.sql.query(
      `insert into forge_key_spend (key_id, day, cost_usd, tokens) values ($1, $2, $3, $4)
       on conflict (key_id, day) do update
         set cost_usd = forge_key_spend.cost_usd + excluded.cost_usd, tokens = forge_key_spend.tokens + excluded.tokens
       returning cost_usd, tokens`,
      [keyId, day, spend.costUsd, spend.tokens],
    );
    return { costUsd: Number(row?.cost_usd ?? 0), tokens: Number(row?.tokens ?? 0) };
  }

  async get(keyId: string, day: string): Promise<Spend> {
    const [row] = await this.sql.query('select cost_usd, tokens from forge_key_spend where key_id = $1 and day = $2', [
      keyId,
      day,
    ]);
    return { costUsd: Number(row?.cost_usd ?? 0), tokens: Number(row?.tokens ?? 0) };
  }

  /** Removes days before `day` (retention). */
  async sweep(beforeDay: string): Promise<number> {
    return (await this.sql.query('delete from forge_key_spend where day < $1 returning key_id', [beforeDay])).length;
  }
}
