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

/**
 * Wraps a store so that `claim` lands `delayMs` late (a command queued in a driver while the store
 * was away): past `storeTimeout` the engine has already answered 503 by then.
 */
export function createSlowClaimStore(inner: IdempotencyStore, delayMs: number): IdempotencyStore {
  const claim: IdempotencyStore['claim'] = (request) =>
    new Promise((resolve) => setTimeout(resolve, delayMs)).then(() => inner.claim(request));
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'claim') return claim;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
