import { invalidOptionError } from './errors.js';
import type { JitterKind } from './policy.js';

/** A source of uniform random numbers in [0, 1); `Math.random` unless a test seeds its own. */
export type RandomSource = () => number;

/** What the delay functions need from a policy. */
export interface BackoffParameters {
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly jitter: JitterKind;
}

/** State carried from one retry to the next: the retry number and the previous delay. */
export interface BackoffState {
  /** 1 for the first retry. */
  readonly retry: number;
  /** The delay chosen for the previous retry (decorrelated jitter builds on it); 0 before the first. */
  readonly previousDelay: number;
}

/**
 * The delay before retry `state.retry`, in ms, and the state for the next one. Pure: the same inputs
 * and random values give the same delay.
 *
 * With `ceiling = min(maxDelay, baseDelay · 2^(retry−1))`:
 * - `full`: uniform in [0, ceiling) — AWS SDK v3's default;
 * - `equal`: ceiling/2 plus uniform in [0, ceiling/2);
 * - `decorrelated`: uniform in [baseDelay, 3 · previousDelay) (AWS Architecture Blog), `baseDelay` first;
 * - `none`: exactly the ceiling.
 * The cap is applied after jitter too, so no kind ever returns more than `maxDelay`, and a random source
 * that misbehaves (NaN, out of range) is clamped into [0, 1).
 */
export function computeDelay(
  state: BackoffState,
  params: BackoffParameters,
  random: RandomSource = Math.random,
): [delay: number, next: BackoffState] {
  checkBackoffInput(state, params);
  const { baseDelay, maxDelay, jitter } = params;
  const exponent = Math.max(0, Math.min(state.retry - 1, 1023));
  const ceiling = Math.min(maxDelay, baseDelay * 2 ** exponent);
  let delay: number;
  switch (jitter) {
    case 'none':
      delay = ceiling;
      break;
    case 'equal':
      delay = ceiling / 2 + unit(random) * (ceiling / 2);
      break;
    case 'decorrelated': {
      const upper = Math.max(baseDelay, state.previousDelay * 3);
      delay = baseDelay + unit(random) * (upper - baseDelay);
      break;
    }
    case 'full':
    default:
      delay = unit(random) * ceiling;
  }
  delay = Math.max(0, Math.min(maxDelay, Math.round(delay)));
  return [delay, { retry: state.retry + 1, previousDelay: delay }];
}

const JITTERS: ReadonlySet<string> = new Set(['full', 'equal', 'decorrelated', 'none']);

function checkBackoffInput(state: BackoffState, params: BackoffParameters): void {
  const ms = (name: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidOptionError(name, value, 'a finite non-negative number of ms');
    }
  };
  if (typeof params !== 'object' || params === null) throw invalidOptionError('params', params, 'an object');
  ms('baseDelay', params.baseDelay);
  ms('maxDelay', params.maxDelay);
  if (!JITTERS.has(params.jitter)) {
    throw invalidOptionError('jitter', params.jitter, "'full', 'equal', 'decorrelated' or 'none'");
  }
  if (typeof state !== 'object' || state === null) throw invalidOptionError('state', state, 'an object');
  if (!Number.isInteger(state.retry) || state.retry < 1) {
    throw invalidOptionError('state.retry', state.retry, 'an integer from 1');
  }
  ms('state.previousDelay', state.previousDelay);
}

/** The state before the first retry. */
export const INITIAL_BACKOFF_STATE: BackoffState = Object.freeze({ retry: 1, previousDelay: 0 });

/**
 * Backoff as an immutable value (after cockatiel): `duration` is this retry's delay, `next()` the
 * backoff for the retry after it. Handy where a loop keeps one value instead of threading state.
 */
export interface Backoff {
  readonly duration: number;
  readonly retry: number;
  next(): Backoff;
}

/** The backoff for the first retry under `params`. */
export function createBackoff(params: BackoffParameters, random: RandomSource = Math.random): Backoff {
  return makeBackoff(INITIAL_BACKOFF_STATE, params, random);
}

function makeBackoff(state: BackoffState, params: BackoffParameters, random: RandomSource): Backoff {
  const [duration, nextState] = computeDelay(state, params, random);
  return Object.freeze({
    duration,
    retry: state.retry,
    next: () => makeBackoff(nextState, params, random),
  });
}

function unit(random: RandomSource): number {
  const value = random();
  if (!(value >= 0)) return 0; // NaN or negative
  return value >= 1 ? 1 - Number.EPSILON : value;
}
