import type { Context, Middleware, Next } from 'koa';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import type { EngineRequest, Execution } from '../../engine/types.js';
import { holdResponse } from '../node-http/hold-response.js';
import { toEngineRequest } from '../node-http/node-request.js';
import { bytesOfParsedBody } from '../node-http/read-request-body.js';
import { recordResponse } from '../node-http/record-response.js';
import { isAnswerable, sendPrepared } from '../node-http/send-prepared.js';

/** Options of the Koa middleware; `scope` and a `key` function receive the Koa `Context`. */
export type KoaIdempotencyOptions = IdempotencyOptions<Context>;

const encoder = new TextEncoder();

/**
 * Koa 3 middleware: each idempotency key runs the middleware after it once. The routes below are
 * followed to their end through `next()`; Koa writes their response after that, and the engine
 * records it as it is written. Replays and problems are written by the middleware itself
 * (`ctx.respond = false`), byte for byte.
 *
 * Mount it before your body parser (it reads the raw bytes for the fingerprint and puts them back), or
 * after `@koa/bodyparser` / `koa-bodyparser`, whose `ctx.request.rawBody` it then fingerprints. A
 * timeout mounted above it that answers while the routes still run is seen (the response ends before
 * `next()` settles): the key then stays held until the routes are done.
 *
 * @example
 * app.use(idempotency({ store, scope: (ctx) => ctx.state.user.id }));
 */
export function idempotency(options: KoaIdempotencyOptions): Middleware {
  const engine = createIdempotencyEngine<Context>(options);
  return async function idempotencyMiddleware(ctx: Context, next: Next): Promise<void> {
    const decision = await engine.begin(toKoaRequest(ctx), ctx);
    if (decision.action === 'pass') return next();
    if (decision.action === 'respond') {
      ctx.respond = false;
      return sendPrepared(ctx.res, decision.response, ctx.req);
    }
    const { execution } = decision;
    // Someone above answered while the engine decided (a timeout): the routes must not run.
    if (!isAnswerable(ctx.res)) {
      execution.cancel();
      return;
    }
    if (execution.transactional) return transact(ctx, execution, next);
    let running = true;
    // Koa writes the routes' response only after they are done: one written before is another's answer.
    recordResponse(ctx.req, ctx.res, execution, () => running && ctx.respond !== false);
    try {
      await execution.run(next);
    } finally {
      running = false;
    }
  };
}

/** The node request, with the body a Koa body parser mounted before already read. */
function toKoaRequest(ctx: Context): EngineRequest {
  const request = toEngineRequest(ctx.req, ctx.originalUrl);
  const { rawBody, body } = ctx.request as { rawBody?: unknown; body?: unknown };
  if (typeof rawBody === 'string') return { ...request, readBody: async () => encoder.encode(rawBody) };
  if (ctx.req.readableEnded) return { ...request, readBody: async () => bytesOfParsedBody(body) };
  return request;
}

/**
 * Transactional mode: the routes run inside the store's transaction with the whole response held
 * back; Koa writes it once this middleware returned, and it is sent (or replaced by the engine's
 * problem) once the transaction settled. A route error is rethrown after the rollback, with the
 * response handed back untouched for Koa's error handling.
 */
async function transact(ctx: Context, execution: Execution, next: Next): Promise<void> {
  const { req, res } = ctx;
  const held = holdResponse(res, execution);
  res.once('close', () => execution.close());
  const ran = execution.run(next);
  const delivered = Promise.race([execution.settled, held.ended]).then((settlement) => {
    if (settlement.action === 'send') held.send();
    else if (settlement.action === 'respond') held.replace(settlement.response, req);
    else held.discard();
  });
  const first = await Promise.race([ran.then(noop, noop), execution.settled]);
  // Settled before the routes ended: not begun (they never run), or given up. The engine answers.
  if (first?.action === 'respond') {
    ctx.respond = false;
    return;
  }
  try {
    await ran;
  } catch (error) {
    await delivered;
    throw error;
  }
}

function noop(): undefined {
  return undefined;
}
