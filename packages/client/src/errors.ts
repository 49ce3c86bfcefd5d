import { OncelyError } from '@oncely/core';

const CLIENT_ERROR = Symbol.for('oncely.client-error');

/** Stable codes of the errors thrown by @oncely/client. Match on these, never on messages. */
export const ClientErrorCode = {
  /** Every attempt failed without an answer (a network error, a reset, a refused connection). */
  requestFailed: 'ERR_ONCELY_REQUEST_FAILED',
  /** The final answer was not ok (status ≥ 400) and the caller opted into `throwOnHttpError`. */
  httpError: 'ERR_ONCELY_HTTP_ERROR',
  /** The last attempt outlived `attemptTimeout` (fetch: no response headers in time; axios: the whole attempt). */
  attemptTimeout: 'ERR_ONCELY_ATTEMPT_TIMEOUT',
  /** The overall `deadline` came, or the next retry would have started past it. */
  deadlineExceeded: 'ERR_ONCELY_DEADLINE_EXCEEDED',
  /** The client's retry budget is empty: failing fast instead of adding to an outage. */
  budgetExhausted: 'ERR_ONCELY_RETRY_BUDGET_EXHAUSTED',
  /** A retry was needed but the request body is a one-shot stream and no body factory was given. */
  bodyNotReplayable: 'ERR_ONCELY_BODY_NOT_REPLAYABLE',
  /**
   * The request cannot succeed as given, so it is never retried: fetch refused it (a GET/HEAD with a
   * body, an invalid URL, method, `credentials`, `redirect` or `mode`, a redirect that `redirect: 'error'`
   * forbids, more than 20 redirects, a redirect a one-shot stream body cannot follow), or the body factory
   * or the `Request` body failed. `cause` is the original error.
   */
  invalidRequest: 'ERR_ONCELY_INVALID_REQUEST',
  /** A journaled call's body is a stream or a body factory, which the journal cannot keep; nothing was sent. */
  bodyNotJournalable: 'ERR_ONCELY_BODY_NOT_JOURNALABLE',
  /** The journal could not record the operation (nothing was sent), or could not be read or locked. */
  journalFailed: 'ERR_ONCELY_JOURNAL_FAILED',
} as const;

export type ClientErrorCodeValue = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** What an {@link OncelyClientError} knows about the call that failed. */
export interface OncelyClientErrorOptions<TResponse> {
  cause?: unknown;
  idempotencyKey?: string | undefined;
  attempts?: number | undefined;
  totalDelay?: number | undefined;
  response?: TResponse | undefined;
}

/**
 * The one error class of @oncely/client. `code` says what happened; `idempotencyKey`, `attempts`,
 * `totalDelay` and (when the server answered) `response` say what the call did. `cause` is the
 * underlying failure of the last attempt.
 */
export class OncelyClientError<TResponse = Response> extends OncelyError {
  declare readonly code: ClientErrorCodeValue;
  /** The key sent with every attempt; `undefined` for calls that sent none (e.g. a GET). */
  readonly idempotencyKey: string | undefined;
  /** Attempts made, the first one included. */
  readonly attempts: number;
  /** Total time slept between attempts, in ms. */
  readonly totalDelay: number;
  /** The last response, when the server answered (its body unread). */
  readonly response: TResponse | undefined;

  constructor(
    code: ClientErrorCodeValue,
    message: string,
    options: OncelyClientErrorOptions<TResponse> = {},
  ) {
    super(code, message, 'cause' in options ? { cause: options.cause } : {});
    this.name = 'OncelyClientError';
    this.idempotencyKey = options.idempotencyKey;
    this.attempts = options.attempts ?? 0;
    this.totalDelay = options.totalDelay ?? 0;
    this.response = options.response;
    Object.defineProperty(this, CLIENT_ERROR, { value: true });
  }
}

/**
 * Whether `value` is an {@link OncelyClientError} (optionally with the given `code`). Checks a
 * global-symbol marker, so it holds across bundles and duplicated package copies (ESM and CJS).
 */
export function isOncelyClientError<TResponse = Response>(
  value: unknown,
  code?: ClientErrorCodeValue,
): value is OncelyClientError<TResponse> {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<symbol, unknown>)[CLIENT_ERROR] !== true) return false;
  return code === undefined || (value as { code?: unknown }).code === code;
}
