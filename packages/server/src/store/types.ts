/**
 * The persistence contract every idempotency store implements (memory, Redis, PostgreSQL, yours).
 *
 * A record moves `in_progress → completed`, or is deleted (released) so a retry may run again. Each
 * claim of a key hands out a fencing token that increases with every claim or takeover of that key;
 * `complete`, `release` and `extend` act only while the caller's token is the current one, so a
 * handler whose lease expired (crash, hang) cannot overwrite the work of the one that took over.
 *
 * Atomicity required (see the contract suite in `@oncely/server/testing`):
 * - `claim` is one atomic step: of N concurrent claims of a fresh key exactly one gets `claimed`.
 * - `complete`, `release` and `extend` compare the fencing token and write in one atomic step.
 * Time (lease and TTL expiry) is the store's own clock, so servers with skewed clocks agree.
 */

/** Lifecycle states of a record, as in AWS Powertools' idempotency records. */
export const RecordStatus = {
  inProgress: 'in_progress',
  completed: 'completed',
} as const;
export type RecordStatus = (typeof RecordStatus)[keyof typeof RecordStatus];

/** The response kept for replay. */
export interface StoredResponse {
  /** HTTP status of the first response. */
  status: number;
  /** Allowed response headers, lower-case names, in order; never Set-Cookie, auth or hop-by-hop. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Body bytes, byte-identical to the first response; `null` when the body was not replayable. */
  body: Uint8Array | null;
}

/** What a store keeps per (scope, key). */
export interface IdempotencyRecord {
  status: RecordStatus;
  /** Fingerprint of the request that claimed the key (SHA-256 hex, or the user's own). */
  fingerprint: string;
  /** Current fencing token; increases with every claim or takeover of the key. */
  fencingToken: number;
  /** Epoch ms at which an `in_progress` lease expires and another request may take over. */
  leaseExpiresAt: number;
  /** Epoch ms at which the record is forgotten (the key's TTL). */
  expiresAt: number;
  /** The stored response, once `completed`. */
  response?: StoredResponse;
}

/** Arguments of {@link IdempotencyStore.claim}. */
export interface ClaimRequest {
  /**
   * Store key: `<scope hash>:<key hash>` from `computeStoreKey(scope, key)`, never raw user input. A
   * store may read the scope hash (before the `:`) to share its room between scopes.
   */
  key: string;
  /** Request fingerprint to store with a new claim, and to compare with an existing record. */
  fingerprint: string;
  /** Lease length in ms: how long the claimer may run before another request may take over. */
  leaseMs: number;
  /** Record lifetime in ms from the claim. */
  ttlMs: number;
}

/** Outcome of {@link IdempotencyStore.claim}. */
export type ClaimResult =
  /** The caller owns the key: run the handler. `takeover` when an expired lease was taken over. */
  | { outcome: 'claimed'; fencingToken: number; takeover: boolean }
  /** A live claim with the same fingerprint exists; `retryAfterMs` is the lease time left. */
  | { outcome: 'in_progress'; retryAfterMs: number }
  /** A completed record with the same fingerprint exists: replay it. */
  | { outcome: 'completed'; record: IdempotencyRecord & { status: 'completed'; response: StoredResponse } }
  /** A record exists (in progress or completed) with a different fingerprint: nothing was changed. */
  | { outcome: 'mismatch' };

/** What the engine decided once the handler finished inside a store transaction. */
export type TransactionDecision =
  /** Commit the handler's writes together with the completed record holding `response`. */
  | { action: 'complete'; response: StoredResponse }
  /** Roll the handler's writes back and release the claim, so a retry runs again (5xx, 408, 409, …). */
  | { action: 'release' };

/**
 * How {@link IdempotencyStore.executeTransactionally} ended.
 * - `completed`: the handler's writes and the completed record were committed together.
 * - `released`: the handler's writes were rolled back and the claim released.
 * - `superseded`: the fencing token is no longer current (the lease expired and another request took
 *   over); the handler's writes were rolled back. Its response must not be sent: it describes writes
 *   that did not happen.
 */
export type TransactionOutcome = 'completed' | 'released' | 'superseded';

/**
 * Runs `run` (the handler) in one transaction and, in that same transaction, applies its decision to
 * the record `key` guarded by `fencingToken`. `run` must be called inside the transaction's async
 * context, so the handler can reach it (e.g. through `AsyncLocalStorage`). If `run` throws, everything
 * is rolled back, the claim is released and that same error is rethrown. Any other rejection is a store
 * failure; when it happens at commit the outcome is unknown, but never half of it: the record then
 * either is completed together with the writes, or is not.
 */
export type ExecuteTransactionally = (
  key: string,
  fencingToken: number,
  run: () => Promise<TransactionDecision>,
) => Promise<TransactionOutcome>;

/** The persistence contract. Small on purpose: six methods, three of them guarded by the token. */
export interface IdempotencyStore {
  /**
   * Atomically: when no live record exists (none, expired by TTL, or `in_progress` with an expired
   * lease and the same fingerprint), write an `in_progress` record with a new fencing token and return
   * `claimed`; otherwise report what exists. A completed record is returned whole, so a replay costs one
   * round trip.
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Marks the record `completed` with `response`, if `fencingToken` is still current. Returns `false`
   * (and writes nothing) when the token was superseded or the record is gone.
   */
  complete(key: string, fencingToken: number, response: StoredResponse): Promise<boolean>;
  /** Deletes the record if `fencingToken` is current, so a retry runs again. Returns whether it did. */
  release(key: string, fencingToken: number): Promise<boolean>;
  /**
   * If the record is `in_progress` and `fencingToken` is current: sets `leaseExpiresAt` to now +
   * `leaseMs` (store clock) and returns true. It does not push the record's TTL expiry, except that
   * `expiresAt` is raised to the new `leaseExpiresAt` when it would otherwise be earlier: a record never
   * expires before its lease. Returns false, changing nothing, otherwise (superseded, completed, gone).
   */
  extend(key: string, fencingToken: number, leaseMs: number): Promise<boolean>;
  /** Reads a record without changing it (for `wait` polling, tooling and tests); an expired one reads as `undefined`. */
  get(key: string): Promise<IdempotencyRecord | undefined>;
  /**
   * An operator's action (the `oncely purge` CLI, tests): removes the record whatever its state or
   * token, so the key is new again. Returns whether a live record existed. A handler still running on
   * a deleted key is fenced out: its `complete`, `release` and `extend` find no record and return false.
   */
  delete(key: string): Promise<boolean>;
  /**
   * Optional capability (transactional mode, e.g. `PostgresStore({ transactional: true })`). When a
   * store has it, the engine calls it after a successful claim instead of running the handler and then
   * `complete`/`release`, and holds the whole response back until it settles.
   */
  executeTransactionally?: ExecuteTransactionally;
}
