import type { IdempotencyStore } from '../store/types.js';

type Method = keyof IdempotencyStore;
const METHODS: readonly Method[] = ['claim', 'complete', 'release', 'extend', 'get', 'delete'];

/** A store whose every call rejects: the store is down. */
export function createFailingStore(
  error: () => Error = () => new Error('store unavailable'),
): IdempotencyStore {
  const fail = (): Promise<never> => Promise.reject(error());
  return { claim: fail, complete: fail, release: fail, extend: fail, get: fail, delete: fail };
}

/** A store whose every call never settles: the store hangs (tests `storeTimeout`). */
export function createHangingStore(): IdempotencyStore {
  const hang = (): Promise<never> => new Promise<never>(() => undefined);
  return { claim: hang, complete: hang, release: hang, extend: hang, get: hang, delete: hang };
}

/** Wraps a store and records the name of every call made to it. */
export function createRecordingStore(inner: IdempotencyStore): IdempotencyStore & { calls: Method[] } {
  const calls: Method[] = [];
  const store = { calls } as IdempotencyStore & { calls: Method[] };
  for (const method of METHODS) {
    (store as unknown as Record<Method, (...args: unknown[]) => unknown>)[method] = (...args: unknown[]) => {
      calls.push(method);
      return (inner[method] as (...args: unknown[]) => unknown).apply(inner, args);
    };
  }
  return store;
}
