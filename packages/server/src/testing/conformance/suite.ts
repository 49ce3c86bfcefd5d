import { randomUUID } from 'node:crypto';
import { PROBLEM_CONTENT_TYPE, ProblemType } from '@oncely/core';
import { describe, expect, it } from '../runner.js';
import { MemoryStore } from '../../store/memory-store.js';
import { rawRequest } from '../raw-http.js';
import { createFailingStore, createHangingStore, createRecordingStore } from '../store-wrappers.js';
import { allBytes, send, sendRawBody, withStartedApp } from './app.js';
import { describeLifecycleConformance } from './lifecycle-suite.js';
import { describeOptionsConformance } from './options-suite.js';
import { describeTransactionalConformance } from './transactional-suite.js';
import type { Answer, RunningApp } from './app.js';
import type { ConformanceApp, ConformanceHarness } from './types.js';

/** Asserts an RFC 9457 problem answer of `type`, and that it leaks no stack trace. */
export function expectProblem(
  answer: Pick<Answer, 'status' | 'headers' | 'text'>,
  type: string,
  status: number,
): void {
  expect({ status: answer.status, type: JSON.parse(answer.text).type }).toEqual({ status, type });
  expect(answer.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  expect(answer.text).not.toMatch(/\bat .+:\d+|stack|secret/i);
}

/**
 * The behaviour every adapter must show (DESIGN "Server"), run against the real framework on a real
 * socket. Exact statuses, bodies, headers and handler execution counts.
 */
export function runAdapterConformanceSuite(name: string, harness: ConformanceHarness): void {
  const withApp = (options: ConformanceApp['options'], test: (app: RunningApp) => Promise<void>) =>
    withStartedApp(harness, options, test);
  const store = (): MemoryStore => new MemoryStore();
  const key = (): string => randomUUID();

  describe(`${name}: adapter conformance`, () => {
    it('runs the first request and answers it normally', () =>
      withApp({ store: store() }, async (app) => {
        const first = await send(app.url, '/echo', { key: key() });
        expect(first.status).toBe(201);
        expect(first.json()).toEqual({ count: 1, body: '{"amount":100}', url: '/echo', note: 'héllo €' });
        expect(first.headers.get('location')).toBe('/things/42');
        expect(first.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
        expect(first.headers.get('idempotent-replayed')).toBeNull();
        expect(app.count()).toBe(1);
      }));

    it('replays a completed key byte for byte, with allowed headers only, without running the handler', () =>
      withApp({ store: store() }, async (app) => {
        const k = key();
        const first = await send(app.url, '/echo', { key: k });
        const replay = await send(app.url, '/echo', { key: k });
        expect(replay.status).toBe(201);
        expect(replay.bytes.equals(first.bytes)).toBe(true);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(replay.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(replay.headers.get('location')).toBe('/things/42');
        expect(replay.headers.get('etag')).toBe('"v1"');
        expect(replay.headers.get('cache-control')).toBe('no-cache');
        expect(replay.headers.get('content-length')).toBe(String(first.bytes.byteLength));
        expect(replay.headers.getSetCookie()).toEqual([]);
        expect(replay.headers.get('x-internal')).toBeNull();
        expect(app.count()).toBe(1);
      }));

    it('replays binary bodies and empty 204 answers exactly', () =>
      withApp({ store: store() }, async (app) => {
        const [k1, k2] = [key(), key()];
        await send(app.url, '/binary', { key: k1 });
        const replay = await send(app.url, '/binary', { key: k1 });
        expect(replay.bytes.equals(Buffer.from(allBytes()))).toBe(true);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        await send(app.url, '/empty', { key: k2 });
        const empty = await send(app.url, '/empty', { key: k2 });
        expect([empty.status, empty.bytes.byteLength, empty.headers.get('idempotent-replayed')]).toEqual([
          204,
          0,
          'true',
        ]);
        expect(app.count()).toBe(2);
      }));

    it('runs 50 concurrent duplicates once; the others get 409 + Retry-After', () =>
      withApp({ store: store() }, async (app) => {
        const k = key();
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => send(app.url, '/hang/400', { key: k })),
        );
        expect(app.count()).toBe(1);
        const ok = answers.filter((a) => a.status === 201);
        // On a loaded machine a duplicate may arrive after the first finished: it gets the replay.
        const late = ok.filter((a) => a.headers.get('idempotent-replayed') === 'true');
        expect(ok.length - late.length).toBe(1);
        const conflicts = answers.filter((a) => a.status !== 201);
        expect(conflicts.length).toBeGreaterThan(0);
        expect(conflicts.length + late.length).toBe(49);
        for (const conflict of conflicts) {
          expectProblem(conflict, ProblemType.requestInProgress, 409);
          expect(conflict.headers.get('retry-after')).toBe('1');
          expect(conflict.json().idempotencyKey).toBe(k);
        }
        expect((await send(app.url, '/hang/400', { key: k })).headers.get('idempotent-replayed')).toBe(
          'true',
        );
        expect(app.count()).toBe(1);
      }));

    it('with `wait`, answers 50 concurrent duplicates with the replay of the one execution', () =>
      withApp({ store: store(), wait: { timeoutMs: 5000, pollMs: 10 } }, async (app) => {
        const k = key();
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => send(app.url, '/slow', { key: k })),
        );
        expect(app.count()).toBe(1);
        expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 50 }, () => 201));
        expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(49);
        for (const answer of answers) expect(answer.bytes.equals(answers[0]!.bytes)).toBe(true);
      }));

    it('answers 422 when a key is reused with another body, path or query, and runs nothing', () =>
      withApp({ store: store() }, async (app) => {
        const k = key();
        await send(app.url, '/echo?a=1&b=2', { key: k });
        expectProblem(
          await send(app.url, '/echo?a=1&b=2', { key: k, body: '{"amount":999}' }),
          ProblemType.keyReused,
          422,
        );
        expectProblem(await send(app.url, '/echo-other?a=1&b=2', { key: k }), ProblemType.keyReused, 422);
        expectProblem(await send(app.url, '/echo?a=1&b=3', { key: k }), ProblemType.keyReused, 422);
        // The same query in another order is the same request.
        expect((await send(app.url, '/echo?b=2&a=1', { key: k })).headers.get('idempotent-replayed')).toBe(
          'true',
        );
        expect(app.count()).toBe(1);
      }));

    it('passes requests without a key through, or answers 400 when the key is required', async () => {
      await withApp({ store: store() }, async (app) => {
        await send(app.url, '/echo');
        const second = await send(app.url, '/echo');
        expect(second.json().count).toBe(2);
      });
      await withApp({ store: store(), required: true }, async (app) => {
        expectProblem(await send(app.url, '/echo'), ProblemType.keyMissing, 400);
        expect(app.count()).toBe(0);
        expect((await send(app.url, '/echo', { method: 'GET' })).status).toBe(201);
      });
    });

    it('passes safe methods and unconfigured methods through, key or not', () =>
      withApp({ store: store(), required: true, methods: ['POST', 'PATCH'] }, async (app) => {
        const k = key();
        for (const method of ['GET', 'GET', 'PUT', 'DELETE']) {
          const answer = await send(app.url, '/echo', { key: k, method });
          expect([answer.status, answer.headers.get('idempotent-replayed')]).toEqual([201, null]);
        }
        expect(app.count()).toBe(4);
      }));

    it('refuses malformed, empty, oversized, badly quoted and repeated keys with 400 and stores nothing', async () => {
      const recording = createRecordingStore(new MemoryStore());
      await withApp({ store: recording }, async (app) => {
        for (const bad of ['x'.repeat(256), '"unterminated', '"a" "b"', 'a, b', '"\\x"']) {
          expectProblem(await send(app.url, '/echo', { key: bad }), ProblemType.keyInvalid, 400);
        }
        const empty = await rawRequest(app.url, { path: '/echo', headerLines: ['Idempotency-Key: '] });
        expect(empty.status).toBe(400);
        expect(JSON.parse(empty.body).type).toBe(ProblemType.keyInvalid);
        // Two lines, read the same by every adapter: Web runtimes only see them joined (`"k-a, b"`).
        for (const lines of [
          ['Idempotency-Key: one', 'Idempotency-Key: two'],
          ['Idempotency-Key: "k-a', 'Idempotency-Key: b"'],
        ]) {
          const repeated = await rawRequest(app.url, { path: '/echo', headerLines: lines });
          expect([repeated.status, JSON.parse(repeated.body).type]).toEqual([400, ProblemType.keyInvalid]);
        }
        const control = await rawRequest(app.url, {
          path: '/echo',
          headerLines: ['Idempotency-Key: a\u0001b'],
        });
        expect(control.status).toBe(400);
        expect(app.count()).toBe(0);
        expect(recording.calls).toEqual([]);
      });
    });

    it('refuses a declared Content-Length over maxRequestBytes with 413: nothing run, nothing stored', async () => {
      const recording = createRecordingStore(new MemoryStore());
      await withApp({ store: recording, maxRequestBytes: 1024 }, async (app) => {
        const k = key();
        const parts = Array.from({ length: 8 }, () => 'x'.repeat(600));
        const answer = await sendRawBody(app.url, '/echo', { key: k, parts, chunked: false });
        expectProblem(answer, ProblemType.requestTooLarge, 413);
        expect(answer.json()).toMatchObject({
          idempotencyKey: k,
          detail: expect.stringContaining('1024 bytes'),
        });
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(answer.headers.get('x-should-retry')).toBe('false');
        expect(app.count()).toBe(0);
        expect(recording.calls).toEqual([]);
      });
    });

    it('refuses a chunked body once it crosses maxRequestBytes with 413: nothing run, nothing stored', async () => {
      const recording = createRecordingStore(new MemoryStore());
      await withApp({ store: recording, maxRequestBytes: 1024 }, async (app) => {
        const k = key();
        const parts = Array.from({ length: 8 }, () => 'x'.repeat(600));
        const answer = await sendRawBody(app.url, '/echo', { key: k, parts, chunked: true });
        expectProblem(answer, ProblemType.requestTooLarge, 413);
        expect(answer.json().idempotencyKey).toBe(k);
        expect(app.count()).toBe(0);
        expect(recording.calls).toEqual([]);
      });
    });

    it('takes a body of exactly maxRequestBytes, and does not limit requests without a key', () =>
      withApp({ store: store(), maxRequestBytes: 1024 }, async (app) => {
        const exact = 'y'.repeat(1024);
        for (const chunked of [false, true]) {
          const answer = await sendRawBody(app.url, '/echo', {
            key: key(),
            parts: [exact.slice(0, 500), exact.slice(500)],
            chunked,
          });
          expect([answer.status, answer.json().body]).toEqual([201, exact]);
        }
        const big = 'z'.repeat(8192);
        const unkeyed = await sendRawBody(app.url, '/echo', { parts: [big], chunked: true });
        expect([unkeyed.status, unkeyed.json().body]).toEqual([201, big]);
        expect(app.count()).toBe(3);
      }));

    it('accepts 255-character keys, and the quoted and bare forms as the same key', () =>
      withApp({ store: store() }, async (app) => {
        const long = 'k'.repeat(255);
        expect((await send(app.url, '/echo', { key: long })).status).toBe(201);
        expect((await send(app.url, '/echo', { key: long })).headers.get('idempotent-replayed')).toBe('true');
        const k = key();
        expect((await send(app.url, '/echo', { key: `"${k}"` })).status).toBe(201);
        const bare = await send(app.url, '/echo', { key: k });
        expect([bare.status, bare.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
        expect(app.count()).toBe(2);
      }));

    it('releases the key when the handler throws, so a retry runs again', () =>
      withApp({ store: store() }, async (app) => {
        const k = key();
        const first = await send(app.url, '/throw', { key: k });
        expect(first.status).toBe(500);
        expect(first.text).not.toMatch(/secret|\bat /);
        expect((await send(app.url, '/throw', { key: k })).status).toBe(500);
        expect(app.count()).toBe(2);
      }));

    it('releases on 500 and 429, keeps and replays other 4xx', () =>
      withApp({ store: store() }, async (app) => {
        for (const status of [500, 503, 429, 409]) {
          const k = key();
          expect((await send(app.url, `/status/${status}`, { key: k })).json()).toEqual({ count: 1 });
          const retry = await send(app.url, `/status/${status}`, { key: k });
          expect([retry.status, retry.json(), retry.headers.get('idempotent-replayed')]).toEqual([
            status,
            { count: 2 },
            null,
          ]);
        }
        const k = key();
        await send(app.url, '/status/404', { key: k });
        const replay = await send(app.url, '/status/404', { key: k });
        expect([replay.status, replay.json(), replay.headers.get('idempotent-replayed')]).toEqual([
          404,
          { count: 1 },
          'true',
        ]);
      }));

    it('keeps and replays 5xx with replayServerErrors', () =>
      withApp({ store: store(), replayServerErrors: true }, async (app) => {
        const k = key();
        await send(app.url, '/status/500', { key: k });
        const replay = await send(app.url, '/status/500', { key: k });
        expect([replay.status, replay.json(), replay.headers.get('idempotent-replayed')]).toEqual([
          500,
          { count: 1 },
          'true',
        ]);
      }));

    it('completes an oversized response without its body; replays answer "not replayable" and never rerun', () =>
      withApp({ store: store(), maxResponseBytes: 4096 }, async (app) => {
        const k = key();
        const first = await send(app.url, '/big', { key: k });
        expect([first.status, first.bytes.byteLength]).toEqual([200, 4106]);
        const replay = await send(app.url, '/big', { key: k });
        expectProblem(replay, ProblemType.responseNotReplayable, 500);
        expect(replay.json().originalStatus).toBe(200);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(app.count()).toBe(1);
      }));

    it('streams an event stream through and never replays it', () =>
      withApp({ store: store() }, async (app) => {
        const k = key();
        const first = await send(app.url, '/sse', { key: k });
        expect([first.status, first.text]).toEqual([200, 'data: 1\n\ndata: 2\n\ndata: 3\n\n']);
        const replay = await send(app.url, '/sse', { key: k });
        expectProblem(replay, ProblemType.responseNotReplayable, 500);
        expect(app.count()).toBe(1);
      }));

    it('keeps a small chunked response and replays it byte for byte', () =>
      withApp({ store: store() }, async (app) => {
        const k = key();
        const first = await send(app.url, '/chunked', { key: k });
        expect(first.text).toBe('one,two,three:1');
        const replay = await send(app.url, '/chunked', { key: k });
        expect([replay.text, replay.headers.get('idempotent-replayed')]).toEqual(['one,two,three:1', 'true']);
        expect(app.count()).toBe(1);
      }));

    it('keeps two scopes apart: the same key in two tenants runs twice and replays each its own', () =>
      withApp({ store: store() }, async (app) => {
        const k = key();
        const a = await send(app.url, '/echo', { key: k, tenant: 'a', body: '{"tenant":"a"}' });
        const b = await send(app.url, '/echo', { key: k, tenant: 'b', body: '{"tenant":"b"}' });
        expect([a.status, b.status]).toEqual([201, 201]);
        expect(
          (await send(app.url, '/echo', { key: k, tenant: 'a', body: '{"tenant":"a"}' })).bytes.equals(
            a.bytes,
          ),
        ).toBe(true);
        expect(
          (await send(app.url, '/echo', { key: k, tenant: 'b', body: '{"tenant":"b"}' })).bytes.equals(
            b.bytes,
          ),
        ).toBe(true);
        expect(app.count()).toBe(2);
      }));

    it('answers 503 + Retry-After and does not run the handler when the store fails or hangs', async () => {
      for (const failing of [createFailingStore(), createHangingStore()]) {
        const failures: unknown[] = [];
        await withApp(
          { store: failing, storeTimeout: 50, onStoreFailure: (e) => failures.push(e.operation) },
          async (app) => {
            const answer = await send(app.url, '/echo', { key: key() });
            expectProblem(answer, ProblemType.storeUnavailable, 503);
            expect(answer.headers.get('retry-after')).toBe('1');
            expect(app.count()).toBe(0);
            expect(failures).toEqual(['claim']);
          },
        );
      }
    });

    it('runs the handler unprotected and reports it when the store fails with fail-open', async () => {
      const failures: Array<{ operation: string; failOpen: boolean }> = [];
      await withApp(
        { store: createFailingStore(), onStoreError: 'fail-open', onStoreFailure: (e) => failures.push(e) },
        async (app) => {
          expect((await send(app.url, '/echo', { key: key() })).status).toBe(201);
          expect(app.count()).toBe(1);
          expect(failures).toMatchObject([{ operation: 'claim', failOpen: true }]);
        },
      );
    });

    it('extends the lease of a long handler: a duplicate after the first lease still gets 409', () =>
      withApp({ store: store(), lease: 90, storeTimeout: 30 }, async (app) => {
        const k = key();
        const first = send(app.url, '/hang/400', { key: k });
        await new Promise((resolve) => setTimeout(resolve, 250));
        expectProblem(await send(app.url, '/hang/400', { key: k }), ProblemType.requestInProgress, 409);
        expect((await first).status).toBe(201);
        expect(app.count()).toBe(1);
      }));

    it('fires hooks with the store key and never the body', async () => {
      const events: Array<[string, Record<string, unknown>]> = [];
      const record = (name: string) => (event: object) => events.push([name, { ...event }]);
      await withApp(
        {
          store: store(),
          onClaim: record('claim'),
          onReplay: record('replay'),
          onMismatch: record('mismatch'),
          onRelease: record('release'),
        },
        async (app) => {
          const k = key();
          await send(app.url, '/echo', { key: k });
          await send(app.url, '/echo', { key: k });
          await send(app.url, '/echo', { key: k, body: '{"other":1}' });
          await send(app.url, '/status/500', { key: key() });
        },
      );
      expect(events.map(([name]) => name)).toEqual(['claim', 'replay', 'mismatch', 'claim', 'release']);
      for (const [, event] of events) {
        expect(event.storeKey).toMatch(/^[0-9a-f]{16}:[0-9a-f]{64}$/);
        expect(event.scope).toBe('anonymous');
        expect(JSON.stringify(event)).not.toContain('amount');
      }
    });
  });

  describeLifecycleConformance(name, harness);
  describeTransactionalConformance(name, harness);
  describeOptionsConformance(name, harness);
}
