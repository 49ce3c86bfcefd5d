import { ProblemType } from '@oncely/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, ok, problem, startFaultServer, status } from '../../test/fault-server.js';
import { ClientErrorCode, createFetch, createRetryBudget, isOncelyClientError } from '../index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/log/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

function recorder() {
  const lines: string[] = [];
  return {
    lines,
    logger: {
      warn: (line: string) => void lines.push(`warn ${line}`),
      error: (line: string) => void lines.push(`error ${line}`),
    },
  };
}

const quick = { baseDelay: 1, random: () => 0 } as const;

describe('the client logger', () => {
  it('warns once when the retry budget runs out, not once per call that fails fast', async () => {
    const { lines, logger } = recorder();
    const fetch = createFetch({
      ...quick,
      logger,
      retries: 1,
      retryBudget: createRetryBudget({ capacity: 5, retryCost: 5 }),
    });
    const url = server.route(path(), status(503));
    expect((await fetch(url, { method: 'POST', body: 'x' })).status).toBe(503); // took the last tokens
    const failures: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      failures.push(
        await fetch(url, { method: 'POST', idempotencyKey: `order-${i}-payment`, body: 'x' }).catch(
          (e: unknown) => e,
        ),
      );
    }
    expect(failures.every((error) => isOncelyClientError(error, ClientErrorCode.budgetExhausted))).toBe(true);
    expect(lines).toEqual([
      'warn oncely: retry budget exhausted: calls fail fast without retrying until enough of them succeed again; the server or network has been failing. (key order-0…)',
    ]);
  });

  it('warns when a key is reused with a different request, and when a stream body cannot be retried', async () => {
    const { lines, logger } = recorder();
    const fetch = createFetch({ ...quick, logger });
    const reused = server.route(path(), problem(422, ProblemType.keyReused));
    expect(
      (await fetch(reused, { method: 'POST', idempotencyKey: 'a1b2c3d4e5f6a7b8', body: 'x' })).status,
    ).toBe(422);

    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('once'));
        controller.close();
      },
    });
    const once = server.route(path(), status(503), ok());
    await expect(
      fetch(once, { method: 'POST', idempotencyKey: 'f00dfeedcafe1234', body: stream }),
    ).rejects.toMatchObject({ code: ClientErrorCode.bodyNotReplayable });

    expect(lines).toEqual([
      'warn oncely: the server refused an idempotency key reused with a different request (422): use one key per logical operation, and the same method, URL and body on each of its retries. (key a1b2c3d4…)',
      'warn oncely: a failed request was not retried because its body is a stream that was already sent; pass a body factory (`body: () => stream`) to make it retryable. (key f00dfeed…)',
    ]);
  });

  it('says nothing about ordinary failures or an abort, and nothing at all with `logger: false`', async () => {
    const { lines, logger } = recorder();
    const fetch = createFetch({ ...quick, logger, retries: 1 });
    expect((await fetch(server.route(path(), status(503)), { method: 'POST', body: 'x' })).status).toBe(503);
    expect((await fetch(server.route(path(), status(404)), { method: 'POST', body: 'x' })).status).toBe(404);
    const controller = new AbortController();
    const aborted = fetch(server.route(path(), status(503)), {
      method: 'POST',
      body: 'x',
      signal: controller.signal,
    });
    controller.abort();
    await expect(aborted).rejects.toThrow();
    expect(lines).toEqual([]);

    const silent = createFetch({ ...quick, logger: false, retryBudget: createRetryBudget({ capacity: 0 }) });
    await expect(
      silent(server.route(path(), status(503)), { method: 'POST', body: 'x' }),
    ).rejects.toMatchObject({
      code: ClientErrorCode.budgetExhausted,
    });
    expect(() => createFetch({ logger: console.log as never })).toThrow(/Invalid option `logger`/);
  });
});
