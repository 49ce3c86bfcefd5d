import { type BackoffState, INITIAL_BACKOFF_STATE, computeDelay, parseRetryAfter } from '@oncely/core';
import type { Failure } from './classify-failure.js';
import { type ClientErrorCodeValue, ClientErrorCode, OncelyClientError } from './errors.js';
import { type CallObserver, observeCall } from './observability/telemetry.js';
import type { ResolvedClientOptions } from './options.js';
import { type RetryInfo, recordRetryInfo } from './retry-info.js';
import { LightScope } from './light-signal.js';
import { type AttemptScope, type ScopeReasons, createAttemptScope } from './signals.js';

const now = (): number => performance.now();

/** The delays and reasons of a call that made no retry. */
const NONE: readonly never[] = Object.freeze([]);

/**
 * The bookkeeping of one logical call — its key, attempts, delays, budget tokens and deadline — shared
 * by the fetch wrapper, `retry()` and the axios integration, so all three apply one policy one way.
 */
export class CallState implements ScopeReasons {
  readonly startedAt = now();
  attempts = 0;
  /** Total time slept between attempts, in ms: the sum of the delays, in order. */
  totalDelay = 0;
  /** Each backoff sleep and its reason; made at the first retry (most calls have none). */
  private delays: number[] | undefined;
  private reasons: string[] | undefined;
  /** Budget tokens the retries of this call took (refunded on success). */
  acquired = 0;
  private backoff: BackoffState = INITIAL_BACKOFF_STATE;
  /** The call's telemetry listener, when the client has telemetry. */
  readonly observer: CallObserver | undefined;

  constructor(
    readonly options: ResolvedClientOptions,
    readonly idempotencyKey: string | undefined,
  ) {
    this.observer = observeCall(options.telemetry, idempotencyKey);
  }

  /** Time left before the deadline, in ms (`Infinity` without one). */
  remaining(): number {
    const { deadline } = this.options.policy;
    // Without a deadline there is no clock to read.
    return deadline === Number.POSITIVE_INFINITY ? deadline : deadline - (now() - this.startedAt);
  }

  info(): RetryInfo {
    return Object.freeze({
      idempotencyKey: this.idempotencyKey,
      attempts: this.attempts,
      totalDelay: this.totalDelay,
      delays: this.delays === undefined ? NONE : Object.freeze([...this.delays]),
      reasons: this.reasons === undefined ? NONE : Object.freeze([...this.reasons]),
    });
  }

  /** An error that carries this call's key, attempts and delays. */
  error<TResponse = Response>(
    code: ClientErrorCodeValue,
    message: string,
    extra: { cause?: unknown; response?: TResponse | undefined } = {},
  ): OncelyClientError<TResponse> {
    const error = new OncelyClientError<TResponse>(code, `${message} ${this.describe()}`, {
      ...extra,
      idempotencyKey: this.idempotencyKey,
      attempts: this.attempts,
      totalDelay: this.totalDelay,
    });
    recordRetryInfo(error, this.info());
    return error;
  }

  /**
   * The scope of the next attempt: its signal follows `parent`, its timer is `attemptTimeout`, cut
   * short by the deadline when that comes first (then the attempt ends with a deadline error, which
   * is not retried).
   */
  openScope(parent: AbortSignal | undefined): AttemptScope {
    const [attemptMs, deadlineMs] = this.attemptBounds();
    return createAttemptScope(parent, attemptMs, deadlineMs, this);
  }

  /** The same bounds on an {@link AttemptSignal} (axios), which costs no AbortController. */
  openLightScope(parent: AbortSignal | undefined): LightScope {
    const [attemptMs, deadlineMs] = this.attemptBounds();
    return new LightScope(parent, attemptMs, deadlineMs, this);
  }

  /** When the attempt timer and the deadline timer of the next attempt fire (`undefined`: never). */
  private attemptBounds(): [number | undefined, number | undefined] {
    const { attemptTimeout, deadline } = this.options.policy;
    const remaining = this.remaining();
    return [
      Number.isFinite(attemptTimeout) && attemptTimeout < remaining ? attemptTimeout : undefined,
      Number.isFinite(deadline) ? remaining : undefined,
    ];
  }

