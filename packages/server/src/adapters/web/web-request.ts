import type { EngineRequest } from '../../engine/types.js';

/** Describes a Web `Request` to the engine. The body is read from a clone, so the handler still has it. */
export function toEngineRequest(request: Request): EngineRequest {
  const url = new URL(request.url);
  return {
    method: request.method,
    path: url.pathname,
    query: url.search.slice(1),
    keyHeader: request.headers.get('idempotency-key') ?? undefined,
    headers: request.headers,
    readBody: async () =>
      request.body === null ? new Uint8Array(0) : new Uint8Array(await request.clone().arrayBuffer()),
  };
}
