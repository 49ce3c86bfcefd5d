import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, isSqliteStoreError } from './index.js';
import type { SqliteStoreOptions } from './index.js';
import { tempDatabase } from './test-support.js';

const DAY = 86_400_000;
const OK = { status: 201, headers: [['content-type', 'text/plain']] as const, body: Buffer.from('ok') };

describe('SqliteStore options', () => {
  const database = tempDatabase('options');
  afterAll(() => database.remove());
  const filename = database.filename;

  it.each<[string, Partial<SqliteStoreOptions>, string]>([
    ['filename', { filename: ':memory:' }, 'Invalid option `filename`'],
    ['filename', { filename: '' }, 'Invalid option `filename`'],
    ['filename', { filename: 'file:x.db?mode=memory' }, 'Invalid option `filename`'],
    ['table', { table: 'records; DROP TABLE x' }, 'Invalid option `table`'],
    ['transactional', { transactional: 'yes' as never }, 'Invalid option `transactional`'],
    ['busyTimeout', { busyTimeout: -1 }, 'Invalid option `busyTimeout`'],
    ['busyTimeout', { busyTimeout: 1.5 }, 'Invalid option `busyTimeout`'],
    ['synchronous', { synchronous: 'off' as never }, "expected 'full' or 'normal', got \"off\""],
    ['journalMode', { journalMode: 'memory' as never }, "expected 'wal' or 'delete'"],
    ['attach', { attach: { main: 'x.db' } }, 'Invalid option `attach.main`'],
    ['attach', { attach: { app: ':memory:' } }, 'Invalid option `attach.app`'],
    ['onConnection', { onConnection: 'pragma' as never }, 'Invalid option `onConnection`'],
  ])('refuses a bad `%s`', (_name, bad, message) => {
    const create = () => new SqliteStore({ filename, ...bad });
    expect(create).toThrow(message);
    expect(create).toThrow(expect.objectContaining({ code: 'ERR_ONCELY_INVALID_OPTION' }));
  });

  it('refuses attached files in transactional WAL mode, where a commit is atomic per file only', () => {
    const create = () =>
      new SqliteStore({ filename, transactional: true, attach: { app: database.path('app.db') } });
    expect(create).toThrow(
      /Invalid option `journalMode`: expected 'delete' when a transactional store attaches/,
    );
  });

  it('fails at construction, naming the file, when the file cannot be opened', () => {
    const create = () => new SqliteStore({ filename: database.path('missing-dir/oncely.db') });
    expect(create).toThrow(/SqliteStore open failed: .*directory does not exist/);
    expect(create).toThrow(expect.objectContaining({ code: 'ERR_ONCELY_STORE_UNAVAILABLE' }));
  });
});

