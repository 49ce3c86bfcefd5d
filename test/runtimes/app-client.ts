import { randomUUID } from 'node:crypto';
import { PROBLEM_CONTENT_TYPE, ProblemType } from '@oncely/core';
import { expect } from 'vitest';

/** An answer of the app in `app.ts`, body read. */
export interface Answer {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Talks to the app of `app.ts` served by a runtime at `url`, with real fetch. */
export function appClient(url: string) {
  const runs = async (): Promise<number> =>
    ((await (await fetch(`${url}/runs`)).json()) as { runs: number }).runs;

  const pay = async (key: string, query = ''): Promise<Answer> => {
    const response = await fetch(`${url}/pay${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: '{"amount":100}',
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, bytes };
  };

  /**
   * Sends a keyed POST whose handler waits at a gate, and resolves once the handler runs. The gate is
   * in the query, so a duplicate (the same request) would wait at it too if it ever ran.
   */
  const holdInFlight = async (key: string) => {
    const before = await runs();
    const gate = randomUUID();
    let settled = false;
    const first = pay(key, `?gate=${gate}`).finally(() => (settled = true));
    while (!settled && (await runs()) === before) await sleep(10);
    return {
      query: `?gate=${gate}`,
      first,
      release: async () => {
        await fetch(`${url}/open/${gate}`, { method: 'POST' });
        return first;
      },
    };
  };

  return { runs, pay, holdInFlight };
}

/** Asserts Oncely's 409 "request in progress" problem for `key`. */
export function expectInProgress(answer: Answer, key: string): void {
  expect(answer.status).toBe(409);
  expect(answer.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  expect(answer.headers.get('retry-after')).toBe('1');
  expect(JSON.parse(answer.bytes.toString('utf8'))).toMatchObject({
    type: ProblemType.requestInProgress,
    status: 409,
    idempotencyKey: key,
  });
}

export { sleep };
