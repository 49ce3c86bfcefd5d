import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, destroy, ok, startFaultServer } from '../test/fault-server.js';
import {
  type FetchOptions,
  ClientErrorCode,
  createFetch,
  createRetryBudget,
  getRetryInfo,
  isOncelyClientError,
} from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/caller/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

/** A client that records its sleeps and retries, with a budget of its own to watch. */
function client(options: FetchOptions = {}) {
  const slept: number[] = [];
  const budget = createRetryBudget({ capacity: 50, retryCost: 5 });
  const fetch = createFetch({
    retries: 3,
    retryBudget: budget,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...options,
  });
  return { fetch, slept, budget };
}

describe('createFetch: caller mistakes are final and typed', () => {
  it.each([
    ['a GET with a body', { method: 'GET', body: 'x' }],
    ['a HEAD with a body', { method: 'HEAD', body: 'x' }],
    ['a GET with a body factory', { method: 'GET', body: () => 'x' }],
    ['an invalid credentials', { method: 'POST', credentials: 'bogus' }],
    ['an invalid redirect', { method: 'POST', redirect: 'bogus' }],
    ['an invalid mode', { method: 'POST', mode: 'bogus' }],
  ])('%s: ERR_ONCELY_INVALID_REQUEST before anything is sent', async (_name, init) => {
    const p = path();
    const { fetch, slept, budget } = client();
    const error = await fetch(server.route(p, ok()), init as RequestInit).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.invalidRequest)).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ attempts: 0 });
    expect(server.seen(p)).toHaveLength(0);
    expect(slept).toEqual([]);
    expect(budget.available).toBe(50);
  });

  it.each([
    ['a TypeError', () => new TypeError('cannot read the file')],
    ['any other error', () => Object.assign(new Error('no such file'), { code: 'ENOENT' })],
  ])('a body factory that throws %s: final, the error as cause, nothing sent', async (_name, make) => {
    const p = path();
    const { fetch, slept, budget } = client();
    const thrown = make();
    const error = await fetch(server.route(p, ok()), {
      method: 'POST',
      body: () => {
        throw thrown;
      },
    }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.invalidRequest)).toBe(true);
    expect((error as Error).cause).toBe(thrown);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 1, delays: [] });
    expect(server.seen(p)).toHaveLength(0);
    expect(slept).toEqual([]);
    expect(budget.available).toBe(50);
  });

  it('a body factory that rejects on the second attempt: final at that attempt', async () => {
    const p = path();
    let made = 0;
    const { fetch } = client();
    const error = await fetch(server.route(p, destroy(), ok()), {
      method: 'POST',
      body: async () => {
        if (++made === 2) throw new TypeError('gone');
        return 'x';
      },
    }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.invalidRequest)).toBe(true);
    expect(error).toMatchObject({ attempts: 2 });
    expect(server.seen(p)).toHaveLength(1);
  });
});

describe('createFetch: only network failures, by their code, are retried', () => {
  it('a refused connection (ECONNREFUSED) is retried', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise((resolve) => closed.close(resolve));
    const { fetch, slept } = client({ retries: 1, random: () => 0.5, baseDelay: 10 });
    const error = await fetch(url, { method: 'POST' }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.requestFailed)).toBe(true);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 2, reasons: ['network ECONNREFUSED'] });
    expect(slept).toEqual([5]);
  });
});
