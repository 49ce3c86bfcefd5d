import axios, { type AxiosError, type AxiosResponse } from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, destroy, ok, slow, startFaultServer, status } from '../test/fault-server.js';
import { withIdempotency } from './axios.js';
import { ClientErrorCode, createFetch, getRetryInfo, isOncelyClientError } from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/per-request/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const noSleep = async (): Promise<void> => {};
const keysOf = (p: string): (string | undefined)[] => server.seen(p).map((s) => s.key);

/** What an axios call settled with, summarised: an AxiosError holds sockets, which vitest cannot print. */
const outcome = (call: Promise<AxiosResponse>) =>
  call.then(
    (response) => ({ status: response.status, info: getRetryInfo(response) }),
    (error: AxiosError) => ({
      code: error.code,
      status: error.response?.status,
      info: getRetryInfo(error),
    }),
  );

describe('createFetch: per-call retries, deadline, attempt timeout and key opt-out', () => {
  it('retries overrides the client: more, and none', async () => {
    const fetch = createFetch({ retries: 0, sleep: noSleep });
    const more = path();
    const response = await fetch(server.route(more, status(503), destroy(), status(502), ok()), {
      method: 'POST',
      retries: 3,
    });
    expect(response.status).toBe(200);
    expect(getRetryInfo(response)).toMatchObject({ attempts: 4 });
    expect(new Set(keysOf(more)).size).toBe(1);

    const none = path();
    const generous = createFetch({ retries: 5, sleep: noSleep });
    const failed = await generous(server.route(none, status(503), ok()), { method: 'POST', retries: 0 });
    expect(failed.status).toBe(503);
    expect(server.seen(none)).toHaveLength(1);
  });

  it('attemptTimeout overrides the client: a slow attempt is cut and retried', async () => {
    const p = path();
    const fetch = createFetch({ attemptTimeout: 60_000, sleep: noSleep });
    const response = await fetch(server.route(p, slow(2_000), ok()), { method: 'POST', attemptTimeout: 100 });
    expect(response.status).toBe(200);
    expect(getRetryInfo(response)).toMatchObject({ attempts: 2, reasons: ['attempt timeout'] });
  });

  it('deadline overrides the client: the call stops there', async () => {
    const p = path();
    const fetch = createFetch({ sleep: noSleep });
    const error = await fetch(server.route(p, slow(2_000)), { method: 'POST', deadline: 150 }).catch(
      (e: unknown) => e,
    );
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('a bad per-call value fails the call, naming the option, before anything is sent', async () => {
    const p = path();
    const fetch = createFetch();
    await expect(fetch(server.route(p, ok()), { method: 'POST', retries: -1 })).rejects.toThrow(
      'Invalid option `retries`: expected a non-negative integer, got -1.',
    );
    await expect(
      fetch(server.route(p, ok()), { method: 'POST', attemptTimeout: Number.NaN }),
    ).rejects.toThrow(/Invalid option `attemptTimeout`/);
    expect(server.seen(p)).toHaveLength(0);
  });

  it('the per-call fields never reach fetch', async () => {
    const p = path();
    const seen: RequestInit[] = [];
    const fetch = createFetch({
      fetch: (input, init) => {
        seen.push(init!);
        return globalThis.fetch(input, init);
      },
    });
    await fetch(server.route(p, ok()), {
      method: 'POST',
      retries: 1,
      deadline: 5_000,
      attemptTimeout: 1_000,
    });
    expect(Object.keys(seen[0]!).filter((field) => /retries|deadline|attemptTimeout/.test(field))).toEqual(
      [],
    );
  });
});

describe('withIdempotency: per-request config fields', () => {
  const api = withIdempotency(axios.create({ baseURL: '' }), { retries: 1, sleep: noSleep });
  const url = (p: string): string => server.origin + p;

  it('retries overrides the client: more, and none', async () => {
    const more = path();
    server.route(more, status(503), destroy(), status(502), ok());
    expect(await outcome(api.post(url(more), 'x', { retries: 3 }))).toMatchObject({
      status: 200,
      info: { attempts: 4 },
    });
    expect(new Set(keysOf(more)).size).toBe(1);

    const none = path();
    server.route(none, status(503), ok());
    expect(await outcome(api.post(url(none), 'x', { retries: 0 }))).toMatchObject({
      status: 503,
      info: { attempts: 1 },
    });
    expect(server.seen(none)).toHaveLength(1);
  });

  it('attemptTimeout and deadline override the client', async () => {
    const cut = path();
    server.route(cut, slow(2_000), ok());
    expect(await outcome(api.post(url(cut), 'x', { attemptTimeout: 100 }))).toMatchObject({
      status: 200,
      info: { attempts: 2, reasons: ['attempt timeout'] },
    });

    const late = path();
    server.route(late, slow(2_000));
    const error = await api.post(url(late), 'x', { deadline: 150 }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
  });

  it('idempotencyKey: false sends no key — an instance default header dropped too — and a POST is not retried', async () => {
    const p = path();
    server.route(p, status(503), ok());
    const keyed = withIdempotency(
      axios.create({ headers: { common: { 'Idempotency-Key': 'instance-wide' } } }),
      { sleep: noSleep },
    );
    expect(await outcome(keyed.post(url(p), 'x', { idempotencyKey: false }))).toMatchObject({
      status: 503,
      info: { idempotencyKey: undefined, attempts: 1 },
    });
    expect(keysOf(p)).toEqual([undefined]);
  });

  it('idempotencyKey: a string is the key of that request', async () => {
    const p = path();
    server.route(p, destroy(), ok());
    expect(await outcome(api.post(url(p), 'x', { idempotencyKey: 'order-42' }))).toMatchObject({
      status: 200,
      info: { idempotencyKey: 'order-42', attempts: 2 },
    });
    expect(keysOf(p)).toEqual(['order-42', 'order-42']);
  });

  it('a bad per-request value rejects, naming the option, before anything is sent', async () => {
    const p = path();
    server.route(p, ok());
    await expect(api.post(url(p), 'x', { retries: 1.5 })).rejects.toThrow(/Invalid option `retries`/);
    await expect(api.post(url(p), 'x', { idempotencyKey: 'bad\nkey' })).rejects.toMatchObject({
      code: 'ERR_ONCELY_INVALID_KEY',
    });
    expect(server.seen(p)).toHaveLength(0);
  });
});
