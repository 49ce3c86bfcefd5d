import { getEventListeners } from 'node:events';
import { ProblemType } from '@oncely/core';
import axios, { type AxiosError, type AxiosInstance, type AxiosResponse } from 'axios';
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
  trickle,
} from '../test/fault-server.js';
import { withIdempotency } from './axios.js';
import {
  type ClientOptions,
  ClientErrorCode,
  createRetryBudget,
  getRetryInfo,
  isOncelyClientError,
} from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/axios/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

function client(options: ClientOptions = {}, create: Parameters<typeof axios.create>[0] = {}) {
  const slept: number[] = [];
  const api = withIdempotency(axios.create({ baseURL: server.origin, ...create }), {
    baseDelay: 10,
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...options,
  });
  return { api, slept };
}

const keysOf = (p: string): (string | undefined)[] => server.seen(p).map((s) => s.key);

/** What a call settled with, summarised: an AxiosError holds sockets, which vitest cannot print. */
const outcome = (call: Promise<AxiosResponse>) =>
  call.then(
    (response) => ({ status: response.status, info: getRetryInfo(response) }),
    (error: { code?: unknown }) => ({ code: error.code, info: getRetryInfo(error) }),
  );

describe('withIdempotency (real axios + axios-retry)', () => {
  it('keeps one key across a lost response and a 503', async () => {
    const p = path();
    server.route(p, destroy(), status(503), ok());
    const { api, slept } = client();
    const response = await api.post(p, { amount: 10 });
    expect(response.data).toMatchObject({ ok: true });
    const keys = keysOf(p);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(slept).toEqual([5, 10]);
    expect(getRetryInfo(response)).toMatchObject({ idempotencyKey: keys[0], attempts: 3, delays: [5, 10] });
    expect(server.seen(p).every((s) => s.body.toString() === '{"amount":10}')).toBe(true);
  });

  it.each([true, false])(
    'user interceptors registered before and after see the same key on every attempt (legacy ordering: %s)',
    async (legacy) => {
      const p = path();
      server.route(p, destroy(), status(502), ok());
      const seenBefore: unknown[] = [];
      const seenAfter: unknown[] = [];
      const instance = axios.create({
        baseURL: server.origin,
        transitional: { legacyInterceptorReqResOrdering: legacy },
      });
      instance.interceptors.request.use((config) => {
        seenBefore.push(config.headers.get('Idempotency-Key'));
        return config;
      });
      withIdempotency(instance, { baseDelay: 1 });
      instance.interceptors.request.use((config) => {
        seenAfter.push(config.headers.get('Idempotency-Key'));
        config.headers.set('x-user', 'yes');
        return config;
      });
      await instance.post(p, 'x');
      const keys = keysOf(p);
      expect(keys).toHaveLength(3);
      expect(seenBefore).toEqual(keys);
      expect(seenAfter).toEqual(keys);
      expect(new Set(keys).size).toBe(1);
      expect(server.seen(p).every((s) => s.headers['x-user'] === 'yes')).toBe(true);
    },
  );

  it("keeps the caller's key from a header", async () => {
    const p = path();
    server.route(p, destroy(), ok());
    const { api } = client();
    await api.post(p, 'x', { headers: { 'Idempotency-Key': 'order-9' } });
    expect(keysOf(p)).toEqual(['order-9', 'order-9']);
  });

  it('retries a GET without a key; never a 404', async () => {
    const p = path();
    server.route(p, status(503), ok());
    const { api } = client();
    await api.get(p);
    expect(keysOf(p)).toEqual([undefined, undefined]);
    const p2 = path();
    server.route(p2, status(404), ok());
    const error = (await api.get(p2).catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).toBe(404);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 1 });
  });

  it('waits Retry-After: seconds, and an HTTP-date against a skewed Date header', async () => {
    const p = path();
    server.route(p, status(503, { 'retry-after': '2' }), ok());
    const first = client();
    await first.api.post(p, 'x');
    expect(first.slept).toEqual([2000]);

    const p2 = path();
    const serverNow = Math.floor(Date.now() / 1000) * 1000 + 7_200_000; // server clock two hours ahead
    server.route(
      p2,
      status(429, {
        date: new Date(serverNow).toUTCString(),
        'retry-after': new Date(serverNow + 4000).toUTCString(),
      }),
      ok(),
    );
    const second = client();
    await second.api.post(p2, 'x');
    expect(second.slept).toEqual([4000]);
  });

  it('retries 409 in-progress after its Retry-After; 422 key reuse is final', async () => {
    const p = path();
    server.route(p, problem(409, ProblemType.requestInProgress, { 'retry-after': '1' }), ok());
    const { api, slept } = client();
    await api.post(p, 'x');
    expect(slept).toEqual([1000]);
    expect(new Set(keysOf(p)).size).toBe(1);

    const p2 = path();
    server.route(p2, problem(422, ProblemType.keyReused), ok());
    const reasons: string[] = [];
    const other = client({ onGiveUp: ({ reason }) => reasons.push(reason) });
    const error = (await other.api.post(p2, 'x').catch((e: unknown) => e)) as AxiosError;
    expect(axios.isAxiosError(error)).toBe(true);
    expect(error.response?.status).toBe(422);
    expect(server.seen(p2)).toHaveLength(1);
    expect(reasons).toEqual(['idempotency key reused']);
  });

  it('lets x-should-retry: false win', async () => {
    const p = path();
    server.route(p, status(500, { 'x-should-retry': 'false' }), ok());
    const error = (await client()
      .api.post(p, 'x')
      .catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).toBe(500);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('times out each attempt, not the whole call', async () => {
    const p = path();
    server.route(p, slow(1000), ok());
    const { api } = client({ attemptTimeout: 50 });
    const response = await api.post(p, 'x');
    expect(response.status).toBe(200);
    expect(getRetryInfo(response)).toMatchObject({ attempts: 2, reasons: ['attempt timeout'] });
    expect(new Set(keysOf(p)).size).toBe(1);
  });

  it('retries a 200 whose body is cut by a reset, with the same key (a network error, not an answer)', async () => {
    const p = path();
    server.route(p, resetMidBody(), ok());
    const { api } = client();
    expect(await outcome(api.post(p, 'x'))).toMatchObject({
      status: 200,
      info: { attempts: 2, reasons: ['network ECONNRESET'] },
    });
    const keys = keysOf(p);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(1);
  });

  it('retries a 409 whose body is cut by a reset: no answer, so no verdict by its status', async () => {
    const p = path();
    server.route(p, resetMidBody(409), ok());
    const { api } = client();
    expect(await outcome(api.post(p, 'x'))).toMatchObject({
      status: 200,
      info: { attempts: 2, reasons: ['network ECONNRESET'] },
    });
    expect(new Set(keysOf(p)).size).toBe(1);
  });

  it("applies the caller's own timeout per attempt", async () => {
    const p = path();
    server.route(p, slow(1000), ok());
    expect(await outcome(client({}, { timeout: 50 }).api.post(p, 'x'))).toMatchObject({
      status: 200,
      info: { attempts: 2, reasons: ['attempt timeout'] },
    });
  });

  it('rejects with the last axios error, with retry info, when retries are used up', async () => {
    const p = path();
    server.route(p, destroy());
    const error = (await client({ retries: 2 })
      .api.post(p, 'x')
      .catch((e: unknown) => e)) as AxiosError;
    expect(axios.isAxiosError(error)).toBe(true);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 3, idempotencyKey: keysOf(p)[0] });
    expect(keysOf(p)).toHaveLength(3);
  });

  it('stops at the deadline with an OncelyClientError carrying the axios response', async () => {
    const p = path();
    server.route(p, status(503, { 'retry-after': '3' }), ok());
    const { api, slept } = client({ deadline: 1000 });
    const error = await api.post(p, 'x').catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
    expect((error as { response: { status: number } }).response.status).toBe(503);
    expect(axios.isAxiosError((error as Error).cause)).toBe(true);
    expect(slept).toEqual([]);
  });

  it('cuts a response that never ends at the deadline (ERR_ONCELY_DEADLINE_EXCEEDED)', async () => {
    const p = path();
    server.route(p, trickle());
    const reasons: string[] = [];
    const { api } = client({ deadline: 300, onGiveUp: ({ reason }) => reasons.push(reason) });
    const started = performance.now();
    const error = await api.post(p, 'x').catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 200);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 1 });
    expect(reasons).toEqual([ClientErrorCode.deadlineExceeded]);
  });

  it('cuts each attempt that never ends at attemptTimeout and retries it with the same key', async () => {
    const p = path();
    server.route(p, trickle(), ok());
    expect(await outcome(client({ attemptTimeout: 100 }).api.post(p, 'x'))).toMatchObject({
      status: 200,
      info: { attempts: 2, reasons: ['attempt timeout'] },
    });
    expect(new Set(keysOf(p)).size).toBe(1);

    const p2 = path();
    server.route(p2, trickle());
    const started = performance.now();
    const error = await client({ attemptTimeout: 100, retries: 1 })
      .api.post(p2, 'x')
      .catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.attemptTimeout)).toBe(true);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 2 });
    expect(performance.now() - started).toBeLessThan(2 * 100 + 200);
  });

  it('clears its timers and leaves no listener on a long-lived caller signal', async () => {
    const controller = new AbortController();
    const { api } = client({ deadline: 400, attemptTimeout: 300 });
    const responses: AxiosResponse[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await api
        .post(server.route(path(), status(503), ok()), 'x', { signal: controller.signal })
        .catch((e: { code?: unknown }) => {
          throw new Error(`call ${i} failed: ${String(e.code)}`);
        });
      responses.push(response);
    }
    const failed = (await api
      .post(server.route(path(), status(404)), 'x', { signal: controller.signal })
      .catch((e: unknown) => e)) as AxiosError;
    expect(failed.response?.status).toBe(404);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // Past every deadline: had a timer outlived its call, it would have aborted that attempt's signal.
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(responses.map((response) => getRetryInfo(response)?.attempts)).toEqual(Array(10).fill(2));
    expect(responses.map((response) => response.config.signal?.aborted)).toEqual(Array(10).fill(false));
    expect(failed.config?.signal?.aborted).toBe(false);
    // The link still works: the caller's abort reaches a call in flight, as axios's CanceledError.
    const pending = api.post(server.route(path(), trickle()), 'y', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 30);
    const error = await pending.catch((e: unknown) => e);
    expect(axios.isCancel(error)).toBe(true);
  });

  it('fails fast when the retry budget is empty', async () => {
    const p = path();
    server.route(p, status(503));
    const { api } = client({ retryBudget: createRetryBudget({ capacity: 5, retryCost: 5 }), retries: 4 });
    const error = await api.post(p, 'x').catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.budgetExhausted)).toBe(true);
    expect(error).toMatchObject({ attempts: 2 });
    expect(server.seen(p)).toHaveLength(2);
  });

  it('an abort during a 10 s backoff settles within milliseconds (axios CanceledError)', async () => {
    const p = path();
    server.route(p, status(503, { 'retry-after': '10' }));
    const controller = new AbortController();
    const api: AxiosInstance = withIdempotency(axios.create({ baseURL: server.origin }), {
      onRetry: () => setTimeout(() => controller.abort(new Error('bye')), 20),
    });
    const started = performance.now();
    const error = await api.post(p, 'x', { signal: controller.signal }).catch((e: unknown) => e);
    expect(axios.isCancel(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(500);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('sends FormData byte for byte on every attempt (one boundary)', async () => {
    const p = path();
    server.route(p, destroy(), status(503), ok());
    const form = new FormData();
    form.append('amount', '10');
    form.append('file', new Blob(['receipt bytes'], { type: 'text/plain' }), 'r.txt');
    await client().api.post(p, form);
    const seen = server.seen(p);
    expect(seen).toHaveLength(3);
    expect(seen[0]!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    for (const attempt of seen) {
      expect(attempt.body.equals(seen[0]!.body)).toBe(true);
      expect(attempt.contentType).toBe(seen[0]!.contentType);
    }
  });

  it('refuses to be installed twice and checks its options', () => {
    const instance = axios.create();
    withIdempotency(instance);
    expect(() => withIdempotency(instance)).toThrow(/axiosInstance/);
    expect(() => withIdempotency(axios.create(), { retries: -2 })).toThrow(/`retries`/);
    expect(() => withIdempotency({} as AxiosInstance)).toThrow(/axiosInstance/);
  });
});