describe('SqliteStore on a file', () => {
  const database = tempDatabase('store');
  const stores: SqliteStore[] = [];
  const open = (options: Partial<SqliteStoreOptions> = {}) => {
    const store = new SqliteStore({ filename: database.filename, ...options });
    stores.push(store);
    return store;
  };
  let n = 0;
  const key = () => `key-${++n}`;
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
  });
  afterAll(() => database.remove());

  it('creates the table on first use, in WAL mode, and keeps records across a reopen', async () => {
    const k = key();
    const first = open({ table: 'records' });
    const claim = await first.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
    expect(claim).toMatchObject({ outcome: 'claimed', takeover: false });
    expect(await first.complete(k, claim.outcome === 'claimed' ? claim.fencingToken : 0, OK)).toBe(true);
    first.close();

    const raw = new Database(database.filename, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare(`SELECT count(*) AS n FROM records`).get()).toEqual({ n: 1 });
    raw.close();

    const replay = await open({ table: 'records' }).claim({
      key: k,
      fingerprint: 'fp',
      leaseMs: 10_000,
      ttlMs: DAY,
    });
    expect(replay).toMatchObject({ outcome: 'completed', record: { response: { status: 201 } } });
  });

  it('deletes a record whatever its state, and says whether one was there', async () => {
    const store = open();
    const [inProgress, completed] = [key(), key()];
    await store.claim({ key: inProgress, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
    const claim = await store.claim({ key: completed, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
    await store.complete(completed, claim.outcome === 'claimed' ? claim.fencingToken : 0, OK);
    expect(await store.delete(inProgress)).toBe(true);
    expect(await store.delete(completed)).toBe(true);
    expect(await store.delete(completed)).toBe(false);
    expect(await store.get(completed)).toBeUndefined();
    const again = await store.claim({ key: completed, fingerprint: 'other', leaseMs: 10_000, ttlMs: DAY });
    expect(again).toMatchObject({ outcome: 'claimed', takeover: false });
  });

  it('extends a lease without pushing the TTL, except to keep the record alive for its lease', async () => {
    const store = open();
    const k = key();
    const claim = await store.claim({ key: k, fingerprint: 'fp', leaseMs: 1_000, ttlMs: 5_000 });
    const token = claim.outcome === 'claimed' ? claim.fencingToken : 0;
    const before = (await store.get(k))!;
    expect(await store.extend(k, token, 2_000)).toBe(true);
    const short = (await store.get(k))!;
    expect(short.expiresAt).toBe(before.expiresAt);
    expect(short.leaseExpiresAt).toBeGreaterThan(before.leaseExpiresAt);
    expect(await store.extend(k, token, 60_000)).toBe(true);
    const long = (await store.get(k))!;
    expect(long.expiresAt).toBe(long.leaseExpiresAt);
    expect(long.expiresAt).toBeGreaterThan(before.expiresAt);
  });

  it('deletes expired records as claims come in, a few per claim', async () => {
    const store = open({ table: 'cleanup' });
    await store.get(key()); // creates the table
    const raw = new Database(database.filename);
    const insert =
      raw.prepare(`INSERT INTO cleanup ("key", status, fingerprint, lease_ms, lease_expires_at, expires_at)
      VALUES (?, 'completed', 'fp', 1, 1, ?)`);
    for (let i = 0; i < 6; i++) insert.run(`old-${i}`, Date.now() - 1000 + i);
    const count = () => (raw.prepare('SELECT count(*) AS n FROM cleanup').get() as { n: number }).n;
    const live = key();
    await store.claim({ key: live, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
    expect(count()).toBe(6 - 2 + 1);
    // A claim that finds a live record only reads: it never writes, so it never cleans up.
    expect((await store.claim({ key: live, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY })).outcome).toBe(
      'in_progress',
    );
    expect(count()).toBe(5);
    await store.claim({ key: key(), fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
    await store.claim({ key: key(), fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
    expect(count()).toBe(3);
    expect(raw.prepare(`SELECT count(*) AS n FROM cleanup WHERE "key" LIKE 'old-%'`).get()).toEqual({ n: 0 });
    raw.close();
  });

  it('gives one claim per key to stores on separate connections, and tokens that keep growing', async () => {
    const stores = [open(), open(), open()];
    const keys = Array.from({ length: 20 }, key);
    const results = await Promise.all(
      keys.flatMap((k) =>
        stores.map((s) => s.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY })),
      ),
    );
    const tokens = results.flatMap((r) => (r.outcome === 'claimed' ? [r.fencingToken] : []));
    expect(tokens).toHaveLength(keys.length);
    expect(new Set(tokens).size).toBe(keys.length);
    const k = keys[0]!;
    const first = (await stores[0]!.get(k))!.fencingToken;
    expect(await stores[1]!.delete(k)).toBe(true);
    const again = await stores[2]!.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
    expect(again.outcome === 'claimed' && again.fencingToken).toBeGreaterThan(Math.max(first, ...tokens));
  });

  describe('while another connection holds the write lock', () => {
    const lock = () => {
      const raw = new Database(database.filename, { timeout: 0 });
      raw.exec('BEGIN IMMEDIATE');
      return raw;
    };

    it('waits without blocking the event loop, and claims once the lock is free', async () => {
      const store = open({ busyTimeout: 5_000 });
      await store.get(key()); // the table exists before the lock is taken
      const raw = lock();
      const claim = store.claim({ key: key(), fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
      // This test's own timer runs while the claim waits: a synchronous wait would have blocked it.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await Promise.race([claim, Promise.resolve('still waiting')])).toBe('still waiting');
      raw.exec('COMMIT');
      raw.close();
      expect(await claim).toMatchObject({ outcome: 'claimed' });
    });

    it('answers a replay without waiting: a completed key needs no lock', async () => {
      const store = open({ busyTimeout: 0 });
      const k = key();
      const claim = await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
      await store.complete(k, claim.outcome === 'claimed' ? claim.fencingToken : 0, OK);
      const raw = lock();
      try {
        expect(await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY })).toMatchObject({
          outcome: 'completed',
        });
        expect(await store.get(k)).toMatchObject({ status: 'completed' });
      } finally {
        raw.exec('ROLLBACK');
        raw.close();
      }
    });

    it('fails with ERR_ONCELY_STORE_BUSY after busyTimeout', async () => {
      const store = open({ busyTimeout: 50 });
      await store.get(key());
      const raw = lock();
      try {
        const error = await store
          .claim({ key: key(), fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY })
          .catch((e: unknown) => e);
        expect(isSqliteStoreError(error)).toBe(true);
        expect(error).toMatchObject({
          code: 'ERR_ONCELY_STORE_BUSY',
          operation: 'claim',
          message:
            'SqliteStore claim: the database stayed locked by another writer for 50 ms (`busyTimeout`).',
        });
      } finally {
        raw.exec('ROLLBACK');
        raw.close();
      }
    });
  });

  it('rejects with ERR_ONCELY_STORE_UNAVAILABLE once closed', async () => {
    const store = open();
    await store.get(key());
    store.close();
    await expect(
      store.claim({ key: key(), fingerprint: 'fp', leaseMs: 1000, ttlMs: DAY }),
    ).rejects.toMatchObject({
      code: 'ERR_ONCELY_STORE_UNAVAILABLE',
      operation: 'claim',
    });
  });
});
