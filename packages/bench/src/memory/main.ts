/**
 * Memory child (run with --expose-gc): fills a MemoryStore with completed records through the store API
 * (claim, then complete with a 200-byte body), as the engine would, and reports how RSS and the heap
 * grew. Keys and fingerprints are real SHA-256 hex strings, the shapes the engine stores.
 */
import { computeStoreKey, defaultFingerprint, MemoryStore } from '@oncely/server';
import type { StoredResponse } from '@oncely/server';
import type { ChildMessage } from '../ipc.js';

export interface MemoryResult {
  keys: number;
  bodyBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Memory outside the JS heap (typed-array backing stores: the stored bodies). */
  externalBytes: number;
  storeSize: number;
  elapsedMs: number;
}

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const keys = Number(process.argv[2] ?? 100_000);
  const bodyBytes = Number(process.argv[3] ?? 200);
  // Every key kept: this measures memory per record, not the default bounds.
  const store = new MemoryStore({ maxEntries: keys, maxBytes: Number.MAX_SAFE_INTEGER, scopeShare: 1 });
  const body = new Uint8Array(bodyBytes).fill(0x61);
  const response: StoredResponse = {
    status: 201,
    headers: [['content-type', 'application/json; charset=utf-8']],
    body,
  };
  const requestBody = new TextEncoder().encode('{"amount":4200,"currency":"eur"}');
  const before = collect();
  const started = performance.now();
  for (let i = 0; i < keys; i++) {
    const key = await computeStoreKey('global', `bench-memory-${i}`);
    const fingerprint = await defaultFingerprint({
      method: 'POST',
      path: '/payments',
      query: '',
      headers: {},
      body: requestBody,
    });
    const claim = await store.claim({ key, fingerprint, leaseMs: 30_000, ttlMs: 86_400_000 });
    if (claim.outcome !== 'claimed') throw new Error(`claim ${i}: ${claim.outcome}`);
    if (!(await store.complete(key, claim.fencingToken, response))) throw new Error(`complete ${i} refused`);
  }
  const elapsedMs = performance.now() - started;
  const after = collect();
  const result: MemoryResult = {
    keys,
    bodyBytes,
    rssBytes: after.rss - before.rss,
    heapUsedBytes: after.heapUsed - before.heapUsed,
    externalBytes: after.external - before.external,
    storeSize: store.size,
    elapsedMs,
  };
  process.send?.({ type: 'result', result } satisfies ChildMessage);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.send?.({
    type: 'failed',
    reason: error instanceof Error ? error.message : String(error),
  } satisfies ChildMessage);
  process.exit(1);
});
