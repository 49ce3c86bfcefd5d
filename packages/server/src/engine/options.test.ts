import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory-store.js';
import { normalizeIdempotencyOptions } from './options.js';
import type { IdempotencyOptions } from './options.js';

const base: IdempotencyOptions<unknown> = { scope: 'global' };

describe('normalizeIdempotencyOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = normalizeIdempotencyOptions(base);
    expect(resolved).toMatchObject({
      required: false,
      ttl: 86_400_000,
      lease: 30_000,
      wait: false,
      maxResponseBytes: 1_048_576,
      maxRequestBytes: 1_048_576,
      replayServerErrors: false,
      onStoreError: 'fail-closed',
      storeTimeout: 2000,
    });
    expect(resolved.methods).toBe('unsafe');
    expect(resolved.maxExecution).toBe(300_000);
    expect(resolved.store).toBeInstanceOf(MemoryStore);
    expect(resolved.replayHeaders.has('location')).toBe(true);
    expect(normalizeIdempotencyOptions({ ...base, wait: true }).wait).toEqual({
      timeoutMs: 5000,
      pollMs: 50,
    });
    expect(normalizeIdempotencyOptions({ ...base, methods: ['put'], ttl: undefined }).methods).toEqual(
      new Set(['PUT']),
    );
  });

  it.each([
    [{ scope: undefined }, /`scope`.*undefined/],
    [{ scope: 'tenant' }, /`scope`.*"tenant"/],
    [{ ttl: -1 }, /`ttl`.*-1/],
    [{ ttl: 1.5 }, /`ttl`.*1\.5/],
    [{ lease: 0 }, /`lease`.*0/],
    [{ maxResponseBytes: -5 }, /`maxResponseBytes`.*-5/],
    [
      { maxRequestBytes: -1 },
      /^Invalid option `maxRequestBytes`: expected an integer from 0 to \d+, got -1\.$/,
    ],
    [{ maxRequestBytes: 1.5 }, /`maxRequestBytes`.*1\.5/],
    [{ maxRequestBytes: '1mb' }, /`maxRequestBytes`.*"1mb"/],
    [{ storeTimeout: '2s' }, /`storeTimeout`.*"2s"/],
    [{ wait: { timeoutMs: -1 } }, /`wait.timeoutMs`.*-1/],
    [{ wait: 'yes' }, /`wait`.*"yes"/],
    [{ methods: ['GET'] }, /`methods`.*"GET"/],
    [{ methods: [] }, /`methods`/],
    [{ required: 'true' }, /`required`/],
    [{ replayHeaders: ['Set-Cookie'] }, /`replayHeaders`.*"Set-Cookie"/],
    [{ replayHeaders: ['proxy-authenticate'] }, /`replayHeaders`/],
    [{ replayHeaders: ['Transfer-Encoding'] }, /`replayHeaders`/],
    [{ replayHeaders: 'x-a' }, /`replayHeaders`/],
    [{ onStoreError: 'ignore' }, /`onStoreError`.*"ignore"/],
    [{ onClaim: 'log' }, /`onClaim`/],
    [{ store: {} }, /`store`/],
    [{ fingerprint: 'sha' }, /`fingerprint`/],
    [
      { ttl: Number.MAX_SAFE_INTEGER },
      /^Invalid option `ttl`: expected an integer from 1 to 31536000000, got 9007199254740991\.$/,
    ],
    [{ ttl: Number.POSITIVE_INFINITY }, /`ttl`.*Infinity/],
    [
      { ttl: 1000 },
      /^Invalid option `ttl`: expected at least twice `lease` and twice `maxExecution` \(600000 ms with these options\), got 1000\.$/,
    ],
    [{ ttl: 700_000, maxExecution: 400_000 }, /`ttl`.*800000 ms.*700000/],
    [{ lease: 2000 }, /^Invalid option `lease`: expected more than `storeTimeout` \(2000 ms\), got 2000\.$/],
    [{ lease: 500, storeTimeout: 1000 }, /`lease`.*1000 ms.*500/],
    [{ maxExecution: 0 }, /`maxExecution`.*0/],
    [{ maxExecution: '5m' }, /`maxExecution`.*"5m"/],
  ])('refuses %o, naming the option and value', (bad, message) => {
    expect(() => normalizeIdempotencyOptions({ ...base, ...(bad as object) })).toThrow(message);
    try {
      normalizeIdempotencyOptions({ ...base, ...(bad as object) });
    } catch (error) {
      expect((error as { code: string }).code).toBe('ERR_ONCELY_INVALID_OPTION');
    }
  });

  it('takes a ttl up to 365 days, and a short one with short lease and maxExecution', () => {
    expect(normalizeIdempotencyOptions({ ...base, ttl: 31_536_000_000 }).ttl).toBe(31_536_000_000);
    expect(
      normalizeIdempotencyOptions({ ...base, ttl: 2000, lease: 1000, storeTimeout: 100, maxExecution: 1000 })
        .ttl,
    ).toBe(2000);
  });

  it('takes maxRequestBytes from 0 (empty bodies only) upwards', () => {
    expect(normalizeIdempotencyOptions({ ...base, maxRequestBytes: 0 }).maxRequestBytes).toBe(0);
    expect(normalizeIdempotencyOptions({ ...base, maxRequestBytes: 10_485_760 }).maxRequestBytes).toBe(
      10_485_760,
    );
  });

  it('adds replayHeaders to the allow-list, lower-cased', () => {
    expect(
      normalizeIdempotencyOptions({ ...base, replayHeaders: ['X-Request-Id'] }).replayHeaders.has(
        'x-request-id',
      ),
    ).toBe(true);
  });
});
