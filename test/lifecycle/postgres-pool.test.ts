// Issue #11 done-when, on real PostgreSQL in transactional mode with a pool of 5: responses that are
// abandoned (the client leaves before the answer; a handler stuck in a query past maxExecution) roll
// back and give their connection back, and keyed requests keep succeeding.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotency } from '@oncely/server/express';
import { PostgresStore, migrate } from '@oncely/postgres';
import {
  DATABASE_URL,
  postgresUnavailableReason,
  uniqueTable,
} from '../../packages/postgres/src/test-support.js';
import { listen, sleep, slowDownload } from './support.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the PostgreSQL lifecycle tests: ${skipReason}.`);

const POOL_MAX = 5;
const MAX_EXECUTION_MS = 600;

describe.skipIf(skipReason !== undefined)('abandoned responses in transactional mode (pool of 5)', () => {
  const table = uniqueTable('lifecycle');
  const orders = `${table}_orders`;
  let pool: pg.Pool;

  // Named, so the backends left sleeping by the stuck handlers can be ended after the test.
  const applicationName = `oncely-${table}`;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_MAX, application_name: applicationName });
    pool.on('error', () => undefined);
    await migrate(pool, { table });
    await pool.query(`CREATE TABLE "${orders}" (key text NOT NULL)`);
  });
  afterAll(async () => {
    await pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
      [applicationName],
    );
    await pool.query(`DROP TABLE IF EXISTS "${table}", "${orders}"`);
    await pool.end();
  });

  it('gives every connection back, and keyed requests keep succeeding', async () => {
    const store = new PostgresStore({ pool, table, transactional: true });
    const app = express();
    app.use(
      idempotency({ store, scope: 'global', lease: 400, storeTimeout: 200, maxExecution: MAX_EXECUTION_MS }),
    );
    const write = (req: Request) =>
      store
        .currentTransaction()
        .query(`INSERT INTO "${orders}" (key) VALUES ($1)`, [req.get('idempotency-key')]);
    // The client leaves while the answer streams (held until the commit, so it never sees a byte).
    app.post('/download', async (req, res) => {
      await write(req);
      pipeline(slowDownload(100, 20), res, () => undefined);
    });
    // A handler stuck in a query, past maxExecution.
    app.post('/stuck', async (req, res) => {
      await write(req);
      await store.currentTransaction().query('SELECT pg_sleep(30)');
      res.status(201).json({ late: true });
    });
    app.post('/orders', async (req, res) => {
      await write(req);
      res.status(201).json({ ok: true });
    });
    app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(error);
      res.status(500).json({ error: 'internal' });
    });
    const server = await listen(createServer(app));
    const post = (path: string, key: string, signal?: AbortSignal) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'idempotency-key': key, 'content-type': 'application/json' },
        body: '{}',
        ...(signal === undefined ? {} : { signal }),
      });
    try {
      // Twice the pool: each would keep its connection "idle in transaction" if never settled.
      const abandoned = Array.from({ length: 2 * POOL_MAX }, () => randomUUID());
      await Promise.all(
        abandoned.map(async (key) => {
          const controller = new AbortController();
          const pending = post('/download', key, controller.signal).catch(() => undefined);
          await sleep(150);
          controller.abort();
          await pending;
        }),
      );
      const stuck = Array.from({ length: POOL_MAX }, () => randomUUID());
      const stuckAnswers = await Promise.all(stuck.map((key) => post('/stuck', key)));
      expect(stuckAnswers.map((answer) => answer.status)).toEqual(stuck.map(() => 503));
      // Every keyed request after them still gets a connection and commits.
      const fresh = Array.from({ length: 3 * POOL_MAX }, () => randomUUID());
      const answers = await Promise.all(fresh.map((key) => post('/orders', key)));
      expect(answers.map((answer) => answer.status)).toEqual(fresh.map(() => 201));
      const committed = await pool.query<{ key: string }>(`SELECT key FROM "${orders}"`);
      // Only the requests that answered committed their writes; the abandoned ones rolled back.
      expect(committed.rows.map((row) => row.key).sort()).toEqual([...fresh].sort());
      expect(pool.totalCount).toBeLessThanOrEqual(POOL_MAX);
      console.info(
        `transactional pool of ${POOL_MAX}: ${abandoned.length} left mid-answer, ${stuck.length} stuck ` +
          `past maxExecution, then ${fresh.length}/${fresh.length} keyed requests committed ` +
          `(pool: ${pool.totalCount} open, ${pool.idleCount} idle, ${pool.waitingCount} waiting)`,
      );
    } finally {
      await server.close();
    }
  }, 60_000);
});
