import { describe, expect, it } from 'vitest';
import { createFetch, createRetry, normalizeClientOptions, retry } from './index.js';

describe('normalizeClientOptions', () => {
  it('resolves defaults once', () => {
    const resolved = normalizeClientOptions();
    expect(resolved.policy).toMatchObject({ retries: 2, baseDelay: 500, maxDelay: 8000, jitter: 'full' });
    expect(resolved.keyGenerator).toBe('v4');
    expect(resolved.budget?.available).toBe(500);
    expect(normalizeClientOptions({}, { defaultBudget: false }).budget).toBeUndefined();
    expect(normalizeClientOptions({ retryBudget: false }).budget).toBeUndefined();
  });

  it.each([
    [{ retries: -1 }, /Invalid option `retries`: expected a non-negative integer, got -1\./],
    [{ baseDelay: Number.NaN }, /Invalid option `baseDelay`: .*got NaN\./],
    [{ maxDelay: -5 }, /Invalid option `maxDelay`/],
    [{ jitter: 'wild' }, /Invalid option `jitter`.*"wild"/],
    [{ deadline: -1 }, /Invalid option `deadline`/],
    [{ attemptTimeout: 'soon' }, /Invalid option `attemptTimeout`.*"soon"/],
    [{ onRetry: 'log' }, /Invalid option `onRetry`: expected a function, got "log"\./],
    [{ onGiveUp: 1 }, /Invalid option `onGiveUp`: expected a function, got 1\./],
    [{ onSuccess: {} }, /Invalid option `onSuccess`: expected a function, got an object\./],
    [{ shouldRetry: true }, /Invalid option `shouldRetry`/],
    [{ random: 0.5 }, /Invalid option `random`/],
    [{ sleep: 10 }, /Invalid option `sleep`/],
    [{ keyGenerator: 'v5' }, /Invalid option `keyGenerator`.*"v5"/],
    [{ retryBudget: 3 }, /Invalid option `retryBudget`/],
    [{ retryBudget: { capacity: -1 } }, /Invalid option `retryBudget.capacity`/],
  ])('rejects %o at construction', (options, message) => {
    expect(() => normalizeClientOptions(options as never)).toThrow(message);
    expect(() => createFetch(options as never)).toThrow(message);
    expect(() => createRetry(options as never)).toThrow(message);
  });

  it('fetch-only options are checked too', () => {
    expect(() => createFetch({ fetch: 'nope' as never })).toThrow(/Invalid option `fetch`/);
    expect(() => createFetch({ throwOnHttpError: 'yes' as never })).toThrow(
      /Invalid option `throwOnHttpError`/,
    );
    expect(() => createFetch({ bufferResponse: 1 as never })).toThrow(/Invalid option `bufferResponse`/);
  });

  it('errors carry the core invalid-option code', () => {
    try {
      createFetch({ retries: -1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_ONCELY_INVALID_OPTION', name: 'OncelyError' });
    }
  });

  it('retry() validates before running anything', async () => {
    let ran = false;
    await expect(
      retry(
        () => {
          ran = true;
        },
        { retries: 1.5 },
      ),
    ).rejects.toThrow(/`retries`/);
    expect(ran).toBe(false);
  });
});
