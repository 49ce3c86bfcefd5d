import type { ExecuteTransactionally, IdempotencyStore } from '@oncely/server';

// The capability's types live in @oncely/server (the engine uses them); re-exported for convenience.
export type { ExecuteTransactionally, TransactionDecision, TransactionOutcome } from '@oncely/server';

/**
 * A store with the transactional capability. The engine of `@oncely/server` finds
 * `executeTransactionally` on its store and calls it, after a successful claim, instead of running
 * the handler and then `complete`/`release`; it holds the whole response back until it settles.
 */
export interface TransactionalIdempotencyStore extends IdempotencyStore {
  executeTransactionally: ExecuteTransactionally;
}

/** Whether `store` offers transactional mode (duck-typed, so it works across bundles). */
export function isTransactionalStore(store: IdempotencyStore): store is TransactionalIdempotencyStore {
  return typeof store.executeTransactionally === 'function';
}
