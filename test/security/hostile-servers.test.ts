// Hostile servers against @oncely/client (fetch and axios): absurd or garbage Retry-After, endless 409
// "in progress", responses that never end or never start, a server that always fails. The client must
// stay within its deadline and its retry budget; elapsed time and attempts are asserted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemType } from '@oncely/core';
import { createFetch, getRetryInfo, isOncelyClientError } from '@oncely/client';
import { withIdempotency } from '@oncely/client/axios';
import { recordSecurity } from './results.js';

type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const behaviours: Record<string, Behaviour> = {
  '/year': (_req, res) => res.writeHead(503, { 'retry-after': '31536000' }).end(),
  '/year-date': (_req, res) =>
    res.writeHead(503, { 'retry-after': new Date(Date.now() + 365 * 86_400_000).toUTCString() }).end(),
  '/negative': (_req, res) => res.writeHead(503, { 'retry-after': '-5' }).end(),
  '/garbage': (_req, res) => res.writeHead(503, { 'retry-after': 'soon, maybe; 1e9 NaN 0x10' }).end(),
  '/in-progress': (_req, res) =>
    res
      .writeHead(409, { 'content-type': 'application/problem+json', 'retry-after': '1' })
      .end(JSON.stringify({ type: ProblemType.requestInProgress, status: 409, title: 'in progress' })),
  // Headers at once, then a byte every 100 ms, forever.
  '/trickle': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 100);
    res.on('close', () => clearInterval(timer));
  },
  // Accepts the request and never answers.
  '/silent': () => undefined,
  '/always-503': (_req, res) => res.writeHead(503, { 'retry-after': '0' }).end(),
};

