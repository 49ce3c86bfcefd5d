import type { StoreCallEvent } from '../observability/timed-store.js';

/** Facts every idempotency event carries. Never the request or response body. */
export interface IdempotencyEvent {
  /** The scope the key belongs to (tenant, user, API key id) or `'global'`. */
  scope: string;
  /** The idempotency key as the client sent it. */
  idempotencyKey: string;
  /** SHA-256 of scope and key: the key under which the store keeps the record. */
  storeKey: string;
  method: string;
  path: string;
}

/** A hook; `undefined` is the same as absent. */
export type Hook<E> = ((event: E) => void) | undefined;

/** Observability hooks. Each is optional; a hook that throws or rejects is ignored. */
export interface IdempotencyHooks {
  /** A request claimed its key and runs the handler. */
  onClaim?: Hook<IdempotencyEvent & { fencingToken: number; takeover: boolean }>;
  /** A completed response was replayed (`replayable: false`: the "not replayable" problem). */
  onReplay?: Hook<IdempotencyEvent & { status: number; replayable: boolean }>;
  /** A duplicate arrived while the first was in flight and was answered 409. */
  onConflict?: Hook<IdempotencyEvent & { retryAfterMs: number }>;
  /** The key was reused with a different request and was answered 422. */
  onMismatch?: Hook<IdempotencyEvent>;
  /** The response was stored: its retries are answered from it (`replayable: false`: without its body). */
  onComplete?: Hook<IdempotencyEvent & { fencingToken: number; status: number; replayable: boolean }>;
  /** The claim was released so a retry runs again: the handler threw, or its status is not kept. */
  onRelease?: Hook<IdempotencyEvent & { reason: 'error' | 'status'; status?: number }>;
  /** A request took over a key whose lease had expired (the first one crashed or hung). */
  onTakeover?: Hook<IdempotencyEvent & { fencingToken: number }>;
  /**
   * A request lost its key to a takeover: its lease extension, completion or release was refused by
   * the fencing token, so its late result is not stored.
   */
  onFenced?: Hook<IdempotencyEvent & { fencingToken: number; operation: 'complete' | 'release' | 'extend' }>;
  /**
   * A first response was completed without its body: larger than `maxResponseBytes`, an event stream,
   * cut short (`incomplete`: the connection closed before its end, or another party answered while
   * the handler ran), or `declined` by `shouldStore`.
   */
  onOversize?: Hook<
    IdempotencyEvent & { status: number; reason: 'oversize' | 'stream' | 'incomplete' | 'declined' }
  >;
  /**
   * The engine stopped extending a claim whose handler may still run: it ran past `maxExecution`, or
   * its response ended (`timed-out`: a timeout middleware answered) or closed (`closed`) where the
   * adapter cannot see the handler's end. The key is held until its lease runs out; in transactional
   * mode the transaction is rolled back at once and its connection returned.
   */
  onAbandon?: Hook<IdempotencyEvent & { reason: 'max-execution' | 'timed-out' | 'closed' }>;
  /**
   * A store call failed or timed out. `failOpen`: the handler ran unprotected because of it.
   * `'transaction'`: a transactional store could not begin or commit the handler's transaction.
   */
  onStoreFailure?: Hook<
    IdempotencyEvent & {
      operation: 'claim' | 'complete' | 'release' | 'extend' | 'transaction';
      error: unknown;
      failOpen: boolean;
    }
  >;
  /** A store call ended: its operation, duration and outcome (the store latency of telemetry). */
  onStoreCall?: Hook<StoreCallEvent>;
}

export const HOOK_NAMES = [
  'onClaim',
  'onReplay',
  'onConflict',
  'onMismatch',
  'onComplete',
  'onRelease',
  'onTakeover',
  'onFenced',
  'onOversize',
  'onAbandon',
  'onStoreFailure',
  'onStoreCall',
] as const satisfies ReadonlyArray<keyof IdempotencyHooks>;

/** Calls a hook; whatever it throws or rejects with must never break a request. */
export function emit<E>(hook: ((event: E) => void) | undefined, event: E): void {
  if (hook === undefined) return;
  try {
    const result: unknown = hook(event);
    if (result instanceof Promise) result.catch(() => undefined);
  } catch {
    // A broken hook is the user's bug, not a reason to fail the request.
  }
}
