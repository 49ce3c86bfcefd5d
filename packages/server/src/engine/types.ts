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
  /** Reads the body bytes. Called at most once, and only when the request carries a valid key. */
  readBody: () => Promise<Uint8Array>;
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
}

/** What the adapter does with a request. */
export type Decision =
  /** Run the handler without protection (safe method, no key, or fail-open). */
  | { action: 'pass' }
  /** Answer this instead of running the handler (replay or problem). */
  | { action: 'respond'; response: PreparedResponse; replayed: boolean }
  /** Run the handler once and report through `execution`. */
  | { action: 'execute'; execution: Execution };
