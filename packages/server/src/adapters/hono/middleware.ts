import type { Context, Env, MiddlewareHandler } from 'hono';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { carryOutWeb } from '../web/execute-web.js';
import { readRequestBody } from '../node-http/read-request-body.js';
import { toEngineRequest } from '../web/web-request.js';
import { untouchedIncoming } from './node-incoming.js';

/** Options of the Hono middleware; `scope` receives the Hono `Context`. */
export type HonoIdempotencyOptions<E extends Env = Env> = IdempotencyOptions<Context<E>>;

/**
 * Whether the answer already went out while the routes below ran (a timeout above answered): seen on
 * @hono/node-server, which hands the node response over as `c.env.outgoing`.
 */
function isAnswered(c: Context): boolean {
  const outgoing = (c.env as { outgoing?: { headersSent?: unknown } } | undefined)?.outgoing;
  return outgoing?.headersSent === true;
}

/**
 * Hono middleware: each idempotency key runs the routes below it once. The body is read from a clone
 * of the raw request (on @hono/node-server, from the node request, its bytes put back), so
 * `c.req.json()` and friends still work in the handler. The routes below are
 * followed to their end through `next()`: mount `hono/timeout` above this middleware, so that a
 * timeout answer leaves the key held until the handler finished.
 *
 * @example
 * app.use('/payments/*', idempotency({ store, scope: (c) => c.get('userId') }));
 */
export function idempotency<E extends Env = Env>(options: HonoIdempotencyOptions<E>): MiddlewareHandler<E> {
  const engine = createIdempotencyEngine<Context<E>>(options);
  return async function idempotencyMiddleware(c, next) {
    const request = toEngineRequest(c.req.raw);
    // On @hono/node-server, read the body from the node stream and put it back (pull + unshift) rather
    // than from a clone: a clone makes the lightweight request build a real Request and tee its body.
    // Bench row "Hono, oncely MemoryStore, replay" (no handler then, so no Request is ever built):
    // 0.67× → 2.2× of bare's CPU a request in an interleaved A/B. In "first" the handler's
    // c.req.json() builds the Request anyway, and the saving there was within noise.
    const incoming = untouchedIncoming(c);
    if (incoming !== undefined) request.readBody = (maxBytes) => readRequestBody(incoming, maxBytes);
    const decision = await engine.begin(request, c);
    // A thrown handler error was already turned into c.res by app.onError (status 5xx: released).
    const response = await carryOutWeb(
      decision,
      async () => {
        await next();
        return c.res;
      },
      () => isAnswered(c),
    );
    if (decision.action === 'pass') return;
    c.res = undefined;
    c.res = response;
  };
}
