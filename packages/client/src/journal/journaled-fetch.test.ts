import { ProblemType } from '@oncely/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Behaviour,
  type FaultServer,
  destroy,
  ok,
  problem,
  startFaultServer,
  status,
} from '../../test/fault-server.js';
import { type FetchOptions, ClientErrorCode, createFetch, isOncelyClientError } from '../index.js';
import { type Journal, type JournalEntry, createMemoryJournal } from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/journal/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

function client(journal: FetchOptions['journal'], options: FetchOptions = {}) {
  return createFetch({ journal, baseDelay: 1, random: () => 0, retries: 2, ...options });
}

/** Answers 201 after recording what the journal held when the request arrived. */
function snapshot(journal: Journal, into: JournalEntry[][]): Behaviour {
  return (req, res, seen) => {
    void journal.list().then((entries) => {
      into.push(entries);
      ok()(req, res, seen);
    });
  };
}

describe('createFetch({ journal }): recorded before the first attempt, removed when settled', () => {
  it('holds the operation while the first attempt is in flight and forgets it after a 2xx', async () => {
    const journal = createMemoryJournal();
    const held: JournalEntry[][] = [];
    const p = path();
    const url = server.route(p, snapshot(journal, held));
    const before = Date.now();
    const response = await client(journal)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret', 'x-tenant': 't1' },
      body: '{"amount":42}',
    });
    expect(response.status).toBe(200);
    const [seen] = server.seen(p);
    expect(held).toHaveLength(1);
    expect(held[0]).toEqual([
      {
        id: seen!.key,
        idempotencyKey: seen!.key,
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'x-tenant': 't1' },
        body: { text: '{"amount":42}' },
        createdAt: expect.any(Number),
      },
    ]);
    expect(held[0]![0]!.createdAt).toBeGreaterThanOrEqual(before);
    expect(seen!.headers.authorization).toBe('Bearer secret');
    expect(await journal.list()).toEqual([]);
  });

  it('leaves credentials out of the entry unless keepHeaders names them', async () => {
    const journal = createMemoryJournal();
    const held: JournalEntry[][] = [];
    const url = server.route(path(), snapshot(journal, held));
    await client({ backend: journal, keepHeaders: ['X-Api-Key'] })(url, {
      method: 'PUT',
      headers: {
        authorization: 'Bearer a',
        'proxy-authorization': 'Basic b',
        cookie: 'sid=c',
        'x-api-key': 'kept',
        'x-auth-token': 'd',
        'x-csrf-token': 'e',
        'x-amz-security-token': 'f',
        'x-session-id': 'g',
        'idempotency-key': 'my-key-1',
        accept: 'application/json',
      },
    });
    expect(held[0]![0]!.headers).toEqual({ 'x-api-key': 'kept', accept: 'application/json' });
    expect(held[0]![0]!.idempotencyKey).toBe('my-key-1');
  });

  it.each([
    ['201', false, status(201)],
    ['400', false, status(400)],
    ['404', false, status(404)],
    ['422 key reused', false, problem(422, ProblemType.keyReused)],
    ['500 response not replayable', false, problem(500, ProblemType.responseNotReplayable)],
    ['409 in progress', true, problem(409, ProblemType.requestInProgress, { 'retry-after-ms': '1' })],
    ['429', true, status(429, { 'retry-after-ms': '1' })],
    ['408', true, status(408)],
    ['503', true, status(503)],
    ['500', true, status(500)],
    ['a lost response', true, destroy()],
  ] as const)('after %s, pending: %s', async (_name, pending, behaviour) => {
    const journal = createMemoryJournal();
    const p = path();
    const url = server.route(p, behaviour);
    await client(journal)(url, { method: 'POST', body: 'x' }).catch((error: unknown) => {
      expect(isOncelyClientError(error, ClientErrorCode.requestFailed)).toBe(true);
    });
    const keys = server.seen(p).map((s) => s.key);
    expect(new Set(keys).size).toBe(1);
    expect((await journal.list()).map((entry) => entry.idempotencyKey)).toEqual(pending ? [keys[0]] : []);
  });

  it('judges a throwOnHttpError rejection by its response', async () => {
    const journal = createMemoryJournal();
    const fetch = client(journal, { throwOnHttpError: true, retries: 0 });
    const gone = await fetch(server.route(path(), status(404)), { method: 'POST' }).catch((e: unknown) => e);
    expect(isOncelyClientError(gone, ClientErrorCode.httpError)).toBe(true);
    expect(await journal.list()).toEqual([]);
    await fetch(server.route(path(), status(503)), { method: 'POST' }).catch(() => undefined);
    expect(await journal.list()).toHaveLength(1);
  });

  it('a call the caller aborts mid-way stays pending (it may have reached the server)', async () => {
    const journal = createMemoryJournal();
    const controller = new AbortController();
    const url = server.route(path(), (req) => {
      controller.abort(new Error('user left'));
      setTimeout(() => req.socket.destroy(), 20);
    });
    const error = await client(journal)(url, { method: 'POST', signal: controller.signal }).catch((e) => e);
    expect((error as Error).message).toBe('user left');
    expect(await journal.list()).toHaveLength(1);
  });

  it('a call that fails before its first attempt (a method fetch refuses) is not left pending', async () => {
    const journal = createMemoryJournal();
    const p = path();
    const error = await client(journal)(server.route(p, ok()), { method: 'BAD METHOD' }).catch((e) => e);
    expect(error).toMatchObject({ code: 'ERR_ONCELY_INVALID_REQUEST', attempts: 0 });
    expect(server.seen(p)).toEqual([]);
    expect(await journal.list()).toEqual([]);
  });
});

