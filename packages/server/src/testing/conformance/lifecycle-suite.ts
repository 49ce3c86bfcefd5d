import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { ProblemType } from '@oncely/core';
import { describe, expect, it } from '../runner.js';
import { MemoryStore } from '../../store/memory-store.js';
import { createSlowClaimStore } from '../store-wrappers.js';
import { send, withStartedApp } from './app.js';
import type { Answer, RunningApp } from './app.js';
import type { ConformanceApp, ConformanceHarness } from './types.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The time unit of these cases, in ms: leases, bounds and timeouts are multiples of it. */
const UNIT = 150;

/** Asserts the "not replayable" answer to a first response that went out as `originalStatus`. */
function expectNotReplayable(answer: Answer, originalStatus: number): void {
  expect([answer.status, answer.json().type, answer.json().originalStatus]).toEqual([
    500,
    ProblemType.responseNotReplayable,
    originalStatus,
  ]);
  expect(answer.headers.get('idempotent-replayed')).toBe('true');
}

/** Polls until `done()` holds, for at most `ms`; resolves to whether it did. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(10);
  return done();
}

/**
 * Every way a response can end settles its claim (DESIGN "Server"): a client gone mid-download, a
 * stream that fails after its head, a hung handler past `maxExecution`, a timeout middleware that
 * answers while the handler runs, a timeout that answers before the engine decided. Each case holds
 * the key no longer than its lease says and never runs the handler twice while it runs.
 */
export function describeLifecycleConformance(name: string, harness: ConformanceHarness): void {
  const withApp = (
    options: ConformanceApp['options'],
    test: (app: RunningApp) => Promise<void>,
    timeoutMs?: number,
  ): Promise<void> => withStartedApp(harness, options, test, timeoutMs);
  const key = (): string => randomUUID();
  const lease = 2 * UNIT;
  const timing = { lease, storeTimeout: UNIT / 3 };

  describe(`${name}: execution lifecycle`, () => {
    it('settles a response the client left mid-download: a retry is answered, never run again', () =>
      withApp({ store: new MemoryStore(), ...timing }, async (app) => {
        const k = key();
        const controller = new AbortController();
        const response = await fetch(`${app.url}/download`, {
          method: 'POST',
          headers: { 'idempotency-key': k, 'content-type': 'application/json' },
          body: '{}',
          signal: controller.signal,
        });
        await response.body!.getReader().read();
        controller.abort();
        // A claim still extended by its heartbeat would answer 409 long after its lease.
        await sleep(3 * lease);
        const retry = await send(app.url, '/download', { key: k, body: '{}' });
        if (retry.status === 200) {
          // Web adapters read a body this small whole before sending it: kept, and replayed.
          expect([retry.bytes.byteLength, retry.headers.get('idempotent-replayed')]).toEqual([
            65_536,
            'true',
          ]);
        } else {
          expectNotReplayable(retry, 200);
        }
        expect(app.count('/download')).toBe(1);
      }));

    it('settles a response whose stream failed: kept as not replayable once its head went out', () =>
      withApp({ store: new MemoryStore(), ...timing }, async (app) => {
        const k = key();
        const first = await send(app.url, '/cut', { key: k }).catch(() => 'cut' as const);
        await sleep(3 * lease);
        const retry = await send(app.url, '/cut', { key: k });
        if (first === 'cut') {
          // The head (200) and part of the body went out: never run again.
          expectNotReplayable(retry, 200);
          expect(app.count('/cut')).toBe(1);
        } else {
          // Nothing went out before the failure (a Web adapter reads the body first): released.
          expect([first.status, retry.status, app.count('/cut')]).toEqual([500, 500, 2]);
        }
      }));

    it('gives a hung handler up at maxExecution: the lease runs out, then a retry takes over', async () => {
      const abandoned: string[] = [];
      const maxExecution = 3 * UNIT;
      await withApp(
        { store: new MemoryStore(), ...timing, maxExecution, onAbandon: (e) => abandoned.push(e.reason) },
        async (app) => {
          const k = key();
          void send(app.url, '/stuck-first', { key: k }).catch(() => undefined);
          expect(await until(() => app.count() === 1, 10 * UNIT)).toBe(true);
          const claimedAt = Date.now();
          expect((await send(app.url, '/stuck-first', { key: k })).status).toBe(409);
          let retry: Answer;
          do {
            await sleep(UNIT / 3);
            retry = await send(app.url, '/stuck-first', { key: k });
          } while (retry.status === 409 && Date.now() - claimedAt < maxExecution + 10 * lease);
          expect([retry.status, retry.json()]).toEqual([201, { count: 2 }]);
          // Never before the bound: a handler that runs is not taken over.
          expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(maxExecution);
          expect(abandoned).toEqual(['max-execution']);
        },
      );
    });

    it('runs once when a timeout middleware answers while the handler runs on', async () => {
      const timeoutMs = 2 * UNIT;
      const handlerMs = 3 * timeoutMs;
      // The lease outlasts the handler: where an adapter cannot see the handler end, it holds the key.
      await withApp(
        { store: new MemoryStore(), lease: 10 * handlerMs, storeTimeout: UNIT },
        async (app) => {
          const k = key();
          const path = `/hang/${handlerMs}`;
          const first = await send(app.url, path, { key: k });
          expect([503, 504]).toContain(first.status);
          // The handler still runs: a duplicate must not start a second run.
          const duplicate = await send(app.url, path, { key: k });
          expect([duplicate.status, duplicate.headers.get('retry-after')]).toEqual([409, '1']);
          expect(await until(() => app.finished('/hang') === 1, 10 * handlerMs)).toBe(true);
          await sleep(UNIT);
          const after = await send(app.url, path, { key: k });
          if (after.status === 201) {
            // The adapter saw the handler's own answer after the timeout's: kept and replayed.
            expect([after.json().count, after.headers.get('idempotent-replayed')]).toEqual([1, 'true']);
          } else if (after.status === 409) {
            // The adapter cannot see the handler's end: the key is held until its lease runs out.
            expect(after.headers.get('retry-after')).toBe('1');
          } else {
            // The handler finished after the timeout's answer: its effect happened, its answer is lost.
            expectNotReplayable(after, first.status);
          }
          expect(app.count('/hang')).toBe(1);
        },
        timeoutMs,
      );
    });

    it('drops its answer and frees the key when a timeout answered before the store did', async () => {
      const timeoutMs = UNIT;
      const inner = new MemoryStore();
      // The claim lands after the timeout answered and after the engine gave the store up (503).
      const store = createSlowClaimStore(inner, 3 * timeoutMs);
      await withApp(
        { store, lease: 10 * timeoutMs, storeTimeout: 2 * timeoutMs },
        async (app) => {
          const k = key();
          const first = await send(app.url, '/echo', { key: k });
          expect([503, 504]).toContain(first.status);
          // Once the late claim landed it is released: the key is not held by a request nobody runs.
          await sleep(4 * timeoutMs);
          expect(app.count()).toBe(0);
        },
        timeoutMs,
      );
      expect(inner.size).toBe(0);
    });

    it('answers pipelined keyed requests with bodies, in order', () =>
      withApp({ store: new MemoryStore() }, async (app) => {
        const [k1, k2] = [key(), key()];
        const answers = await pipelined(app.url, [
          { key: k1, body: '{"n":1}' },
          { key: k2, body: '{"n":2}' },
        ]);
        expect(answers.map((a) => [a.status, JSON.parse(a.body).body])).toEqual([
          [201, '{"n":1}'],
          [201, '{"n":2}'],
        ]);
        expect(app.count()).toBe(2);
      }));

    it('protects every method a client keys by default: MERGE, PUT and DELETE run once', () =>
      withApp({ store: new MemoryStore() }, async (app) => {
        for (const method of ['MERGE', 'PUT', 'DELETE']) {
          const k = key();
          const first = await send(app.url, '/echo', { key: k, method });
          const replay = await send(app.url, '/echo', { key: k, method });
          expect([first.status, replay.status, replay.headers.get('idempotent-replayed')]).toEqual([
            201,
            201,
            'true',
          ]);
          expect(replay.bytes.equals(first.bytes)).toBe(true);
        }
        expect(app.count()).toBe(3);
      }));
  });
}

