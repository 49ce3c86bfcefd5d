import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecuteTransactionally, TransactionDecision } from '@oncely/server';
import { SqliteStore } from './index.js';
import { tempDatabase } from './test-support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const OK = { status: 201, headers: [['content-type', 'text/plain']] as const, body: Buffer.from('ok') };
const COMPLETE: TransactionDecision = { action: 'complete', response: OK };

describe('transactional capability', () => {
  const database = tempDatabase('tx-capability');
  afterAll(() => database.remove());

  it('is present only when the store is created with `transactional: true`', () => {
    const plain = new SqliteStore({ filename: database.filename });
    const transactional = new SqliteStore({ filename: database.filename, transactional: true });
    expect(plain.executeTransactionally).toBeUndefined();
    expect(typeof transactional.executeTransactionally).toBe('function');
    expect(() => plain.currentTransaction()).toThrow(/outside a transactional handler/);
    expect(() => transactional.currentTransaction()).toThrow(
      expect.objectContaining({ code: 'ERR_ONCELY_NO_TRANSACTION' }),
    );
    plain.close();
    transactional.close();
  });
});

describe('transactional mode on one file (records and the app table side by side)', () => {
  const database = tempDatabase('tx');
  let store: SqliteStore;
  let execute: ExecuteTransactionally;
  let app: Database.Database;
  let n = 0;

  const claimFresh = async (leaseMs = 5000) => {
    const key = `key-${++n}`;
    const c = await store.claim({ key, fingerprint: 'fp', leaseMs, ttlMs: 60_000 });
    if (c.outcome !== 'claimed') throw new Error('expected a claim');
    return { key, token: c.fencingToken };
  };
  /** The handler's business write, done on the store's transaction. */
  const applyEffect = (key: string) =>
    store.currentTransaction().prepare('INSERT INTO ledger (key) VALUES (?)').run(key);
  const effects = (key: string) =>
    (app.prepare('SELECT count(*) AS n FROM ledger WHERE key = ?').get(key) as { n: number }).n;

  beforeAll(() => {
    app = new Database(database.filename);
    app.pragma('journal_mode = WAL');
    app.exec('CREATE TABLE ledger (key TEXT NOT NULL)');
    store = new SqliteStore({ filename: database.filename, transactional: true });
    execute = store.executeTransactionally!;
  });
  afterAll(() => {
    store.close();
    app.close();
    database.remove();
  });

  it('commits the business write and the completed record together', async () => {
    const { key, token } = await claimFresh();
    const outcome = await execute(key, token, async () => {
      applyEffect(key);
      // Not visible outside the transaction before the commit: neither the effect nor the record.
      expect(effects(key)).toBe(0);
      expect((await store.get(key))?.status).toBe('in_progress');
      return COMPLETE;
    });
    expect(outcome).toBe('completed');
    expect(effects(key)).toBe(1);
    const replay = await store.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
    expect(replay.outcome).toBe('completed');
    if (replay.outcome === 'completed')
      expect(Buffer.from(replay.record.response.body!).toString()).toBe('ok');
  });

  it('rolls the write back and releases the claim when the handler throws', async () => {
    const { key, token } = await claimFresh();
    const failure = new Error('boom');
    const failing = execute(key, token, async () => {
      applyEffect(key);
      throw failure;
    });
    await expect(failing).rejects.toBe(failure);
    expect(effects(key)).toBe(0);
    expect(await store.get(key)).toBeUndefined();
  });

  it('rolls the write back and releases the claim on a release decision (5xx)', async () => {
    const { key, token } = await claimFresh();
    const outcome = await execute(key, token, async () => {
      applyEffect(key);
      return { action: 'release' };
    });
    expect(outcome).toBe('released');
    expect(effects(key)).toBe(0);
    expect(await store.get(key)).toBeUndefined();
  });

  it('lets other claims wait for the transaction (the event loop keeps running) and go on after it', async () => {
    const { key, token } = await claimFresh();
    let other: Promise<unknown> | undefined;
    const outcome = await execute(key, token, async () => {
      applyEffect(key);
      other = store.claim({ key: `other-${key}`, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
      await sleep(50); // the other claim polls for the lock meanwhile
      expect(await Promise.race([other, sleep(0).then(() => 'waiting')])).toBe('waiting');
      return COMPLETE;
    });
    expect(outcome).toBe('completed');
    expect(await other).toMatchObject({ outcome: 'claimed' });
  });

  it('runs concurrent executions of this process one after the other', async () => {
    const claims = await Promise.all([claimFresh(), claimFresh(), claimFresh()]);
    const order: string[] = [];
    const outcomes = await Promise.all(
      claims.map(({ key, token }) =>
        execute(key, token, async () => {
          order.push(`start ${key}`);
          applyEffect(key);
          await sleep(10);
          order.push(`end ${key}`);
          return COMPLETE;
        }),
      ),
    );
    expect(outcomes).toEqual(['completed', 'completed', 'completed']);
    expect(order).toEqual(claims.flatMap(({ key }) => [`start ${key}`, `end ${key}`]));
    for (const { key } of claims) expect(effects(key)).toBe(1);
  });

  it('rolls back a handler that outlives its lease, frees the lock, and answers superseded', async () => {
    const { key, token } = await claimFresh(60);
    let kept: Database.Database | undefined;
    let afterwards: unknown;
    const slow = execute(key, token, async () => {
      applyEffect(key);
      kept = store.currentTransaction();
      await sleep(200); // no heartbeat: the lease runs out meanwhile
      try {
        store.currentTransaction();
      } catch (error) {
        afterwards = error;
      }
      return COMPLETE;
    });
    // Long before the handler ends, the lock is free again: another key can be claimed.
    const other = await store.claim({ key: `other-${key}`, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
    expect(other.outcome).toBe('claimed');
    expect(await slow).toBe('superseded');
    expect(afterwards).toMatchObject({ code: 'ERR_ONCELY_NO_TRANSACTION' });
    expect(() => kept!.prepare('INSERT INTO ledger (key) VALUES (?)').run(key)).toThrow(/not open/);
    expect(effects(key)).toBe(0);
    // The record stays in progress with its (expired) lease: a retry takes over.
    expect(await store.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 })).toMatchObject({
      outcome: 'claimed',
      takeover: true,
    });
  });

  it('keeps a long handler whose lease is extended (the engine heartbeat) and commits it', async () => {
    // Beats at a quarter of the lease: a stall of the loaded machine has three quarters to spare.
    const { key, token } = await claimFresh(400);
    const outcome = await execute(key, token, async () => {
      applyEffect(key);
      for (let i = 0; i < 5; i++) {
        await sleep(100);
        expect(await store.extend(key, token, 400)).toBe(true);
      }
      return COMPLETE;
    });
    expect(outcome).toBe('completed');
    expect(effects(key)).toBe(1);
  });

  it('does not run the handler when the claim is gone before the transaction starts', async () => {
    const { key, token } = await claimFresh();
    expect(await store.delete(key)).toBe(true);
    let ran = false;
    const outcome = execute(key, token, async () => {
      ran = true;
      return COMPLETE;
    });
    await expect(outcome).rejects.toMatchObject({
      code: 'ERR_ONCELY_STORE_CONTENDED',
      operation: 'transaction',
    });
    expect(ran).toBe(false);
  });

  it('fails as a store error, with nothing kept, when the handler commits the transaction itself', async () => {
    const { key, token } = await claimFresh();
    const outcome = execute(key, token, async () => {
      store.currentTransaction().exec('ROLLBACK');
      applyEffect(key); // autocommit now: outside any transaction of the store's
      return COMPLETE;
    });
    await expect(outcome).rejects.toMatchObject({
      code: 'ERR_ONCELY_STORE_UNAVAILABLE',
      message: expect.stringMatching(/the handler ended the transaction itself/),
    });
    expect(await store.get(key)).toBeUndefined(); // released: a retry runs again
  });

  it('refuses currentTransaction() once the transaction ended, even to code that outlives the handler', async () => {
    const { key, token } = await claimFresh();
    let later: Promise<unknown> | undefined;
    await execute(key, token, async () => {
      applyEffect(key);
      later = sleep(20).then(() => store.currentTransaction());
      return COMPLETE;
    });
    await expect(later).rejects.toMatchObject({
      code: 'ERR_ONCELY_NO_TRANSACTION',
      message: expect.stringMatching(/after the handler's transaction ended/),
    });
  });
});

describe('transactional mode with the app database attached (rollback journal)', () => {
  const database = tempDatabase('tx-attach');
  const appFile = database.path('app.db');
  let store: SqliteStore;

  beforeAll(() => {
    const app = new Database(appFile);
    app.exec('CREATE TABLE orders (key TEXT NOT NULL)');
    app.close();
    store = new SqliteStore({
      filename: database.filename,
      transactional: true,
      journalMode: 'delete',
      attach: { app: appFile },
      onConnection: (connection) => connection.pragma('foreign_keys = ON'),
    });
  });
  afterAll(() => {
    store.close();
    database.remove();
  });
  const orders = (key: string) => {
    const app = new Database(appFile, { readonly: true });
    const { n } = app.prepare('SELECT count(*) AS n FROM orders WHERE key = ?').get(key) as { n: number };
    app.close();
    return n;
  };

  it('commits the write to the attached file together with the record, or neither', async () => {
    for (const decision of [COMPLETE, { action: 'release' } as const]) {
      const key = `attached-${decision.action}`;
      const claim = await store.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
      if (claim.outcome !== 'claimed') throw new Error('expected a claim');
      const outcome = await store.executeTransactionally!(key, claim.fencingToken, async () => {
        const db = store.currentTransaction();
        expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
        db.prepare('INSERT INTO app.orders (key) VALUES (?)').run(key);
        return decision;
      });
      expect(outcome).toBe(decision.action === 'complete' ? 'completed' : 'released');
      expect(orders(key)).toBe(decision.action === 'complete' ? 1 : 0);
    }
    const journal = new Database(appFile, { readonly: true });
    expect(journal.pragma('journal_mode', { simple: true })).toBe('delete');
    journal.close();
  });
});
