import type { IncomingMessage, ServerResponse } from 'node:http';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { carryOut } from '../node-http/execute.js';
import { toEngineRequest } from '../node-http/node-request.js';

/** A node:http request listener, sync or async. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Options of {@link withIdempotency}; `scope` receives the `IncomingMessage`. */
export interface NodeIdempotencyOptions extends IdempotencyOptions<IncomingMessage> {
  /**
   * Called when the listener (or the `scope`/`fingerprint` function) throws or rejects, after the key
   * was released.
   * @default answers 500 with an empty body (or closes the connection when headers were sent)
   */
  onError?: (error: unknown, req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * Wraps a node:http request listener so each idempotency key runs it once. The listener still reads
 * the request body itself: the bytes are put back after fingerprinting. A listener that returns a
 * promise is followed to its end; one that returns nothing counts as done when its response ends.
 *
 * @example
 * http.createServer(withIdempotency(listener, { store, scope: 'global' })).listen(3000);
 */
export function withIdempotency(
  listener: NodeRequestListener,
  options: NodeIdempotencyOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { onError = answerInternalError, ...engineOptions } = options;
  const engine = createIdempotencyEngine<IncomingMessage>(engineOptions);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const decision = await engine.begin(toEngineRequest(req), req);
    await carryOut(req, res, decision, () => listener(req, res));
  }

  return function idempotentListener(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch((error: unknown) => {
      try {
        onError(error, req, res);
      } catch {
        answerInternalError(error, req, res);
      }
    });
  };
}

function answerInternalError(_error: unknown, _req: IncomingMessage, res: ServerResponse): void {
  if (res.writableEnded) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = 500;
  res.setHeader('content-length', 0);
  res.end();
}
