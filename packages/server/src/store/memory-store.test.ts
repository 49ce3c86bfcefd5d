import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { storeKeySync } from '../engine/fingerprint.js';
import { runStoreContractSuite } from '../testing/store-contract-suite.js';
import { MemoryStore } from './memory-store.js';
import type { MemoryStoreEviction, MemoryStoreFull, MemoryStoreOptions } from './memory-store-options.js';
import type { StoredResponse } from './types.js';

let now = 1_700_000_000_000;
runStoreContractSuite('MemoryStore (fake clock)', () => new MemoryStore({ now: () => now }), {
  advanceTime: (ms) => {
    now += ms;
  },
});
runStoreContractSuite('MemoryStore (real clock)', () => new MemoryStore(), { leaseMs: 40, concurrency: 50 });

const MINUTE = 60_000;
/** The store key the engine builds for `(scope, key)`. */
const keyOf = (scope: string, key: string) => storeKeySync(scope, key)!;
const response = (bodyBytes: number): StoredResponse => ({
  status: 201,
  headers: [['content-type', 'application/json']],
  body: new Uint8Array(bodyBytes),
});

/** A store with a fake clock that records its evictions and refusals. */
function watchedStore(options: MemoryStoreOptions = {}) {
  const evicted: MemoryStoreEviction[] = [];
  const full: MemoryStoreFull[] = [];
  let clock = 1_700_000_000_000;
  const store = new MemoryStore({
    now: () => clock,
    onEvict: (e) => evicted.push(e),
    onFull: (e) => full.push(e),
    ...options,
  });
  const claim = async (key: string, ttlMs = MINUTE) => {
    const result = await store.claim({ key, fingerprint: 'fp', leaseMs: 1000, ttlMs });
    if (result.outcome !== 'claimed') throw new Error(`expected a claim of ${key}, got ${result.outcome}`);
    return result.fencingToken;
  };
  const claimAndComplete = async (key: string, bodyBytes = 0, ttlMs = MINUTE) => {
    expect(await store.complete(key, await claim(key, ttlMs), response(bodyBytes))).toBe(true);
  };
  const advance = (ms: number) => (clock += ms);
  return { store, evicted, full, claim, claimAndComplete, advance };
}

