import type { IdempotencyStore, StoredResponse } from '@oncely/server';

/** What the engine decided once the handler finished inside the transaction. */
export type TransactionDecision =
  /** Commit the handler's writes together with the completed record holding `response`. */
  | { action: 'complete'; response: StoredResponse }
  /** Roll the handler's writes back and release the claim, so a retry runs again (5xx, 408, 409, …). */
  | { action: 'release' };

/**
 * How {@link TransactionalIdempotencyStore.executeTransactionally} ended.
 * - `completed`: the handler's writes and the completed record were committed together; send the response.
 * - `released`: the handler's writes were rolled back and the claim released; send the response as usual.
 * - `superseded`: the fencing token is no longer current (the lease expired and another request took
 *   over); the handler's writes were rolled back. The response must not be sent: it describes writes
 *   that did not happen. Answer 409 so the client retries and gets the other request's result.
 */
export type TransactionOutcome = 'completed' | 'released' | 'superseded';

/**
 * Runs `run` (the handler) in one database transaction and, in that same transaction, applies its
 * decision to the record `key` guarded by `fencingToken`. If `run` throws, everything is rolled back,
 * the claim is released and the error is rethrown. If the commit fails the error is thrown and the
 * outcome is unknown: the record then either is completed (a retry replays) or stays in progress until
 * its lease expires (a retry takes over and runs cleanly), never half of each.
 */
export type ExecuteTransactionally = (
  key: string,
  fencingToken: number,
  run: () => Promise<TransactionDecision>,
) => Promise<TransactionOutcome>;

/**
 * The optional store capability behind transactional mode. An engine that finds `executeTransactionally`
 * on its store calls it, after a successful claim, instead of running the handler and then calling
 * `complete`/`release`; and it holds the response back until the returned promise settles.
 */
export interface TransactionalIdempotencyStore extends IdempotencyStore {
  executeTransactionally: ExecuteTransactionally;
}

/** Whether `store` offers transactional mode (duck-typed, so it works across bundles). */
export function isTransactionalStore(store: IdempotencyStore): store is TransactionalIdempotencyStore {
  return typeof (store as Partial<TransactionalIdempotencyStore>).executeTransactionally === 'function';
}
