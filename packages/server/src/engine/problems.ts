import { PROBLEM_CONTENT_TYPE, ProblemType, createProblem } from '@oncely/core';
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

/**
 * 413 for a request body over `maxRequestBytes`: the handler did not run and nothing was stored. The
 * same body can only get the same answer, so SDKs that read the hint are told not to retry.
 */
export function requestTooLargeResponse(
  maxRequestBytes: number,
  idempotencyKey: string | undefined,
): PreparedResponse {
  return problemResponse(
    ProblemType.requestTooLarge,
    {
      detail: `The request body is larger than the ${maxRequestBytes} bytes accepted with an Idempotency-Key; the request was not run.`,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    },
    [['x-should-retry', 'false']],
  );
}
