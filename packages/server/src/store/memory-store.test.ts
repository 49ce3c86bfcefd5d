import { describe, expect, it } from 'vitest';
import { runStoreContractSuite } from '../testing/store-contract-suite.js';
import { MemoryStore } from './memory-store.js';

let now = 1_700_000_000_000;
runStoreContractSuite('MemoryStore (fake clock)', () => new MemoryStore({ now: () => now }), {
  advanceTime: (ms) => {
    now += ms;
  },
});
runStoreContractSuite('MemoryStore (real clock)', () => new MemoryStore(), { leaseMs: 40, concurrency: 50 });

describe('MemoryStore', () => {
  const claim = (store: MemoryStore, key: string) =>
    store.claim({ key, fingerprint: 'fp', leaseMs: 1000, ttlMs: 60_000 });

  it('evicts the least recently used record past maxEntries', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    await claim(store, 'a');
    await claim(store, 'b');
    await claim(store, 'c');
    await claim(store, 'a'); // touch a: b is now the oldest
    await claim(store, 'd');
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(await store.get('c')).toBeDefined();
    expect(await store.get('d')).toBeDefined();
  });

  it('copies the stored body, so the caller may reuse its buffer', async () => {
    const store = new MemoryStore();
    const result = await claim(store, 'k');
    if (result.outcome !== 'claimed') throw new Error('not claimed');
    const body = new Uint8Array([1, 2, 3]);
    await store.complete('k', result.fencingToken, { status: 200, headers: [], body });
    body[0] = 9;
    expect([...(await store.get('k'))!.response!.body!]).toEqual([1, 2, 3]);
  });

  it('refuses bad options with the option name', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/`maxEntries`.*got 0/);
    expect(() => new MemoryStore({ now: 'x' as never })).toThrow(/`now`/);
  });
});
