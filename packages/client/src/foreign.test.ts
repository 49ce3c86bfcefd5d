import { getEventListeners } from 'node:events';
import { AbortController as PolyfilledAbortController } from 'abort-controller';
import axios from 'axios';
import nodeFetch from 'node-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultServer,
  destroy,
  ok,
  resetMidBody,
  slow,
  startFaultServer,
  status,
} from '../test/fault-server.js';
import { withIdempotency } from './axios.js';
import { type FetchOptions, createFetch, getRetryInfo } from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/foreign/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const noSleep = async (): Promise<void> => {};

/**
 * A signal from another implementation, as a polyfill or another realm makes it: an EventTarget with
 * `aborted` and `reason`, but not this realm's AbortSignal (no `throwIfAborted`, refused by `AbortSignal.any`).
 */
class ForeignSignal extends EventTarget {
  aborted = false;
  reason: unknown = undefined;
  abort(reason: unknown): void {
    this.aborted = true;
    this.reason = reason;
    this.dispatchEvent(new Event('abort'));
  }
}

/** Counts what is added to and removed from `target`'s abort listeners. */
function countListeners(target: { addEventListener: unknown; removeEventListener: unknown }) {
  const counts = { added: 0, removed: 0 };
  const add = (target.addEventListener as (...args: unknown[]) => void).bind(target);
  const remove = (target.removeEventListener as (...args: unknown[]) => void).bind(target);
  target.addEventListener = (...args: unknown[]) => {
    if (args[0] === 'abort') counts.added++;
    add(...args);
  };
  target.removeEventListener = (...args: unknown[]) => {
    if (args[0] === 'abort') counts.removed++;
    remove(...args);
  };
  return counts;
}

describe('createFetch with node-fetch v3 as its fetch', () => {
  const fetch = createFetch({ fetch: nodeFetch as unknown as FetchOptions['fetch'], sleep: noSleep });

  it('retries a lost response and a 503 with one key, and hands back the response', async () => {
    const p = path();
    const response = await fetch(server.route(p, destroy(), status(503), ok()), {
      method: 'POST',
      body: 'x',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true });
    const keys = server.seen(p).map((s) => s.key);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(getRetryInfo(response)).toMatchObject({ attempts: 3 });
  });

  it('retries a reset mid-body with bufferResponse', async () => {
    const p = path();
    const buffered = createFetch({
      fetch: nodeFetch as unknown as FetchOptions['fetch'],
      sleep: noSleep,
      bufferResponse: true,
    });
    const response = await buffered(server.route(p, resetMidBody(), ok()), { method: 'POST', body: 'x' });
    expect(await response.json()).toMatchObject({ ok: true });
    expect(server.seen(p)).toHaveLength(2);
  });

  it('follows a 307 itself with the same body, and an abort stops an attempt', async () => {
    const from = path();
    const to = path();
    const response = await fetch(
      server.route(from, (_req, res) => {
        res.writeHead(307, { location: to });
        res.end();
      }),
      { method: 'POST', body: 'pay', idempotencyKey: 'nf-1' },
    );
    expect(response.status).toBe(200);
    expect(server.seen(to).map((s) => [s.method, s.key, s.body.toString()])).toEqual([
      ['POST', 'nf-1', 'pay'],
    ]);

    const controller = new AbortController();
    setTimeout(() => controller.abort('stop'), 30);
    await expect(
      fetch(server.route(path(), slow(2_000)), { method: 'POST', signal: controller.signal }),
    ).rejects.toBe('stop');
  });
});

describe('signals from other implementations', () => {
  it('abort-controller@3: calls succeed, and an abort during the backoff settles with its reason', async () => {
    const controller = new PolyfilledAbortController();
    const counts = countListeners(controller.signal);
    const fetch = createFetch({ sleep: noSleep });
    for (let i = 0; i < 10; i++) {
      const response = await fetch(server.route(path(), status(503), ok()), {
        method: 'POST',
        body: 'x',
        signal: controller.signal as AbortSignal,
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    expect(counts.added).toBeGreaterThan(0);
    expect(counts.added - counts.removed).toBe(0);

    const slowBackoff = createFetch({ onRetry: () => setTimeout(() => controller.abort(), 20) });
    const error = await slowBackoff(server.route(path(), status(503, { 'retry-after': '10' })), {
      method: 'POST',
      signal: controller.signal as AbortSignal,
    }).catch((e: unknown) => e);
    // abort-controller@3 predates `signal.reason`: the call rejects as a native abort() without a reason does.
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
  });

  it('an EventTarget-based signal: no listener left per call, and its abort reaches the call in flight', async () => {
    const signal = new ForeignSignal();
    const fetch = createFetch({ sleep: noSleep });
    for (let i = 0; i < 20; i++) {
      const response = await fetch(server.route(path(), destroy(), ok()), {
        method: 'POST',
        signal: signal as unknown as AbortSignal,
      });
      if (i % 2 === 0) await response.text();
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const pending = fetch(server.route(path(), slow(2_000)), {
      method: 'POST',
      signal: signal as unknown as AbortSignal,
    });
    setTimeout(() => signal.abort('gone'), 30);
    await expect(pending).rejects.toBe('gone');
  });

  it('a runtime without AbortSignal.any: the caller signal is linked by a listener, removed when the call settles', async () => {
    const saved = Object.getOwnPropertyDescriptor(AbortSignal, 'any')!;
    // Node 20.0–20.2 and older browsers have no AbortSignal.any.
    (AbortSignal as { any?: unknown }).any = undefined;
    try {
      const controller = new AbortController();
      const fetch = createFetch({ sleep: noSleep });
      for (let i = 0; i < 10; i++) {
        await (
          await fetch(server.route(path(), status(503), ok()), { method: 'POST', signal: controller.signal })
        ).text();
      }
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      const pending = fetch(server.route(path(), slow(2_000)), { method: 'POST', signal: controller.signal });
      setTimeout(() => controller.abort('bye'), 30);
      await expect(pending).rejects.toBe('bye');
    } finally {
      Object.defineProperty(AbortSignal, 'any', saved);
    }
  });

  it('axios with an abort-controller@3 signal: calls succeed, no listener left, the abort cancels a backoff', async () => {
    const controller = new PolyfilledAbortController();
    const counts = countListeners(controller.signal);
    const api = withIdempotency(axios.create({ baseURL: server.origin }), { sleep: noSleep });
    for (let i = 0; i < 5; i++) {
      const p = path();
      server.route(p, status(503), ok());
      const response = await api.post(p, 'x', { signal: controller.signal });
      expect(getRetryInfo(response)).toMatchObject({ attempts: 2 });
    }
    expect(counts.added - counts.removed).toBe(0);
    const p = path();
    server.route(p, status(503, { 'retry-after': '10' }));
    const slow10 = withIdempotency(axios.create({ baseURL: server.origin }), {
      onRetry: () => setTimeout(() => controller.abort(), 20),
    });
    const started = performance.now();
    const error = await slow10.post(p, 'x', { signal: controller.signal }).catch((e: unknown) => e);
    expect(axios.isCancel(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
