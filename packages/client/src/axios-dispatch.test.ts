import axios, {
  AxiosHeaders,
  type AxiosError,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultServer,
  destroy,
  ok,
  redirect,
  slow,
  startFaultServer,
  status,
} from '../test/fault-server.js';
import { withIdempotency } from './axios.js';
import { type ClientOptions, getRetryInfo } from './index.js';

let server: FaultServer;
let other: FaultServer;
let n = 0;
const path = (): string => `/dispatch/${++n}`;
beforeAll(async () => {
  [server, other] = await Promise.all([startFaultServer(), startFaultServer()]);
});
afterAll(() => Promise.all([server.close(), other.close()]));

const noSleep = async (): Promise<void> => {};
const keysOf = (p: string, on = server): (string | undefined)[] => on.seen(p).map((s) => s.key);

/** What a call settled with, summarised: an AxiosError holds sockets, which vitest cannot print. */
const outcome = (call: Promise<AxiosResponse>) =>
  call.then(
    (response) => ({ status: response.status, info: getRetryInfo(response) }),
    (error: AxiosError) => ({
      code: error.code,
      status: error.response?.status,
      info: getRetryInfo(error),
    }),
  );

describe('axios: whether an attempt is keyed is what it sent', () => {
  const replaceHeaders = (config: InternalAxiosRequestConfig): InternalAxiosRequestConfig => {
    // A common interceptor shape: rebuild the headers from scratch (here, dropping every other header).
    config.headers = new AxiosHeaders({ 'x-tenant': 't1' });
    return config;
  };

  it.each([
    ['registered before withIdempotency (legacy ordering)', true, 'before'],
    ['registered after it, legacyInterceptorReqResOrdering: false', false, 'after'],
  ] as const)(
    'an interceptor that replaces config.headers %s: the POST went out without a key, so it is not retried',
    async (_name, legacy, where) => {
      const p = path();
      server.route(p, status(503), ok());
      const reasons: string[] = [];
      const instance = axios.create({
        baseURL: server.origin,
        transitional: { legacyInterceptorReqResOrdering: legacy },
      });
      if (where === 'before') instance.interceptors.request.use(replaceHeaders);
      withIdempotency(instance, { sleep: noSleep, onGiveUp: ({ reason }) => reasons.push(reason) });
      if (where === 'after') instance.interceptors.request.use(replaceHeaders);
      expect(await outcome(instance.post(p, 'x'))).toMatchObject({
        code: 'ERR_BAD_RESPONSE',
        status: 503,
        info: { attempts: 1 },
      });
      expect(server.seen(p).map((s) => [s.method, s.key, s.headers['x-tenant']])).toEqual([
        ['POST', undefined, 't1'],
      ]);
      expect(reasons).toEqual(['POST without an idempotency key is not retried']);
    },
  );

  it('a PUT without a key on the wire is still retried (idempotent by method)', async () => {
    const p = path();
    server.route(p, status(503), ok());
    const instance = axios.create({
      baseURL: server.origin,
      transitional: { legacyInterceptorReqResOrdering: false },
    });
    withIdempotency(instance, { sleep: noSleep });
    instance.interceptors.request.use(replaceHeaders);
    expect(await outcome(instance.put(p, 'x'))).toMatchObject({ status: 200, info: { attempts: 2 } });
    expect(keysOf(p)).toEqual([undefined, undefined]);
  });
});

