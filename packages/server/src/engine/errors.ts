import { OncelyError, describeValue } from '@oncely/core';

/** Stable codes of the errors thrown by @oncely/server. */
export const ServerErrorCode = {
  invalidScope: 'ERR_ONCELY_INVALID_SCOPE',
  storeUnavailable: 'ERR_ONCELY_STORE_UNAVAILABLE',
  storeTimeout: 'ERR_ONCELY_STORE_TIMEOUT',
  // Errors of idempotent functions (see `idempotent()`).
  inProgress: 'ERR_ONCELY_IN_PROGRESS',
  keyReused: 'ERR_ONCELY_KEY_REUSED',
  resultNotSerializable: 'ERR_ONCELY_RESULT_NOT_SERIALIZABLE',
  resultNotReplayable: 'ERR_ONCELY_RESULT_NOT_REPLAYABLE',
  argumentsNotSerializable: 'ERR_ONCELY_ARGUMENTS_NOT_SERIALIZABLE',
} as const;

/** The `scope` function returned something other than a non-empty string. */
export function invalidScopeError(value: unknown): OncelyError {
  return new OncelyError(
    ServerErrorCode.invalidScope,
    `The \`scope\` function must return a non-empty string, got ${describeValue(value)}.`,
  );
}

/** A store call did not answer within `storeTimeout`. */
export function storeTimeoutError(operation: string, timeoutMs: number): OncelyError {
  return new OncelyError(
    ServerErrorCode.storeTimeout,
    `The idempotency store did not answer \`${operation}\` within ${timeoutMs} ms.`,
  );
}
