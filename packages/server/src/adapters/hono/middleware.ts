import type { Context, Env, MiddlewareHandler } from 'hono';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { isTransactional } from '../../engine/types.js';
import { captureWebResponse, toWebResponse } from '../web/capture-web-response.js';
import { transactWebResponse } from '../web/hold-web-response.js';
import { toEngineRequest } from '../web/web-request.js';

/** Options of the Hono middleware; `scope` receives the Hono `Context`. */
export type HonoIdempotencyOptions<E extends Env = Env> = IdempotencyOptions<Context<E>>;

/**
 * Hono middleware: each idempotency key runs the routes below it once. The body is read from a clone
 * of the raw request, so `c.req.json()` and friends still work in the handler.
 *
 * @example
 * app.use('/payments/*', idempotency({ store, scope: (c) => c.get('userId') }));
 */
export function idempotency<E extends Env = Env>(options: HonoIdempotencyOptions<E>): MiddlewareHandler<E> {
  const engine = createIdempotencyEngine<Context<E>>(options);
  return async function idempotencyMiddleware(c, next) {
    const decision = await engine.begin(toEngineRequest(c.req.raw), c);
    if (decision.action === 'pass') {
      await next();
      return;
    }
    if (decision.action === 'respond') return toWebResponse(decision.response);
    const { execution } = decision;
    if (isTransactional(execution)) {
      // Transactional mode: the routes below run inside the store's transaction (`next()` is called
      // from it) and the response is held until the commit.
      const response = await transactWebResponse(execution, async () => {
        await next();
        return c.res;
      });
      c.res = undefined;
      c.res = response;
      return;
    }
    try {
      await next();
    } catch (error) {
      await execution.fail(error);
      throw error;
    }
    // A thrown handler error was already turned into c.res by app.onError (status 5xx: released).
    const response = await captureWebResponse(c.res, execution);
    c.res = undefined;
    c.res = response;
  };
}
