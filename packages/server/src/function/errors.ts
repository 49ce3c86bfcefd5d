import { OncelyError } from '@oncely/core';
import type { ServerErrorCode } from '../engine/errors.js';

const MARKER = Symbol.for('oncely.idempotent-call-error');

/** Why an idempotent call did not return a result (see {@link ServerErrorCode}). */
export type IdempotentCallErrorCode =
  | typeof ServerErrorCode.inProgress
  | typeof ServerErrorCode.keyReused
  | typeof ServerErrorCode.storeUnavailable
  | typeof ServerErrorCode.resultNotSerializable
  | typeof ServerErrorCode.resultNotReplayable;

/**
 * An idempotent call that neither ran its function to a result nor replayed one. `code` says why:
 * - `ERR_ONCELY_IN_PROGRESS`: another call with the key is still running (or took over from this one,
 *   whose transaction was rolled back); call again after `retryAfterMs` to get its result;
 * - `ERR_ONCELY_KEY_REUSED`: the key was used with other arguments (another fingerprint);
 * - `ERR_ONCELY_STORE_UNAVAILABLE`: the store failed, the function did not run (or, in transactional
 *   mode, its writes were rolled back: it could not commit, or ran past `maxExecution`);
 * - `ERR_ONCELY_RESULT_NOT_SERIALIZABLE`: the function's result is not JSON (a BigInt, a cycle);
 * - `ERR_ONCELY_RESULT_NOT_REPLAYABLE`: the key's first call ran, but its result was not kept (too
 *   large, or not JSON); the function is not run again.
 */
export class IdempotentCallError extends OncelyError {
  declare readonly code: IdempotentCallErrorCode;
  /** The key of the call. */
  readonly idempotencyKey: string;
  /** `ERR_ONCELY_IN_PROGRESS`: the lease time the running call has left, in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: IdempotentCallErrorCode,
    message: string,
    context: { idempotencyKey: string; retryAfterMs?: number; cause?: unknown },
  ) {
    super(code, message, 'cause' in context ? { cause: context.cause } : {});
    this.name = 'IdempotentCallError';
    this.idempotencyKey = context.idempotencyKey;
    this.retryAfterMs = context.retryAfterMs;
    Object.defineProperty(this, MARKER, { value: true });
  }
}

/** Whether `value` is an {@link IdempotentCallError} (by a marker, so it holds across bundles). */
export function isIdempotentCallError(value: unknown): value is IdempotentCallError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
}
