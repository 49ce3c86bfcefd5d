import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { isTransactional } from '../../engine/types.js';
import { captureWebResponse, toWebResponse } from '../web/capture-web-response.js';
import { transactWebResponse } from '../web/hold-web-response.js';
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
    // Transactional mode: the handler runs inside the store's transaction, its body is read before
    // the commit and nothing is returned until then. A handler error is rethrown after the rollback.
    if (isTransactional(execution)) {
      return transactWebResponse(execution, async () => handler(request, ...args));
    }
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
