import {
  type HeaderSource,
  type RetryDecision,
  classifyError,
  classifyResponse,
  readProblemType,
} from '@oncely/core';
import { ClientErrorCode, isOncelyClientError } from './errors.js';
import { FETCH_REFUSED } from './fetch-redirects.js';

/** One failed attempt, as the retry loop sees it. */
export interface Failure {
  /** Oncely's verdict: retry or not, and why. */
  decision: RetryDecision;
  /** The attempt timed out (a retry after a timeout costs the budget more). */
  timeout: boolean;
  error?: unknown;
  response?: unknown;
  status?: number;
  /** Headers to read a Retry-After from. */
  headers?: HeaderSource | undefined;
  /** fetch refused the request (a `TypeError` that is no network failure): the request is wrong as given. */
  refused?: boolean;
}

/** A failure from a response (fetch `Response`, axios response, or the facts of an SDK error). */
export function responseFailure(
  facts: { status: number; headers?: HeaderSource | undefined; problemType?: string | undefined },
  extra: { response?: unknown; error?: unknown } = {},
): Failure {
  return {
    decision: classifyResponse(facts),
    timeout: facts.status === 408,
    status: facts.status,
    headers: facts.headers,
    ...extra,
  };
}

/**
 * A failure from a thrown error. Oncely's own attempt timeout is retried (and costs the budget as a
 * timeout); its deadline is not. An error carrying an HTTP `status`/`statusCode` (stripe-node,
 * OpenAI, Anthropic, axios) is judged like a response, with its headers and problem body; anything
 * else by its error `code` on the cause chain (see `classifyError`).
 */
export function errorFailure(error: unknown, { fromFetch = false }: { fromFetch?: boolean } = {}): Failure {
  if (isOncelyClientError(error, ClientErrorCode.attemptTimeout)) {
    return { decision: { retry: true, reason: 'attempt timeout' }, timeout: true, error };
  }
  if (isOncelyClientError(error)) {
    return { decision: { retry: false, reason: error.code }, timeout: false, error };
  }
  const facts = readStatusFacts(error);
  if (facts !== undefined)
    return responseFailure(facts, { error, response: readProperty(error, 'response') });
  return codeFailure(error, { fromFetch });
}

/**
 * A failure from a rejection of fetch. A `TypeError` fetch rejects with for a request already checked
 * (see `readRequest`) is either a network error — browsers: no cause; undici: its code on `cause` — or
 * fetch refusing the request: undici's fixed refusals (`unexpected redirect`, `redirect count exceeded`,
 * see core's `classifyError`) or Oncely's own redirect-following ones (code `ERR_ONCELY_FETCH_REFUSED`).
 * A refusal is final and named by its cause.
 */
export function fetchFailure(error: unknown): Failure {
  const failure = errorFailure(error, { fromFetch: true });
  const { retry, reason } = failure.decision;
  if (!(error instanceof TypeError) || retry || (reason !== 'error' && reason !== `error ${FETCH_REFUSED}`)) {
    return failure;
  }
  const cause: unknown = error.cause;
  const detail =
    typeof cause === 'object' && cause !== null && typeof (cause as Error).message === 'string'
      ? (cause as Error).message
      : error.message;
  return { ...failure, decision: { retry: false, reason: `fetch refused: ${detail}` }, refused: true };
}

/** A failure judged by the error code on `error`'s cause chain alone (core's `classifyError`), never by a status. */
export function codeFailure(error: unknown, { fromFetch = false }: { fromFetch?: boolean } = {}): Failure {
  const decision = classifyError(error, { fromFetch });
  return {
    decision,
    timeout: decision.reason === 'timeout' || /TIMEOUT|TIMEDOUT/.test(decision.reason),
    error,
  };
}

/** `status` (OpenAI, Anthropic, fetch-style) or `statusCode` (stripe-node), plus headers and problem type. */
function readStatusFacts(
  error: unknown,
): { status: number; headers: HeaderSource | undefined; problemType: string | undefined } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const response = readProperty(error, 'response');
  const status = [
    readProperty(error, 'status'),
    readProperty(error, 'statusCode'),
    readProperty(response, 'status'),
  ].find(
    (value): value is number =>
      typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599,
  );
  if (status === undefined) return undefined;
  const headers = (readProperty(error, 'headers') ?? readProperty(response, 'headers')) as
    HeaderSource | undefined;
  const body = readProperty(error, 'error') ?? readProperty(error, 'body') ?? readProperty(response, 'data');
  return {
    status,
    headers: typeof headers === 'object' ? headers : undefined,
    problemType: readProblemType(body),
  };
}

function readProperty(target: unknown, name: string): unknown {
  if (typeof target !== 'object' || target === null) return undefined;
  try {
    return (target as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}
