import pRetry, { AbortError } from 'p-retry';
import type { CallState } from './call-state.js';
import type { Failure } from './classify-failure.js';
import { ClientErrorCode } from './errors.js';
import { runAttempt } from './observability/telemetry.js';
import { type AttemptScope, adoptSignal, raceWithSignal } from './signals.js';

/** What the loop needs from the fetch wrapper or `retry()`. */
export interface AttemptSpec<T> {
  call: CallState;
  /**
   * The caller's signal: it stops the attempt, the sleep and (for fetch) the body read. Any
   * AbortSignal-like object: a foreign one (a polyfill, another realm) is adopted for the call.
   */
  signal: unknown;
  /** Whether the call may be retried at all (POST/PATCH need a key); otherwise the reason it may not. */
  retryable: true | string;
  /** Whether the request can be sent again byte for byte. */
  replayable: boolean;
  /** Runs one attempt under `scope.signal`. */
  attempt(scope: AttemptScope): Promise<T>;
  /** Judges a value the attempt produced: a retryable answer (e.g. a 503 response) is a failure. */
  judge(value: T, scope: AttemptScope): Failure | undefined | Promise<Failure | undefined>;
  /** Judges an error the attempt threw. */
  describe(error: unknown): Failure;
  /** Frees what a failed value holds before it is retried (e.g. cancels a response body), without waiting. */
  discard?(value: T): void;
}

/** How the loop ended when the last attempt failed. */
export interface LoopFailure<T> {
  failure: Failure;
  /** The value of the last attempt when it produced one (a final non-ok response). */
  value: T | undefined;
  hasValue: boolean;
  /** `retries exhausted (…)`, the reason it is not retryable, or why the method may not be retried. */
  reason: string;
  /** The scope of the last attempt: the caller disposes it (or hands it over with the value). */
  scope: AttemptScope;
}

export type LoopResult<T> = { ok: true; value: T; scope: AttemptScope } | ({ ok: false } & LoopFailure<T>);

const noop = (): void => undefined;
const always = (): boolean => true;

/** Internal: carries a failed attempt through p-retry, which only deals in Errors. */
class FailedAttempt<T> extends Error {
  verdict: boolean | undefined;
  constructor(
    readonly failure: Failure,
    readonly scope: AttemptScope,
    readonly hasValue: boolean,
    readonly value?: T,
  ) {
    super(failure.decision.reason);
    this.name = 'FailedAttempt';
  }
}

/**
 * The attempt loop, on p-retry: p-retry counts attempts and honours the signal; Oncely decides in
 * `shouldRetry` — classification, method rule, replayability, Retry-After, deadline, budget — and
 * sleeps there itself (abortably), so p-retry's own delay is zero.
 *
 * Resolves with the successful value, or with the last failure when the call ends because that
 * failure is final; rejects with `signal.reason` on abort, and with an `OncelyClientError` when the
 * deadline, the budget or an unreplayable body stops it.
 */
