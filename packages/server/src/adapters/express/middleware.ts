import type { Request, RequestHandler } from 'express';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { isTransactional } from '../../engine/types.js';
import { captureResponse } from '../node-http/capture-response.js';
import { toEngineRequest } from '../node-http/node-request.js';
import { sendPrepared } from '../node-http/send-prepared.js';
import { transactResponse } from '../node-http/transact-response.js';

/** Options of the Express middleware; `scope` receives the Express `Request`. */
export type ExpressIdempotencyOptions = IdempotencyOptions<Request>;

/**
 * Express 4 and 5 middleware: each idempotency key runs the routes after it once.
 *
 * Mount it before your body parsers (it reads the raw bytes for the fingerprint and puts them back),
 * or after them with a `verify` callback that sets `req.rawBody`; after them without one, the parsed
 * `req.body` is fingerprinted instead. Errors (a throwing `scope`, a broken request) go to `next`.
 *
 * @example
 * app.use(idempotency({ store, scope: (req) => req.user.id }));
 */
export function idempotency(options: ExpressIdempotencyOptions): RequestHandler {
  const engine = createIdempotencyEngine<Request>(options);
  return function idempotencyMiddleware(req, res, next) {
    engine.begin(toEngineRequest(req, req.originalUrl), req).then((decision) => {
      if (decision.action === 'pass') return next();
      if (decision.action === 'respond') return sendPrepared(res, decision.response, req);
      const { execution } = decision;
      // A handler error reaches Express's error handler, whose 5xx answer releases the key (and, in
      // transactional mode, rolls the handler's writes back).
      if (!isTransactional(execution)) {
        captureResponse(res, execution);
        return next();
      }
      // Transactional mode: the routes run inside the store's transaction (`next()` is called from it,
      // so its async context reaches them) and the whole response waits for the commit.
      transactResponse(res, execution, () => next()).catch(next);
    }, next);
  };
}
