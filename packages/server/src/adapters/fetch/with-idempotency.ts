import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { carryOutWeb } from '../web/execute-web.js';
import { toEngineRequest } from '../web/web-request.js';

/** Options of {@link withIdempotency}; `scope` receives the `Request`. */
export type FetchIdempotencyOptions = IdempotencyOptions<Request>;

/** A Web handler: Next.js route handlers, Bun.serve, Deno.serve, Cloudflare/Vercel workers. */
export type FetchHandler<Args extends unknown[] = []> = (
  request: Request,
  ...args: Args
) => Response | Promise<Response>;

/**
 * Wraps a `Request → Response` handler so each idempotency key runs it once. Extra arguments (a
 * Next.js route context, a worker's `env`) are passed through. The handler is followed to its end:
 * wrap a timeout around `withIdempotency`, not inside it, so the key is settled by the handler's own
 * answer.
 *
 * @example
 * export const POST = withIdempotency(createPayment, { store, scope: (req) => req.headers.get('x-api-key') ?? 'anonymous' });
 */
export function withIdempotency<Args extends unknown[] = []>(
  handler: FetchHandler<Args>,
  options: FetchIdempotencyOptions,
): (request: Request, ...args: Args) => Promise<Response> {
  const engine = createIdempotencyEngine<Request>(options);
  return async function idempotentHandler(request: Request, ...args: Args): Promise<Response> {
    const decision = await engine.begin(toEngineRequest(request), request);
    return carryOutWeb(decision, async () => handler(request, ...args));
  };
}