describe('MemoryStore bounds', () => {
  it('warns through its logger on evictions and refused claims, once per kind, never a key', async () => {
    const lines: string[] = [];
    const logger = {
      warn: (line: string) => void lines.push(line),
      error: (line: string) => void lines.push(line),
    };
    const { store, claimAndComplete, claim } = watchedStore({ maxEntries: 2, scopeShare: 1, logger });
    for (const k of ['key-a', 'key-b', 'key-c', 'key-d']) await claimAndComplete(k);
    for (const k of ['key-e', 'key-f']) await claim(k);
    await store
      .claim({ key: 'key-g', fingerprint: 'fp', leaseMs: 1000, ttlMs: MINUTE })
      .catch(() => undefined);
    await store
      .claim({ key: 'key-h', fingerprint: 'fp', leaseMs: 1000, ttlMs: MINUTE })
      .catch(() => undefined);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^oncely: MemoryStore evicted a completed record to make room \(maxEntries 2,/);
    expect(lines[1]).toMatch(
      /^oncely: MemoryStore refused a claim \(the request was answered 503 and not run\)/,
    );
    expect(lines.join()).not.toMatch(/key-/);
    expect(() => new MemoryStore({ logger: {} as never })).toThrow(/`logger`/);
  });

  it('never evicts a record in progress: when full of them, a claim is refused as by a down store', async () => {
    const { store, evicted, full, claim } = watchedStore({ maxEntries: 3, scopeShare: 1 });
    for (const k of ['a', 'b', 'c']) await claim(k);
    const refused: unknown = await store
      .claim({ key: 'd', fingerprint: 'fp', leaseMs: 1000, ttlMs: MINUTE })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ERR_ONCELY_STORE_FULL' });
    expect(full).toEqual([
      { operation: 'claim', reason: 'full', key: 'd', scope: '', entries: 3, bytes: store.bytes },
    ]);
    expect(evicted).toEqual([]);
    for (const k of ['a', 'b', 'c']) expect((await store.get(k))?.status).toBe('in_progress');
    expect(await store.get('d')).toBeUndefined();
  });

  it('evicts the least recently used completed record, reports it, and a replay counts as a use', async () => {
    const { store, evicted, claimAndComplete } = watchedStore({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await claimAndComplete(k);
    expect((await store.claim({ key: 'a', fingerprint: 'fp', leaseMs: 1000, ttlMs: MINUTE })).outcome).toBe(
      'completed',
    ); // a is now the most recently used: b is the oldest
    await claimAndComplete('d');
    expect(evicted).toEqual([{ key: 'b', scope: '', bytes: expect.any(Number) }]);
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    for (const k of ['a', 'c', 'd']) expect((await store.get(k))?.status).toBe('completed');
  });

  it('is bounded by bytes: completed records are evicted to keep the estimate under maxBytes', async () => {
    const maxBytes = 100_000;
    const { store, evicted, claimAndComplete } = watchedStore({ maxBytes });
    await claimAndComplete('k0', 10_000);
    const perRecord = store.bytes; // a little over 10 kB: the body and the record around it
    expect(perRecord).toBeGreaterThan(10_000);
    for (let i = 1; i < 50; i++) {
      await claimAndComplete(`k${i}`, 10_000);
      expect(store.bytes).toBeLessThanOrEqual(maxBytes);
    }
    // As many records as fit in 100 kB; each further completion evicted the oldest.
    const fit = Math.floor(maxBytes / perRecord);
    expect(store.size).toBe(fit);
    expect(evicted.map((e) => e.key)).toEqual(Array.from({ length: 50 - fit }, (_, i) => `k${i}`));
    expect((await store.get('k49'))?.response?.body?.byteLength).toBe(10_000);
  });

  it('keeps a response that cannot fit without its body: a replay is "not replayable", never a re-run', async () => {
    const { store, full, claim } = watchedStore({ maxBytes: 4096 });
    const token = await claim('big');
    expect(await store.complete('big', token, response(10_000))).toBe(true);
    expect(full).toEqual([expect.objectContaining({ operation: 'complete', reason: 'full', key: 'big' })]);
    const replay = await store.claim({ key: 'big', fingerprint: 'fp', leaseMs: 1000, ttlMs: MINUTE });
    expect(replay.outcome).toBe('completed');
    if (replay.outcome === 'completed') {
      expect(replay.record.response.status).toBe(201);
      expect(replay.record.response.body).toBeNull();
    }
    expect(store.bytes).toBeLessThanOrEqual(4096);
  });

  it('drops expired records before refusing a claim, and does not report them as evicted', async () => {
    const { store, evicted, claim, claimAndComplete, advance } = watchedStore({
      maxEntries: 2,
      scopeShare: 1,
    });
    await claim('a', 5000);
    await claimAndComplete('b', 0, 5000);
    advance(6000);
    await claim('c');
    await claim('d');
    expect(evicted).toEqual([]);
    expect(store.size).toBe(2);
  });

  it('charges at least what a record really costs (heap and buffers, measured, with evictions)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const measure = () => {
      for (let i = 0; i < 4; i++) gc();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    for (const bodyBytes of [0, 200, 4096]) {
      const kept = 10_000;
      const store = new MemoryStore({ maxEntries: kept, maxBytes: 2 ** 40 });
      const before = measure();
      // Three times the bound: two thirds are evicted on the way, as in a server that runs for long.
      for (let i = 0; i < kept * 3; i++) {
        const key = keyOf(`tenant-${i % 50}`, `key-${i}`);
        const fingerprint = storeKeySync('fp', `${i}`)!.slice(17); // 64 hex, as the engine's
        const claimed = await store.claim({ key, fingerprint, leaseMs: 1000, ttlMs: MINUTE });
        if (claimed.outcome !== 'claimed') throw new Error('expected a claim');
        await store.complete(key, claimed.fencingToken, {
          status: 201,
          headers: [['content-type', 'application/json; charset=utf-8']],
          body: new Uint8Array(bodyBytes),
        });
      }
      const real = measure() - before;
      expect(store.size).toBe(kept);
      expect(real).toBeLessThanOrEqual(store.bytes);
      expect(real).toBeGreaterThan(store.bytes / 2); // and not wildly more
      store.clear();
    }
  }, 60_000);
});

describe('MemoryStore fairness between scopes', () => {
  it('a flooding scope evicts its own completed records, never another scope’s', async () => {
    const { store, evicted, claim, claimAndComplete } = watchedStore({ maxEntries: 100 });
    const victims = Array.from({ length: 20 }, (_, i) => keyOf('victim', `done-${i}`));
    for (const k of victims) await claimAndComplete(k);
    const inFlight = keyOf('victim', 'running');
    await claim(inFlight);
    for (let i = 0; i < 1000; i++) await claimAndComplete(keyOf('flooder', `k${i}`));
    for (const k of victims) expect((await store.get(k))?.status).toBe('completed');
    expect((await store.get(inFlight))?.status).toBe('in_progress');
    const flooderScope = keyOf('flooder', 'x').slice(0, 16);
    expect(evicted.length).toBe(1000 - (100 - 21));
    expect(evicted.every((e) => e.scope === flooderScope)).toBe(true);
  });

  it('a scope under its share takes room from the scope over it, not from a third one', async () => {
    const { store, evicted, claimAndComplete } = watchedStore({ maxEntries: 100 });
    const quiet = Array.from({ length: 10 }, (_, i) => keyOf('quiet', `q${i}`));
    for (const k of quiet) await claimAndComplete(k);
    for (let i = 0; i < 90; i++) await claimAndComplete(keyOf('big', `b${i}`)); // full: big holds 90 %
    for (let i = 0; i < 30; i++) await claimAndComplete(keyOf('newcomer', `n${i}`));
    const bigScope = keyOf('big', 'x').slice(0, 16);
    expect(evicted).toHaveLength(30);
    expect(evicted.every((e) => e.scope === bigScope)).toBe(true);
    for (const k of quiet) expect((await store.get(k))?.status).toBe('completed');
  });

  it('refuses a scope that holds its share in records in progress, and only that scope', async () => {
    const { store, full, claim } = watchedStore({ maxEntries: 10, scopeShare: 0.5 });
    for (let i = 0; i < 5; i++) await claim(keyOf('greedy', `g${i}`));
    const refused = store.claim({
      key: keyOf('greedy', 'g5'),
      fingerprint: 'fp',
      leaseMs: 1000,
      ttlMs: MINUTE,
    });
    await expect(refused).rejects.toMatchObject({ code: 'ERR_ONCELY_STORE_FULL' });
    expect(full).toEqual([expect.objectContaining({ operation: 'claim', reason: 'scope-share' })]);
    for (let i = 0; i < 5; i++) await claim(keyOf('other', `o${i}`));
    expect(store.size).toBe(10);
  });

  it('with one scope, uses the whole bound as one LRU', async () => {
    const { store, evicted, claimAndComplete } = watchedStore({ maxEntries: 10 });
    for (let i = 0; i < 15; i++) await claimAndComplete(keyOf('global', `k${i}`));
    expect(store.size).toBe(10);
    expect(evicted.map((e) => e.key)).toEqual(Array.from({ length: 5 }, (_, i) => keyOf('global', `k${i}`)));
  });
});

describe('MemoryStore', () => {
  const claim = (store: MemoryStore, key: string) =>
    store.claim({ key, fingerprint: 'fp', leaseMs: 1000, ttlMs: 60_000 });

  it('copies the stored body, so the caller may reuse its buffer', async () => {
    const store = new MemoryStore();
    const result = await claim(store, 'k');
    if (result.outcome !== 'claimed') throw new Error('not claimed');
    const body = new Uint8Array([1, 2, 3]);
    await store.complete('k', result.fencingToken, { status: 200, headers: [], body });
    body[0] = 9;
    expect([...(await store.get('k'))!.response!.body!]).toEqual([1, 2, 3]);
  });

  it('ignores hooks that throw', async () => {
    const store = new MemoryStore({
      maxEntries: 1,
      scopeShare: 1,
      onFull: () => {
        throw new Error('hook');
      },
    });
    await claim(store, 'a');
    await expect(claim(store, 'b')).rejects.toMatchObject({ code: 'ERR_ONCELY_STORE_FULL' });
  });

  it('refuses bad options with the option name', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/`maxEntries`.*got 0/);
    expect(() => new MemoryStore({ maxBytes: 10 })).toThrow(/`maxBytes`.*got 10/);
    expect(() => new MemoryStore({ maxBytes: Infinity })).toThrow(/`maxBytes`/);
    expect(() => new MemoryStore({ scopeShare: 0 })).toThrow(/`scopeShare`.*got 0/);
    expect(() => new MemoryStore({ scopeShare: 1.5 })).toThrow(/`scopeShare`/);
    expect(() => new MemoryStore({ onEvict: 'x' as never })).toThrow(/`onEvict`/);
    expect(() => new MemoryStore({ onFull: 1 as never })).toThrow(/`onFull`/);
    expect(() => new MemoryStore({ now: 'x' as never })).toThrow(/`now`/);
  });
});
