import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { captureWebResponse, toWebResponse } from '../web/capture-web-response.js';
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
 * Next.js route context, a worker's `env`) are passed through.
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
    if (decision.action === 'pass') return handler(request, ...args);
    if (decision.action === 'respond') return toWebResponse(decision.response);
    const { execution } = decision;
    let response: Response;
    try {
      response = await handler(request, ...args);
    } catch (error) {
      await execution.fail(error);
      throw error;
    }
    return captureWebResponse(response, execution);
  };
}
