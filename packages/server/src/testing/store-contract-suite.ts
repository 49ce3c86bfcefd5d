import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from './runner.js';
import type { IdempotencyStore, StoredResponse } from '../store/types.js';

/** Options of {@link runStoreContractSuite}. */
export interface StoreContractSuiteOptions {
  /**
   * Moves the store's clock forward. Give it when the store takes an injectable clock (fast, exact);
   * without it the suite waits real time, with leases of `leaseMs`.
   */
  advanceTime?: (ms: number) => void | Promise<void>;
  /**
   * Lease (and short TTL) used by the time-based tests, in ms. Real backends need room for a round
   * trip; keep it small to keep the suite fast.
   * @default 100
   */
  leaseMs?: number;
  /**
   * Concurrent claims in the atomicity test.
   * @default 50
   */
  concurrency?: number;
  /** Called after each test with the store it used (close connections here). */
  destroyStore?: (store: IdempotencyStore) => void | Promise<void>;
}

const DAY = 86_400_000;

/**
 * The contract every {@link IdempotencyStore} must pass, as a vitest `describe` block. Run it against
 * the real backend: keys are random per test, so a shared database or Redis is fine.
 *
 * @example
 * runStoreContractSuite('RedisStore', () => new RedisStore({ client }), { destroyStore: (s) => s.close() });
 */
