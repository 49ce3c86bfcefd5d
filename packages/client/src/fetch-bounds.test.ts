import { createHook } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, destroy, ok, startFaultServer, status, trickle } from '../test/fault-server.js';
import { ClientErrorCode, createFetch, getRetryInfo, isOncelyClientError } from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/bounds/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** A stream that yields `first` and then stalls forever; records the reason it is cancelled with. */
function stallingStream(first: string): { stream: ReadableStream<Uint8Array>; cancelled: unknown[] } {
  const cancelled: unknown[] = [];
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
    cancel(reason) {
      cancelled.push(reason);
    },
  });
  return { stream, cancelled };
}

describe('createFetch: everything it awaits is bounded by the signal, the attempt timeout and the deadline', () => {
  it('a body factory that never settles: the abort settles the call with signal.reason', async () => {
    const p = path();
    const controller = new AbortController();
    const reason = new Error('user left');
    const pending = createFetch()(server.route(p, ok()), {
      method: 'POST',
      body: () => never<string>(),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(reason), 30);
    await expect(pending).rejects.toBe(reason);
    expect(server.seen(p)).toHaveLength(0);
  });

  it('a slow body factory (2 s): the abort at 30 ms settles the call at once', async () => {
    const p = path();
    const controller = new AbortController();
    const started = performance.now();
    const pending = createFetch()(server.route(p, ok()), {
      method: 'POST',
      body: () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 2_000)),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort('stop'), 30);
    await expect(pending).rejects.toBe('stop');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.seen(p)).toHaveLength(0);
  });

  it('a body factory that never settles: the attempt timeout ends the call (not retried)', async () => {
    const p = path();
    let made = 0;
    const error = await createFetch({ attemptTimeout: 100 })(server.route(p, ok()), {
      method: 'POST',
      body: () => {
        made++;
        return never<string>();
      },
    }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.attemptTimeout)).toBe(true);
    expect(getRetryInfo(error)).toMatchObject({ attempts: 1 });
    expect(made).toBe(1);
    expect(server.seen(p)).toHaveLength(0);
  });

  it('a body factory that never settles: the deadline ends the call', async () => {
    const p = path();
    const error = await createFetch({ deadline: 150 })(server.route(p, ok()), {
      method: 'POST',
      body: () => never<string>(),
    }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
    expect(server.seen(p)).toHaveLength(0);
  });

  it('a Request whose body stream stalls: the attempt timeout ends the call and cancels the stream', async () => {
    const p = path();
    const { stream, cancelled } = stallingStream('first bytes ');
    const request = new Request(server.route(p, ok()), {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const error = await createFetch({ attemptTimeout: 100 })(request).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.attemptTimeout)).toBe(true);
    expect(cancelled).toEqual([error]);
    expect(server.seen(p)).toHaveLength(0);
  });

  it("a Request whose body stream stalls: the caller's abort settles the call with its reason", async () => {
    const p = path();
    const { stream, cancelled } = stallingStream('first bytes ');
    const controller = new AbortController();
    const request = new Request(server.route(p, ok()), {
      method: 'POST',
      body: stream,
      duplex: 'half',
      signal: controller.signal,
    } as RequestInit);
    setTimeout(() => controller.abort('enough'), 30);
    await expect(createFetch()(request)).rejects.toBe('enough');
    expect(cancelled).toEqual(['enough']);
  });

  it('a custom sleep that ignores the signal: the abort still settles the call during the backoff', async () => {
    const p = path();
    const controller = new AbortController();
    const fetch = createFetch({
      sleep: () => never<void>(),
      onRetry: () => setTimeout(() => controller.abort('during backoff'), 20),
    });
    await expect(
      fetch(server.route(p, status(503)), { method: 'POST', signal: controller.signal }),
    ).rejects.toBe('during backoff');
    expect(server.seen(p)).toHaveLength(1);
  });
});

describe('createFetch: a finished call keeps nothing alive', () => {
  /** Runs `calls` and counts the timers this package created during them that are still pending. */
  async function timersLeftBy(calls: () => Promise<void>): Promise<number> {
    const live = new Set<number>();
    const hook = createHook({
      init(id, type) {
        // Only timers the client sets itself (the frame that called setTimeout is in its source):
        // undici and the test server keep a few of their own.
        if (type !== 'Timeout') return;
        const frames = (new Error().stack ?? '').split('\n');
        const from = frames.findIndex((frame) => frame.includes('new Timeout'));
        const callers = frames.slice(from + 1, from + 4).join('\n');
        if (/packages[/\\]client[/\\]src[/\\](?!.*\.test\.ts)/.test(callers)) live.add(id);
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    try {
      await calls();
      // Node reports a cleared timer's destruction a tick later.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      hook.disable();
    }
    return live.size;
  }

  it('no timer outlives 200 calls with a 60 s deadline whose bodies were read (with and without a signal)', async () => {
    const url = server.route(path(), ok());
    const fetch = createFetch({ deadline: 60_000, attemptTimeout: 30_000 });
    const controller = new AbortController();
    await (await fetch(url, { method: 'POST', body: 'warm-up' })).text();
    const left = await timersLeftBy(async () => {
      for (let i = 0; i < 100; i++) {
        await (await fetch(url, { method: 'POST', body: 'x' })).json();
        await (await fetch(url, { method: 'POST', body: 'x', signal: controller.signal })).arrayBuffer();
      }
    });
    expect(left).toBe(0);
  });

  it('no timer outlives calls whose bodies were cancelled, retried ones included', async () => {
    const url = server.route(path(), destroy(), status(503), ok());
    const fetch = createFetch({ deadline: 60_000, baseDelay: 1 });
    const left = await timersLeftBy(async () => {
      const retried = await fetch(url, { method: 'POST', body: 'x' });
      expect(getRetryInfo(retried)).toMatchObject({ attempts: 3 });
      await retried.body?.cancel();
      for (let i = 0; i < 50; i++) await (await fetch(url, { method: 'POST' })).body?.cancel();
    });
    expect(left).toBe(0);
  });

  it('the deadline still bounds reading a body the call resolved with', async () => {
    const p = path();
    const started = performance.now();
    const response = await createFetch({ deadline: 300 })(server.route(p, trickle()), { method: 'POST' });
    expect(response.status).toBe(200);
    const error = await response.text().catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.deadlineExceeded)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
});
