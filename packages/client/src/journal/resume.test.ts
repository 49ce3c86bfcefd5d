import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, destroy, slow, startFaultServer, status } from '../../test/fault-server.js';
import { type FetchOptions, createFetch, getRetryInfo } from '../index.js';
import {
  type DropEvent,
  type Journal,
  type JournalEntry,
  type ResumeOutcome,
  createMemoryJournal,
  resumePending,
  resumeWhenOnline,
} from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/resume/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

function client(journal: Journal, options: FetchOptions = {}) {
  return createFetch({ journal, baseDelay: 1, random: () => 0, retries: 0, ...options });
}

/** A client whose first call's response is lost: its operation is left pending. */
async function leavePending(journal: Journal, init: Parameters<ReturnType<typeof createFetch>>[1] = {}) {
  const p = path();
  const url = server.route(p, destroy(), status(201));
  await client(journal)(url, { method: 'POST', ...init }).catch(() => undefined);
  return { p, url, key: server.seen(p)[0]!.key! };
}

describe('resumePending', () => {
  it('re-sends a pending operation with its original key, headers and body, fresh credentials on top', async () => {
    const journal = createMemoryJournal();
    const { p, url, key } = await leavePending(journal, {
      headers: { 'content-type': 'application/json', authorization: 'Bearer old', 'x-tenant': 't1' },
      body: '{"amount":42}',
    });
    const settledEvents: ResumeOutcome[] = [];
    const run = await resumePending(client(journal, { retries: 2 }), {
      headers: (entry) => ({ authorization: `Bearer fresh-for-${entry.id}` }),
      onSettle: (outcome) => settledEvents.push(outcome),
    });
    expect(run.dropped).toEqual([]);
    expect(run.operations.map((op) => op.entry.idempotencyKey)).toEqual([key]);
    const response = await run.operations[0]!.response;
    expect(response.status).toBe(201);
    expect(getRetryInfo(response)).toMatchObject({ idempotencyKey: key, attempts: 1 });
    const [first, resumed] = server.seen(p);
    expect(resumed!.key).toBe(key);
    expect(resumed!.method).toBe('POST');
    expect(resumed!.body.toString()).toBe('{"amount":42}');
    expect(resumed!.headers['content-type']).toBe('application/json');
    expect(resumed!.headers['x-tenant']).toBe('t1');
    expect(first!.headers.authorization).toBe('Bearer old');
    expect(resumed!.headers.authorization).toBe(`Bearer fresh-for-${key}`);
    const outcomes = await run.settled;
    expect(outcomes).toEqual([{ entry: run.operations[0]!.entry, response, pending: false }]);
    expect(settledEvents).toEqual(outcomes);
    expect(await journal.list()).toEqual([]);
    expect(url).toBe(run.operations[0]!.entry.url);
  });

  it('an operation that fails again stays pending for the next resume', async () => {
    const journal = createMemoryJournal();
    const p = path();
    const url = server.route(p, status(503));
    await client(journal)(url, { method: 'POST', body: 'x' });
    const run = await resumePending(client(journal));
    expect((await run.operations[0]!.response).status).toBe(503);
    expect((await run.settled)[0]!.pending).toBe(true);
    expect(await journal.list()).toHaveLength(1);
    expect(new Set(server.seen(p).map((s) => s.key)).size).toBe(1);
  });

  it('drops operations older than maxAge with an event, and malformed ones, without sending them', async () => {
    const journal = createMemoryJournal();
    const p = path();
    const url = server.route(p, status(201));
    const old: JournalEntry = {
      id: 'old',
      idempotencyKey: 'key-old',
      method: 'POST',
      url,
      headers: {},
      body: null,
      createdAt: Date.now() - 60_000,
    };
    const broken = { ...old, id: 'broken', idempotencyKey: 'key-broken', body: { bytes: [1] } } as never;
    await journal.record(old);
    await journal.record(broken);
    const drops: DropEvent[] = [];
    const run = await resumePending(client(journal), {
      maxAge: 30_000,
      onDrop: (event) => drops.push(event),
    });
    expect(run.operations).toEqual([]);
    expect(run.dropped.map((entry) => entry.id).sort()).toEqual(['broken', 'old']);
    expect(drops.map(({ entry, reason }) => [entry.id, reason]).sort()).toEqual([
      ['broken', 'malformed entry: a body that is neither text nor base64'],
      ['old', 'older than maxAge (30000 ms)'],
    ]);
    expect(drops.find((d) => d.entry.id === 'old')!.age).toBeGreaterThanOrEqual(60_000);
    expect(await journal.list()).toEqual([]);
    expect(server.seen(p)).toEqual([]);
  });

  it('leaves alone an operation whose call is still in flight in this process', async () => {
    const journal = createMemoryJournal();
    const p = path();
    const fetch = client(journal);
    const call = fetch(server.route(p, slow(200)), { method: 'POST' });
    await expect.poll(() => server.seen(p).length).toBe(1);
    const run = await resumePending(fetch);
    expect(run.operations).toEqual([]);
    expect((await call).status).toBe(200);
    expect(server.seen(p)).toHaveLength(1);
  });

  it('sends at most `concurrency` operations at once, oldest first', async () => {
    const journal = createMemoryJournal();
    const p = path();
    const url = server.route(p, slow(30));
    const entries = [3, 1, 4, 2, 5].map((i) => ({
      id: `op-${i}`,
      idempotencyKey: `key-${i}`,
      method: 'POST',
      url,
      headers: {},
      body: { text: String(i) },
      createdAt: Date.now() - 1000 + i,
    }));
    for (const entry of entries) await journal.record(entry);
    let inFlight = 0;
    let most = 0;
    const counting = createFetch({
      journal,
      fetch: async (input, init) => {
        most = Math.max(most, ++inFlight);
        try {
          return await fetch(input, init);
        } finally {
          inFlight--;
        }
      },
    });
    const run = await resumePending(counting, { concurrency: 2 });
    expect(run.operations.map((op) => op.entry.id)).toEqual(['op-1', 'op-2', 'op-3', 'op-4', 'op-5']);
    await run.settled;
    expect(most).toBe(2);
    expect(server.seen(p).map((s) => s.body.toString())).toEqual(['1', '2', '3', '4', '5']);
    expect(await journal.list()).toEqual([]);
  });

  it('a failing headers hook or an aborted signal leaves the operation pending, its promise rejected', async () => {
    const journal = createMemoryJournal();
    const { p } = await leavePending(journal);
    const run = await resumePending(client(journal), {
      headers: () => Promise.reject(new Error('no token')),
    });
    await expect(run.operations[0]!.response).rejects.toThrow('no token');
    expect((await run.settled)[0]).toMatchObject({ pending: true });
    const stopped = await resumePending(client(journal), { signal: AbortSignal.abort('bye') });
    await expect(stopped.operations[0]!.response).rejects.toBe('bye');
    expect(server.seen(p)).toHaveLength(1);
    expect(await journal.list()).toHaveLength(1);
  });

  it('needs a client made with a journal, and checks its options', async () => {
    await expect(resumePending(createFetch())).rejects.toThrow(
      'Invalid option `fetch`: expected a client made by createFetch({ journal })',
    );
    const fetch = client(createMemoryJournal());
    await expect(resumePending(fetch, { maxAge: 0 })).rejects.toThrow('Invalid option `maxAge`');
    await expect(resumePending(fetch, { concurrency: 1.5 })).rejects.toThrow('Invalid option `concurrency`');
    await expect(resumePending(fetch, { onDrop: 'x' as never })).rejects.toThrow('Invalid option `onDrop`');
  });

  it('a journal that cannot be read: ERR_ONCELY_JOURNAL_FAILED', async () => {
    const fetch = client({ ...createMemoryJournal(), list: () => Promise.reject(new Error('EIO')) });
    await expect(resumePending(fetch)).rejects.toMatchObject({
      code: 'ERR_ONCELY_JOURNAL_FAILED',
      cause: new Error('EIO'),
    });
  });
});

