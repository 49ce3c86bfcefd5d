import type { HeaderSource } from '@oncely/core';

/** What the engine needs to know about a request, whatever the framework. */
export interface EngineRequest {
  /** HTTP method, any case. */
  method: string;
  /** Path without the query string, as the framework routes it. */
  path: string;
  /** Raw query string without the leading `?` (may be empty). */
  query: string;
  /**
   * Values of the `Idempotency-Key` header. Adapters that can see header lines one by one pass an
   * array (so a repeated header is caught); others pass the combined value.
   */
  keyHeader: string | readonly string[] | undefined;
  /** All request headers, for a custom fingerprint. */
  headers: HeaderSource;
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

/** Why a first response's body was not kept for replay. */
export type NotReplayableReason = 'oversize' | 'stream';

/** The first response, as the adapter captured it from the handler. */
export interface CapturedResponse {
  status: number;
  /** Response headers as the handler set them (any case); the engine keeps the allowed ones. */
  headers: Iterable<readonly [string, string | number | readonly string[]]>;
  /** Exact body bytes, or `null` when they were not captured (see `notReplayable`). */
  body: Uint8Array | null;
  /** Set when `body` is `null`. */
  notReplayable?: NotReplayableReason;
}

/** A claimed request: the adapter runs the handler once, then reports how it went. */
export interface Execution {
  /** Largest body the adapter should buffer; past it, report `notReplayable: 'oversize'`. */
  readonly maxResponseBytes: number;
  /** Stores (or, by status, releases) the outcome. Never throws; store trouble goes to the hooks. */
  complete(response: CapturedResponse): Promise<void>;
  /** The handler threw: release the key so a retry runs again. Never throws. */
  fail(error: unknown): Promise<void>;
  /**
   * Stops extending the lease (the handler is presumed hung or gone); a later `complete` still counts
   * unless another request took the key over in the meantime. Never throws.
   */
  abandon(): void;
  /**
   * Present when the store is transactional (it has `executeTransactionally`); the adapter then calls
   * this instead of `complete`/`fail`. `handler` runs the framework's handler (so it runs inside the
   * store's transaction context), holds the whole response back (status, headers and body) and
   * resolves to it once the handler ended it, or started an event stream. Resolves to what to send;
   * rejects with the handler's own error, after its writes were rolled back and the key released.
   */
  transact?(handler: () => Promise<CapturedResponse>): Promise<TransactionResult>;
}

/** An execution on a transactional store. */
export type TransactionalExecution = Execution & Required<Pick<Execution, 'transact'>>;

/** Whether the adapter must drive `execution` through `transact` (transactional store). */
export function isTransactional(execution: Execution): execution is TransactionalExecution {
  return typeof execution.transact === 'function';
}

/** What an adapter sends once a transactional execution settled. */
export type TransactionResult =
  /** Send the held response: committed with the record, or rolled back with the key released. */
  | { action: 'send' }
  /**
   * Drop the held response and send this problem instead: 409 when another request took the key over
   * (the writes were rolled back), 503 when the store could not begin or commit the transaction.
   */
  | { action: 'respond'; response: PreparedResponse };

/** What the adapter does with a request. */
export type Decision =
  /** Run the handler without protection (safe method, no key, or fail-open). */
  | { action: 'pass' }
  /** Answer this instead of running the handler (replay or problem). */
  | { action: 'respond'; response: PreparedResponse; replayed: boolean }
  /** Run the handler once and report through `execution`. */
  | { action: 'execute'; execution: Execution };
