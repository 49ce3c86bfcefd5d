import { ProblemType } from '@oncely/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultServer,
  destroy,
  ok,
  problem,
  resetMidBody,
  slow,
  startFaultServer,
  status,
} from '../test/fault-server.js';
import {
  type FetchOptions,
  ClientErrorCode,
  createFetch,
  getRetryInfo,
  isOncelyClientError,
} from './index.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: FaultServer;
let n = 0;
const path = (): string => `/fetch/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

/** A client with tiny, deterministic delays (full jitter × 0.5) whose sleeps are recorded. */
function client(options: FetchOptions = {}) {
  const slept: number[] = [];
  const fetch = createFetch({
    baseDelay: 10,
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...options,
  });
  return { fetch, slept };
}

describe('createFetch: one key through every retry', () => {
  it('mints a v4 key before the first attempt and sends it once on a success', async () => {
    const p = path();
    const url = server.route(p, ok());
    const { fetch } = client();
    const response = await fetch(url, { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    const seen = server.seen(p);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.key).toMatch(UUID_V4);
    expect(getRetryInfo(response)).toEqual({
      idempotencyKey: seen[0]!.key,
      attempts: 1,
      totalDelay: 0,
      delays: [],
      reasons: [],
    });
  });

  it('retries a lost response (socket destroyed after the handler ran) with the same key', async () => {
    const p = path();
    const url = server.route(p, destroy(), destroy(), ok());
    const { fetch, slept } = client();
    const response = await fetch(url, { method: 'POST', body: 'pay' });
    expect(await response.json()).toMatchObject({ ok: true });
    const keys = server.seen(p).map((s) => s.key);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(UUID_V4);
    // full jitter with random 0.5: 0.5 × 10, then 0.5 × 20
    expect(slept).toEqual([5, 10]);
    const info = getRetryInfo(response)!;
    expect(info).toMatchObject({ idempotencyKey: keys[0], attempts: 3, totalDelay: 15, delays: [5, 10] });
    expect(info.reasons[0]).toMatch(/^network /);
  });

  it('rejects with ERR_ONCELY_REQUEST_FAILED after the last attempt, carrying key, attempts and cause', async () => {
    const p = path();
    const url = server.route(p, destroy());
    const { fetch } = client({ retries: 2 });
    const error = await fetch(url, { method: 'POST', body: 'x' }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.requestFailed)).toBe(true);
    const keys = server.seen(p).map((s) => s.key);
    expect(keys).toHaveLength(3);
    expect(error).toMatchObject({
      idempotencyKey: keys[0],
      attempts: 3,
      totalDelay: 15,
      response: undefined,
    });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(new Set(keys).size).toBe(1);
  });

  it('a reset mid-body surfaces while reading by default, and is retried with bufferResponse', async () => {
    const p1 = path();
    const plain = client().fetch;
    const response = await plain(server.route(p1, resetMidBody(), ok()), { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(server.seen(p1)).toHaveLength(1);

    const p2 = path();
    const { fetch } = client({ bufferResponse: true });
    const buffered = await fetch(server.route(p2, resetMidBody(), ok()), { method: 'POST', body: 'x' });
    expect(await buffered.json()).toMatchObject({ ok: true });
    const keys = server.seen(p2).map((s) => s.key);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(buffered.url).toBe(server.origin + p2);
  });

  it('retries an attempt that outlives attemptTimeout, and names the timeout when none answers', async () => {
    const p = path();
    const { fetch } = client({ attemptTimeout: 50 });
    const response = await fetch(server.route(p, slow(1000), ok()), { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    const keys = server.seen(p).map((s) => s.key);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect(getRetryInfo(response)!.reasons).toEqual(['attempt timeout']);

    const p2 = path();
    const started = performance.now();
    const error = await client({ attemptTimeout: 40, retries: 1 })
      .fetch(server.route(p2, slow(1000)), { method: 'PUT', body: 'x' })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(900);
    expect(isOncelyClientError(error, ClientErrorCode.attemptTimeout)).toBe(true);
    expect(error).toMatchObject({ attempts: 2, idempotencyKey: server.seen(p2)[0]!.key });
  });
});

describe('createFetch: statuses, hints and Retry-After', () => {
  it('waits a 503 Retry-After (seconds) instead of the backoff', async () => {
    const p = path();
    const { fetch, slept } = client();
    const response = await fetch(server.route(p, status(503, { 'retry-after': '2' }), ok()), {
      method: 'POST',
      body: 'x',
    });
    expect(response.status).toBe(200);
    expect(slept).toEqual([2000]);
    expect(getRetryInfo(response)).toMatchObject({ attempts: 2, delays: [2000], reasons: ['status 503'] });
  });

  it("measures a 429's HTTP-date Retry-After against the response's own skewed Date header", async () => {
    const p = path();
    const serverNow = Math.floor(Date.now() / 1000) * 1000 - 3_600_000; // server clock an hour behind
    const headers = {
      date: new Date(serverNow).toUTCString(),
      'retry-after': new Date(serverNow + 3000).toUTCString(),
    };
    const { fetch, slept } = client();
    const response = await fetch(server.route(p, status(429, headers), ok()), { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    expect(slept).toEqual([3000]);
  });

  it('caps Retry-After at maxRetryAfter', async () => {
    const p = path();
    const { fetch, slept } = client({ maxRetryAfter: 1500 });
    await fetch(server.route(p, status(503, { 'retry-after': '120' }), ok()), { method: 'POST', body: 'x' });
    expect(slept).toEqual([1500]);
  });

  it('retries a 409 "request in progress" problem after its Retry-After, then gets the result', async () => {
    const p = path();
    const { fetch, slept } = client();
    const url = server.route(p, problem(409, ProblemType.requestInProgress, { 'retry-after': '1' }), ok());
    const response = await fetch(url, { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    expect(slept).toEqual([1000]);
    const keys = server.seen(p).map((s) => s.key);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect(getRetryInfo(response)!.reasons).toEqual(['request in progress']);
  });

  it('does not retry a plain 409 (no in-progress problem type)', async () => {
    const p = path();
    const response = await client().fetch(server.route(p, status(409), ok()), { method: 'POST', body: 'x' });
    expect(response.status).toBe(409);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('never retries 422 key reuse, and surfaces it as a typed error on request', async () => {
    const p = path();
    const url = server.route(p, problem(422, ProblemType.keyReused));
    const gaveUp: string[] = [];
    const { fetch } = client({ onGiveUp: (event) => gaveUp.push(event.reason) });
    const response = await fetch(url, { method: 'POST', body: 'x' });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ type: ProblemType.keyReused });
    expect(gaveUp).toEqual(['idempotency key reused']);

    const error = await fetch(url, { method: 'POST', body: 'x', throwOnHttpError: true }).catch(
      (e: unknown) => e,
    );
    expect(isOncelyClientError(error, ClientErrorCode.httpError)).toBe(true);
    expect((error as { response: Response }).response.status).toBe(422);
    expect(server.seen(p)).toHaveLength(2);
  });

  it.each([400, 401, 403, 404])('never retries %i', async (code) => {
    const p = path();
    const response = await client({ retries: 3 }).fetch(server.route(p, status(code), ok()), {
      method: 'PUT',
    });
    expect(response.status).toBe(code);
    expect(server.seen(p)).toHaveLength(1);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries %i', async (code) => {
    const p = path();
    const response = await client().fetch(server.route(p, status(code), ok()), { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    expect(server.seen(p)).toHaveLength(2);
  });

  it('lets the server say "do not retry" (x-should-retry: false wins over 503)', async () => {
    const p = path();
    const response = await client().fetch(server.route(p, status(503, { 'x-should-retry': 'false' }), ok()), {
      method: 'POST',
      body: 'x',
    });
    expect(response.status).toBe(503);
    expect(getRetryInfo(response)).toMatchObject({ attempts: 1 });
  });

  it('resolves with the last response when retries are used up', async () => {
    const p = path();
    const gaveUp: unknown[] = [];
    const { fetch, slept } = client({ retries: 2, onGiveUp: (event) => gaveUp.push(event) });
    const response = await fetch(server.route(p, status(503)), { method: 'POST', body: 'x' });
    expect(response.status).toBe(503);
    expect(slept).toEqual([5, 10]);
    expect(gaveUp).toEqual([
      expect.objectContaining({
        attempts: 3,
        totalDelay: 15,
        reason: 'retries exhausted (status 503)',
        response,
      }),
    ]);
  });
});

describe('createFetch: methods and keys', () => {
  it('does not retry a POST sent without a key', async () => {
    const p = path();
    const response = await client().fetch(server.route(p, status(503), ok()), {
      method: 'POST',
      body: 'x',
      idempotencyKey: false,
    });
    expect(response.status).toBe(503);
    expect(server.seen(p).map((s) => s.key)).toEqual([undefined]);
  });

  it('idempotencyKey: false also drops a key header: the POST goes out unkeyed and is not retried', async () => {
    const p = path();
    const response = await client().fetch(server.route(p, status(503), ok()), {
      method: 'POST',
      body: 'x',
      headers: { 'Idempotency-Key': 'from-a-default-header' },
      idempotencyKey: false,
    });
    expect(response.status).toBe(503);
    expect(server.seen(p).map((s) => s.key)).toEqual([undefined]);
  });

  it('retries a GET without sending a key', async () => {
    const p = path();
    const response = await client().fetch(server.route(p, status(503), ok()));
    expect(response.status).toBe(200);
    expect(server.seen(p).map((s) => s.key)).toEqual([undefined, undefined]);
    expect(getRetryInfo(response)).toMatchObject({ idempotencyKey: undefined, attempts: 2 });
  });

  it("keeps the caller's key from the header, the option, and a Request", async () => {
    const { fetch } = client();
    const p1 = path();
    await fetch(server.route(p1, destroy(), ok()), {
      method: 'POST',
      body: 'x',
      headers: { 'Idempotency-Key': 'order-1' },
    });
    expect(server.seen(p1).map((s) => s.key)).toEqual(['order-1', 'order-1']);

    const p2 = path();
    const response = await fetch(server.route(p2, destroy(), ok()), {
      method: 'PATCH',
      body: 'x',
      idempotencyKey: 'order-2',
    });
    expect(server.seen(p2).map((s) => s.key)).toEqual(['order-2', 'order-2']);
    expect(getRetryInfo(response)!.idempotencyKey).toBe('order-2');

    const p3 = path();
    const request = new Request(server.route(p3, destroy(), ok()), {
      method: 'POST',
      body: 'from a request',
      headers: { 'idempotency-key': 'order-3', 'content-type': 'text/x-order' },
    });
    await fetch(request);
    expect(server.seen(p3).map((s) => [s.key, s.body.toString(), s.contentType])).toEqual([
      ['order-3', 'from a request', 'text/x-order'],
      ['order-3', 'from a request', 'text/x-order'],
    ]);
  });

  it('sends a key holding a comma in the quoted form, which servers cannot mistake for two keys', async () => {
    const { fetch } = client();
    const p = path();
    const response = await fetch(server.route(p, destroy(), ok()), {
      method: 'POST',
      body: 'x',
      idempotencyKey: 'order,42',
    });
    expect(server.seen(p).map((s) => s.key)).toEqual(['"order,42"', '"order,42"']);
    expect(getRetryInfo(response)!.idempotencyKey).toBe('order,42');
  });

  it('uses v7 keys or a custom generator when asked', async () => {
    const p = path();
    await client({ keyGenerator: 'v7' }).fetch(server.route(p, ok()), { method: 'POST' });
    expect(server.seen(p)[0]!.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    const p2 = path();
    await client({ keyGenerator: () => 'custom-key' }).fetch(server.route(p2, ok()), { method: 'POST' });
    expect(server.seen(p2)[0]!.key).toBe('custom-key');
  });

  it('refuses an invalid caller key before sending anything', async () => {
    const p = path();
    const url = server.route(p, ok());
    await expect(client().fetch(url, { method: 'POST', idempotencyKey: 'bad\nkey' })).rejects.toMatchObject({
      code: 'ERR_ONCELY_INVALID_KEY',
    });
    expect(server.seen(p)).toHaveLength(0);
  });

  it('fires onRetry with attempt, delay, reason and key, and onSuccess once', async () => {
    const p = path();
    const events: unknown[] = [];
    const { fetch } = client({
      onRetry: ({ attempt, delay, reason, idempotencyKey }) =>
        events.push({ attempt, delay, reason, idempotencyKey }),
      onSuccess: ({ attempts, totalDelay, idempotencyKey }) =>
        events.push({ attempts, totalDelay, idempotencyKey }),
    });
    await fetch(server.route(p, status(502), status(504), ok()), {
      method: 'POST',
      idempotencyKey: 'k-events',
    });
    expect(events).toEqual([
      { attempt: 1, delay: 5, reason: 'status 502', idempotencyKey: 'k-events' },
      { attempt: 2, delay: 10, reason: 'status 504', idempotencyKey: 'k-events' },
      { attempts: 3, totalDelay: 15, idempotencyKey: 'k-events' },
    ]);
  });

  it('lets shouldRetry override the verdict (not the method rule)', async () => {
    const p = path();
    const { fetch } = client({ shouldRetry: ({ status: code }) => (code === 418 ? true : undefined) });
    const response = await fetch(server.route(p, status(418), ok()), { method: 'POST' });
    expect(response.status).toBe(200);
    expect(server.seen(p)).toHaveLength(2);
  });

  it('is assignable to typeof fetch and forwards a custom underlying fetch', async () => {
    const p = path();
    const calls: string[] = [];
    const f: typeof globalThis.fetch = createFetch({
      fetch: (input, init) => {
        calls.push(new Headers(init?.headers).get('idempotency-key') ?? 'none');
        return globalThis.fetch(input, init);
      },
    });
    await f(server.route(p, ok()), { method: 'POST' });
    expect(calls).toEqual([server.seen(p)[0]!.key]);
  });
});
