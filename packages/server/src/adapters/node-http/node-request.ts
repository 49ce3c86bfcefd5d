import type { IncomingMessage } from 'node:http';
import { splitTarget } from '../../engine/types.js';
import type { EngineRequest } from '../../engine/types.js';
import { readRequestBody } from './read-request-body.js';

/**
 * Describes a node request to the engine. `url` is the full request target (Express: `originalUrl`,
 * so mounted routers fingerprint the real path). The key header is the value Node joined from its
 * lines, as every runtime shows it (see `readKeyHeader`).
 */
export function toEngineRequest(req: IncomingMessage, url = req.url ?? '/'): EngineRequest {
  const { path, query } = splitTarget(url);
  return {
    method: req.method ?? 'GET',
    path,
    query,
    keyHeader: req.headers['idempotency-key'],
    headers: req.headers,
    readBody: (maxBytes) => readRequestBody(req, maxBytes),
  };
}
