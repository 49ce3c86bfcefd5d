import { invalidOptionError } from '@oncely/core';
import { runAttempts } from './attempt-loop.js';
import { type AttemptBody, type BodyFactory, isStreamBody } from './body.js';
import { CallState } from './call-state.js';
import { type Failure, fetchFailure } from './classify-failure.js';
import { ClientErrorCode, OncelyClientError, isOncelyClientError } from './errors.js';
import { type CallRequest, readRequest, resolveKey } from './fetch-request.js';
import { type HopInit, canFollowRedirects, refused, sendFollowingRedirects } from './fetch-redirects.js';
import { bufferResponse as buffer, discardResponse, handOver, judgeResponse } from './fetch-response.js';
import { retryableAttempt } from './keyed.js';
import { type ClientOptions, normalizeClientOptions } from './options.js';
import { journalFetch } from './journal/journaled-fetch.js';
import type { JournalCallOptions, JournalClientOptions } from './journal/types.js';
import { type CallPolicyOptions, optionsForCall } from './per-call.js';
import type { AttemptScope } from './signals.js';

/** Options of {@link createFetch}: the shared client options plus fetch-only ones. */
export interface FetchOptions extends ClientOptions, JournalClientOptions {
  /**
   * The fetch that sends each attempt (e.g. node-fetch). Oncely follows a keyed request's redirects
   * itself, so it asks this fetch for `redirect: 'manual'` then.
   * @default globalThis.fetch (looked up at call time)
   */
  fetch?: ((input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) | undefined;
  /**
   * Reject a final answer with status ≥ 400 with an `ERR_ONCELY_HTTP_ERROR` error (its `response`
   * attached) instead of resolving with it, as fetch does. Per call too.
   * @default false
   */
  throwOnHttpError?: boolean | undefined;
  /**
   * Read each response body within the attempt, so a connection reset mid-body is retried (with the
   * same key) instead of surfacing while you read. The attempt timeout then covers the body too.
   * @default false
   */
  bufferResponse?: boolean | undefined;
}

/**
 * `RequestInit` plus Oncely's per-call options: the key, a body factory, `throwOnHttpError` and the
 * policy overrides `retries`, `deadline` and `attemptTimeout`. None of them reaches fetch.
 */
export interface OncelyRequestInit extends Omit<RequestInit, 'body'>, CallPolicyOptions, JournalCallOptions {
  /**
   * A body, or a function that makes it afresh for each attempt (needed to retry a stream). A factory
   * that returns FormData is called once: its serialised bytes are re-sent.
   */
  body?: BodyInit | BodyFactory | null | undefined;
  /**
   * The key of this call, e.g. one you persisted to resume after a crash; `false` to send none, the key
   * header removed too (then a POST or PATCH is not retried). A key in the key header is used as well.
   * @default a new key for methods other than GET, HEAD, OPTIONS and TRACE
   */
  idempotencyKey?: string | false | undefined;
  /** Overrides the client's `throwOnHttpError` for this call. */
  throwOnHttpError?: boolean | undefined;
}

/** A fetch-compatible function that retries safely. */
export type OncelyFetch = (input: RequestInfo | URL, init?: OncelyRequestInit) => Promise<Response>;

type BaseFetch = NonNullable<FetchOptions['fetch']>;

/**
 * Creates a fetch-compatible function that gives each call one idempotency key, sends it on every
 * attempt and retries with backoff under one policy.
 *
 * Resolves with the final `Response`, as fetch does, when the server's answer is final or the retries
 * are used up (read `getRetryInfo(response)` for the key, attempts and delays). Rejects with
 * `signal.reason` on abort, and with an {@link OncelyClientError} when every attempt failed without an
 * answer, the request is invalid (`ERR_ONCELY_INVALID_REQUEST`, never retried) or Oncely stopped the
 * call (deadline, budget, unreplayable body).
 */
export function createFetch(options: FetchOptions = {}): OncelyFetch {
  return journalFetch(createUnjournaledFetch(options), options ?? {});
}

/** {@link createFetch} before its `journal` option is applied (see journal/journaled-fetch.ts). */
function createUnjournaledFetch(options: FetchOptions): OncelyFetch {
  const {
    fetch: customFetch,
    throwOnHttpError = false,
    bufferResponse = false,
    ...clientOptions
  } = options ?? {};
  if (customFetch !== undefined && typeof customFetch !== 'function') {
    throw invalidOptionError('fetch', customFetch, 'a fetch function');
  }
  if (typeof throwOnHttpError !== 'boolean')
    throw invalidOptionError('throwOnHttpError', throwOnHttpError, 'a boolean');
  if (typeof bufferResponse !== 'boolean')
    throw invalidOptionError('bufferResponse', bufferResponse, 'a boolean');
  const resolved = normalizeClientOptions(clientOptions);

  return async function oncelyFetch(
    input: RequestInfo | URL,
    init: OncelyRequestInit = {},
  ): Promise<Response> {
    const baseFetch: BaseFetch = customFetch ?? globalThis.fetch;
    const {
      idempotencyKey: keyOption,
      throwOnHttpError: throwOption,
      retries,
      deadline,
      attemptTimeout,
      ...requestInit
    } = init ?? {};
    const options = optionsForCall(resolved, { retries, deadline, attemptTimeout });
    let request: CallRequest;
    try {
      request = readRequest(input, requestInit);
    } catch (error) {
      throw new OncelyClientError(ClientErrorCode.invalidRequest, `Invalid request: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const { headers, method } = request;
    const idempotencyKey = resolveKey(keyOption, headers, method, options);
    // The headers sent are these, as they are now: they carry the key exactly when there is one.
    const keySent = idempotencyKey !== undefined;
    const followRedirects = keySent && request.redirect === 'follow' && canFollowRedirects();

    const call = new CallState(options, idempotencyKey);
    const result = await runAttempts<Response>({
      call,
      signal: request.signal,
      retryable: retryableAttempt(method, keySent),
      replayable: request.body.replayable,
      async attempt(scope) {
        const { body } = request;
        const sent = body.fixed !== undefined ? body.fixed : await makeBody(call, request, scope);
        const attemptInit: HopInit =
          request.init === undefined
            ? { method, headers, body: sent, signal: scope.signal }
            : { ...request.init, method, headers, body: sent, signal: scope.signal };
        if (sent !== null && typeof sent !== 'string' && isStreamBody(sent)) attemptInit.duplex = 'half';
        const response = followRedirects
          ? await sendFollowingRedirects(
              baseFetch,
              request.url,
              attemptInit,
              options.keyHeader,
              body.replayable
                ? () => makeBody(call, request, scope)
                : () => Promise.reject(refused('cannot follow a redirect with a one-shot stream body')),
            )
          : await baseFetch(request.url, attemptInit);
        return bufferResponse ? await buffer(response) : response;
      },
      judge: judgeResponse,
      describe: describeFetchError,
      discard: discardResponse,
    });

    // A buffered body is read already: nothing is left for the deadline to bound.
    if (bufferResponse) result.scope.dispose();
    if (result.ok) {
      const response = handOver(result.value, result.scope);
      call.succeed(response);
      return response;
    }
    const { failure, reason } = result;
    if (result.hasValue) {
      const response = handOver(result.value!, result.scope);
      if (throwOption ?? throwOnHttpError) {
        const error = call.error(ClientErrorCode.httpError, `HTTP ${response.status} (${reason}).`, {
          response,
          cause: failure.decision.reason,
        });
        call.giveUp(reason, { error, response });
        throw error;
      }
      call.giveUp(reason, { response });
      return response;
    }
    result.scope.dispose();
    const error = isOncelyClientError(failure.error)
      ? failure.error
      : failure.refused === true
        ? call.error(ClientErrorCode.invalidRequest, `Request refused: ${reason}.`, { cause: failure.error })
        : call.error(ClientErrorCode.requestFailed, `Request failed: ${reason}.`, { cause: failure.error });
    call.giveUp(reason, { error });
    throw error;
  };
}

/** Why the body of an attempt could not be made: final, whatever the error (see `describeFetchError`). */
class BodyUnavailable {
  constructor(
    readonly error: unknown,
    readonly reason: string,
  ) {}
}

/**
 * The body of this attempt, its content type set where the caller's headers lack one. Every wait is
 * bounded by the attempt's signal; a failure is final — a body that cannot be made will not be made
 * by trying again: the caller's abort, the attempt timeout or the deadline (their own errors), or the
 * factory's or the `Request` body's error (as `ERR_ONCELY_INVALID_REQUEST`).
 */
async function makeBody(
  call: CallState,
  request: CallRequest,
  scope: AttemptScope,
): Promise<BodyInit | null> {
  let made: AttemptBody;
  try {
    made = await request.body.next(call.attempts, scope.signal);
  } catch (error) {
    if (scope.signal.aborted && error === scope.signal.reason) {
      throw new BodyUnavailable(error, isOncelyClientError(error) ? error.code : 'aborted');
    }
    throw new BodyUnavailable(
      call.error(ClientErrorCode.invalidRequest, `The request body could not be made: ${messageOf(error)}`, {
        cause: error,
      }),
      'request body failed',
    );
  }
  if (made.contentType !== undefined && !request.headers.has('content-type')) {
    request.headers.set('content-type', made.contentType);
  }
  return made.body;
}

function describeFetchError(error: unknown): Failure {
  if (error instanceof BodyUnavailable) {
    return { decision: { retry: false, reason: error.reason }, timeout: false, error: error.error };
  }
  return fetchFailure(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
