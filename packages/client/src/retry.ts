import { assertIdempotencyKey, generateIdempotencyKey } from '@oncely/core';
import { runAttempts } from './attempt-loop.js';
import { CallState } from './call-state.js';
import { errorFailure } from './classify-failure.js';
import { isOncelyClientError } from './errors.js';
import { type ClientOptions, type ResolvedClientOptions, normalizeClientOptions } from './options.js';
import { raceWithSignal } from './signals.js';

/** What the operation receives on each attempt. */
export interface RetryContext {
  /** The key of this logical operation: the same on every attempt. Pass it to the API you call. */
  readonly idempotencyKey: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborts when the caller aborts, the attempt times out or the deadline comes. Pass it on. */
  readonly signal: AbortSignal;
}

/** An operation to retry; what it returns (or resolves to) is what `retry` resolves to. */
export type RetryOperation<T> = (context: RetryContext) => PromiseLike<T> | T;

/** Per-call options of `retry` and of the function `createRetry` returns. */
export interface RetryCallOptions {
  /** Stops the attempt, the backoff sleep and the call; the call rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** The key to use, e.g. one you persisted to resume after a crash. @default a new key */
  idempotencyKey?: string | undefined;
}

/** Options of `retry`: the client options plus the per-call ones. */
export interface RetryOptions extends ClientOptions, RetryCallOptions {}

/** A `retry` bound to one policy and one retry budget. */
export type BoundRetry = <T>(operation: RetryOperation<T>, options?: RetryCallOptions) => Promise<T>;

/**
 * Runs `operation` until it succeeds, with one idempotency key for all attempts. Thrown errors are
 * judged like responses when they carry an HTTP `status`/`statusCode` (stripe-node, OpenAI and
 * Anthropic SDK errors, axios errors) and by error code otherwise. When the call gives up, it rejects
 * with the operation's own last error (read `getRetryInfo(error)` for the key and attempts), or with an
 * `OncelyClientError` for an attempt timeout, the deadline or an empty budget.
 *
 * A standalone `retry` has no retry budget unless you pass a shared one; `createRetry` gives its calls one.
 */
export async function retry<T>(operation: RetryOperation<T>, options: RetryOptions = {}): Promise<T> {
  const { signal, idempotencyKey, ...clientOptions } = options ?? {};
  return runRetry(normalizeClientOptions(clientOptions, { defaultBudget: false }), operation, {
    signal,
    idempotencyKey,
  });
}

/** A `retry` function with options normalised once and a retry budget shared by its calls. */
export function createRetry(options: ClientOptions = {}): BoundRetry {
  const resolved = normalizeClientOptions(options);
  return function boundRetry<T>(
    operation: RetryOperation<T>,
    callOptions: RetryCallOptions = {},
  ): Promise<T> {
    return runRetry(resolved, operation, callOptions);
  };
}

async function runRetry<T>(
  options: ResolvedClientOptions,
  operation: RetryOperation<T>,
  { signal, idempotencyKey }: RetryCallOptions,
): Promise<T> {
  if (typeof operation !== 'function') throw new TypeError('retry: `operation` must be a function.');
  const key =
    idempotencyKey === undefined
      ? generateIdempotencyKey(options.keyGenerator)
      : assertIdempotencyKey(idempotencyKey);
  const call = new CallState(options, key);
  const result = await runAttempts<T>({
    call,
    signal,
    retryable: true,
    replayable: true,
    attempt: (scope) =>
      raceWithSignal(
        Promise.resolve().then(() =>
          operation({ idempotencyKey: key, attempt: call.attempts, signal: scope.signal }),
        ),
        scope.signal,
      ),
    judge: () => undefined,
    describe: (error) => errorFailure(error),
  });
  result.scope.dispose();
  if (result.ok) {
    call.succeed(result.value);
    return result.value;
  }
  const error = result.failure.error;
  call.giveUp(result.reason, { error });
  // An attempt timeout is Oncely's own error; the operation's errors are rethrown as they are.
  throw isOncelyClientError(error) ? error : (error as Error);
}
