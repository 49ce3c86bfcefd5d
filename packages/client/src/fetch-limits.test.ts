import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, destroy, ok, slow, startFaultServer, status } from '../test/fault-server.js';
import {
  ClientErrorCode,
  createFetch,
  createRetryBudget,
  getRetryInfo,
  isOncelyClientError,
} from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/limits/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const noSleep = async (): Promise<void> => {};

describe('createFetch: cancellation', () => {
  it('leaves no listener on a long-lived caller signal, read or unread bodies alike', async () => {
    const p = path();
    const url = server.route(p, status(503), ok());
    const controller = new AbortController();
    const fetch = createFetch({ sleep: noSleep });
    for (let i = 0; i < 20; i++) {
      const response = await fetch(url, { method: 'POST', body: 'x', signal: controller.signal });
      if (i % 2 === 0) await response.text();
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The link still works: an abort reaches a call in flight.
    const pending = fetch(server.route(path(), slow(5_000)), {
      method: 'POST',
      body: 'y',
      signal: controller.signal,
    });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('an abort during a 10 s backoff settles within milliseconds with signal.reason', async () => {
    const p = path();
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const fetch = createFetch({
      onRetry: ({ delay }) => {
        expect(delay).toBe(10_000);
        setTimeout(() => controller.abort(reason), 20);
      },
    });
    const started = performance.now();
    const error = await fetch(server.route(p, status(503, { 'retry-after': '10' })), {
      method: 'POST',
      body: 'x',
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(performance.now() - started).toBeLessThan(500);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('rejects with a non-Error reason exactly as given', async () => {
    const p = path();
    const controller = new AbortController();
    const fetch = createFetch({ onRetry: () => controller.abort('stop please') });
    await expect(
      fetch(server.route(p, status(503)), { method: 'POST', signal: controller.signal }),
    ).rejects.toBe('stop please');
  });

  it('an abort during an attempt stops it with signal.reason and does not retry', async () => {
    const p = path();
    const controller = new AbortController();
    const reason = new Error('left the page');
    setTimeout(() => controller.abort(reason), 30);
    const started = performance.now();
    await expect(
      createFetch({ sleep: noSleep })(server.route(p, slow(2000)), {
        method: 'POST',
        signal: controller.signal,
      }),
    ).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('the same signal stops the body read of the final response', async () => {
    const p = path();
    const controller = new AbortController();
    const url = server.route(p, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk');
      // never ends
    });
    const response = await createFetch()(url, { method: 'POST', signal: controller.signal });
    const reason = new Error('enough');
    setTimeout(() => controller.abort(reason), 20);
    await expect(response.text()).rejects.toBe(reason);
  });

  it('an already aborted signal sends nothing', async () => {
    const p = path();
    await expect(
      createFetch()(server.route(p, ok()), { method: 'POST', signal: AbortSignal.abort('early') }),
    ).rejects.toBe('early');
    expect(server.seen(p)).toHaveLength(0);
  });
});

describe('createFetch: deadline', () => {
  it('gives up at once, without sleeping, when the Retry-After would cross the deadline', async () => {
    const p = path();
    const slept: number[] = [];
    const fetch = createFetch({
      deadline: 500,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    const error = await fetch(server.route(p, status(503, { 'retry-after': '2' })), { method: 'POST' }).catch(
      (e: unknown) => e,
    );
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
    expect(slept).toEqual([]);
    expect(error).toMatchObject({ attempts: 1, idempotencyKey: server.seen(p)[0]!.key });
    expect((error as { response: Response }).response.status).toBe(503);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('cuts an attempt that would run past the deadline', async () => {
    const p = path();
    const started = performance.now();
    const error = await createFetch({ deadline: 80, attemptTimeout: 10_000 })(server.route(p, slow(2000)), {
      method: 'POST',
    }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
    expect(performance.now() - started).toBeLessThan(800);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('retries freely while the deadline allows', async () => {
    const p = path();
    const response = await createFetch({ deadline: 5000, baseDelay: 1 })(
      server.route(p, destroy(), destroy(), ok()),
      {
        method: 'POST',
      },
    );
    expect(getRetryInfo(response)!.attempts).toBe(3);
  });
});

describe('createFetch: retry budget', () => {
  it('fails fast with a distinct error when the bucket is empty, and refills on success', async () => {
    const budget = createRetryBudget({ capacity: 10, retryCost: 5, successReward: 1 });
    const fetch = createFetch({ retryBudget: budget, retries: 5, sleep: noSleep });

    const p1 = path();
    const error = await fetch(server.route(p1, status(503)), { method: 'POST' }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.budgetExhausted)).toBe(true);
    // two retries took the 10 tokens; the third was refused
    expect(error).toMatchObject({ attempts: 3 });
    expect((error as { response: Response }).response.status).toBe(503);
    expect(server.seen(p1)).toHaveLength(3);
    expect(budget.available).toBe(0);

    const p2 = path();
    const second = await fetch(server.route(p2, status(503)), { method: 'POST' }).catch((e: unknown) => e);
    expect(isOncelyClientError(second, ClientErrorCode.budgetExhausted)).toBe(true);
    expect(server.seen(p2)).toHaveLength(1);

    const p3 = path();
    await fetch(server.route(p3, ok()), { method: 'POST' });
    expect(budget.available).toBe(1);
  });

  it('is per client by default and can be switched off', async () => {
    const p = path();
    const fetch = createFetch({ retryBudget: false, retries: 3, sleep: noSleep });
    const response = await fetch(server.route(p, status(500)), { method: 'POST' });
    expect(response.status).toBe(500);
    expect(server.seen(p)).toHaveLength(4);
  });
});