export function runStoreContractSuite(
  name: string,
  createStore: () => IdempotencyStore | Promise<IdempotencyStore>,
  options: StoreContractSuiteOptions = {},
): void {
  const { advanceTime, leaseMs = 100, concurrency = 50, destroyStore } = options;
  const created: IdempotencyStore[] = [];
  const newStore = async (): Promise<IdempotencyStore> => {
    const store = await createStore();
    created.push(store);
    return store;
  };
  /** Lets `ms` pass on the store's clock. */
  const pass = async (ms: number): Promise<void> => {
    if (advanceTime !== undefined) await advanceTime(ms);
    else await new Promise((resolve) => setTimeout(resolve, ms));
  };
  const key = (): string => randomBytes(32).toString('hex');
  const response = (body: Uint8Array | null = allBytes()): StoredResponse => ({
    status: 201,
    headers: [
      ['content-type', 'application/octet-stream'],
      ['link', '</a>; rel="a"'],
      ['link', '</b>; rel="b"'],
    ],
    body,
  });

  describe(`${name}: IdempotencyStore contract`, () => {
    afterEach(async () => {
      const stores = created.splice(0);
      if (destroyStore !== undefined) for (const store of stores) await destroyStore(store);
    });

    it('claims a fresh key and reads it back in progress', async () => {
      const store = await newStore();
      const k = key();
      const result = await store.claim({ key: k, fingerprint: 'fp-1', leaseMs: 10_000, ttlMs: DAY });
      expect(result).toEqual({ outcome: 'claimed', fencingToken: expect.any(Number), takeover: false });
      const record = await store.get(k);
      expect(record).toMatchObject({ status: 'in_progress', fingerprint: 'fp-1' });
      expect(record?.fencingToken).toBe(result.outcome === 'claimed' ? result.fencingToken : NaN);
      expect(record!.leaseExpiresAt).toBeLessThanOrEqual(record!.expiresAt);
      expect(await store.get(key())).toBeUndefined();
    });

    it(`gives exactly one of ${concurrency} concurrent claims of a fresh key`, async () => {
      const store = await newStore();
      const k = key();
      const results = await Promise.all(
        Array.from({ length: concurrency }, () =>
          store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY }),
        ),
      );
      expect(results.filter((r) => r.outcome === 'claimed')).toHaveLength(1);
      const others = results.filter((r) => r.outcome !== 'claimed');
      expect(others).toHaveLength(concurrency - 1);
      for (const other of others) {
        expect(other.outcome).toBe('in_progress');
        if (other.outcome === 'in_progress') {
          expect(other.retryAfterMs).toBeGreaterThan(0);
          expect(other.retryAfterMs).toBeLessThanOrEqual(10_000);
        }
      }
    });

    it('reports a different fingerprint as a mismatch, in progress or completed, and changes nothing', async () => {
      const store = await newStore();
      const k = key();
      const claimed = await store.claim({ key: k, fingerprint: 'fp-a', leaseMs: 10_000, ttlMs: DAY });
      expect(await store.claim({ key: k, fingerprint: 'fp-b', leaseMs: 10_000, ttlMs: DAY })).toEqual({
        outcome: 'mismatch',
      });
      expect((await store.get(k))?.fingerprint).toBe('fp-a');
      expect(await store.complete(k, tokenOf(claimed), response())).toBe(true);
      expect(await store.claim({ key: k, fingerprint: 'fp-b', leaseMs: 10_000, ttlMs: DAY })).toEqual({
        outcome: 'mismatch',
      });
      expect((await store.get(k))?.status).toBe('completed');
    });

    it('returns a completed record whole, with byte-identical body and headers in order', async () => {
      const store = await newStore();
      const k = key();
      const claimed = await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
      expect(await store.complete(k, tokenOf(claimed), response())).toBe(true);
      const replay = await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
      expect(replay.outcome).toBe('completed');
      if (replay.outcome !== 'completed') return;
      expect(replay.record.status).toBe('completed');
      expect(replay.record.fingerprint).toBe('fp');
      expect(replay.record.response.status).toBe(201);
      expect(replay.record.response.headers.map(([n, v]) => [n, v])).toEqual(
        response().headers.map(([n, v]) => [n, v]),
      );
      expect(Buffer.from(replay.record.response.body!).equals(Buffer.from(allBytes()))).toBe(true);
      const read = await store.get(k);
      expect(read?.status).toBe('completed');
      expect(Buffer.from(read!.response!.body!).equals(Buffer.from(allBytes()))).toBe(true);
    });

    it('keeps an empty body empty and a missing body null', async () => {
      const store = await newStore();
      for (const body of [new Uint8Array(0), null]) {
        const k = key();
        const claimed = await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
        expect(await store.complete(k, tokenOf(claimed), response(body))).toBe(true);
        const replay = await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
        if (replay.outcome !== 'completed') throw new Error(`expected completed, got ${replay.outcome}`);
        if (body === null) expect(replay.record.response.body).toBeNull();
        else expect(replay.record.response.body?.byteLength).toBe(0);
      }
    });

    it('refuses complete, release and extend with a stale token', async () => {
      const store = await newStore();
      const k = key();
      const token = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY }));
      expect(await store.complete(k, token + 1, response())).toBe(false);
      expect(await store.release(k, token + 1)).toBe(false);
      expect(await store.extend(k, token + 1, 10_000)).toBe(false);
      expect((await store.get(k))?.status).toBe('in_progress');
      expect(await store.complete(key(), token, response())).toBe(false);
    });

    it('releases a claim so the key can be claimed again, with a higher token', async () => {
      const store = await newStore();
      const k = key();
      const first = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY }));
      expect(await store.release(k, first)).toBe(true);
      expect(await store.get(k)).toBeUndefined();
      const second = await store.claim({ key: k, fingerprint: 'other', leaseMs: 10_000, ttlMs: DAY });
      expect(second).toMatchObject({ outcome: 'claimed', takeover: false });
      expect(tokenOf(second)).toBeGreaterThan(first);
      expect(await store.complete(k, first, response())).toBe(false);
    });

    it('lets a claim with an expired lease be taken over, and fences the first holder out', async () => {
      const store = await newStore();
      const k = key();
      const first = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: DAY }));
      expect((await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: DAY })).outcome).toBe(
        'in_progress',
      );
      await pass(leaseMs * 1.5);
      const second = await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY });
      expect(second).toMatchObject({ outcome: 'claimed', takeover: true });
      expect(tokenOf(second)).toBeGreaterThan(first);
      expect(await store.extend(k, first, 10_000)).toBe(false);
      expect(await store.complete(k, first, response())).toBe(false);
      expect(await store.release(k, first)).toBe(false);
      expect(await store.complete(k, tokenOf(second), response())).toBe(true);
    });

    it('gives exactly one takeover of an expired lease to concurrent claims', async () => {
      const store = await newStore();
      const k = key();
      await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: DAY });
      await pass(leaseMs * 1.5);
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY }),
        ),
      );
      expect(results.filter((r) => r.outcome === 'claimed')).toHaveLength(1);
    });

    it('treats an expired lease with a different fingerprint as a mismatch', async () => {
      const store = await newStore();
      const k = key();
      await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: DAY });
      await pass(leaseMs * 1.5);
      expect(await store.claim({ key: k, fingerprint: 'other', leaseMs, ttlMs: DAY })).toEqual({
        outcome: 'mismatch',
      });
    });

    it('extends a lease so it outlives its first expiry', async () => {
      const store = await newStore();
      const k = key();
      const token = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: DAY }));
      await pass(leaseMs * 0.5);
      expect(await store.extend(k, token, leaseMs * 3)).toBe(true);
      await pass(leaseMs);
      expect((await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: DAY })).outcome).toBe(
        'in_progress',
      );
      expect(await store.complete(k, token, response())).toBe(true);
      expect(await store.extend(k, token, leaseMs)).toBe(false);
    });

    it('extends the lease without pushing the TTL expiry when the lease ends first', async () => {
      const store = await newStore();
      const k = key();
      const token = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: DAY }));
      const before = (await store.get(k))!;
      expect(await store.extend(k, token, leaseMs * 3)).toBe(true);
      const after = (await store.get(k))!;
      // Measured from the extend, on the store's clock: at least 3 leases after the claim, minus one.
      expect(after.leaseExpiresAt).toBeGreaterThanOrEqual(before.leaseExpiresAt + leaseMs * 2);
      expect(after.expiresAt).toBe(before.expiresAt);
      expect(after.fencingToken).toBe(token);
    });

    it('raises the expiry to the new lease when the lease would outlive the TTL', async () => {
      const store = await newStore();
      const k = key();
      const token = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: leaseMs * 2 }));
      expect(await store.extend(k, token, leaseMs * 10)).toBe(true);
      const extended = (await store.get(k))!;
      expect(extended.expiresAt).toBe(extended.leaseExpiresAt);
      await pass(leaseMs * 3); // past the TTL of the claim, inside the new lease
      expect((await store.get(k))?.status).toBe('in_progress');
      expect((await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: DAY })).outcome).toBe(
        'in_progress',
      );
      expect(await store.complete(k, token, response())).toBe(true);
    });

    it('forgets a record after its TTL: the key is new again', async () => {
      const store = await newStore();
      const k = key();
      const first = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: leaseMs * 2 }));
      expect(await store.complete(k, first, response())).toBe(true);
      await pass(leaseMs * 3);
      expect(await store.get(k)).toBeUndefined();
      const again = await store.claim({ key: k, fingerprint: 'other', leaseMs: 10_000, ttlMs: DAY });
      expect(again).toMatchObject({ outcome: 'claimed', takeover: false });
      expect(tokenOf(again)).toBeGreaterThan(first);
    });

    it('deletes a record in progress whatever its token: the key is new again, the holder fenced out', async () => {
      const store = await newStore();
      const k = key();
      const first = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY }));
      expect(await store.delete(k)).toBe(true);
      expect(await store.get(k)).toBeUndefined();
      expect(await store.delete(k)).toBe(false);
      expect(await store.extend(k, first, 10_000)).toBe(false);
      expect(await store.complete(k, first, response())).toBe(false);
      expect(await store.release(k, first)).toBe(false);
      const again = await store.claim({ key: k, fingerprint: 'other', leaseMs: 10_000, ttlMs: DAY });
      expect(again).toMatchObject({ outcome: 'claimed', takeover: false });
      expect(tokenOf(again)).toBeGreaterThan(first);
      expect(await store.complete(k, first, response())).toBe(false);
    });

    it('deletes a completed record, and only that one', async () => {
      const store = await newStore();
      const [a, b] = [key(), key()];
      for (const k of [a, b]) {
        const token = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY }));
        expect(await store.complete(k, token, response())).toBe(true);
      }
      expect(await store.delete(a)).toBe(true);
      expect(await store.get(a)).toBeUndefined();
      expect((await store.get(b))?.status).toBe('completed');
      expect((await store.claim({ key: a, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY })).outcome).toBe(
        'claimed',
      );
      expect(await store.delete(key())).toBe(false);
    });

    it('counts an expired record as gone when deleting it', async () => {
      const store = await newStore();
      const k = key();
      const token = tokenOf(await store.claim({ key: k, fingerprint: 'fp', leaseMs, ttlMs: leaseMs * 2 }));
      expect(await store.complete(k, token, response())).toBe(true);
      await pass(leaseMs * 3);
      expect(await store.delete(k)).toBe(false);
      expect(await store.get(k)).toBeUndefined();
    });

    it('keeps keys apart', async () => {
      const store = await newStore();
      const [a, b] = [key(), key()];
      const tokenA = tokenOf(await store.claim({ key: a, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY }));
      expect((await store.claim({ key: b, fingerprint: 'fp', leaseMs: 10_000, ttlMs: DAY })).outcome).toBe(
        'claimed',
      );
      expect(await store.complete(a, tokenA, response())).toBe(true);
      expect((await store.get(b))?.status).toBe('in_progress');
    });
  });
}

function tokenOf(result: Awaited<ReturnType<IdempotencyStore['claim']>>): number {
  if (result.outcome !== 'claimed') throw new Error(`expected claimed, got ${result.outcome}`);
  return result.fencingToken;
}

/** Every byte value, so a store that mangles binary (UTF-8 round trips) fails. */
function allBytes(): Uint8Array {
  return Uint8Array.from({ length: 512 }, (_, i) => i % 256);
}
