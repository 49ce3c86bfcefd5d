/**
 * Memory child (run with --expose-gc): fills a MemoryStore (or, with `sqlite` as the third argument, a
 * SqliteStore) with completed records through the store API (claim, then complete with a 200-byte
 * body), as the engine would, and reports how RSS and the heap grew. Keys and fingerprints are real
 * SHA-256 hex strings, the shapes the engine stores.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeStoreKey, defaultFingerprint, MemoryStore } from '@oncely/server';
import type { IdempotencyStore, StoredResponse } from '@oncely/server';
import { SqliteStore } from '@oncely/sqlite';
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
  /** SqliteStore: bytes of the database file and its WAL once filled. */
  fileBytes?: number;
}

/** The store to fill: a bounded MemoryStore, or a SqliteStore on a file of a temp directory. */
function openStore(kind: string, keys: number) {
  if (kind !== 'sqlite') {
    // Every key kept: this measures memory per record, not the default bounds.
    const store = new MemoryStore({ maxEntries: keys, maxBytes: Number.MAX_SAFE_INTEGER, scopeShare: 1 });
    return {
      store: store as IdempotencyStore,
      size: () => store.size,
      fileBytes: () => undefined,
      close() {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'oncely-bench-memory-'));
  const filename = join(dir, 'records.db');
  // 'normal': one fsync per write would make 200,000 writes take minutes; memory does not depend on it.
  const store = new SqliteStore({ filename, synchronous: 'normal' });
  const bytes = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  return {
    store: store as IdempotencyStore,
    size: () => keys,
    fileBytes: () => bytes(filename) + bytes(`${filename}-wal`),
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
  const opened = openStore(process.argv[4] ?? 'memory', keys);
  const { store } = opened;
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
  const fileBytes = opened.fileBytes();
  const result: MemoryResult = {
    keys,
    bodyBytes,
    rssBytes: after.rss - before.rss,
    heapUsedBytes: after.heapUsed - before.heapUsed,
    externalBytes: after.external - before.external,
    storeSize: opened.size(),
    elapsedMs,
    ...(fileBytes === undefined ? {} : { fileBytes }),
  };
  opened.close();
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
