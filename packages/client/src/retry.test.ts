import { ProblemType } from '@oncely/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, destroy, ok, startFaultServer, status } from '../test/fault-server.js';
import {
  type RetryOptions,
  ClientErrorCode,
  createRetry,
  createRetryBudget,
  getRetryInfo,
  isOncelyClientError,
  retry,
} from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/retry/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

function recorded(options: RetryOptions = {}) {
  const slept: number[] = [];
  const opts: RetryOptions = {
    baseDelay: 10,
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...options,
  };
  return { opts, slept };
}

/** Shaped like stripe-node's StripeError: `statusCode` and a plain header record. */
class StripeLikeError extends Error {
  constructor(
    readonly statusCode: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(`stripe ${statusCode}`);
  }
}

/** Shaped like the OpenAI SDK's APIError: `status`, a `Headers` object and the parsed body as `error`. */
class OpenAILikeError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly error: unknown,
  ) {
    super(`openai ${status}`);
  }
}

describe('retry', () => {
  it('gives the operation one key, the attempt number and a signal', async () => {
    const seen: [string, number, boolean][] = [];
    const { opts, slept } = recorded();
    const result = await retry(({ idempotencyKey, attempt, signal }) => {
      seen.push([idempotencyKey, attempt, signal instanceof AbortSignal]);
      if (attempt < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 'charged';
    }, opts);
    expect(result).toBe('charged');
    expect(seen.map(([, attempt]) => attempt)).toEqual([1, 2, 3]);
    expect(new Set(seen.map(([key]) => key)).size).toBe(1);
    expect(seen.every(([, , isSignal]) => isSignal)).toBe(true);
    expect(slept).toEqual([5, 10]);
  });

  it('judges a stripe-like error by statusCode and its Retry-After header', async () => {
    const { opts, slept } = recorded({ idempotencyKey: 'charge-1' });
    const keys: string[] = [];
    const result = await retry(({ idempotencyKey, attempt }) => {
      keys.push(idempotencyKey);
      if (attempt === 1) throw new StripeLikeError(503, { 'Retry-After': '2' });
      return 42;
    }, opts);
    expect(result).toBe(42);
    expect(keys).toEqual(['charge-1', 'charge-1']);
    expect(slept).toEqual([2000]);
  });

  it("honours stripe-should-retry: false and rethrows the SDK's own error with retry info", async () => {
    const failure = new StripeLikeError(500, { 'stripe-should-retry': 'false' });
    const { opts } = recorded();
    const error = await retry(() => Promise.reject(failure), opts).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 1 });
  });

  it('retries an OpenAI-like 409 in-progress problem, never its 400', async () => {
    const inProgress = new OpenAILikeError(409, new Headers({ 'retry-after-ms': '250' }), {
      type: ProblemType.requestInProgress,
    });
    const { opts, slept } = recorded();
    let calls = 0;
    await retry(() => {
      if (++calls === 1) throw inProgress;
      return 'done';
    }, opts);
    expect(slept).toEqual([250]);

    const bad = new OpenAILikeError(400, new Headers(), { message: 'bad' });
    let badCalls = 0;
    await expect(
      retry(() => {
        badCalls++;
        throw bad;
      }, opts),
    ).rejects.toBe(bad);
    expect(badCalls).toBe(1);
  });

  it('does not retry an error without status or known code, and rethrows it after the last attempt', async () => {
    const plain = new Error('bug');
    let calls = 0;
    await expect(
      retry(() => {
        calls++;
        throw plain;
      }, recorded().opts),
    ).rejects.toBe(plain);
    expect(calls).toBe(1);

    const reset = Object.assign(new Error('socket hang up'), { cause: { code: 'ECONNRESET' } });
    const error = await retry(() => Promise.reject(reset), recorded({ retries: 2 }).opts).catch(
      (e: unknown) => e,
    );
    expect(error).toBe(reset);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 3, delays: [5, 10] });
  });

  it('times out an attempt whose operation never settles, and retries it', async () => {
    let calls = 0;
    const aborted: boolean[] = [];
    const result = await retry(
      ({ signal }) => {
        calls++;
        if (calls === 1) {
          return new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              aborted.push(true);
              reject(new Error('ignored: the race already rejected'));
            });
          });
        }
        return 'second';
      },
      recorded({ attemptTimeout: 30 }).opts,
    );
    expect(result).toBe('second');
    expect(aborted).toEqual([true]);

    const error = await retry(
      () => new Promise(() => {}),
      recorded({ attemptTimeout: 20, retries: 1 }).opts,
    ).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.attemptTimeout)).toBe(true);
    expect(error).toMatchObject({ attempts: 2 });
  });

  it('an abort during a 10 s backoff settles within milliseconds with signal.reason', async () => {
    const controller = new AbortController();
    const reason = new Error('shutdown');
    const started = performance.now();
    const promise = retry(
      () => {
        throw new StripeLikeError(429, { 'retry-after': '10' });
      },
      { signal: controller.signal, onRetry: () => setTimeout(() => controller.abort(reason), 10) },
    );
    await expect(promise).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('stops at the deadline instead of sleeping past it', async () => {
    const { opts, slept } = recorded({ deadline: 1000 });
    const error = await retry(() => {
      throw new StripeLikeError(503, { 'retry-after': '5' });
    }, opts).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
    expect(slept).toEqual([]);
    expect((error as Error).cause).toBeInstanceOf(StripeLikeError);
  });

  it('createRetry shares one budget across calls', async () => {
    const budget = createRetryBudget({ capacity: 5, retryCost: 5 });
    const bounded = createRetry({ retryBudget: budget, baseDelay: 1, retries: 4 });
    const error = await bounded(() => {
      throw new StripeLikeError(502);
    }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.budgetExhausted)).toBe(true);
    expect(error).toMatchObject({ attempts: 2 });
    let calls = 0;
    await expect(
      bounded(() => {
        calls++;
        throw new StripeLikeError(502);
      }),
    ).rejects.toMatchObject({ code: ClientErrorCode.budgetExhausted });
    expect(calls).toBe(1);
  });

  it('wraps real fetch calls: the server sees one key across a lost response', async () => {
    const p = path();
    const url = server.route(p, destroy(), status(503), ok());
    const body = await retry(
      async ({ idempotencyKey, signal }) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'Idempotency-Key': idempotencyKey },
          signal,
        });
        if (!response.ok)
          throw Object.assign(new Error(`HTTP ${response.status}`), {
            status: response.status,
            headers: response.headers,
          });
        return response.json();
      },
      { baseDelay: 1 },
    );
    expect(body).toMatchObject({ ok: true });
    const keys = server.seen(p).map((s) => s.key);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
  });
});
