import { OncelyError } from '@oncely/core';

const SQLITE_STORE_ERROR = Symbol.for('oncely.sqlite-store-error');

/** Stable codes of the errors a {@link SqliteStore} throws. */
export const SqliteStoreErrorCode = {
  /** SQLite refused the statement (I/O error, disk full, closed store, …); see `cause`. */
  unavailable: 'ERR_ONCELY_STORE_UNAVAILABLE',
  /** Another connection held the database's write lock for longer than `busyTimeout`. */
  busy: 'ERR_ONCELY_STORE_BUSY',
  /** The claim was taken over before its transaction could start; the handler did not run. */
  contended: 'ERR_ONCELY_STORE_CONTENDED',
  /** `currentTransaction()` was called outside a transactional handler, or after its transaction ended. */
  noTransaction: 'ERR_ONCELY_NO_TRANSACTION',
} as const;
export type SqliteStoreErrorCode = (typeof SqliteStoreErrorCode)[keyof typeof SqliteStoreErrorCode];

/**
 * Thrown by {@link SqliteStore} when SQLite fails or stays locked. The engine turns it into a 503
 * problem (fail closed).
 */
export class SqliteStoreError extends OncelyError {
  /** Which store operation failed, e.g. `claim`, `complete`, `transaction`. */
  readonly operation: string;

  constructor(code: SqliteStoreErrorCode, operation: string, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? {} : { cause });
    this.name = 'SqliteStoreError';
    this.operation = operation;
    Object.defineProperty(this, SQLITE_STORE_ERROR, { value: true });
  }
}

/** Whether `value` is a {@link SqliteStoreError}; checks a marker, so it works across bundles. */
export function isSqliteStoreError(value: unknown): value is SqliteStoreError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[SQLITE_STORE_ERROR] === true
  );
}

/** Whether a better-sqlite3 error means "another connection holds the lock": worth waiting for. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Wraps a driver error, naming the operation; leaves Oncely errors as they are. */
export function storeError(operation: string, error: unknown): SqliteStoreError {
  if (isSqliteStoreError(error)) return error;
  return new SqliteStoreError(
    SqliteStoreErrorCode.unavailable,
    operation,
    `SqliteStore ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
    error,
  );
}

/** `currentTransaction()` with no transaction to give: outside a handler, or after it `ended`. */
export function noTransactionError(ended: boolean): SqliteStoreError {
  return new SqliteStoreError(
    SqliteStoreErrorCode.noTransaction,
    'currentTransaction',
    ended
      ? "SqliteStore.currentTransaction() was called after the handler's transaction ended (it was " +
          'committed, or rolled back when its lease ran out): make the business writes before that.'
      : 'SqliteStore.currentTransaction() was called outside a transactional handler: create the store ' +
          'with `transactional: true` and call it from inside the handler.',
  );
}
