/** What a finished call did: readable from its response, its error or its events. */
export interface RetryInfo {
  /** The key sent with every attempt; `undefined` when the call sent none (e.g. a GET). */
  readonly idempotencyKey: string | undefined;
  /** Attempts made, the first one included. */
  readonly attempts: number;
  /** Total time slept between attempts, in ms. */
  readonly totalDelay: number;
  /** Each backoff sleep, in order, in ms. */
  readonly delays: readonly number[];
  /** Why each retry happened, in order (e.g. `status 503`, `network ECONNRESET`). */
  readonly reasons: readonly string[];
}

/**
 * One registry per realm, not per bundle: the ESM and CJS builds and the `./axios` entry may each carry
 * a copy of this module, and `getRetryInfo` from one must see what another recorded.
 */
const REGISTRY = Symbol.for('oncely.client.retry-info');
const registry: WeakMap<object, RetryInfo> =
  ((globalThis as Record<symbol, unknown>)[REGISTRY] as WeakMap<object, RetryInfo> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[REGISTRY] = new WeakMap<object, RetryInfo>());

/** Remembers what the call that produced `target` (a response or an error) did. */
export function recordRetryInfo(target: unknown, info: RetryInfo): void {
  if ((typeof target === 'object' && target !== null) || typeof target === 'function') {
    registry.set(target, info);
  }
}

/**
 * What the call that produced `target` did: its key, attempts and delays. `target` is a `Response`
 * from `createFetch`, an axios response or error from `withIdempotency`, an error from `retry`, or an
 * `OncelyClientError`. `undefined` for anything else.
 */
export function getRetryInfo(target: unknown): RetryInfo | undefined {
  if ((typeof target === 'object' && target !== null) || typeof target === 'function') {
    return registry.get(target);
  }
  return undefined;
}
