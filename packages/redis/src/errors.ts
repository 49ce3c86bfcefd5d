import { OncelyError } from '@oncely/core';

const REDIS_STORE_ERROR = Symbol.for('oncely.redis-store-error');

/** Stable codes of the errors a {@link RedisStore} throws. */
export const RedisStoreErrorCode = {
  /** Redis did not answer within `commandTimeoutMs`; the command may still run later. */
  timeout: 'ERR_ONCELY_STORE_TIMEOUT',
  /** Redis refused the command or the connection failed; see `cause`. */
  unavailable: 'ERR_ONCELY_STORE_UNAVAILABLE',
  /** Redis returned a record this version cannot read (another writer, or a newer layout). */
  corrupt: 'ERR_ONCELY_STORE_CORRUPT',
} as const;
export type RedisStoreErrorCode = (typeof RedisStoreErrorCode)[keyof typeof RedisStoreErrorCode];

/**
 * Thrown by every {@link RedisStore} method when Redis is down, slow or answers nonsense. The engine
 * turns it into a 503 problem (fail closed).
 */
export class RedisStoreError extends OncelyError {
  /** Which store operation failed: `claim`, `complete`, `release`, `extend`, `get` or `delete`. */
  readonly operation: string;

  constructor(code: RedisStoreErrorCode, operation: string, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? {} : { cause });
    this.name = 'RedisStoreError';
    this.operation = operation;
    Object.defineProperty(this, REDIS_STORE_ERROR, { value: true });
  }
}

/** Whether `value` is a {@link RedisStoreError}; checks a marker, so it works across bundles. */
export function isRedisStoreError(value: unknown): value is RedisStoreError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[REDIS_STORE_ERROR] === true
  );
}
