import type { HeaderSource } from '@oncely/core';

/** What the engine reads of a request before its body: enough to decide without waiting. */
export interface RequestHead {
  /** HTTP method, any case. */
  method: string;
  /** Path without the query string, as the framework routes it (see {@link splitTarget}). */
  path: string;
  /** Raw query string without the leading `?` (may be empty). */
  query: string;
  /**
   * The `Idempotency-Key` header: the value as the runtime joined its lines (Node and the Web
   * `Headers` join repeated lines with `", "`), or the lines one by one.
   */
  keyHeader: string | readonly string[] | undefined;
  /** All request headers, for a custom fingerprint. */
  headers: HeaderSource;
}

/** A request whose body the engine reads itself (see {@link IdempotencyEngine.begin}). */
export interface EngineRequest extends RequestHead {
  /**
   * Reads the body bytes, at most `maxBytes` of them. Called at most once, and only when the request
   * carries a valid key. A body over `maxBytes` is answered {@link BODY_TOO_LARGE} without holding
   * more than `maxBytes`: refuse a declared `Content-Length` above it before reading, and stop reading
   * as soon as the running total crosses it. (The engine also refuses longer bytes it is given.)
   */
  readBody: (maxBytes: number) => Promise<Uint8Array | BodyTooLarge>;
}

/** What `readBody` answers for a body over its limit. */
export interface BodyTooLarge {
  readonly tooLarge: true;
}

/** The one {@link BodyTooLarge} value. */
export const BODY_TOO_LARGE: BodyTooLarge = Object.freeze({ tooLarge: true });

/** Whether `readBody` answered that the body is over its limit (checked by shape, not identity). */
export function isBodyTooLarge(body: Uint8Array | BodyTooLarge): body is BodyTooLarge {
  return (body as Partial<BodyTooLarge>).tooLarge === true;
}

/** A complete response the adapter sends as is: a replay or a problem. */
export interface PreparedResponse {
  status: number;
  /** Lower-case names; `content-length` is left to the framework. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array;
}

/**
 * Why a first response's body was not kept for replay: larger than `maxResponseBytes`, an event
 * stream, cut short (the connection closed before its end, or another party answered while the
 * handler ran, e.g. a timeout middleware), or declined by `shouldStore` (`'store-without-body'`).
 */
export type NotReplayableReason = 'oversize' | 'stream' | 'incomplete' | 'declined';

/** Response headers as a framework hands them over; the engine keeps the allowed ones. */
export type ResponseHeaders = Iterable<readonly [string, string | number | readonly string[]]>;

/** The first response, as recorded. */
export interface CapturedResponse {
  status: number;
  /** Response headers as the handler set them (any case); the engine keeps the allowed ones. */
  headers: ResponseHeaders;
  /** Exact body bytes, or `null` when they were not kept (see `notReplayable`). */
  body: Uint8Array | null;
  /** Set when `body` is `null`. */
  notReplayable?: NotReplayableReason;
}

/** Step one of a request: what the engine decided from its method and key header alone. */
export type Inspection =
  /** Run the handler without protection (safe or unconfigured method, no key). */
  | { action: 'pass' }
  /** Answer this problem (key missing or invalid); nothing was read or stored. */
  | { action: 'respond'; response: PreparedResponse; replayed: false }
  /** Read at most `maxBytes` of the body, then call {@link IdempotencyEngine.claim}. */
  | KeyedRequest;

/** A request with a valid key, waiting for its body. Made by the engine; pass it back as is. */
export interface KeyedRequest {
  readonly action: 'read';
  /** Largest body to read; past it, hand `BODY_TOO_LARGE` to `claim` (the 413 answer). */
  readonly maxBytes: number;
  /** `undefined` when a function finds the key (the `key` option): it is read once the body is. */
  readonly idempotencyKey: string | undefined;
  /** Upper-case method. */
  readonly method: string;
  readonly head: RequestHead;
}

/**
 * What the adapter does once the claim settled. Without a transactional store it is always `send`;
 * with one, the held response is sent (`send`) or dropped for a problem (`respond`: 409 superseded,
 * 503 when the transaction could not commit or the execution ran past `maxExecution`).
 */
export type Settlement =
  | { action: 'send' }
  | { action: 'respond'; response: PreparedResponse }
  /** Transactional mode: the handler threw; drop the held response, `run` rejects with the error. */
  | { action: 'discard' };

/**
 * A claimed request: the engine owns it from the claim to the last byte. The adapter runs the
 * handler through {@link Execution.run} and reports the response as the framework writes it: its head,
 * its body bytes, and how it ended (`end`, or `close` for every other way). The engine applies the
 * rules (event stream, oversize, allowed headers, released statuses) and settles the claim once.
 */
export interface Execution {
  /** Largest body kept for replay. */
  readonly maxResponseBytes: number;
  /**
   * The store is transactional: hold back the whole response (status, headers, body) until
   * {@link Execution.settled}, then send it or the problem it names.
   */
  readonly transactional: boolean;
  /** Whether body bytes are still being kept: false once the response is an event stream or oversize. */
  readonly keepsBody: boolean;
  /**
   * Runs the handler once; in transactional mode inside the store's transaction, so its async context
   * reaches the handler. When `invoke` returns a promise the engine knows when the handler ends;
   * otherwise (Express's `next`) the handler counts as done when its response ends. Resolves or
   * rejects as `invoke` does (in transactional mode a rejection comes after the rollback).
   */
  run<T>(invoke: () => T): Promise<Awaited<T>>;
  /** The handler's own promise, where the framework calls the handler itself (Fastify routes). */
  track(handler: PromiseLike<unknown>): void;
  /** The status and headers are final: they are being sent. Only the first call counts. */
  head(status: number, headers: ResponseHeaders): void;
  /**
   * Body bytes as written, in order. Kept up to `maxResponseBytes`: copied, unless `owned` says the
   * chunk was made for this call and nobody else will change it.
   */
  write(chunk: Uint8Array, owned?: boolean): void;
  /** The response ended. Resolves once its outcome is stored (hold the last byte until then). */
  end(): Promise<Settlement>;
  /** The response ended without `end()`: connection closed, response destroyed, reply hijacked. */
  close(): void;
  /**
   * Another party answers while the handler may still run (a timeout middleware marked the request).
   * Where the handler's end cannot be seen, the key is then held until its lease runs out.
   */
  timedOut(): void;
  /** The handler will not run (the response was answered before it could): release the key. */
  cancel(): void;
  /** Resolves once the claim is settled, to what the adapter sends. Never rejects. */
  readonly settled: Promise<Settlement>;
}

/** What the adapter does with a request. */
export type Decision =
  /** Run the handler without protection (safe method, no key, or fail-open). */
  | { action: 'pass' }
  /** Answer this instead of running the handler (replay or problem). */
  | { action: 'respond'; response: PreparedResponse; replayed: boolean }
  /** Run the handler once through `execution`. */
  | { action: 'execute'; execution: Execution };

/** Splits a request target (`/pay?x=1`) into path and raw query. */
export function splitTarget(target: string): { path: string; query: string } {
  const queryStart = target.indexOf('?');
  return queryStart === -1
    ? { path: target, query: '' }
    : { path: target.slice(0, queryStart), query: target.slice(queryStart + 1) };
}
