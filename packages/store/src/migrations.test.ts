import { describe, expect, it } from 'vitest';
import type { NewEvent } from './journal-chunks.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { pgliteClient } from './pglite-client.js';
import { RunStore } from './run-store.js';

const ev = (seq: number, type = 'text.delta'): NewEvent => ({
  seq,
  type,
  time: 1_000 + seq,
  body: JSON.stringify({ type, seq }),
});

describe('migration 2 (journal in chunks)', () => {
  it('carries a version-1 journal over: every event readable, in order, with its outbox row', async () => {
    const sql = await pgliteClient();
    try {
      await migrate(sql, MIGRATIONS.slice(0, 1));
      await sql.query(
        `insert into forge_runs (request_id, user_id, agent_id, status, request, created_at) values ('req_v1', 'u', 'a', 'running', '{}', 1)`,
      );
      for (const e of [ev(1), ev(2), ev(3, 'run.completed')])
        await sql.query('insert into forge_events (request_id, seq, type, time, body) values ($1, $2, $3, $4, $5)', [
          'req_v1',
          e.seq,
          e.type,
          e.time + 0.5,
          e.body,
        ]);
      await sql.query(
        `insert into forge_outbox (request_id, seq, webhook_id, is_final) values ('req_v1', 3, 'msg_v1_3', true)`,
      );
      // Applied in version order, whatever order the list is written in (operator migrations are spread in last).
      expect(await migrate(sql)).toEqual(
        MIGRATIONS.slice(1)
          .map((m) => m.version)
          .sort((a, b) => a - b),
      );
      const runs = new RunStore(sql);
      expect(await runs.events('req_v1', 0)).toEqual(
        [ev(1), ev(2), ev(3, 'run.completed')].map((e) => ({
          seq: e.seq,
          type: e.type,
          time: e.time + 0.5,
          body: e.body,
        })),
      );
      expect((await runs.pendingOutbox('req_v1')).map((o) => [o.seq, o.webhookId, o.isFinal])).toEqual([
        [3, 'msg_v1_3', true],
      ]);
    } finally {
      await sql.close();
    }
  });
});