describe('hostile servers: the client stays within its deadline and budget', () => {
  let server: http.Server;
  let url: string;
  const hits: Record<string, number> = {};
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? '/';
      hits[path] = (hits[path] ?? 0) + 1;
      req.resume();
      behaviours[path]?.(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    recordSecurity('hostile-servers', figures);
  });

  /** Runs `call`, returning what it settled with (summarised), its elapsed ms and attempts. */
  async function timed(name: string, call: () => Promise<unknown>) {
    const started = performance.now();
    const outcome = await call().then(
      (value) => ({ ok: true as const, value, code: undefined }),
      (error: unknown) => ({
        ok: false as const,
        value: error,
        code: isOncelyClientError(error) ? error.code : String((error as { code?: unknown }).code),
      }),
    );
    const elapsed = performance.now() - started;
    const attempts = getRetryInfo(outcome.value)?.attempts ?? 0;
    figures[`${name}Ms`] = Math.round(elapsed);
    figures[`${name}Attempts`] = attempts;
    return { ...outcome, elapsed, attempts };
  }

  const oncelyFetch = (options: Parameters<typeof createFetch>[0] = {}) =>
    createFetch({ retries: 5, baseDelay: 20, maxDelay: 100, retryBudget: false, ...options });
  const post = (f: ReturnType<typeof createFetch>, path: string) =>
    f(`${url}${path}`, { method: 'POST', body: '{}' });

  for (const path of ['/year', '/year-date']) {
    it(`Retry-After a year away (${path}): gives up at once, by the deadline rule`, async () => {
      const fetchRun = await timed(`fetch${path.slice(1)}`, () =>
        post(oncelyFetch({ deadline: 3000 }), path),
      );
      expect(fetchRun.code).toBe('ERR_ONCELY_DEADLINE_EXCEEDED');
      expect(fetchRun.elapsed).toBeLessThan(1000);
      expect(fetchRun.attempts).toBe(1);
      const api = withIdempotency(axios.create({ baseURL: url }), {
        retries: 5,
        deadline: 3000,
        retryBudget: false,
      });
      const axiosRun = await timed(`axios${path.slice(1)}`, () => api.post(path, {}));
      expect(axiosRun.code).toBe('ERR_ONCELY_DEADLINE_EXCEEDED');
      expect(axiosRun.elapsed).toBeLessThan(1000);
      expect(axiosRun.attempts).toBe(1);
    });
  }

  it('Retry-After a year away, no deadline: waits no longer than maxRetryAfter', async () => {
    const run = await timed('fetchYearCapped', () =>
      post(oncelyFetch({ retries: 2, maxRetryAfter: 150 }), '/year'),
    );
    expect(run.ok).toBe(true); // the final 503, as fetch would
    expect(run.attempts).toBe(3);
    expect(getRetryInfo(run.value)?.delays).toEqual([150, 150]);
    expect(run.elapsed).toBeLessThan(1500);
  });

  for (const path of ['/negative', '/garbage']) {
    it(`Retry-After ${path}: ignored, the capped backoff applies`, async () => {
      const run = await timed(`fetch${path.slice(1)}`, () => post(oncelyFetch(), path));
      expect(run.attempts).toBe(6);
      const delays = getRetryInfo(run.value)?.delays ?? [];
      expect(delays).toHaveLength(5);
      for (const delay of delays) expect(delay).toBeLessThanOrEqual(100);
      expect(run.elapsed).toBeLessThan(2000);
    });
  }

  it('endless 409 in progress: retried after Retry-After, stopped by the deadline', async () => {
    const fetchRun = await timed('fetchInProgress', () =>
      post(oncelyFetch({ retries: 50, deadline: 2500 }), '/in-progress'),
    );
    expect(fetchRun.code).toBe('ERR_ONCELY_DEADLINE_EXCEEDED');
    expect(fetchRun.elapsed).toBeLessThan(2500 + 300);
    expect(fetchRun.attempts).toBeGreaterThanOrEqual(2);
    expect(fetchRun.attempts).toBeLessThanOrEqual(3);
    const api = withIdempotency(axios.create({ baseURL: url }), {
      retries: 50,
      deadline: 2500,
      retryBudget: false,
    });
    const axiosRun = await timed('axiosInProgress', () => api.post('/in-progress', {}));
    expect(axiosRun.code).toBe('ERR_ONCELY_DEADLINE_EXCEEDED');
    expect(axiosRun.elapsed).toBeLessThan(2500 + 300);
    expect(axiosRun.attempts).toBeLessThanOrEqual(3);
  });

  it('a server that never answers: attempt timeouts, then the deadline', async () => {
    const run = await timed('fetchSilent', () =>
      post(oncelyFetch({ attemptTimeout: 300, deadline: 1500 }), '/silent'),
    );
    expect(run.ok).toBe(false);
    expect(run.elapsed).toBeLessThan(1500 + 300);
    expect(run.attempts).toBeGreaterThanOrEqual(2);
  });

  it('fetch: a response that never ends is cut by the deadline (buffered and streamed reads)', async () => {
    const buffered = await timed('fetchTrickleBuffered', () =>
      post(oncelyFetch({ attemptTimeout: 400, deadline: 1500, bufferResponse: true }), '/trickle'),
    );
    expect(buffered.ok).toBe(false);
    expect(buffered.elapsed).toBeLessThan(1500 + 300);
    expect(buffered.attempts).toBeGreaterThanOrEqual(2);
    const streamed = await timed('fetchTrickleStreamed', async () => {
      const response = await post(oncelyFetch({ deadline: 1500 }), '/trickle');
      return response.text();
    });
    expect(streamed.ok).toBe(false);
    expect(streamed.elapsed).toBeLessThan(1500 + 300);
  });

  // Bug in @oncely/client/axios (packages/client/src/axios-idempotency.ts): the deadline and the
  // attempt timeout reach axios only as `config.timeout`, which Node's http adapter applies as a socket
  // *idle* timeout; a server that trickles a byte now and then keeps an attempt, and the call, alive
  // past the deadline, forever. Expected: an AbortSignal that fires at the deadline.
  it('axios: a response that never ends is cut by the deadline', { timeout: 15_000 }, async () => {
    const controller = new AbortController();
    const guard = setTimeout(() => controller.abort(), 4000); // so the test ends even when the client does not
    const api = withIdempotency(axios.create({ baseURL: url }), {
      retries: 2,
      attemptTimeout: 400,
      deadline: 1500,
      retryBudget: false,
    });
    const run = await timed('axiosTrickle', () => api.post('/trickle', {}, { signal: controller.signal }));
    clearTimeout(guard);
    expect(run.ok).toBe(false);
    expect(run.elapsed).toBeLessThan(1500 + 300);
  });

  it('a server that always fails: the retry budget caps the retries of concurrent calls', async () => {
    hits['/always-503'] = 0;
    const f = createFetch({
      retries: 10,
      baseDelay: 5,
      maxDelay: 20,
      retryBudget: { capacity: 20, retryCost: 5 },
    });
    const runs = await Promise.all(
      Array.from({ length: 20 }, () => timed('budget', () => post(f, '/always-503'))),
    );
    const exhausted = runs.filter((run) => run.code === 'ERR_ONCELY_RETRY_BUDGET_EXHAUSTED').length;
    figures.budgetCalls = 20;
    figures.budgetServerHits = hits['/always-503']!;
    figures.budgetExhaustedCalls = exhausted;
    // 20 first attempts + at most capacity / retryCost = 4 retries.
    expect(hits['/always-503']).toBeLessThanOrEqual(24);
    expect(exhausted).toBeGreaterThanOrEqual(16);
  });
});
