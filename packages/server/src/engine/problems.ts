import { PROBLEM_CONTENT_TYPE, createProblem } from '@oncely/core';
import type { ProblemTypeUri } from '@oncely/core';
import type { PreparedResponse } from './types.js';

const encoder = new TextEncoder();

/** Seconds a client should wait before retrying an in-flight or store-down answer (RFC 9110 §10.2.3). */
export const RETRY_AFTER_SECONDS = '1';

/**
 * The one place server errors become RFC 9457 problem responses: a JSON document with the shared
 * `type` URI, never a stack trace, never cached (RFC 9111 §5.2.2.5).
 */
export function problemResponse(
  type: ProblemTypeUri,
  fields: { detail?: string; idempotencyKey?: string; [extension: string]: unknown },
  headers: Array<[string, string]> = [],
): PreparedResponse {
  const problem = createProblem(type, fields);
  return {
    status: problem.status,
    headers: [['content-type', PROBLEM_CONTENT_TYPE], ['cache-control', 'no-store'], ...headers],
    body: encoder.encode(JSON.stringify(problem)),
  };
}