/** Writes keyed POSTs back to back on one connection (HTTP/1.1 pipelining); resolves the answers. */
function pipelined(
  url: string,
  requests: ReadonlyArray<{ key: string; body: string }>,
): Promise<Array<{ status: number; body: string }>> {
  const { hostname, port } = new URL(url);
  const bytes = requests
    .map(
      ({ key, body }, i) =>
        `POST /echo HTTP/1.1\r\nHost: ${hostname}:${port}\r\nIdempotency-Key: ${key}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `${i === requests.length - 1 ? 'Connection: close\r\n' : ''}\r\n${body}`,
    )
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 10 * UNIT);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(splitAnswers(Buffer.concat(chunks)));
    });
    socket.write(bytes);
  });
}

/** The HTTP/1.1 answers in `bytes`, one after the other (by Content-Length or chunked framing). */
function splitAnswers(bytes: Buffer): Array<{ status: number; body: string }> {
  const answers: Array<{ status: number; body: string }> = [];
  let rest = bytes;
  for (;;) {
    const split = rest.indexOf('\r\n\r\n');
    if (split === -1) return answers;
    const head = rest.subarray(0, split).toString('latin1');
    const status = Number(head.split(' ')[1]);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let body = rest.subarray(split + 4);
    if (length !== null) {
      answers.push({ status, body: body.subarray(0, Number(length[1])).toString('utf8') });
      rest = body.subarray(Number(length[1]));
      continue;
    }
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = body.indexOf('\r\n');
      if (lineEnd === -1) return answers;
      const size = Number.parseInt(body.subarray(0, lineEnd).toString('latin1'), 16);
      body = body.subarray(lineEnd + 2);
      if (!(size > 0)) {
        body = body.subarray(2);
        break;
      }
      parts.push(body.subarray(0, size));
      body = body.subarray(size + 2);
    }
    answers.push({ status, body: Buffer.concat(parts).toString('utf8') });
    rest = body;
  }
}
