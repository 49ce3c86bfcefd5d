import { describe, expect, it } from 'vitest';
import { isOncelyError } from './errors.js';
import { DEFAULT_RETRY_POLICY, normalizeRetryPolicy } from './policy.js';

describe('normalizeRetryPolicy', () => {
  it('resolves every default', () => {
    expect(normalizeRetryPolicy()).toEqual({
      retries: 2,
      baseDelay: 500,
      maxDelay: 8000,
      jitter: 'full',
      maxRetryAfter: 60_000,
      deadline: Infinity,
      attemptTimeout: 60_000,
    });
    expect(normalizeRetryPolicy({})).toEqual(DEFAULT_RETRY_POLICY);
  });

  it('treats undefined as absent', () => {
    expect(normalizeRetryPolicy({ retries: undefined, jitter: undefined }).retries).toBe(2);
  });

  it('keeps valid values', () => {
    const policy = normalizeRetryPolicy({
      retries: 0,
      baseDelay: 0,
      maxDelay: 0,
      jitter: 'decorrelated',
      deadline: 5000,
      attemptTimeout: Infinity,
      maxRetryAfter: 0,
    });
    expect(policy).toMatchObject({
      retries: 0,
      baseDelay: 0,
      maxDelay: 0,
      jitter: 'decorrelated',
      deadline: 5000,
    });
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it.each([
    [{ retries: -1 }, 'Invalid option `retries`: expected a non-negative integer, got -1.'],
    [{ retries: 1.5 }, 'Invalid option `retries`: expected a non-negative integer, got 1.5.'],
    [{ retries: '3' }, 'Invalid option `retries`: expected a non-negative integer, got "3".'],
    [
      { baseDelay: Number.NaN },
      'Invalid option `baseDelay`: expected a finite non-negative number of ms, got NaN.',
    ],
    [
      { maxDelay: Infinity },
      'Invalid option `maxDelay`: expected a finite non-negative number of ms, got Infinity.',
    ],
    [
      { baseDelay: 1000, maxDelay: 10 },
      'Invalid option `maxDelay`: expected a number of ms no smaller than baseDelay (1000), got 10.',
    ],
    [
      { jitter: 'random' },
      "Invalid option `jitter`: expected 'full', 'equal', 'decorrelated' or 'none', got \"random\".",
    ],
    [
      { deadline: -5 },
      'Invalid option `deadline`: expected a non-negative number of ms, or Infinity, got -5.',
    ],
    [
      { attemptTimeout: null },
      'Invalid option `attemptTimeout`: expected a non-negative number of ms, or Infinity, got null.',
    ],
    [
      { maxRetryAfter: -1 },
      'Invalid option `maxRetryAfter`: expected a finite non-negative number of ms, got -1.',
    ],
  ])('rejects %o with a message naming the option and value', (options, message) => {
    let error: unknown;
    try {
      normalizeRetryPolicy(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(isOncelyError(error)).toBe(true);
    expect((error as Error).message).toBe(message);
    expect((error as { code: string }).code).toBe('ERR_ONCELY_INVALID_OPTION');
  });

  it('rejects a non-object', () => {
    expect(() => normalizeRetryPolicy(3 as never)).toThrow(
      'Invalid option `options`: expected an object, got 3.',
    );
  });
});