export async function runAttempts<T>(spec: AttemptSpec<T>): Promise<LoopResult<T>> {
  const { call } = spec;
  const { policy } = call.options;
  const caller = adoptSignal(spec.signal);
  const { signal } = caller;
  let success: { value: T; scope: AttemptScope } | undefined;
  /** The scope of the attempt that failed last, until it is disposed or handed back. */
  let failed: AttemptScope | undefined;
  try {
    await pRetry(
      async (attemptNumber) => {
        call.attempts = attemptNumber;
        if (call.remaining() <= 0) {
          throw new AbortError(
            call.error(ClientErrorCode.deadlineExceeded, `Deadline of ${policy.deadline} ms exceeded.`),
          );
        }
        const scope = call.openScope(signal);
        let value: T;
        try {
          value = await (call.observer === undefined
            ? spec.attempt(scope)
            : runAttempt(call.observer, () => spec.attempt(scope)));
        } catch (error) {
          scope.dispose();
          throw new FailedAttempt<T>(spec.describe(error), scope, false);
        }
        let failure: Failure | undefined;
        try {
          // Still under the attempt timer: judging may read a (small) problem body.
          const judged = spec.judge(value, scope);
          failure = judged instanceof Promise ? await judged : judged;
        } catch (error) {
          scope.dispose();
          throw new FailedAttempt<T>(spec.describe(error), scope, false);
        }
        scope.settle();
        if (failure !== undefined) {
          failed = scope;
          throw new FailedAttempt(failure, scope, true, value);
        }
        success = { value, scope };
      },
      {
        // Every option p-retry defaults is given (with p-retry's own default where Oncely has no other):
        // it fills missing ones with `??=` on a spread copy, which costs more than the rest of the call.
        retries: policy.retries,
        factor: 1,
        minTimeout: 0,
        maxTimeout: 0,
        maxRetryTime: Number.POSITIVE_INFINITY,
        randomize: false,
        onFailedAttempt: noop,
        shouldConsumeRetry: always,
        signal,
        shouldRetry: async ({ error }) => {
          if (!(error instanceof FailedAttempt)) return false;
          const attempt = error as FailedAttempt<T>;
          if (signal?.aborted || !verdict(call, attempt)) return false;
          if (spec.retryable !== true) return false;
          const { failure } = attempt;
          if (!spec.replayable) {
            throw call.error(
              ClientErrorCode.bodyNotReplayable,
              `Cannot retry ${failure.decision.reason}: the request body is a stream that was already sent; pass a body factory to allow retries.`,
              { cause: failure.error ?? failure.decision.reason, response: failure.response },
            );
          }
          const delay = call.planRetry(failure);
          call.announceRetry(failure, delay);
          if (attempt.hasValue) spec.discard?.(attempt.value as T);
          attempt.scope.dispose();
          failed = undefined;
          // Raced: a custom `sleep` that ignores the signal must not hold an aborted call.
          await raceWithSignal(call.options.sleep(delay, signal), signal);
          call.slept(delay, failure.decision.reason);
          return true;
        },
      },
    );
  } catch (error) {
    if (!(error instanceof FailedAttempt)) failed?.dispose();
    if (signal?.aborted) {
      if (error instanceof FailedAttempt) (error as FailedAttempt<T>).scope.dispose();
      caller.release();
      call.giveUp('aborted', { error: signal.reason });
      throw signal.reason;
    }
    caller.release();
    if (!(error instanceof FailedAttempt)) {
      call.giveUp(reasonOf(error), { error });
      throw error;
    }
    const attempt = error as FailedAttempt<T>;
    const retryable = verdict(call, attempt);
    const reason = !retryable
      ? attempt.failure.decision.reason
      : spec.retryable !== true
        ? spec.retryable
        : `retries exhausted (${attempt.failure.decision.reason})`;
    return {
      ok: false,
      failure: attempt.failure,
      value: attempt.value,
      hasValue: attempt.hasValue,
      reason,
      scope: attempt.scope,
    };
  }
  caller.release();
  return { ok: true, ...success! };
}

/** Oncely's verdict on a failed attempt, overridden by the caller's `shouldRetry` when it has one. */
function verdict<T>(call: CallState, attempt: FailedAttempt<T>): boolean {
  if (attempt.verdict !== undefined) return attempt.verdict;
  const { failure } = attempt;
  const override = call.options.shouldRetry?.({
    attempt: call.attempts,
    decision: failure.decision,
    ...('error' in failure ? { error: failure.error } : {}),
    ...('response' in failure ? { response: failure.response } : {}),
    ...(failure.status === undefined ? {} : { status: failure.status }),
  });
  // Oncely's own deadline is final whatever a custom predicate says.
  const own = failure.decision.reason === ClientErrorCode.deadlineExceeded ? false : undefined;
  attempt.verdict = own ?? override ?? failure.decision.retry;
  return attempt.verdict;
}

function reasonOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}
