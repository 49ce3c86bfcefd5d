import { randomUUID } from 'node:crypto';
import { ProblemType } from '@oncely/core';
import { describe, expect, it } from '../runner.js';
import { createTransactionalMemoryStore } from '../transactional-store.js';
import type { TestTransactionalStore } from '../transactional-store.js';
import { send, startApp } from './app.js';
import type { RunningApp } from './app.js';
import type { ConformanceApp, ConformanceHarness } from './types.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Transactional mode through the adapter (a store with `executeTransactionally`): the handler runs in
 * the store's transaction context, its business write commits with the record or not at all, and
 * nothing of the response leaves before the commit.
 */
export function describeTransactionalConformance(name: string, harness: ConformanceHarness): void {
  const withApp = async (
    options: Omit<ConformanceApp['options'], 'store'>,
    test: (app: RunningApp, store: TestTransactionalStore) => Promise<void>,
  ): Promise<void> => {
    const store = createTransactionalMemoryStore();
    // Every handler run makes one business write, in the transaction (it throws outside one).
    const app = await startApp(harness, { ...options, store }, (path) => store.write(path));
    try {
      await test(app, store);
    } finally {
      await app.close();
    }
  };
  const key = (): string => randomUUID();

  describe(`${name}: transactional store`, () => {
    it('commits the handler write with the record; a replay runs nothing', () =>
      withApp({}, async (app, store) => {
        const k = key();
        const first = await send(app.url, '/echo', { key: k });
        expect([first.status, first.json().count]).toEqual([201, 1]);
        expect(first.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
        const replay = await send(app.url, '/echo', { key: k });
        expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
        expect(replay.bytes.equals(first.bytes)).toBe(true);
        expect([app.count(), store.committed]).toEqual([1, ['/echo']]);
      }));

    it('holds the whole response, headers included, until the commit', () =>
      withApp({}, async (app, store) => {
        let commit!: () => void;
        store.faults.beforeCommit = () => new Promise((resolve) => (commit = resolve));
        let answered = false;
        const pending = send(app.url, '/chunked', { key: key() }).finally(() => (answered = true));
        while (app.count() === 0) await sleep(5);
        await sleep(100);
        expect([answered, store.committed]).toEqual([false, []]);
        commit();
        const answer = await pending;
        expect([answer.status, answer.text]).toEqual([200, 'one,two,three:1']);
        expect(store.committed).toEqual(['/chunked']);
      }));

    it('rolls the write back and releases the key when the handler throws or answers 5xx or 429', () =>
      withApp({}, async (app, store) => {
        for (const path of ['/throw', '/status/503', '/status/429']) {
          const k = key();
          const first = await send(app.url, path, { key: k });
          expect(first.status).toBe(path === '/throw' ? 500 : Number(path.slice(8)));
          expect(first.text).not.toMatch(/secret|\bat /);
          await send(app.url, path, { key: k });
          expect(app.count(path)).toBe(2);
        }
        expect(store.committed).toEqual([]);
      }));

    it('answers 409 and rolls back when another request took the key over', async () => {
      const claims: Array<{ storeKey: string; fencingToken: number }> = [];
      const fenced: string[] = [];
      await withApp(
        { onClaim: (e) => claims.push(e), onFenced: (e) => fenced.push(e.operation) },
        async (app, store) => {
          const pending = send(app.url, '/hang/150', { key: key() });
          while (claims.length === 0) await sleep(5);
          const { storeKey, fencingToken } = claims[0]!;
          // Another request, after a lost lease: the first one's token is no longer current.
          await store.inner.release(storeKey, fencingToken);
          await store.inner.claim({ key: storeKey, fingerprint: 'other', leaseMs: 60_000, ttlMs: 60_000 });
          const answer = await pending;
          expect([answer.status, answer.json().type]).toEqual([409, ProblemType.requestInProgress]);
          expect(answer.headers.get('retry-after')).toBe('1');
          expect(answer.headers.get('content-type')).toBe('application/problem+json');
          expect(store.committed).toEqual([]);
          expect(fenced).toEqual(['complete']);
        },
      );
    });

    it('answers 503 when the transaction cannot begin (handler not run) or commit (write lost)', async () => {
      const failures: string[] = [];
      await withApp({ onStoreFailure: (e) => failures.push(e.operation) }, async (app, store) => {
        store.faults.begin = true;
        const k = key();
        const notRun = await send(app.url, '/echo', { key: k });
        expect([notRun.status, notRun.json().type, app.count()]).toEqual([
          503,
          ProblemType.storeUnavailable,
          0,
        ]);
        store.faults.begin = false;
        store.faults.commit = true;
        const lost = await send(app.url, '/echo', { key: k });
        expect([lost.status, lost.json().type, app.count()]).toEqual([503, ProblemType.storeUnavailable, 1]);
        expect(lost.headers.get('retry-after')).toBe('1');
        store.faults.commit = false;
        const retry = await send(app.url, '/echo', { key: k });
        expect([retry.status, retry.json().count, store.committed]).toEqual([201, 2, ['/echo']]);
        expect(failures).toEqual(['transaction', 'transaction']);
      });
    });

    it('commits an event stream when it starts, streams it, and never replays it', () =>
      withApp({}, async (app, store) => {
        const k = key();
        const first = await send(app.url, '/sse', { key: k });
        expect([first.status, first.text]).toEqual([200, 'data: 1\n\ndata: 2\n\ndata: 3\n\n']);
        expect(store.committed).toEqual(['/sse']);
        const replay = await send(app.url, '/sse', { key: k });
        expect([replay.status, replay.json().type]).toEqual([500, ProblemType.responseNotReplayable]);
        expect(app.count()).toBe(1);
      }));

    it('rolls back a run past maxExecution, answers 503 and frees the key for a retry', () =>
      withApp({ maxExecution: 450, lease: 300, storeTimeout: 50 }, async (app, store) => {
        const k = key();
        const first = await send(app.url, '/stuck-first', { key: k });
        expect([first.status, first.json().type, first.headers.get('retry-after')]).toEqual([
          503,
          ProblemType.storeUnavailable,
          '1',
        ]);
        const retry = await send(app.url, '/stuck-first', { key: k });
        expect([retry.status, retry.json()]).toEqual([201, { count: 2 }]);
        // The first run's write was rolled back; only the retry's committed.
        expect(store.committed).toEqual(['/stuck-first']);
      }));

    it('sends an oversized response whole after the commit, and keeps it unreplayable', () =>
      withApp({ maxResponseBytes: 4096 }, async (app, store) => {
        const k = key();
        const first = await send(app.url, '/big', { key: k });
        expect([first.status, first.bytes.byteLength, store.committed]).toEqual([200, 4106, ['/big']]);
        const replay = await send(app.url, '/big', { key: k });
        expect([replay.status, replay.json().type]).toEqual([500, ProblemType.responseNotReplayable]);
        expect(app.count()).toBe(1);
      }));
  });
}
