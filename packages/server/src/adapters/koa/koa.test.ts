import { createServer } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import type { Context, Middleware, Next } from 'koa';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store.js';
import { nodeStreamOf } from '../../testing/conformance/harness-support.js';
import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import type { ConformanceHarness } from '../../testing/conformance/types.js';
import { listenLocal } from '../../testing/listen.js';
import { idempotency } from './middleware.js';

/** Every body as text, whatever its type: the route sees the bytes the client sent. */
const textParser = (): Middleware => bodyParser({ enableTypes: ['text'], extendTypes: { text: ['*/*'] } });

/** Koa has no timeout of its own: the usual one answers 503 when the routes take longer than `ms`. */
function timeout(ms: number): Middleware {
  return async function timeoutMiddleware(ctx: Context, next: Next): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const routes = next();
    routes.catch(() => undefined);
    const late = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), ms)));
    const timedOut = await Promise.race([routes.then(() => false), late]);
    clearTimeout(timer);
    if (timedOut) {
      ctx.status = 503;
      ctx.body = 'Service Unavailable';
    }
  };
}

/** A node server for `koa` (its callback returns a promise node:http does not await). */
function serverOf(koa: Koa): ReturnType<typeof createServer> {
  const callback = koa.callback();
  return createServer((req, res) => void callback(req, res));
}

function koaHarness(parser: 'before' | 'after'): ConformanceHarness {
  return async (app) => {
    const koa = new Koa();
    // Route errors are answered by Koa's own handler (a 500 without a stack); keep the log quiet.
    koa.on('error', () => undefined);
    if (app.timeoutMs !== undefined) koa.use(timeout(app.timeoutMs));
    if (parser === 'before') koa.use(textParser());
    koa.use(idempotency({ ...app.options, scope: (ctx) => app.scopeOf(ctx.headers) }));
    if (parser === 'after') koa.use(textParser());
    koa.use(async (ctx) => {
      const body: unknown = ctx.request.body;
      const result = await app.handle({
        method: ctx.method,
        url: ctx.originalUrl,
        headers: ctx.headers,
        body: typeof body === 'string' ? body : '',
      });
      if (result.kind === 'throw') throw result.error;
      ctx.status = result.status;
      for (const [name, value] of result.headers) ctx.append(name, value);
      ctx.body = result.kind === 'send' ? Buffer.from(result.body) : nodeStreamOf(result);
    });
    return listenLocal(serverOf(koa));
  };
}

runAdapterConformanceSuite('koa 3 (body parser after)', koaHarness('after'));
runAdapterConformanceSuite('koa 3 (body parser before, rawBody)', koaHarness('before'));

describe('koa adapter', () => {
  it('passes errors of the scope function to Koa', async () => {
    const koa = new Koa();
    koa.on('error', () => undefined);
    koa.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        ctx.status = 401;
        ctx.body = (error as Error).message;
      }
    });
    koa.use(
      idempotency({
        scope: () => {
          throw new Error('no user');
        },
      }),
    );
    koa.use((ctx) => void (ctx.body = 'ran'));
    const { url, close } = await listenLocal(serverOf(koa));
    try {
      const answer = await fetch(`${url}/x`, {
        method: 'POST',
        headers: { 'idempotency-key': 'k' },
        body: '{}',
      });
      expect([answer.status, await answer.text()]).toEqual([401, 'no user']);
    } finally {
      await close();
    }
  });

  it('takes a webhook key from the body Koa parsed before it', async () => {
    const koa = new Koa();
    koa.use(bodyParser());
    koa.use(
      idempotency({
        store: new MemoryStore(),
        scope: 'global',
        key: (ctx) => (ctx.request.body as { id?: string } | undefined)?.id,
      }),
    );
    let runs = 0;
    koa.use((ctx) => {
      runs += 1;
      ctx.status = 200;
      ctx.body = { received: (ctx.request.body as { id: string }).id, runs };
    });
    const { url, close } = await listenLocal(serverOf(koa));
    try {
      const deliver = () =>
        fetch(`${url}/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"id":"evt_1","type":"charge.succeeded"}',
        });
      const first = await deliver();
      const again = await deliver();
      expect([first.status, await first.json()]).toEqual([200, { received: 'evt_1', runs: 1 }]);
      expect([again.status, again.headers.get('idempotent-replayed'), await again.json()]).toEqual([
        200,
        'true',
        { received: 'evt_1', runs: 1 },
      ]);
      expect(runs).toBe(1);
    } finally {
      await close();
    }
  });
});
