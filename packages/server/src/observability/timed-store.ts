import { emit } from '../engine/hooks.js';
import type { IdempotencyStore } from '../store/types.js';

/** Store operations that are timed. `executeTransactionally` is not: it spans the user's handler. */
export type StoreOperation = 'claim' | 'complete' | 'release' | 'extend' | 'get' | 'delete';

/** One store call, as `onStoreCall` hears it. */
export interface StoreCallEvent {
  operation: StoreOperation;
  /** The store key: SHA-256 of scope and key, never the raw key. */
  storeKey: string;
  /** Time from the call to its result, in ms. */
  durationMs: number;
  /**
   * What it returned: the claim outcome (`claimed`, `completed`, `in_progress`, `mismatch`); `ok` or
   * `refused` (the fencing token was not current) for complete, release and extend; `found` or
   * `absent` for get; `deleted` or `absent` for delete; `error` when it threw or rejected.
   */
  outcome: string;
  /** What it threw or rejected with, when `outcome` is `error`. */
  error?: unknown;
}

const TIMED: ReadonlySet<PropertyKey> = new Set<StoreOperation>([
  'claim',
  'complete',
  'release',
  'extend',
  'get',
  'delete',
]);
const INNER = Symbol('oncely.timed-store.inner');

/**
 * `store` with every call of {@link TIMED} reported to `listener`. A Proxy, so whatever else the store
 * has (`executeTransactionally`, `close`, its class for `instanceof`) reads as before; methods are
 * called on the store itself, so private fields keep working.
 */
export function timeStore(
  store: IdempotencyStore,
  listener: (event: StoreCallEvent) => void,
): IdempotencyStore {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      if (property === INNER) return target;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = methods.get(property);
      if (method === undefined) {
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        method = TIMED.has(property) ? timed(property as StoreOperation, bound, listener) : bound;
        methods.set(property, method);
      }
      return method;
    },
  });
}

/** The store a {@link timeStore} wraps, or `store` itself. */
export function untimedStore(store: IdempotencyStore): IdempotencyStore {
  return ((store as unknown as Record<symbol, unknown>)[INNER] as IdempotencyStore | undefined) ?? store;
}

function timed(
  operation: StoreOperation,
  call: (...args: unknown[]) => unknown,
  listener: (event: StoreCallEvent) => void,
): (...args: unknown[]) => Promise<unknown> {
  return async function timedStoreCall(...args: unknown[]): Promise<unknown> {
    const storeKey = storeKeyOf(args[0]);
    const started = performance.now();
    try {
      const result = await call(...args);
      emit(listener, {
        operation,
        storeKey,
        durationMs: performance.now() - started,
        outcome: outcomeOf(operation, result),
      });
      return result;
    } catch (error) {
      emit(listener, {
        operation,
        storeKey,
        durationMs: performance.now() - started,
        outcome: 'error',
        error,
      });
      throw error;
    }
  };
}

function storeKeyOf(argument: unknown): string {
  if (typeof argument === 'string') return argument;
  const key = (argument as { key?: unknown } | null)?.key;
  return typeof key === 'string' ? key : '';
}

function outcomeOf(operation: StoreOperation, result: unknown): string {
  switch (operation) {
    case 'claim': {
      const outcome = (result as { outcome?: unknown } | null)?.outcome;
      return typeof outcome === 'string' ? outcome : 'unknown';
    }
    case 'get':
      return result === undefined ? 'absent' : 'found';
    case 'delete':
      return result === true ? 'deleted' : 'absent';
    default:
      return result === true ? 'ok' : 'refused';
  }
}
