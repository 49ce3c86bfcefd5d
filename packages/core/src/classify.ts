import { type HeaderSource, SHOULD_RETRY_HEADERS, readHeader } from './headers.js';
import { invalidOptionError } from './errors.js';
import { ProblemType } from './problem.js';

/**
 * Methods that may be retried without a key: idempotent by definition (RFC 9110 §9.2.2). POST and PATCH
 * are not, and are retried only with an idempotency key.
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
]);

/**
 * Safe methods (RFC 9110 §9.2.1): the server passes them through without claiming a key.
 *
 * @internal Shared with the sibling packages; not part of the public API.
 */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Statuses retried: timeout, rate limit, and the transient server errors. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Statuses never retried, whatever a server hint says: the request itself is wrong. */
export const NEVER_RETRY_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 422]);

/**
 * Node, undici and axios error codes of transient network failures. Classification is by `code`
 * (on the error or anywhere on its `cause` chain), never by guessing from messages.
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENOTCONN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_NETWORK', // axios in browsers: the XHR failed
]);

/** Whether `method` may be retried, given whether the request carries an idempotency key. */
export function isRetryableMethod(method: string, hasIdempotencyKey: boolean): boolean {
  if (typeof method !== 'string') throw invalidOptionError('method', method, 'an HTTP method name');
  return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/**
 * The server's explicit hint (`x-should-retry` / `stripe-should-retry`): `true`, `false`, or
 * `undefined` when absent or unreadable.
 */
export function readShouldRetryHint(headers: HeaderSource | null | undefined): boolean | undefined {
  for (const name of SHOULD_RETRY_HEADERS) {
    const value = readHeader(headers, name)?.trim().toLowerCase();
    if (value === 'true') return true;
    if (value === 'false') return false;
  }
  return undefined;
}

/** A classification: whether to retry, and a short reason for events and errors. */
export interface RetryDecision {
  retry: boolean;
  /** e.g. `status 503`, `request in progress`, `network ECONNRESET`, `server said do not retry`. */
  reason: string;
}

/** What {@link classifyResponse} looks at. */
export interface ResponseFacts {
  status: number;
  headers?: HeaderSource | null | undefined;
  /** The RFC 9457 `type` of the body, when it was a problem document. */
  problemType?: string | undefined;
}

/**
 * Whether a response should be retried. Rules, first match wins:
 * 1. 2xx/3xx: no; Oncely's "response not replayable" problem: no.
 * 2. 400, 401, 403, 404, 422 (key reused with another request): never.
 * 3. A "do not retry" hint from the server: no. A "retry" hint: yes.
 * 4. 409: only when it is Oncely's "request in progress" problem (recognised by `type`).
 * 5. 408, 429, 500, 502, 503, 504: yes. Anything else: no.
 */
export function classifyResponse(facts: ResponseFacts): RetryDecision {
  const { status } = facts;
  if (status < 400) return { retry: false, reason: `status ${status}` };
  // The first response was not kept: asking again can only get the same problem.
  if (facts.problemType === ProblemType.responseNotReplayable) {
    return { retry: false, reason: 'response not replayable' };
  }
  if (NEVER_RETRY_STATUSES.has(status)) {
    return {
      retry: false,
      reason: facts.problemType === ProblemType.keyReused ? 'idempotency key reused' : `status ${status}`,
    };
  }
  const hint = readShouldRetryHint(facts.headers);
  if (hint === false) return { retry: false, reason: 'server said do not retry' };
  if (status === 409) {
    return facts.problemType === ProblemType.requestInProgress
      ? { retry: true, reason: 'request in progress' }
      : { retry: hint === true, reason: hint === true ? 'server said retry' : 'status 409' };
  }
  if (hint === true) return { retry: true, reason: 'server said retry' };
  return { retry: RETRYABLE_STATUSES.has(status), reason: `status ${status}` };
}

/** Options of {@link classifyError}. */
export interface ClassifyErrorOptions {
  /**
   * The error is a rejection of `fetch()` itself, for a request already checked as valid (so the
   * `TypeError` is not argument validation). Per the Fetch standard such a `TypeError` is a network
   * error: retried, whether it has no `cause` (browsers: "Failed to fetch") or a `cause` without a code
   * (Deno: "connection closed before message completed"). Node's fetch (undici) puts a network
   * failure's code on `cause` (the code rule); its refusals to follow a redirect are fixed messages on a
   * code-less `cause` (`unexpected redirect`, `redirect count exceeded`, …): not retried, since the same
   * request meets the same redirects again. workerd rejects a lost connection with a plain `Error`
   * marked `retryable: true`: retried.
   */
  fromFetch?: boolean | undefined;
}

/**
 * Whether a thrown error is a transient network failure worth retrying. Looks for a known `code` on
 * the error, its `cause` chain and AggregateError members. Aborts (`AbortError`) are never retried:
 * the caller asked to stop. `TimeoutError` (e.g. from `AbortSignal.timeout`) is retried.
 */
export function classifyError(error: unknown, options: ClassifyErrorOptions = {}): RetryDecision {
  const code = findErrorCode(error);
  if (code !== undefined && RETRYABLE_ERROR_CODES.has(code))
    return { retry: true, reason: `network ${code}` };
  const name = errorName(error);
  if (name === 'AbortError') return { retry: false, reason: 'aborted' };
  if (name === 'TimeoutError') return { retry: true, reason: 'timeout' };
  if (code !== undefined) return { retry: false, reason: `error ${code}` };
  // workerd rejects with a plain Error for a lost connection, marked `retryable: true`.
  if (
    options.fromFetch === true &&
    ((error instanceof TypeError && !isFetchRefusal(safeGet(error, 'cause'))) || isMarkedRetryable(error))
  )
    return { retry: true, reason: 'network error' };
  return { retry: false, reason: 'error' };
}

/**
 * undici's refusals to follow a redirect (httpRedirectFetch in lib/web/fetch/index.js): the code-less
 * causes of a fetch `TypeError` that no retry can fix — `redirect: 'error'`, more than 20 redirects, a
 * non-HTTP(S) location, and a 307/308 for a one-shot stream body (a network error with no message).
 * Matched exactly: a closed set of undici's fixed strings, not a guess at other runtimes' wording.
 */
const FETCH_REFUSALS: ReadonlySet<string> = new Set([
  'unexpected redirect',
  'redirect count exceeded',
  'URL scheme must be a HTTP(S) scheme',
  '',
]);

function isFetchRefusal(cause: unknown): boolean {
  return cause instanceof Error && FETCH_REFUSALS.has(cause.message);
}

/** The first recognised-or-not `code` string on the error, its causes, or AggregateError members. */
export function findErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  let fallback: string | undefined;
  while (queue.length > 0 && seen.size < 16) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const code = safeGet(current, 'code');
    if (typeof code === 'string') {
      if (RETRYABLE_ERROR_CODES.has(code)) return code;
      fallback ??= code;
    }
    queue.push(safeGet(current, 'cause'));
    const members = safeGet(current, 'errors');
    if (Array.isArray(members)) queue.push(...members.slice(0, 8));
  }
  return fallback;
}

function isMarkedRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && safeGet(error, 'retryable') === true;
}

function errorName(error: unknown): string | undefined {
  const name = typeof error === 'object' && error !== null ? safeGet(error, 'name') : undefined;
  return typeof name === 'string' ? name : undefined;
}

function safeGet(target: object, property: string): unknown {
  try {
    return (target as Record<string, unknown>)[property];
  } catch {
    return undefined;
  }
}
