// Transactional mode end to end over HTTP: Express (and a fetch handler) with
// `PostgresStore({ transactional: true })` on a real PostgreSQL; the handler's business write uses
// `store.currentTransaction()` and commits with the completed record, or not at all.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemType } from '@oncely/core';
import { computeStoreKey } from '@oncely/server';
import type { IdempotencyOptions } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import { withIdempotency } from '@oncely/server/fetch';
import { PostgresStore, migrate } from '@oncely/postgres';
import {
  DATABASE_URL,
  postgresUnavailableReason,
  uniqueTable,
} from '../../packages/postgres/src/test-support.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the transactional HTTP tests: ${skipReason}.`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skipReason !== undefined)('transactional mode over HTTP on PostgreSQL', () => {
  const table = uniqueTable('txhttp');
  const orders = `${table}_orders`;
  let pool: pg.Pool;
  let store: PostgresStore;
  const servers: Server[] = [];

  /** Business rows written for `key`, in commit order. */
  const rowsOf = async (key: string) =>
    (
      await pool.query<{ run: number }>(`SELECT run FROM "${orders}" WHERE key = $1 ORDER BY id`, [key])
    ).rows.map((row) => row.run);
  const recordOf = async (key: string) => store.get(await computeStoreKey('global', key));

  /** Starts an Express app; `handle` runs after the business write, inside the transaction. */
  async function startExpress(
    handle: (req: Request, res: Response, run: number) => Promise<void>,
    options: Partial<IdempotencyOptions<Request>> = {},
  ): Promise<{ url: string; runs: () => number }> {
    let runs = 0;
    const app = express();
    app.use(idempotency({ store, scope: 'global', ...options }));
    app.use(express.json());
    app.post('/orders', async (req, res) => {
      const run = ++runs;
      const key = req.get('idempotency-key');
      await store
        .currentTransaction()
        .query(`INSERT INTO "${orders}" (key, run) VALUES ($1, $2)`, [key, run]);
      await handle(req, res, run);
    });
    app.use((_error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ error: 'internal' });
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, runs: () => runs };
  }

  const post = async (url: string, key: string) => {
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ item: 'book' }),
    });
    const text = await response.text();
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed') === 'true',
      text,
      json: () => JSON.parse(text) as Record<string, unknown>,
    };
  };

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8, connectionTimeoutMillis: 2000 });
    await migrate(pool, { table });
    await pool.query(
      `CREATE TABLE "${orders}" (id bigint GENERATED ALWAYS AS IDENTITY, key text NOT NULL, run integer NOT NULL)`,
    );
    store = new PostgresStore({ pool, table, transactional: true });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await pool.query(`DROP TABLE IF EXISTS "${table}", "${orders}"`);
    await pool.end();
  });

  it('commits the business row with the completed record; a replay runs nothing', async () => {
    const app = await startExpress(async (_req, res, run) => {
      res.status(201).json({ orderId: randomUUID(), run });
    });
    const key = randomUUID();
    const first = await post(app.url, key);
    expect([first.status, first.replayed, first.json().run]).toEqual([201, false, 1]);
    expect(await rowsOf(key)).toEqual([1]);
    const record = await recordOf(key);
    expect(record?.status).toBe('completed');
    expect(new TextDecoder().decode(record!.response!.body!)).toBe(first.text);
    const replay = await post(app.url, key);
    expect([replay.status, replay.replayed, replay.text]).toEqual([201, true, first.text]);
    expect([app.runs(), await rowsOf(key)]).toEqual([1, [1]]);
  });

  it('rolls the row back and releases the key when the handler throws; a retry runs cleanly', async () => {
    let fail = true;
    const app = await startExpress(async (_req, res, run) => {
      if (fail) throw new Error('payment declined by a bug');
      res.status(201).json({ run });
    });
    const key = randomUUID();
    expect((await post(app.url, key)).status).toBe(500);
    expect(await rowsOf(key)).toEqual([]);
    expect(await recordOf(key)).toBeUndefined();
    fail = false;
    const retry = await post(app.url, key);
    expect([retry.status, retry.replayed, retry.json().run]).toEqual([201, false, 2]);
    expect(await rowsOf(key)).toEqual([2]);
  });

  it('answers 409 and rolls back a request whose lease was taken over while it ran', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => (started = resolve));
    // A long lease: the heartbeat does not fire during the test; the lease is expired by hand instead.
    const app = await startExpress(
      async (_req, res, run) => {
        if (run === 1) {
          started();
          await gate; // hangs inside its transaction, its row written but not committed
        }
        res.status(201).json({ run });
      },
      { lease: 60_000 },
    );
    const key = randomUUID();
    const first = post(app.url, key);
    await firstStarted;
    // The first holder "hangs" past its lease: a retry takes the key over and commits.
    await pool.query(`UPDATE "${table}" SET lease_expires_at = now() - interval '1 second' WHERE key = $1`, [
      await computeStoreKey('global', key),
    ]);
    const takeover = await post(app.url, key);
    expect([takeover.status, takeover.replayed, takeover.json().run]).toEqual([201, false, 2]);
    openGate();
    const late = await first;
    expect([late.status, late.json().type]).toEqual([409, ProblemType.requestInProgress]);
    expect(await rowsOf(key)).toEqual([2]);
    const replay = await post(app.url, key);
    expect([replay.status, replay.replayed, replay.text]).toEqual([201, true, takeover.text]);
  });

  it('keeps the whole response back until the commit', async () => {
    const app = await startExpress(async (_req, res, run) => {
      res.status(201).setHeader('content-type', 'text/plain');
      res.write('partial,');
      await sleep(150); // still inside the transaction: nothing may have reached the client
      res.end(`done:${run}`);
    });
    const started = Date.now();
    const response = await fetch(`${app.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: '{}',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140); // headers came after the commit
    expect([response.status, await response.text()]).toEqual([201, 'partial,done:1']);
  });

  it('works with a fetch handler too (withIdempotency from @oncely/server/fetch)', async () => {
    let runs = 0;
    const handler = withIdempotency(
      async (request: globalThis.Request) => {
        const run = ++runs;
        const key = request.headers.get('idempotency-key');
        await store
          .currentTransaction()
          .query(`INSERT INTO "${orders}" (key, run) VALUES ($1, $2)`, [key, run]);
        if (run === 1) throw new Error('first run fails');
        return Response.json({ run }, { status: 201 });
      },
      { store, scope: 'global' },
    );
    const call = () =>
      handler(
        new globalThis.Request('http://localhost/orders', {
          method: 'POST',
          headers: { 'idempotency-key': key },
          body: '{}',
        }),
      );
    const key = randomUUID();
    await expect(call()).rejects.toThrow('first run fails');
    expect(await rowsOf(key)).toEqual([]);
    const second = await call();
    expect([second.status, await second.json()]).toEqual([201, { run: 2 }]);
    const replay = await call();
    expect([replay.headers.get('idempotent-replayed'), await replay.json()]).toEqual(['true', { run: 2 }]);
    expect([runs, await rowsOf(key)]).toEqual([2, [2]]);
  });
});