describe('resumeWhenOnline', () => {
  it('resumes at once, then on every `online` event, until stopped', async () => {
    const journal = createMemoryJournal();
    const target = new EventTarget();
    const fetch = client(journal);
    const first = await leavePending(journal);
    const runs: string[][] = [];
    let resumed = 0;
    const stop = resumeWhenOnline(fetch, {
      target,
      onResume: (run) => runs.push(run.operations.map((op) => op.entry.idempotencyKey)),
      onSettle: () => resumed++,
    });
    await expect.poll(() => resumed).toBe(1);
    const second = await leavePending(journal);
    target.dispatchEvent(new Event('online'));
    await expect.poll(() => resumed).toBe(2);
    expect(runs).toEqual([[first.key], [second.key]]);
    stop();
    await leavePending(journal);
    target.dispatchEvent(new Event('online'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toHaveLength(2);
    expect(await journal.list()).toHaveLength(1);
  });

  it('reports a resume that cannot start to onError, and checks its options at once', async () => {
    const errors: unknown[] = [];
    const fetch = client({ ...createMemoryJournal(), list: () => Promise.reject(new Error('EIO')) });
    resumeWhenOnline(fetch, { target: new EventTarget(), onError: (error) => errors.push(error) })();
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_ONCELY_JOURNAL_FAILED' });
    expect(() => resumeWhenOnline(createFetch())).toThrow('Invalid option `fetch`');
    expect(() => resumeWhenOnline(fetch, { target: new EventTarget(), maxAge: -1 })).toThrow(
      'Invalid option `maxAge`',
    );
    expect(() => resumeWhenOnline(fetch, { target: {} as never })).toThrow('Invalid option `target`');
  });
});
