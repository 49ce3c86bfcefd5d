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
 * Kept on the target itself, under a global symbol: one key per realm, not per bundle — the ESM and CJS
 * builds and the `./axios` entry may each carry a copy of this module, and `getRetryInfo` from one must
 * see what another recorded. A property, not a WeakMap entry: a WeakMap keyed by every response costs
 * the garbage collector an ephemeron per call. Frozen targets fall back to a (per-realm) WeakMap.
 */
const INFO = Symbol.for('oncely.client.retry-info');
const REGISTRY = Symbol.for('oncely.client.retry-info.registry');
const registry: WeakMap<object, RetryInfo> =
  ((globalThis as Record<symbol, unknown>)[REGISTRY] as WeakMap<object, RetryInfo> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[REGISTRY] = new WeakMap<object, RetryInfo>());

/** Remembers what the call that produced `target` (a response or an error) did. */
export function recordRetryInfo(target: unknown, info: RetryInfo): void {
  if ((typeof target !== 'object' || target === null) && typeof target !== 'function') return;
  if (Object.isExtensible(target)) {
    Object.defineProperty(target, INFO, { value: info, writable: true, configurable: true });
  } else {
    registry.set(target, info);
  }
}

/**
 * What the call that produced `target` did: its key, attempts and delays. `target` is a `Response`
 * from `createFetch`, an axios response or error from `withIdempotency`, an error from `retry`, or an
 * `OncelyClientError`. `undefined` for anything else.
 */
export function getRetryInfo(target: unknown): RetryInfo | undefined {
  if ((typeof target !== 'object' || target === null) && typeof target !== 'function') return undefined;
  try {
    const own = Object.getOwnPropertyDescriptor(target, INFO);
    return own !== undefined ? (own.value as RetryInfo) : registry.get(target);
  } catch {
    return undefined; // a Proxy whose trap throws
  }
}
