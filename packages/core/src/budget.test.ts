import { describe, expect, it } from 'vitest';
import { createRetryBudget } from './budget.js';

describe('createRetryBudget', () => {
  it('starts full with AWS standard-mode numbers', () => {
    const budget = createRetryBudget();
    expect(budget.available).toBe(500);
    expect(budget.tryAcquire()).toBe(5);
    expect(budget.tryAcquire('timeout')).toBe(10);
    expect(budget.available).toBe(485);
  });

  it('fails fast when empty, and refills from successes', () => {
    const budget = createRetryBudget({ capacity: 10, retryCost: 5 });
    expect(budget.tryAcquire()).toBe(5);
    expect(budget.tryAcquire()).toBe(5);
    expect(budget.tryAcquire()).toBeUndefined();
    budget.recordSuccess(5); // a call that retried once and then succeeded gets its cost back
    expect(budget.available).toBe(5);
    budget.recordSuccess(0); // a first-attempt success adds the reward
    expect(budget.available).toBe(6);
  });

  it('never fills past capacity', () => {
    const budget = createRetryBudget({ capacity: 3, successReward: 2 });
    budget.recordSuccess(0);
    budget.recordSuccess(0);
    expect(budget.available).toBe(3);
  });

  it('rejects bad numbers naming the option', () => {
    expect(() => createRetryBudget({ capacity: -1 })).toThrow(
      'Invalid option `retryBudget.capacity`: expected a finite non-negative number, got -1.',
    );
    expect(() => createRetryBudget({ retryCost: Number.NaN })).toThrow('`retryBudget.retryCost`');
  });
});
