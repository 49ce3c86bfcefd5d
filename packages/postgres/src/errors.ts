import { OncelyError } from '@oncely/core';

const POSTGRES_STORE_ERROR = Symbol.for('oncely.postgres-store-error');

/** Stable codes of the errors a {@link PostgresStore} throws. */
export const PostgresStoreErrorCode = {
  /** PostgreSQL refused the statement or the connection failed; see `cause`. */
  unavailable: 'ERR_ONCELY_STORE_UNAVAILABLE',
  /** The claim kept racing with concurrent writers; retrying the request is safe. */
  contended: 'ERR_ONCELY_STORE_CONTENDED',
  /** `currentTransaction()` was called outside a transactional handler. */
  noTransaction: 'ERR_ONCELY_NO_TRANSACTION',
} as const;
export type PostgresStoreErrorCode = (typeof PostgresStoreErrorCode)[keyof typeof PostgresStoreErrorCode];

/**
 * Thrown by {@link PostgresStore} when PostgreSQL is down or refuses a statement. The engine turns it
 * into a 503 problem (fail closed).
 */
export class PostgresStoreError extends OncelyError {
  /** Which store operation failed, e.g. `claim`, `complete`, `reap`, `migrate`. */
  readonly operation: string;

  constructor(code: PostgresStoreErrorCode, operation: string, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? {} : { cause });
    this.name = 'PostgresStoreError';
    this.operation = operation;
    Object.defineProperty(this, POSTGRES_STORE_ERROR, { value: true });
  }
}

/** Whether `value` is a {@link PostgresStoreError}; checks a marker, so it works across bundles. */
export function isPostgresStoreError(value: unknown): value is PostgresStoreError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[POSTGRES_STORE_ERROR] === true
  );
}

/** Wraps a driver error, naming the operation; leaves Oncely errors as they are. */
export function storeError(operation: string, error: unknown): PostgresStoreError {
  if (isPostgresStoreError(error)) return error;
  return new PostgresStoreError(
    PostgresStoreErrorCode.unavailable,
    operation,
    `PostgresStore ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
    error,
  );
}
