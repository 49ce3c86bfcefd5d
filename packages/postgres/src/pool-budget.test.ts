// Transactional mode with as many long handlers as the pool has connections: the lease heartbeats must
// still get a connection, or another instance takes the keys over and the handlers run twice.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemType } from '@oncely/core';
import { withIdempotency } from '@oncely/server/node';
import { PostgresStore, migrate } from './index.js';
import { DATABASE_URL, postgresUnavailableReason, uniqueTable } from './test-support.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the pool budget tests: ${skipReason}.`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const POOL_SIZE = 3;
const LEASE = 400;

describe.skipIf(skipReason !== undefined)('transactional mode keeps connections for heartbeats', () => {
  const table = uniqueTable('budget');
  const ledger = `${table}_ledger`;
  let admin: pg.Pool;
  const pools: pg.Pool[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    await migrate(admin, { table });
    await admin.query(`CREATE TABLE "${ledger}" (key text NOT NULL)`);
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await Promise.all(pools.map((pool) => pool.end()));
    await admin.query(`DROP TABLE IF EXISTS "${table}", "${ledger}"`);
    await admin.end();
  });

  /** One server instance with its own pool of `max` connections, on the shared table. */
  async function startInstance(max: number, handle: (store: PostgresStore, key: string) => Promise<void>) {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max });
    pools.push(pool);
    const store = new PostgresStore({ pool, table, transactional: true });
    let runs = 0;
    const listener = async (req: IncomingMessage, res: ServerResponse) => {
      runs++;
      const key = String(req.headers['idempotency-key']);
      await store.currentTransaction().query(`INSERT INTO "${ledger}" (key) VALUES ($1)`, [key]);
      await handle(store, key);
      res.writeHead(201, { 'content-type': 'text/plain' }).end(key);
    };
    const server = createServer(
      withIdempotency(listener, { store, scope: 'global', lease: LEASE, storeTimeout: 100 }),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, runs: () => runs };
  }

  const post = (url: string, key: string) =>
    fetch(`${url}/pay`, { method: 'POST', headers: { 'idempotency-key': key } });

  it(`${POOL_SIZE} long handlers on a pool of ${POOL_SIZE}: no lease lapses, no second run`, async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const a = await startInstance(POOL_SIZE, () => gate);
    const b = await startInstance(POOL_SIZE, async () => undefined);
    const keys = Array.from(
      { length: POOL_SIZE },
      (_, i) => `budget-${i}-${Math.random().toString(36).slice(2)}`,
    );
    const first = keys.map((key) => post(a.url, key));
    try {
      // Every key claimed by instance A, then long enough that an unextended lease would have lapsed.
      for (;;) {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${table}" WHERE status = 'in_progress'`,
        );
        if (rows[0]!.n === POOL_SIZE) break;
        await sleep(LEASE / 10);
      }
      await sleep(LEASE * 2.5);
      // Retries reach instance B: every lease is still held, so they are told to wait.
      for (const key of keys) {
        const retry = await post(b.url, key);
        expect(retry.status).toBe(409);
        expect(await retry.json()).toMatchObject({ type: ProblemType.requestInProgress });
      }
      open();
      const answers = await Promise.all(first);
      expect(answers.map((answer) => answer.status)).toEqual(keys.map(() => 201));
      expect(a.runs()).toBe(POOL_SIZE);
      expect(b.runs()).toBe(0);
      const { rows } = await admin.query<{ key: string }>(`SELECT key FROM "${ledger}" ORDER BY key`);
      expect(rows.map((row) => row.key)).toEqual([...keys].sort());
    } finally {
      open();
      await Promise.allSettled(first);
    }
  }, 30_000);

  it('refuses a transactional store whose pool leaves no connection for heartbeats', () => {
    const tiny = new pg.Pool({ max: 1 });
    pools.push(tiny);
    expect(() => new PostgresStore({ pool: tiny, table, transactional: true })).toThrow(/`pool`.*max/);
    const pool = new pg.Pool({ max: 4 });
    pools.push(pool);
    expect(() => new PostgresStore({ pool, table, transactional: true, maxTransactions: 4 })).toThrow(
      /Invalid option `maxTransactions`: expected an integer from 1 to 3/,
    );
    expect(() => new PostgresStore({ pool, table, transactional: true, maxTransactions: 3 })).not.toThrow();
    // Without transactional mode a pool of one is fine: nothing holds a connection for long.
    expect(() => new PostgresStore({ pool: tiny, table })).not.toThrow();
  });
});
