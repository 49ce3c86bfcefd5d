import { invalidOptionError } from './errors.js';

/** How a backoff delay is randomised. See `computeDelay` in @oncely/core. */
export type JitterKind = 'full' | 'equal' | 'decorrelated' | 'none';

/** Retry policy as plain data. Every field is optional; `undefined` means "use the default". */
export interface RetryPolicyOptions {
  /**
   * Retries after the first attempt (so `2` means up to 3 attempts). Stripe's and OpenAI's SDKs retry
   * twice and AWS SDK v3 makes 3 attempts: 2 is what users of those SDKs already expect.
   * @default 2
   */
  retries?: number | undefined;
  /**
   * Delay ceiling of the first retry, in ms; it doubles each retry. Stripe and OpenAI start at 500 ms
   * (AWS at 100 ms, tuned for its own data-centre APIs); 500 ms gives a lost-response retry time to find
   * the first request completed instead of still in flight.
   * @default 500
   */
  baseDelay?: number | undefined;
  /**
   * Largest backoff delay, in ms, applied after jitter. Between Stripe's 5 s and AWS's 20 s, as OpenAI's 8 s.
   * @default 8000
   */
  maxDelay?: number | undefined;
  /**
   * Jitter kind. Full jitter spreads retries of many clients best (AWS Architecture Blog, "Exponential
   * Backoff And Jitter"), and is what AWS SDK v3 uses.
   * @default 'full'
   */
  jitter?: JitterKind | undefined;
  /**
   * Longest server-requested wait (Retry-After and friends) honoured, in ms; a longer hint is cut to this.
   * OpenAI's SDK honours up to 60 s.
   * @default 60000
   */
  maxRetryAfter?: number | undefined;
  /**
   * Overall deadline of one logical call, in ms from its start: no attempt starts, and no backoff sleeps,
   * past it. `Infinity` for none.
   * @default Infinity
   */
  deadline?: number | undefined;
  /**
   * Timeout of each attempt, in ms, from sending the request to having the response headers (the body
   * read of a fetch call is bounded by the deadline and the signal). `Infinity` for none. A minute, as a
   * hung connection must not hang the caller; Stripe uses 80 s.
   * @default 60000
   */
  attemptTimeout?: number | undefined;
}

/** A policy with every default resolved and every value checked. */
export interface ResolvedRetryPolicy {
  readonly retries: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly jitter: JitterKind;
  readonly maxRetryAfter: number;
  readonly deadline: number;
  readonly attemptTimeout: number;
}

/** The defaults, each explained on {@link RetryPolicyOptions}. */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = Object.freeze({
  retries: 2,
  baseDelay: 500,
  maxDelay: 8000,
  jitter: 'full',
  maxRetryAfter: 60_000,
  deadline: Number.POSITIVE_INFINITY,
  attemptTimeout: 60_000,
});

const JITTER_KINDS: readonly JitterKind[] = ['full', 'equal', 'decorrelated', 'none'];

/**
 * Turns user options into a fully resolved policy. `undefined` fields take their defaults; anything
 * else is checked and a bad value throws `ERR_ONCELY_INVALID_OPTION` naming the option and the value.
 */
export function normalizeRetryPolicy(options: RetryPolicyOptions = {}): ResolvedRetryPolicy {
  if (typeof options !== 'object' || options === null) {
    throw invalidOptionError('options', options, 'an object');
  }
  const d = DEFAULT_RETRY_POLICY;
  const retries = pick(options.retries, d.retries);
  if (!Number.isInteger(retries) || retries < 0) {
    throw invalidOptionError('retries', options.retries, 'a non-negative integer');
  }
  const baseDelay = checkDuration('baseDelay', pick(options.baseDelay, d.baseDelay), false);
  const maxDelay = checkDuration('maxDelay', pick(options.maxDelay, d.maxDelay), false);
  if (maxDelay < baseDelay) {
    throw invalidOptionError('maxDelay', maxDelay, `a number of ms no smaller than baseDelay (${baseDelay})`);
  }
  const jitter = pick(options.jitter, d.jitter);
  if (!JITTER_KINDS.includes(jitter)) {
    throw invalidOptionError('jitter', options.jitter, "'full', 'equal', 'decorrelated' or 'none'");
  }
  return Object.freeze({
    retries,
    baseDelay,
    maxDelay,
    jitter,
    maxRetryAfter: checkDuration('maxRetryAfter', pick(options.maxRetryAfter, d.maxRetryAfter), false),
    deadline: checkDuration('deadline', pick(options.deadline, d.deadline), true),
    attemptTimeout: checkDuration('attemptTimeout', pick(options.attemptTimeout, d.attemptTimeout), true),
  });
}

function pick<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** A finite non-negative number of ms (or `Infinity`, where allowed). */
function checkDuration(option: string, value: unknown, allowInfinity: boolean): number {
  const ok =
    typeof value === 'number' &&
    value >= 0 &&
    (Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
  if (!ok) {
    throw invalidOptionError(
      option,
      value,
      allowInfinity ? 'a non-negative number of ms, or Infinity' : 'a finite non-negative number of ms',
    );
  }
  return value;
}