describe('what is journaled', () => {
  it('GET, HEAD and calls with idempotencyKey: false or journal: false are not journaled', async () => {
    const journal = createMemoryJournal();
    let calls = 0;
    const counting: Journal = { ...journal, record: (entry) => (calls++, journal.record(entry)) };
    const fetch = client(counting, { retries: 0 });
    const url = server.route(path(), status(503));
    await fetch(url);
    await fetch(url, { method: 'HEAD' });
    await fetch(url, { method: 'POST', idempotencyKey: false });
    await fetch(url, { method: 'POST', journal: false });
    expect(calls).toBe(0);
    expect(await journal.list()).toEqual([]);
  });

  it('a signal aborted before the call: rejects with its reason, nothing journaled', async () => {
    const journal = createMemoryJournal();
    const url = server.route(path(), ok());
    const error = await client(journal)(url, { method: 'POST', signal: AbortSignal.abort('stop') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBe('stop');
    expect(await journal.list()).toEqual([]);
  });

  it.each([
    ['a ReadableStream', () => new Blob(['x']).stream()],
    ['a body factory', () => () => 'x'],
  ])('refuses %s with ERR_ONCELY_BODY_NOT_JOURNALABLE and sends nothing', async (_name, make) => {
    const journal = createMemoryJournal();
    const p = path();
    const url = server.route(p, ok());
    const error = await client(journal)(url, { method: 'POST', body: make() as never }).catch((e) => e);
    expect(isOncelyClientError(error, ClientErrorCode.bodyNotJournalable)).toBe(true);
    expect((error as Error).message).toContain('journal: false');
    expect(server.seen(p)).toEqual([]);
    expect(await journal.list()).toEqual([]);
    // The way out it names: the same call, not journaled.
    const response = await client(journal)(url, { method: 'POST', body: make() as never, journal: false });
    expect(response.status).toBe(200);
  });

  it('a journal that cannot record: ERR_ONCELY_JOURNAL_FAILED, nothing sent', async () => {
    const broken: Journal = {
      record: () => Promise.reject(new Error('disk full')),
      remove: async () => undefined,
      list: async () => [],
    };
    const p = path();
    const error = await client(broken)(server.route(p, ok()), { method: 'POST' }).catch((e) => e);
    expect(isOncelyClientError(error, ClientErrorCode.journalFailed)).toBe(true);
    expect((error as Error).message).toContain('disk full');
    expect((error as { cause: Error }).cause.message).toBe('disk full');
    expect(server.seen(p)).toEqual([]);
  });

  it('a journal that cannot remove: the response still resolves, onError hears of it', async () => {
    const journal = createMemoryJournal();
    const errors: [unknown, JournalEntry][] = [];
    const fetch = client({
      backend: { ...journal, remove: () => Promise.reject(new Error('locked')) },
      onError: (error, entry) => errors.push([error, entry]),
    });
    const response = await fetch(server.route(path(), status(201)), { method: 'POST' });
    expect(response.status).toBe(201);
    expect(errors).toHaveLength(1);
    expect((errors[0]![0] as Error).message).toBe('locked');
    expect(errors[0]![1].idempotencyKey).toBe((await journal.list())[0]!.idempotencyKey);
  });
});

describe('operationId: the same operation keeps its key while it is pending', () => {
  it('a second call with a pending operationId is sent under the first key; once settled, a new key', async () => {
    const journal = createMemoryJournal();
    const p = path();
    const url = server.route(p, status(503), status(201), status(201));
    const fetch = client(journal, { retries: 0 });
    await fetch(url, { method: 'POST', body: 'order', operationId: 'order-42' });
    await fetch(url, { method: 'POST', body: 'order', operationId: 'order-42', idempotencyKey: 'other-key' });
    await fetch(url, { method: 'POST', body: 'order', operationId: 'order-42' });
    const keys = server.seen(p).map((s) => s.key);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(await journal.list()).toEqual([]);
  });

  it('two concurrent calls of one operation share one key', async () => {
    const journal = createMemoryJournal();
    const p = path();
    const fetch = client(journal);
    const url = server.route(p, status(201));
    await Promise.all([
      fetch(url, { method: 'POST', operationId: 'op' }),
      fetch(url, { method: 'POST', operationId: 'op' }),
    ]);
    const keys = server.seen(p).map((s) => s.key);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
  });

  it('refuses an empty operationId, naming it', async () => {
    const fetch = client(createMemoryJournal());
    await expect(fetch(server.route(path(), ok()), { method: 'POST', operationId: '' })).rejects.toThrow(
      'Invalid option `operationId`: expected a non-empty string, got "".',
    );
  });
});

describe('the journal option', () => {
  it.each([
    [42, 'Invalid option `journal`'],
    [{ record() {} }, 'Invalid option `journal`'],
    [{ backend: {} }, 'Invalid option `journal.backend`'],
    [
      { backend: createMemoryJournal(), keepHeaders: 'authorization' },
      'Invalid option `journal.keepHeaders`',
    ],
    [{ backend: createMemoryJournal(), onError: 1 }, 'Invalid option `journal.onError`'],
  ])('refuses %j at construction', (value, message) => {
    expect(() => createFetch({ journal: value as never })).toThrow(message);
  });
});
