import {
  SAFE_METHODS,
  assertIdempotencyKey,
  formatIdempotencyKeyHeader,
  generateIdempotencyKey,
  parseIdempotencyKeyHeader,
} from '@oncely/core';
import { type BodyFactory, type PreparedBody, prepareBody } from './body.js';
import type { ResolvedClientOptions } from './options.js';
import { assertFetchable } from './request-check.js';

/** `RequestInit` with a body that may be a factory, as `createFetch` takes it (its own fields removed). */
export type CallInit = Omit<RequestInit, 'body'> & { body?: BodyInit | BodyFactory | null | undefined };

/** One call's request, read once from fetch's `(input, init)` and checked as fetch would check it. */
export interface CallRequest {
  readonly url: string | URL;
  /** As the caller spelt it: fetch upper-cases only the standard methods. */
  readonly method: string;
  readonly headers: Headers;
  /** The caller's signal, not yet adopted (see `adoptSignal`). */
  readonly signal: unknown;
  readonly body: PreparedBody;
  /**
   * Every other field fetch takes: a `Request` input's own (cache, credentials, …), then `init`'s;
   * `undefined` when there are none (most calls: no object to copy on every attempt).
   */
  readonly init: RequestInit | undefined;
  /** How redirects are to be handled. */
  readonly redirect: RequestRedirect;
}

const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * Reads `(input, init)` and throws the `TypeError` fetch would for a request it refuses — a bad URL
 * or method, a GET/HEAD with a body, an invalid `credentials`, `redirect`, `mode` or other field —
 * before any attempt: afterwards, a code-less `TypeError` from fetch means a network error.
 */
export function readRequest(input: RequestInfo | URL, init: CallInit): CallRequest {
  const { body, headers: initHeaders, signal: initSignal, ...rest } = init;
  const request = typeof Request !== 'undefined' && input instanceof Request ? input : undefined;
  const url = request === undefined ? (input as string | URL) : request.url;
  const method = rest.method ?? request?.method ?? 'GET';
  if (request === undefined) assertFetchable(url, method);
  const hasBody = body !== undefined ? body !== null : request?.body != null;
  if (hasBody && BODYLESS_METHODS.has(method.toUpperCase())) {
    throw new TypeError('Request with GET/HEAD method cannot have body.');
  }
  // Fields other than the method are rare: only then is a Request built to check them.
  let fields = false;
  for (const field in rest) {
    if (field !== 'method' && (rest as Record<string, unknown>)[field] !== undefined) {
      new Request(url, { ...rest, method });
      fields = true;
      break;
    }
  }
  const base = request === undefined ? undefined : requestFields(request);
  const headers = new Headers(initHeaders ?? request?.headers);
  const prepared = prepareBody(body, body === undefined ? request?.body : undefined);
  if (prepared.contentType !== undefined && !headers.has('content-type'))
    headers.set('content-type', prepared.contentType);
  return {
    url,
    method,
    headers,
    signal: initSignal ?? request?.signal ?? undefined,
    body: prepared,
    init: base === undefined ? (fields ? rest : undefined) : { ...base, ...rest },
    redirect: rest.redirect ?? request?.redirect ?? 'follow',
  };
}

/**
 * The caller's key (option, then the key header), else a new one for unsafe methods; `false`: none,
 * and no key header either. The key header is set to the key when it does not carry it already.
 */
export function resolveKey(
  option: string | false | undefined,
  headers: Headers,
  method: string,
  { keyGenerator, keyHeader }: Pick<ResolvedClientOptions, 'keyGenerator' | 'keyHeader'>,
): string | undefined {
  if (option === false) {
    headers.delete(keyHeader);
    return undefined;
  }
  if (option !== undefined) {
    const key = assertIdempotencyKey(option, 'idempotencyKey');
    headers.set(keyHeader, formatIdempotencyKeyHeader(key));
    return key;
  }
  const header = headers.get(keyHeader);
  if (header !== null) {
    const parsed = parseIdempotencyKeyHeader(header);
    return parsed.ok ? parsed.key : assertIdempotencyKey(header, `the ${keyHeader} header`);
  }
  if (SAFE_METHODS.has(method.toUpperCase())) return undefined;
  const key = generateIdempotencyKey(keyGenerator);
  headers.set(keyHeader, formatIdempotencyKeyHeader(key));
  return key;
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
