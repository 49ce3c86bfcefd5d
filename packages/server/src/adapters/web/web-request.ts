import { BODY_TOO_LARGE } from '../../engine/types.js';
import type { BodyTooLarge, EngineRequest } from '../../engine/types.js';
import { concat } from './web-response.js';

/**
 * Describes a Web `Request` to the engine. The body is read from a clone, so the handler still has it.
 * The key header is the value the runtime joined from its lines (see `readKeyHeader`).
 */
export function toEngineRequest(request: Request): EngineRequest {
  const url = new URL(request.url);
  return {
    method: request.method,
    path: url.pathname,
    query: url.search.slice(1),
    keyHeader: request.headers.get('idempotency-key') ?? undefined,
    headers: request.headers,
    readBody: (maxBytes) => readWebBody(request, maxBytes),
  };
}

/**
 * Reads at most `maxBytes` of the body from a clone of `request`. A declared `Content-Length` above
 * it is refused without reading; otherwise reading stops (and the clone is cancelled) as soon as the
 * running total crosses it. The original body is left as it is: unread past what the clone pulled,
 * for the runtime to drain or drop.
 */
async function readWebBody(request: Request, maxBytes: number): Promise<Uint8Array | BodyTooLarge> {
  if (request.body === null) return new Uint8Array(0);
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) return BODY_TOO_LARGE;
  const reader = request.clone().body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      chunks.length = 0;
      // Not awaited: a branch of a tee settles its cancel only once the other branch is cancelled too.
      reader.cancel().catch(() => undefined);
      return BODY_TOO_LARGE;
    }
    chunks.push(value);
  }
  return concat(chunks);
}
