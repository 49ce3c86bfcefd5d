import type { Request, RequestHandler } from 'express';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { carryOut } from '../node-http/execute.js';
import { toEngineRequest } from '../node-http/node-request.js';

/** Options of the Express middleware; `scope` receives the Express `Request`. */
export type ExpressIdempotencyOptions = IdempotencyOptions<Request>;

/**
 * Express 4 and 5 middleware: each idempotency key runs the routes after it once.
 *
 * Mount it before your body parsers (it reads the raw bytes for the fingerprint and puts them back),
 * or after them with a `verify` callback that sets `req.rawBody`; after them without one, the parsed
 * `req.body` is fingerprinted instead. Errors (a throwing `scope`, a broken request) go to `next`, or
 * cut the connection when an answer was already under way.
 *
 * Express does not tell a middleware when the routes after it finished: the handler counts as done
 * when its response ends. A timeout middleware that answers while the handler still runs must mark
 * the request `req.timedout = true` (connect-timeout does): the key is then held until its lease runs
 * out instead of being released for a concurrent retry.
 *
 * @example
 * app.use(idempotency({ store, scope: (req) => req.user.id }));
 */
export function idempotency(options: ExpressIdempotencyOptions): RequestHandler {
  const engine = createIdempotencyEngine<Request>(options);
  return function idempotencyMiddleware(req, res, next) {
    engine
      .begin(toEngineRequest(req, req.originalUrl), req)
      // The routes run through `next()` (in transactional mode from inside the store's transaction, so
      // its async context reaches them); a handler error reaches Express's error handler as usual.
      .then((decision) => carryOut(req, res, decision, () => next()))
      .catch((error: unknown) => (res.headersSent ? void res.destroy() : next(error)));
  };
}
