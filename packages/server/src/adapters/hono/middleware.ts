import type { Context, Env, MiddlewareHandler } from 'hono';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { carryOutWeb } from '../web/execute-web.js';
import { toEngineRequest } from '../web/web-request.js';

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
 * of the raw request, so `c.req.json()` and friends still work in the handler. The routes below are
 * followed to their end through `next()`: mount `hono/timeout` above this middleware, so that a
 * timeout answer leaves the key held until the handler finished.
 *
 * @example
 * app.use('/payments/*', idempotency({ store, scope: (c) => c.get('userId') }));
 */
export function idempotency<E extends Env = Env>(options: HonoIdempotencyOptions<E>): MiddlewareHandler<E> {
  const engine = createIdempotencyEngine<Context<E>>(options);
  return async function idempotencyMiddleware(c, next) {
    const decision = await engine.begin(toEngineRequest(c.req.raw), c);
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
