import type { IncomingMessage } from 'node:http';
import type { EngineRequest } from '../../engine/types.js';
import { keyHeaderLines } from './key-header-lines.js';
import { readRequestBody } from './read-request-body.js';

/**
 * Describes a node request to the engine. `url` is the full request target (Express: `originalUrl`,
 * so mounted routers fingerprint the real path). The key header is read line by line where Node
 * allows it, so a repeated header is refused.
 */
export function toEngineRequest(req: IncomingMessage, url = req.url ?? '/'): EngineRequest {
  const queryStart = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    query: queryStart === -1 ? '' : url.slice(queryStart + 1),
    keyHeader: keyHeaderLines(req),
    headers: req.headers,
    readBody: (maxBytes) => readRequestBody(req, maxBytes),
  };
}
