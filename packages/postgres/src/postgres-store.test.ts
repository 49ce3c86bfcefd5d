import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, isPostgresStoreError, migrate } from './index.js';
import { DATABASE_URL, postgresUnavailableReason, uniqueTable } from './test-support.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping PostgresStore tests: ${skipReason}.`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every byte value, then bytes that are not valid UTF-8 (lone continuation, overlong, truncated). */
const BINARY = new Uint8Array([
  ...Array.from({ length: 256 }, (_, i) => i),
  0x80,
  0xc0,
  0xaf,
  0xe2,
  0x28,
  0x00,
]);

describe('PostgresStore options', () => {
  it('rejects a missing pool and unsafe table names, naming the option', () => {
    expect(() => new PostgresStore({ pool: {} as pg.Pool })).toThrow(/Invalid option `pool`/);
    const pool = new pg.Pool();
    expect(() => new PostgresStore({ pool, table: 'x"; DROP TABLE y; --' })).toThrow(
      /Invalid option `table`/,
    );
    expect(() => new PostgresStore({ pool, schema: '' })).toThrow(/Invalid option `schema`/);
    void pool.end();
  });
});

describe.skipIf(skipReason !== undefined)('PostgresStore on a real PostgreSQL', () => {
  const table = uniqueTable('store');
  let pool: pg.Pool;
  let store: PostgresStore;
  let n = 0;
  const freshKey = () => `key-${++n}`;
  const claim = (key: string, fingerprint = 'fp-1', leaseMs = 5000, ttlMs = 60_000) =>
    store.claim({ key, fingerprint, leaseMs, ttlMs });

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 12 });
    await migrate(pool, { table });
    store = new PostgresStore({ pool, table });
  });
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  it('replays a completed record whole, with a byte-identical binary body', async () => {
    const key = freshKey();
    const claimed = await claim(key);
    if (claimed.outcome !== 'claimed') throw new Error('expected a claim');
    const headers = [
      ['content-type', 'application/octet-stream'],
      ['x-b', 'ünïcode'],
      ['x-a', '1'],
    ] as const;
    expect(await store.complete(key, claimed.fencingToken, { status: 201, headers, body: BINARY })).toBe(
      true,
    );
    const replay = await claim(key);
    expect(replay.outcome).toBe('completed');
    if (replay.outcome !== 'completed') return;
    expect(replay.record).toMatchObject({
      status: 'completed',
      fingerprint: 'fp-1',
      fencingToken: claimed.fencingToken,
    });
    expect(replay.record.response.status).toBe(201);
    expect(replay.record.response.headers).toEqual(headers);
    expect(replay.record.response.body).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(replay.record.response.body!).equals(Buffer.from(BINARY))).toBe(true);
    const got = await store.get(key);
    expect(Buffer.from(got!.response!.body!).equals(Buffer.from(BINARY))).toBe(true);
    expect(got!.expiresAt - Date.now()).toBeGreaterThan(55_000);
  });

  it('gives exactly one of 50 concurrent claims from 10 connections the key', async () => {
    const pools = Array.from({ length: 10 }, () => new pg.Pool({ connectionString: DATABASE_URL, max: 5 }));
    try {
      const stores = pools.map((p) => new PostgresStore({ pool: p, table }));
      for (let round = 0; round < 3; round++) {
        const key = freshKey();
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            stores[i % 10]!.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 }),
          ),
        );
        expect(results.filter((r) => r.outcome === 'claimed')).toHaveLength(1);
        expect(results.filter((r) => r.outcome === 'in_progress')).toHaveLength(49);
      }
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('gives exactly one of 20 concurrent takeovers of an expired lease the key', async () => {
    const key = freshKey();
    await claim(key, 'fp-1', 20);
    await sleep(40);
    const results = await Promise.all(Array.from({ length: 20 }, () => claim(key)));
    expect(results.filter((r) => r.outcome === 'claimed' && r.takeover)).toHaveLength(1);
  });

  it('reaps expired rows in bounded batches and leaves live ones', async () => {
    const reapTable = uniqueTable('reap');
    await migrate(pool, { table: reapTable });
    const reapStore = new PostgresStore({ pool, table: reapTable });
    try {
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          reapStore.claim({ key: `old-${i}`, fingerprint: 'f', leaseMs: 10, ttlMs: 10 }),
        ),
      );
      await reapStore.claim({ key: 'live', fingerprint: 'f', leaseMs: 1000, ttlMs: 60_000 });
      await sleep(30);
      expect(await reapStore.reap({ batchSize: 10, maxBatches: 2 })).toBe(20);
      expect(await reapStore.reap({ batchSize: 10 })).toBe(5);
      const { rows } = await pool.query<{ key: string }>(`SELECT key FROM "${reapTable}"`);
      expect(rows.map((r) => r.key)).toEqual(['live']);
      await expect(reapStore.reap({ batchSize: 0 })).rejects.toThrow(/Invalid option `batchSize`/);
    } finally {
      await pool.query(`DROP TABLE "${reapTable}"`);
    }
  });

  it('runs the reaper on a timer until stopped', async () => {
    const errors: unknown[] = [];
    const stop = store.startReaper({ intervalMs: 10, onError: (e) => errors.push(e) });
    const key = freshKey();
    await claim(key, 'f', 5, 5);
    await sleep(80);
    stop();
    const { rowCount } = await pool.query(`SELECT 1 FROM "${table}" WHERE key = $1`, [key]);
    expect(rowCount).toBe(0);
    expect(errors).toEqual([]);
  });

  it('throws a PostgresStoreError when the database refuses', async () => {
    const broken = new PostgresStore({ pool, table: 'no_such_table_oncely' });
    const error: unknown = await broken.get('k').catch((e) => e);
    expect(isPostgresStoreError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_ONCELY_STORE_UNAVAILABLE', operation: 'get' });
  });
});
