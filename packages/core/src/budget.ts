import { invalidOptionError } from './errors.js';

/** Options of {@link createRetryBudget}; the defaults are AWS SDK standard mode's retry quota. */
export interface RetryBudgetOptions {
  /** Tokens in a full bucket. @default 500 */
  capacity?: number | undefined;
  /** Tokens a retry costs. @default 5 */
  retryCost?: number | undefined;
  /** Tokens a retry after a timeout costs (timeouts hint at overload). @default 10 */
  timeoutRetryCost?: number | undefined;
  /** Tokens a call that succeeds at its first attempt puts back. @default 1 */
  successReward?: number | undefined;
}

/**
 * A token bucket shared by all calls of one client, so an outage does not turn into a retry storm: every
 * retry takes tokens, successes put them back, and when the bucket is empty retries fail fast.
 */
export interface RetryBudget {
  /** Tokens left. */
  readonly available: number;
  /** Takes the cost of one retry; returns the tokens taken, or `undefined` when there are too few. */
  tryAcquire(kind?: 'error' | 'timeout'): number | undefined;
  /**
   * Records a successful call: refunds the tokens its retries took (`acquired`, their sum), or, when
   * it needed no retry, rewards the bucket with `successReward`.
   */
  recordSuccess(acquired: number): void;
}

/** A new, full {@link RetryBudget}. */
export function createRetryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const capacity = count('retryBudget.capacity', options.capacity, 500);
  const retryCost = count('retryBudget.retryCost', options.retryCost, 5);
  const timeoutRetryCost = count('retryBudget.timeoutRetryCost', options.timeoutRetryCost, 10);
  const successReward = count('retryBudget.successReward', options.successReward, 1);
  let available = capacity;
  return {
    get available() {
      return available;
    },
    tryAcquire(kind = 'error') {
      const cost = kind === 'timeout' ? timeoutRetryCost : retryCost;
      if (cost > available) return undefined;
      available -= cost;
      return cost;
    },
    recordSuccess(acquired) {
      const refund = acquired > 0 ? acquired : successReward;
      available = Math.min(capacity, available + refund);
    },
  };
}

function count(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidOptionError(option, value, 'a finite non-negative number');
  }
  return value;
}