describe('axios: re-sending error.config (the refresh-token idiom) is the same operation, afresh', () => {
  function refreshingClient(options: ClientOptions = {}) {
    const api = withIdempotency(axios.create({ baseURL: server.origin }), {
      sleep: noSleep,
      ...options,
    });
    let refreshed = 0;
    api.interceptors.response.use(undefined, async (error: AxiosError) => {
      if (error.response?.status !== 401 || refreshed > 0 || error.config === undefined) throw error;
      refreshed++;
      error.config.headers.set('authorization', 'Bearer fresh');
      return api.request(error.config);
    });
    return api;
  }

  it('the re-sent call keeps the key and gets its full retries and its own retry info', async () => {
    const p = path();
    server.route(p, status(401), status(503), destroy(), ok());
    const response = await refreshingClient({ retries: 2 }).post(p, { amount: 10 });
    expect(response.status).toBe(200);
    const keys = keysOf(p);
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(1);
    expect(server.seen(p).map((s) => s.headers.authorization)).toEqual([
      undefined,
      'Bearer fresh',
      'Bearer fresh',
      'Bearer fresh',
    ]);
    expect(server.seen(p).every((s) => s.body.toString() === '{"amount":10}')).toBe(true);
    expect(getRetryInfo(response)).toMatchObject({ idempotencyKey: keys[0], attempts: 3 });
  });

  it('the re-sent call gets a new deadline, counted from the re-send', async () => {
    const p = path();
    const deadline = 400;
    // The 401 comes at 60 % of the deadline and the refresh takes another 60 %: the re-send starts past
    // the first call's deadline.
    server.route(
      p,
      (_req, res) => setTimeout(() => status(401)(_req, res, undefined as never), deadline * 0.6),
      ok(),
    );
    const api = withIdempotency(axios.create({ baseURL: server.origin }), { deadline, sleep: noSleep });
    api.interceptors.response.use(undefined, async (error: AxiosError) => {
      if (error.response?.status !== 401 || error.config === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, deadline * 0.6));
      return api.request(error.config);
    });
    expect(await outcome(api.post(p, 'x'))).toMatchObject({ status: 200, info: { attempts: 1 } });
    expect(new Set(keysOf(p)).size).toBe(1);
    expect(keysOf(p)).toHaveLength(2);
  });

  it('a new signal on the re-sent config is honoured (during its backoff)', async () => {
    const p = path();
    server.route(p, status(401), status(503, { 'retry-after': '10' }));
    const controller = new AbortController();
    const api = withIdempotency(axios.create({ baseURL: server.origin }), {
      onRetry: () => setTimeout(() => controller.abort('new signal'), 20),
    });
    api.interceptors.response.use(undefined, async (error: AxiosError) => {
      if (error.response?.status !== 401 || error.config === undefined) throw error;
      error.config.signal = controller.signal;
      return api.request(error.config);
    });
    const started = performance.now();
    const error = await api.post(p, 'x').catch((e: unknown) => e);
    expect(axios.isCancel(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(server.seen(p)).toHaveLength(2);
  });
});

describe("axios: Oncely's attempt signal works with every adapter", () => {
  it.each(['http', 'fetch'] as const)(
    'the %s adapter: an attempt cut by attemptTimeout is retried with the same key',
    async (adapter) => {
      const p = path();
      server.route(p, slow(2_000), ok());
      const api = withIdempotency(axios.create({ baseURL: server.origin, adapter }), {
        attemptTimeout: 100,
        sleep: noSleep,
      });
      expect(await outcome(api.post(p, 'x'))).toMatchObject({
        status: 200,
        info: { attempts: 2, reasons: ['attempt timeout'] },
      });
      expect(new Set(keysOf(p)).size).toBe(1);
      expect(keysOf(p)).toHaveLength(2);
    },
  );
});

describe('axios: a legacy CancelToken', () => {
  it('cancels the call during a 10 s backoff', async () => {
    const p = path();
    server.route(p, status(503, { 'retry-after': '10' }), ok());
    const source = axios.CancelToken.source();
    const api = withIdempotency(axios.create({ baseURL: server.origin }), {
      onRetry: () => setTimeout(() => source.cancel('cancelled by token'), 20),
    });
    const started = performance.now();
    const error = await api.post(p, 'x', { cancelToken: source.token }).catch((e: unknown) => e);
    expect(axios.isCancel(error)).toBe(true);
    expect((error as Error).message).toBe('cancelled by token');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(server.seen(p)).toHaveLength(1);
  });
});

describe('axios: the key never leaves its origin', () => {
  it.each([302, 307, 308])('a cross-origin %i does not carry the key', async (code) => {
    const from = path();
    const to = path();
    server.route(from, redirect(code, other.route(to, ok())));
    const api = withIdempotency(axios.create({ baseURL: server.origin }), { sleep: noSleep });
    const response = await api.put(from, 'x');
    expect(response.status).toBe(200);
    expect(keysOf(from)).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect(keysOf(to, other)).toEqual([undefined]);
  });

  it.each([303, 301])('a same-origin %i after a POST becomes a GET without the key', async (code) => {
    const from = path();
    const to = path();
    server.route(from, redirect(code, to));
    const api = withIdempotency(axios.create({ baseURL: server.origin }), { sleep: noSleep });
    await api.post(from, { amount: 1 });
    expect(server.seen(to).map((s) => [s.method, s.key])).toEqual([['GET', undefined]]);
  });

  it('a same-origin 307 keeps the key', async () => {
    const from = path();
    const to = path();
    server.route(from, redirect(307, to));
    const api = withIdempotency(axios.create({ baseURL: server.origin }), { sleep: noSleep });
    await api.post(from, 'x', { headers: { 'Idempotency-Key': 'ax-307' } });
    expect(server.seen(to).map((s) => [s.method, s.key])).toEqual([['POST', 'ax-307']]);
  });
});
