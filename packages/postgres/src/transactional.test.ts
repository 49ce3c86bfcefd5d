import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, isTransactionalStore, migrate } from './index.js';
import type { TransactionalIdempotencyStore } from './index.js';
import { DATABASE_URL, postgresUnavailableReason, uniqueTable } from './test-support.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping transactional-mode tests: ${skipReason}.`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const OK = {
  status: 201,
  headers: [['content-type', 'text/plain']] as const,
  body: new TextEncoder().encode('ok'),
};

describe('transactional capability', () => {
  it('is present only when the store is created with `transactional: true`', () => {
    const pool = new pg.Pool();
    expect(isTransactionalStore(new PostgresStore({ pool }))).toBe(false);
    expect(isTransactionalStore(new PostgresStore({ pool, transactional: true }))).toBe(true);
    expect(() => new PostgresStore({ pool }).currentTransaction()).toThrow(/outside a transactional handler/);
    void pool.end();
  });
});

describe.skipIf(skipReason !== undefined)('transactional mode on a real PostgreSQL', () => {
  const table = uniqueTable('tx');
  const ledger = `${table}_ledger`;
  let pool: pg.Pool;
  let store: PostgresStore & TransactionalIdempotencyStore;
  let n = 0;

  const claimFresh = async (leaseMs = 5000) => {
    const key = `key-${++n}`;
    const c = await store.claim({ key, fingerprint: 'fp', leaseMs, ttlMs: 60_000 });
    if (c.outcome !== 'claimed') throw new Error('expected a claim');
    return { key, token: c.fencingToken };
  };
  /** The handler's business write, done on the store's transaction. */
  const applyEffect = (key: string) =>
    store.currentTransaction().query(`INSERT INTO "${ledger}" (key) VALUES ($1)`, [key]);
  const effects = async (key: string) =>
    (await pool.query(`SELECT 1 FROM "${ledger}" WHERE key = $1`, [key])).rowCount;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 6 });
    await migrate(pool, { table });
    await pool.query(`CREATE TABLE "${ledger}" (key text NOT NULL)`);
    const s = new PostgresStore({ pool, table, transactional: true });
    if (!isTransactionalStore(s)) throw new Error('expected the capability');
    store = s;
  });
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}", "${ledger}"`);
    await pool.end();
  });

  it('commits the business write and the completed record together', async () => {
    const { key, token } = await claimFresh();
    const outcome = await store.executeTransactionally(key, token, async () => {
      await applyEffect(key);
      // Not visible outside the transaction before the commit: neither the effect nor the record.
      expect(await effects(key)).toBe(0);
      return { action: 'complete', response: OK };
    });
    expect(outcome).toBe('completed');
    expect(await effects(key)).toBe(1);
    const replay = await store.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
    expect(replay.outcome).toBe('completed');
    if (replay.outcome === 'completed')
      expect(new TextDecoder().decode(replay.record.response.body!)).toBe('ok');
  });

  it('rolls the write back and releases the claim when the handler throws', async () => {
    const { key, token } = await claimFresh();
    const failing = store.executeTransactionally(key, token, async () => {
      await applyEffect(key);
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(await effects(key)).toBe(0);
    expect(await store.get(key)).toBeUndefined();
  });

  it('rolls the write back and releases the claim on a release decision (5xx)', async () => {
    const { key, token } = await claimFresh();
    const outcome = await store.executeTransactionally(key, token, async () => {
      await applyEffect(key);
      return { action: 'release' };
    });
    expect(outcome).toBe('released');
    expect(await effects(key)).toBe(0);
    expect(await store.get(key)).toBeUndefined();
  });

  it('rolls back a holder whose lease was taken over: the effect is applied once, by the new holder', async () => {
    const { key, token } = await claimFresh(30);
    const slow = store.executeTransactionally(key, token, async () => {
      await applyEffect(key);
      await sleep(60); // the lease expires while the handler runs
      const takeover = await store.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
      expect(takeover).toMatchObject({ outcome: 'claimed', takeover: true });
      if (takeover.outcome === 'claimed') {
        // The new holder runs concurrently, in its own transaction, and commits first.
        const second = await store.executeTransactionally(key, takeover.fencingToken, async () => {
          await applyEffect(key);
          return { action: 'complete', response: OK };
        });
        expect(second).toBe('completed');
      }
      return { action: 'complete', response: { ...OK, status: 500 } };
    });
    expect(await slow).toBe('superseded');
    expect(await effects(key)).toBe(1);
    expect((await store.get(key))?.response?.status).toBe(201);
  });

  it('leaves neither write nor completion when the connection dies before the commit', async () => {
    const { key, token } = await claimFresh(50);
    const crashed = store.executeTransactionally(key, token, async () => {
      await applyEffect(key);
      // Simulates the process dying mid-transaction: the server drops the session.
      const tx = store.currentTransaction();
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      return { action: 'complete', response: OK };
    });
    await expect(crashed).rejects.toMatchObject({ code: 'ERR_ONCELY_STORE_UNAVAILABLE' });
    expect(await effects(key)).toBe(0);
    // The store released the claim (best effort); had the process died, the lease would expire instead.
    const retry = await store.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
    expect(retry.outcome).toBe('claimed');
  });
  it('refuses currentTransaction() once the transaction ended, even to code that outlives the handler', async () => {
    const { key, token } = await claimFresh();
    let later: Promise<unknown> | undefined;
    await store.executeTransactionally(key, token, async () => {
      await applyEffect(key);
      // Work the handler leaves running (an event stream, a fire-and-forget promise).
      later = sleep(20).then(() => store.currentTransaction());
      return { action: 'complete', response: OK };
    });
    await expect(later).rejects.toMatchObject({
      code: 'ERR_ONCELY_NO_TRANSACTION',
      message: expect.stringMatching(/after the handler's transaction ended/),
    });
  });
});
