import {
  IDEMPOTENCY_KEY_HEADER,
  formatIdempotencyKeyHeader,
  PROBLEM_CONTENT_TYPE,
  assertIdempotencyKey,
  generateIdempotencyKey,
  invalidOptionError,
  isRetryableMethod,
  parseIdempotencyKeyHeader,
  readProblemType,
  SAFE_METHODS,
} from '@oncely/core';
import { runAttempts } from './attempt-loop.js';
import { type BodyFactory, isStreamBody, prepareBody } from './body.js';
import { CallState } from './call-state.js';
import { assertFetchable } from './request-check.js';
import { type Failure, errorFailure, responseFailure } from './classify-failure.js';
import { ClientErrorCode, isOncelyClientError } from './errors.js';
import { type ClientOptions, normalizeClientOptions } from './options.js';
import { journalFetch } from './journal/journaled-fetch.js';
import type { JournalCallOptions, JournalClientOptions } from './journal/types.js';

/** Options of {@link createFetch}: the shared client options plus fetch-only ones. */
export interface FetchOptions extends ClientOptions, JournalClientOptions {
  /** The fetch that sends each attempt. @default globalThis.fetch (looked up at call time) */
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

/** `RequestInit` plus Oncely's per-call options. Real fetch ignores the extra fields. */
export interface OncelyRequestInit extends Omit<RequestInit, 'body'>, JournalCallOptions {
  /** A body, or a function that makes it afresh for each attempt (needed to retry a stream). */
  body?: BodyInit | BodyFactory | null | undefined;
  /**
   * The key of this call, e.g. one you persisted to resume after a crash; `false` to send none (then a
   * POST or PATCH is not retried). A key in the `Idempotency-Key` header is used as well.
   * @default a new key for methods other than GET, HEAD, OPTIONS and TRACE
   */
  idempotencyKey?: string | false | undefined;
  /** Overrides the client's `throwOnHttpError` for this call. */
  throwOnHttpError?: boolean | undefined;
}

/** A fetch-compatible function that retries safely. */
export type OncelyFetch = (input: RequestInfo | URL, init?: OncelyRequestInit) => Promise<Response>;

/**
 * Creates a fetch-compatible function that gives each call one idempotency key, sends it on every
 * attempt and retries with backoff under one policy.
 *
 * Resolves with the final `Response`, as fetch does, when the server's answer is final or the retries
 * are used up (read `getRetryInfo(response)` for the key, attempts and delays). Rejects with
 * `signal.reason` on abort, and with an {@link OncelyClientError} when every attempt failed without an
 * answer or Oncely stopped the call (deadline, budget, unreplayable body).
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
    const baseFetch = customFetch ?? globalThis.fetch;
    const {
      idempotencyKey: keyOption,
      throwOnHttpError: throwOption,
      body,
      headers: initHeaders,
      signal: initSignal,
      ...rest
    } = init;
    const request = typeof Request !== 'undefined' && input instanceof Request ? input : undefined;
    const url = request === undefined ? input : request.url;
    const method = rest.method ?? request?.method ?? 'GET';
    // Fail on a bad URL or method now: afterwards, a TypeError from fetch means a network error.
    if (request === undefined) assertFetchable(url, method);
    const headers = new Headers(initHeaders ?? request?.headers);
    const signal = initSignal ?? request?.signal ?? undefined;

    const idempotencyKey = resolveKey(keyOption, headers, method, resolved.keyGenerator);

    const preparing = prepareBody(
      body !== undefined ? body : request?.body ? await request.arrayBuffer() : null,
    );
    const prepared = preparing instanceof Promise ? await preparing : preparing;
    if (prepared.contentType !== undefined && !headers.has('content-type'))
      headers.set('content-type', prepared.contentType);
    const base = request === undefined ? undefined : requestFields(request);

    const call = new CallState(resolved, idempotencyKey);
    const upper = method.toUpperCase();
    const result = await runAttempts<Response>({
      call,
      signal,
      retryable: isRetryableMethod(upper, idempotencyKey !== undefined)
        ? true
        : `${upper} without an idempotency key is not retried`,
      replayable: prepared.replayable,
      async attempt(scope) {
        const attemptBody = prepared.fixed !== undefined ? prepared.fixed : await prepared.next();
        const attemptInit: RequestInit & { duplex?: 'half' } = {
          ...base,
          ...rest,
          method,
          headers,
          body: attemptBody,
          signal: scope.signal,
        };
        if (isStreamBody(attemptBody)) attemptInit.duplex = 'half';
        const response = await baseFetch(url, attemptInit);
        return bufferResponse ? await buffer(response) : response;
      },
      judge: judgeResponse,
      describe: describeFetchError,
      discard: discardResponse,
    });

    if (result.ok) {
      call.succeed(result.value);
      return result.value;
    }
    const { failure, reason } = result;
    if (result.hasValue) {
      const response = result.value!;
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
    const error = isOncelyClientError(failure.error)
      ? failure.error
      : call.error(ClientErrorCode.requestFailed, `Request failed: ${reason}.`, { cause: failure.error });
    call.giveUp(reason, { error });
    throw error;
  };
}

/**
 * The caller's key (option, then header), else a new one for unsafe methods; `false`: none. The
 * `Idempotency-Key` header is set to the key when it does not carry it already.
 */
function resolveKey(
  option: string | false | undefined,
  headers: Headers,
  method: string,
  generator: Parameters<typeof generateIdempotencyKey>[0],
): string | undefined {
  if (option === false) return undefined;
  if (option !== undefined) {
    const key = assertIdempotencyKey(option, 'idempotencyKey');
    headers.set(IDEMPOTENCY_KEY_HEADER, formatIdempotencyKeyHeader(key));
    return key;
  }
  const header = headers.get(IDEMPOTENCY_KEY_HEADER);
  if (header !== null) {
    const parsed = parseIdempotencyKeyHeader(header);
    return parsed.ok ? parsed.key : assertIdempotencyKey(header, 'the Idempotency-Key header');
  }
  if (SAFE_METHODS.has(method.toUpperCase())) return undefined;
  const key = generateIdempotencyKey(generator);
  headers.set(IDEMPOTENCY_KEY_HEADER, formatIdempotencyKeyHeader(key));
  return key;
}

/**
 * A response with status ≥ 400 is a failure; whether it is retried is core's `classifyResponse`. A
 * problem document's `type` is read (from a clone, so the caller can still read the body) only where
 * it matters: 409 "in progress", 422 "key reused" and 500 "response not replayable".
 */
function judgeResponse(response: Response): Failure | undefined | Promise<Failure | undefined> {
  return response.status < 400 ? undefined : judgeFailedResponse(response);
}

async function judgeFailedResponse(response: Response): Promise<Failure | undefined> {
  let problemType: string | undefined;
  const contentType = response.headers.get('content-type') ?? '';
  if (
    (response.status === 409 || response.status === 422 || response.status === 500) &&
    contentType.toLowerCase().startsWith(PROBLEM_CONTENT_TYPE)
  ) {
    problemType = readProblemType(await response.clone().text());
  }
  return responseFailure({ status: response.status, headers: response.headers, problemType }, { response });
}

function describeFetchError(error: unknown): Failure {
  return errorFailure(error, { fromFetch: true });
}

/** Frees a response that is retried. */
async function discardResponse(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** Reads the whole body now; a reset mid-body rejects here, inside the attempt, and is retried. */
async function buffer(response: Response): Promise<Response> {
  const bytes = await response.arrayBuffer();
  const copy = new Response(response.status === 204 || response.status === 304 ? null : bytes, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(copy, 'url', { value: response.url });
  Object.defineProperty(copy, 'redirected', { value: response.redirected });
  return copy;
}

/** The fields of a `Request` input that fetch(url, init) would otherwise lose. */
function requestFields(request: Request): RequestInit {
  return {
    cache: request.cache,
    credentials: request.credentials,
    integrity: request.integrity,
    keepalive: request.keepalive,
    mode: request.mode === 'navigate' ? 'same-origin' : request.mode,
    redirect: request.redirect,
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy,
  };
}
