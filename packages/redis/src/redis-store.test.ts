import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, isRedisStoreError } from './index.js';
import { REDIS_URL, deleteKeys, redisUnavailableReason, uniquePrefix } from './test-support.js';

const skipReason = await redisUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping RedisStore tests: ${skipReason}.`);

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

describe('RedisStore options', () => {
  it('rejects a missing client and a prefix with braces, naming the option', () => {
    expect(() => new RedisStore({ client: {} as Redis })).toThrow(/Invalid option `client`/);
    const client = new Redis({ lazyConnect: true });
    expect(() => new RedisStore({ client, prefix: 'a{b' })).toThrow(/Invalid option `prefix`/);
    expect(() => new RedisStore({ client, commandTimeoutMs: -1 })).toThrow(
      /Invalid option `commandTimeoutMs`/,
    );
    client.disconnect();
  });
});

describe.skipIf(skipReason !== undefined)('RedisStore on a real Redis', () => {
  let client: Redis;
  let store: RedisStore;
  const prefix = uniquePrefix('store');
  let n = 0;
  const freshKey = () => `key-${++n}`;
  const claim = (key: string, fingerprint = 'fp-1', leaseMs = 5000, ttlMs = 60_000) =>
    store.claim({ key, fingerprint, leaseMs, ttlMs });

  beforeAll(() => {
    client = new Redis(REDIS_URL!);
    store = new RedisStore({ client, prefix });
  });
  afterAll(async () => {
    await deleteKeys(client, prefix);
    await client.quit();
  });

  it('stores a hash-tagged key with a TTL set by Redis', async () => {
    const key = freshKey();
    await claim(key, 'fp-1', 5000, 60_000);
    const ttl = await client.pttl(`{${prefix}:${key}}`);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
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
    expect(replay.record.expiresAt).toBeGreaterThan(replay.record.leaseExpiresAt - 1);

    const got = await store.get(key);
    expect(got?.status).toBe('completed');
    expect(Buffer.from(got!.response!.body!).equals(Buffer.from(BINARY))).toBe(true);
  });

  it('gives exactly one of 50 concurrent claims from 10 connections the key', async () => {
    const clients = Array.from({ length: 10 }, () => new Redis(REDIS_URL!));
    try {
      const stores = clients.map((c) => new RedisStore({ client: c, prefix }));
      for (let round = 0; round < 5; round++) {
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
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it('throws a RedisStoreError when Redis does not answer in time', async () => {
    // Nothing listens on port 1: ioredis queues the command offline, the store's timeout fires.
    const dead = new Redis({ port: 1, lazyConnect: true, retryStrategy: () => 50 });
    dead.on('error', () => undefined);
    const slow = new RedisStore({ client: dead, prefix, commandTimeoutMs: 100 });
    const error: unknown = await slow
      .claim({ key: 'k', fingerprint: 'f', leaseMs: 1000, ttlMs: 1000 })
      .catch((e) => e);
    expect(isRedisStoreError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_ONCELY_STORE_TIMEOUT', operation: 'claim' });
    dead.disconnect();

    const refusing = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false });
    refusing.on('error', () => undefined);
    const down = new RedisStore({ client: refusing, prefix });
    await expect(down.get('k')).rejects.toMatchObject({
      code: 'ERR_ONCELY_STORE_UNAVAILABLE',
      operation: 'get',
    });
    refusing.disconnect();
  });
});