  /** The reason an attempt timer aborts with (read when it fires). */
  attemptTimedOut(): OncelyClientError {
    const { attemptTimeout } = this.options.policy;
    return this.error(
      ClientErrorCode.attemptTimeout,
      `Attempt ${this.attempts} timed out after ${attemptTimeout} ms.`,
    );
  }

  /** The reason a deadline timer aborts with (read when it fires). */
  deadlineCame(): OncelyClientError {
    return this.error(
      ClientErrorCode.deadlineExceeded,
      `Deadline of ${this.options.policy.deadline} ms exceeded.`,
    );
  }

  /**
   * The delay before retrying `failure`: the server's Retry-After (capped at `maxRetryAfter`) when it
   * sent one — the server knows when it will be ready — else the jittered backoff. Throws, without
   * sleeping, when the retry would start past the deadline or the budget is empty.
   */
  planRetry<TResponse>(failure: Failure): number {
    const { policy, random, budget } = this.options;
    const [backoffDelay, next] = computeDelay(this.backoff, policy, random);
    this.backoff = next;
    const hint =
      failure.headers === undefined
        ? undefined
        : parseRetryAfter(failure.headers, { max: policy.maxRetryAfter });
    const delay = hint?.delay ?? backoffDelay;
    const response = failure.response as TResponse | undefined;
    const cause = failure.error ?? failure.decision.reason;
    if (now() - this.startedAt + delay >= policy.deadline) {
      throw this.error(
        ClientErrorCode.deadlineExceeded,
        `Deadline of ${policy.deadline} ms exceeded: a retry after ${delay} ms (${failure.decision.reason}) would start past it.`,
        { cause, response },
      );
    }
    if (budget !== undefined) {
      const tokens = budget.tryAcquire(failure.timeout ? 'timeout' : 'error');
      if (tokens === undefined) {
        throw this.error(
          ClientErrorCode.budgetExhausted,
          `Retry budget exhausted (${budget.available} tokens left): not retrying ${failure.decision.reason}.`,
          { cause, response },
        );
      }
      this.acquired += tokens;
    }
    return delay;
  }

  /** Fires `onRetry` before the backoff sleep. */
  announceRetry(failure: Failure, delay: number): void {
    if (this.options.hooks.onRetry === undefined && this.observer === undefined) return;
    const event = {
      idempotencyKey: this.idempotencyKey,
      attempt: this.attempts,
      delay,
      reason: failure.decision.reason,
      ...('error' in failure ? { error: failure.error } : {}),
      ...('response' in failure ? { response: failure.response } : {}),
    };
    this.observer?.onRetry(event);
    this.options.hooks.onRetry?.(event);
  }

  /** Records a finished backoff sleep. */
  slept(delay: number, reason: string): void {
    this.totalDelay += delay;
    (this.delays ??= []).push(delay);
    (this.reasons ??= []).push(reason);
  }

  /** The call succeeded: refund the budget, record the info on `result`, fire `onSuccess`. */
  succeed(result: unknown): void {
    this.options.budget?.recordSuccess(this.acquired);
    recordRetryInfo(result, this.info());
    if (this.options.hooks.onSuccess === undefined && this.observer === undefined) return;
    const event = {
      idempotencyKey: this.idempotencyKey,
      attempts: this.attempts,
      totalDelay: this.totalDelay,
      result,
    };
    this.observer?.onSuccess(event);
    this.options.hooks.onSuccess?.(event);
  }

  /** The call ends without success: record the info on what the caller gets, fire `onGiveUp`. */
  giveUp(reason: string, outcome: { error?: unknown; response?: unknown }): void {
    recordRetryInfo(outcome.error ?? outcome.response, this.info());
    const event = {
      idempotencyKey: this.idempotencyKey,
      attempts: this.attempts,
      totalDelay: this.totalDelay,
      reason,
      ...outcome,
    };
    this.observer?.onGiveUp(event);
    this.options.hooks.onGiveUp?.(event);
  }

  private describe(): string {
    const attempts = `${this.attempts} attempt${this.attempts === 1 ? '' : 's'}`;
    return this.idempotencyKey === undefined
      ? `(${attempts}, no idempotency key)`
      : `(${attempts}, ${this.options.keyHeader} ${this.idempotencyKey})`;
  }
}
