import { OncelyError } from '@oncely/core';

/** Stable codes of the errors the stores of @oncely/server throw. */
export const StoreErrorCode = {
  /** MemoryStore had no room for a new record (see `MemoryStoreOptions.onFull`); the engine answers 503. */
  full: 'ERR_ONCELY_STORE_FULL',
} as const;

/** The claim of `key` was refused for lack of room: the request must not run, a retry later may. */
export function storeFullError(key: string, reason: 'full' | 'scope-share'): OncelyError {
  return new OncelyError(
    StoreErrorCode.full,
    reason === 'full'
      ? `MemoryStore is full of records in progress (or of scopes over their share): no room for ${key}.`
      : `MemoryStore: the scope of ${key} already holds its share of the store in records in progress.`,
  );
}
