import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store.js';
import { listenLocal } from '../../testing/listen.js';
import { idempotency } from './middleware.js';
import { untouchedIncoming } from './node-incoming.js';

const body = JSON.stringify({ amount: 4200, currency: 'eur' });

/**
 * Serves the app `setup` builds on real @hono/node-server (its default `autoCleanupIncoming`, as in
 * production, or not), runs `run` against it, and closes the server.
 */
async function withServed(
  setup: (app: Hono) => void,
  run: (url: string) => Promise<void>,
  autoCleanupIncoming = true,
): Promise<void> {
  const app = new Hono();
  setup(app);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', autoCleanupIncoming });
  server.close();
  const { url, close } = await listenLocal(server as Server);
  try {
    await run(url);
  } finally {
    await close();
  }
}

/** Records what `untouchedIncoming` answers, after `touch` ran on the request. */
function probe(seen: unknown[], touch: (c: Context) => unknown = () => undefined): MiddlewareHandler {
  return async (c, next) => {
    await touch(c);
    const found = untouchedIncoming(c);
    const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
    seen.push(found === undefined ? 'clone' : found === incoming ? 'incoming' : 'another');
    await next();
  };
}

function post(url: string, key: string, payload = body): Promise<Response> {
  return fetch(`${url}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: payload,
  });
}

describe('untouchedIncoming (@hono/node-server)', () => {
  it.each([true, false])(
    'answers the node request while nothing touched it (autoCleanupIncoming %s)',
    async (auto) => {
      const seen: unknown[] = [];
      await withServed(
        (app) => {
          app.use(probe(seen));
          app.post('/pay', async (c) => c.json(await c.req.json()));
        },
        async (url) => {
          expect(await (await post(url, 'k')).json()).toEqual(JSON.parse(body));
        },
        auto,
      );
      expect(seen).toEqual(['incoming']);
    },
  );

  it.each<[string, (c: Context) => unknown]>([
    ['the real Request was built (body, signal)', (c) => c.req.raw.signal],
    ['the body was read', (c) => c.req.text()],
    [
      'the body is being read (data listener)',
      (c) => (c.env as { incoming: NodeJS.ReadableStream }).incoming.on('data', () => undefined),
    ],
    [
      'c.req.raw was replaced',
      (c) => void (c.req.raw = new Request(c.req.raw.url, { method: 'POST', body: '{}' })),
    ],
  ])('answers undefined (a clone is read) when %s', async (_, touch) => {
    const seen: unknown[] = [];
    await withServed(
      (app) => {
        app.use(probe(seen, touch));
        app.post('/pay', (c) => c.text('ok'));
      },
      async (url) => {
        await (await post(url, 'k')).text();
      },
    );
    expect(seen).toEqual(['clone']);
  });

  it('answers undefined off @hono/node-server (app.request)', async () => {
    const seen: unknown[] = [];
    const app = new Hono();
    app.use(probe(seen));
    app.post('/pay', (c) => c.text('ok'));
    await app.request('/pay', { method: 'POST', body });
    expect(seen).toEqual(['clone']);
  });
});

describe('hono middleware body on @hono/node-server', () => {
  /** Replays the same body, refuses another one under the same key, whichever way the body was read. */
  it.each<[string, (c: Context) => unknown]>([
    ['read from the node request', () => undefined],
    ['read from a clone (a middleware above built the real Request)', (c) => c.req.raw.signal],
  ])('fingerprints the body %s and leaves it to the handler', async (_, touch) => {
    let runs = 0;
    await withServed(
      (app) => {
        app.use(async (c, next) => {
          await touch(c);
          await next();
        });
        app.use('/pay', idempotency({ store: new MemoryStore(), scope: 'global' }));
        app.post('/pay', async (c) => c.json({ run: ++runs, order: await c.req.json() }, 201));
      },
      async (url) => {
        const first = await post(url, 'a');
        expect(first.status).toBe(201);
        expect(await first.json()).toEqual({ run: 1, order: JSON.parse(body) });
        const replay = await post(url, 'a');
        expect(replay.status).toBe(201);
        expect(await replay.json()).toEqual({ run: 1, order: JSON.parse(body) });
        expect((await post(url, 'a', '{"amount":1}')).status).toBe(422);
        const other = await post(url, 'b');
        expect(await other.json()).toEqual({ run: 2, order: JSON.parse(body) });
      },
    );
  });

  it('refuses a body over maxRequestBytes read from the node request', async () => {
    await withServed(
      (app) => {
        app.use('/pay', idempotency({ store: new MemoryStore(), scope: 'global', maxRequestBytes: 16 }));
        app.post('/pay', (c) => c.text('ran'));
      },
      async (url) => {
        expect((await post(url, 'big', 'x'.repeat(64))).status).toBe(413);
        expect((await post(url, 'small', '{}')).status).toBe(200);
      },
    );
  });
});
