// The checks of single option values; `normalizeIdempotencyOptions` (options.ts) combines them.
import { invalidOptionError } from '@oncely/core';
import type { IdempotencyStore } from '../store/types.js';
import type { ResolvedIdempotencyOptions, ResolvedWait, WaitOptions } from './options.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
export const MAX_TIMER_MS = 2_147_483_647;
/**
 * The longest `ttl`: 365 days. Every shipped store represents it exactly (Redis takes integer ms
 * expiries, PostgreSQL intervals and timestamps, MemoryStore a timer-free clock comparison).
 */
export const MAX_TTL_MS = 365 * 86_400_000;

/** Whether `method` (any case) honours the key under `methods`. */
export function protectsMethod(
  methods: ResolvedIdempotencyOptions<never>['methods'],
  method: string,
): boolean {
  const upper = method.toUpperCase();
  return methods === 'unsafe' ? !SAFE_METHODS.has(upper) : methods.has(upper);
}

/** `methods` as a set of upper-case names, or `'unsafe'` (the default: every method but the safe ones). */
export function normalizeMethods(methods: unknown): ReadonlySet<string> | 'unsafe' {
  if (methods === undefined) return 'unsafe';
  if (!Array.isArray(methods) || methods.length === 0) {
    throw invalidOptionError('methods', methods, 'a non-empty array of unsafe HTTP methods');
  }
  const set = new Set<string>();
  for (const method of methods as unknown[]) {
    if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method) || SAFE_METHODS.has(method.toUpperCase())) {
      throw invalidOptionError('methods', method, 'an unsafe HTTP method such as POST or PATCH');
    }
    set.add(method.toUpperCase());
  }
  return set;
}

export function normalizeWait(wait: unknown): ResolvedWait | false {
  if (wait === false) return false;
  if (wait === true) return { timeoutMs: 5000, pollMs: 50 };
  if (typeof wait !== 'object' || wait === null || Array.isArray(wait)) {
    throw invalidOptionError('wait', wait, 'a boolean or { timeoutMs, pollMs }');
  }
  const { timeoutMs, pollMs } = wait as WaitOptions;
  return {
    timeoutMs: duration('wait.timeoutMs', timeoutMs, 5000, 0),
    pollMs: duration('wait.pollMs', pollMs, 50, 1),
  };
}

export function duration(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = MAX_TIMER_MS,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOptionError(name, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

export function isStore(value: unknown): value is IdempotencyStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return ['claim', 'complete', 'release', 'extend', 'get'].every((name) => typeof store[name] === 'function');
}
