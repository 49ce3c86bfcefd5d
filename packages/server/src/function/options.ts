import { invalidOptionError } from '@oncely/core';
import { HOOK_NAMES } from '../engine/hooks.js';
import type { IdempotencyHooks } from '../engine/hooks.js';
import { normalizeIdempotencyOptions } from '../engine/options.js';
import type { ResolvedIdempotencyOptions, WaitOptions } from '../engine/options.js';
import type { IdempotencyStore } from '../store/types.js';

/**
 * Options of {@link idempotent}. `Args` are the function's arguments. Lease, TTL, `maxExecution`,
 * `wait`, store and hooks mean what they mean for HTTP requests: one engine runs both.
 */
export interface IdempotentOptions<Args extends unknown[]> extends IdempotencyHooks {
  /**
   * The function's own key space, e.g. `'send-receipt'`: two functions (or an HTTP endpoint) never see
   * each other's records, even when their keys are equal (BullMQ job ids of two queues are). Keep it
   * stable across deploys: records are found by it. Required.
   */
  name: string;
  /**
   * The key of a call: a job id, a message id, a webhook event id, an order id. Calls with the same
   * key (within `name` and `scope`) run the function once. Must be 1–255 printable ASCII characters.
   * Required.
   */
  key: (...args: Args) => string | Promise<string>;
  /**
   * Who a key belongs to, when keys of different tenants may be equal: a function of the arguments,
   * or the literal `'global'`.
   * @default 'global'
   */
  scope?: 'global' | ((...args: Args) => string | Promise<string>) | undefined;
  /**
   * Where records live. Share one store between every process that runs the function (Redis,
   * PostgreSQL): a MemoryStore only protects calls within one process.
   * @default new MemoryStore()
   */
  store?: IdempotencyStore | undefined;
  /**
   * How a call is fingerprinted; a key reused with another fingerprint is refused
   * (`ERR_ONCELY_KEY_REUSED`).
   * @default SHA-256 of the arguments as canonical JSON (object keys sorted)
   */
  fingerprint?: ((...args: Args) => string | Promise<string>) | undefined;
  /**
   * How long a record is kept, in ms; a call after that runs again.
   * @default 86_400_000 (24 h)
   */
  ttl?: number | undefined;
  /**
   * How long a claim holds before another call may take over, in ms; extended every `lease / 3`
   * while the function runs, so only a crashed or hung call loses it.
   * @default 30_000
   */
  lease?: number | undefined;
  /**
   * The longest one call may hold its key, in ms; past it the lease runs out (a duplicate may then
   * take over) and a transactional call is rolled back.
   * @default 300_000 (5 min)
   */
  maxExecution?: number | undefined;
  /**
   * A duplicate that arrives while the first call runs waits for it (at most `timeoutMs`) and returns
   * its result; without it, or past it, the duplicate is refused with `ERR_ONCELY_IN_PROGRESS`.
   * `true` means `{ timeoutMs: 5000, pollMs: 50 }`.
   * @default false
   */
  wait?: boolean | WaitOptions | undefined;
  /**
   * Largest result kept for replay, in bytes of JSON. A larger one is returned to its caller, and its
   * key completed without it: duplicates get `ERR_ONCELY_RESULT_NOT_REPLAYABLE`, never a second run.
   * @default 1_048_576 (1 MiB)
   */
  maxResultBytes?: number | undefined;
  /**
   * What to do when the store fails: `'fail-closed'` throws `ERR_ONCELY_STORE_UNAVAILABLE` without
   * running the function; `'fail-open'` runs it unprotected and reports it through `onStoreFailure`.
   * @default 'fail-closed'
   */
  onStoreError?: 'fail-closed' | 'fail-open' | undefined;
  /**
   * Longest time a store call may take, in ms, before it counts as a store failure.
   * @default 2000
   */
  storeTimeout?: number | undefined;
}

/** {@link IdempotentOptions} resolved: the engine's options, and what is the function's own. */
export interface ResolvedIdempotentOptions<Args extends unknown[]> {
  engine: ResolvedIdempotencyOptions<never>;
  name: string;
  key: (...args: Args) => string | Promise<string>;
  scope: 'global' | ((...args: Args) => string | Promise<string>);
  fingerprint: ((...args: Args) => string | Promise<string>) | undefined;
}

/**
 * Validates the options once, when the function is wrapped; the engine's own are checked by the
 * engine's one rule (`normalizeIdempotencyOptions`).
 * @throws {OncelyError} `ERR_ONCELY_INVALID_OPTION`, naming the option and the value.
 */
export function normalizeIdempotentOptions<Args extends unknown[]>(
  options: IdempotentOptions<Args>,
): ResolvedIdempotentOptions<Args> {
  if (typeof options !== 'object' || options === null) {
    throw invalidOptionError('options', options, 'an object with at least `name` and `key`');
  }
  const { name, key, scope = 'global', fingerprint, maxResultBytes } = options;
  if (typeof name !== 'string' || name === '') throw invalidOptionError('name', name, 'a non-empty string');
  if (typeof key !== 'function') throw invalidOptionError('key', key, 'a function of the arguments');
  if (scope !== 'global' && typeof scope !== 'function') {
    throw invalidOptionError('scope', scope, "a function of the arguments, or 'global'");
  }
  if (fingerprint !== undefined && typeof fingerprint !== 'function') {
    throw invalidOptionError('fingerprint', fingerprint, 'a function of the arguments');
  }
  if (
    maxResultBytes !== undefined &&
    (typeof maxResultBytes !== 'number' || !Number.isSafeInteger(maxResultBytes) || maxResultBytes < 0)
  ) {
    throw invalidOptionError('maxResultBytes', maxResultBytes, 'a non-negative integer');
  }
  const hooks: IdempotencyHooks = {};
  for (const hook of HOOK_NAMES) {
    if (options[hook] !== undefined) (hooks as Record<string, unknown>)[hook] = options[hook];
  }
  const engine = normalizeIdempotencyOptions<never>({
    ...hooks,
    scope: 'global',
    store: options.store,
    ttl: options.ttl,
    lease: options.lease,
    maxExecution: options.maxExecution,
    wait: options.wait,
    maxResponseBytes: maxResultBytes,
    onStoreError: options.onStoreError,
    storeTimeout: options.storeTimeout,
  });
  return { engine, name, key, scope, fingerprint };
}
