import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INITIAL_BACKOFF_STATE, computeDelay, createBackoff } from './backoff.js';
import type { BackoffParameters, BackoffState } from './backoff.js';
import type { JitterKind } from './policy.js';

/** A fixed random sequence, repeated. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

function schedule(jitter: JitterKind, random: () => number, retries = 6): number[] {
  const params: BackoffParameters = { baseDelay: 100, maxDelay: 2000, jitter };
  let state: BackoffState = INITIAL_BACKOFF_STATE;
  const delays: number[] = [];
  for (let i = 0; i < retries; i++) {
    const [delay, next] = computeDelay(state, params, random);
    delays.push(delay);
    state = next;
  }
  return delays;
}

describe('computeDelay', () => {
  const random = sequence(0.5, 0.25, 0.75, 0, 0.999, 0.1);

  it('none: doubles from baseDelay and stops at maxDelay', () => {
    expect(schedule('none', random)).toEqual([100, 200, 400, 800, 1600, 2000]);
  });

  it('full: uniform in [0, ceiling)', () => {
    // ceilings 100, 200, 400, 800, 1600, 2000
    expect(schedule('full', sequence(0.5, 0.25, 0.75, 0, 0.999, 0.1))).toEqual([50, 50, 300, 0, 1598, 200]);
  });

  it('equal: half the ceiling plus uniform in [0, ceiling/2)', () => {
    expect(schedule('equal', sequence(0.5, 0.25, 0.75, 0, 0.999, 0.1))).toEqual([
      75, 125, 350, 400, 1599, 1100,
    ]);
  });

  it('decorrelated: uniform in [base, 3 × previous), capped after jitter', () => {
    // previous 0 → upper = base → 100; then [100, 300): 100 + 0.25·200 = 150; [100, 450): 100 + 0.75·350 = 363 (362.5 rounds up)
    // then [100, 1089): 0 → 100; [100, 300): 0.999 → 300 (299.8 rounds); [100, 900): 0.1 → 180
    expect(schedule('decorrelated', sequence(0.5, 0.25, 0.75, 0, 0.999, 0.1))).toEqual([
      100, 150, 363, 100, 300, 180,
    ]);
  });

  it('decorrelated never exceeds maxDelay even when 3 × previous does', () => {
    expect(schedule('decorrelated', sequence(0.99), 12).every((d) => d <= 2000)).toBe(true);
    expect(schedule('decorrelated', sequence(0.99), 12).at(-1)).toBe(2000);
  });

  it('clamps a misbehaving random source into [0, 1)', () => {
    const params: BackoffParameters = { baseDelay: 100, maxDelay: 1000, jitter: 'full' };
    expect(computeDelay(INITIAL_BACKOFF_STATE, params, () => Number.NaN)[0]).toBe(0);
    expect(computeDelay(INITIAL_BACKOFF_STATE, params, () => -3)[0]).toBe(0);
    expect(computeDelay(INITIAL_BACKOFF_STATE, params, () => 7)[0]).toBe(100);
  });

  it('does not overflow for huge retry numbers', () => {
    const params: BackoffParameters = { baseDelay: 100, maxDelay: 1000, jitter: 'none' };
    expect(computeDelay({ retry: 5000, previousDelay: 0 }, params)[0]).toBe(1000);
  });

  it('stays within [0, maxDelay] for any parameters, state and random value (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<JitterKind>('full', 'equal', 'decorrelated', 'none'),
        fc.nat({ max: 100_000 }),
        fc.nat({ max: 1_000_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.nat({ max: 10_000_000 }),
        fc.double({ noNaN: false }),
        (jitter, baseDelay, extra, retry, previousDelay, r) => {
          const maxDelay = baseDelay + extra;
          const [delay, next] = computeDelay(
            { retry, previousDelay },
            { baseDelay, maxDelay, jitter },
            () => r,
          );
          return Number.isInteger(delay) && delay >= 0 && delay <= maxDelay && next.retry === retry + 1;
        },
      ),
    );
  });
});

describe('createBackoff', () => {
  it('is an immutable value whose next() walks the same schedule as computeDelay', () => {
    const first = createBackoff({ baseDelay: 100, maxDelay: 2000, jitter: 'none' });
    const second = first.next();
    expect([first.retry, first.duration]).toEqual([1, 100]);
    expect([second.retry, second.duration, second.next().duration]).toEqual([2, 200, 400]);
    expect(first.duration).toBe(100);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('computeDelay: bad input', () => {
  it.each([
    [
      { retry: 1, previousDelay: 0 },
      { baseDelay: Number.NaN, maxDelay: 10, jitter: 'full' },
      'Invalid option `baseDelay`: expected a finite non-negative number of ms, got NaN.',
    ],
    [
      { retry: 1, previousDelay: 0 },
      { baseDelay: 1, maxDelay: -1, jitter: 'full' },
      'Invalid option `maxDelay`: expected a finite non-negative number of ms, got -1.',
    ],
    [
      { retry: 1, previousDelay: 0 },
      { baseDelay: 1, maxDelay: 1, jitter: 'wild' },
      "Invalid option `jitter`: expected 'full', 'equal', 'decorrelated' or 'none', got \"wild\".",
    ],
    [
      { retry: 0, previousDelay: 0 },
      { baseDelay: 1, maxDelay: 1, jitter: 'full' },
      'Invalid option `state.retry`: expected an integer from 1, got 0.',
    ],
    [
      { retry: 1, previousDelay: Infinity },
      { baseDelay: 1, maxDelay: 1, jitter: 'full' },
      'Invalid option `state.previousDelay`: expected a finite non-negative number of ms, got Infinity.',
    ],
  ])('refuses state %o with params %o', (state, params, message) => {
    expect(() => computeDelay(state as BackoffState, params as BackoffParameters)).toThrow(message);
  });
});
