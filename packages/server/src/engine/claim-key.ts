import { OncelyError, describeValue } from '@oncely/core';
import type { ClaimResult, StoredResponse } from '../store/types.js';
import { createExecution } from './execution.js';
import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { callStore } from './store-call.js';
import type { Execution } from './types.js';

/**
 * What became of a claim, whatever asked for it (an HTTP request, an idempotent function): the one
 * state machine of the engine, before any of it is turned into a response or an error.
 */
export type KeyClaim =
  /** The caller owns the key: run once through `execution`. */
  | { outcome: 'claimed'; execution: Execution }
  /** The key was completed earlier: replay `response` (its `body` is `null` when it was not kept). */
  | { outcome: 'completed'; response: StoredResponse }
  /** The key was used with another fingerprint; nothing was changed. */
  | { outcome: 'mismatch' }
  /** Another execution still holds the key (after waiting, when `wait` is on). */
  | { outcome: 'in_progress'; retryAfterMs: number }
  /** The store failed and `onStoreError` is `'fail-closed'`: nothing ran. */
  | { outcome: 'unavailable'; error: unknown }
  /** The store failed and `onStoreError` is `'fail-open'`: run unprotected. */
  | { outcome: 'fail-open' };

/**
 * Claims `event.storeKey` for `fingerprint`: one store round trip, repeated while `wait` allows for
 * an in-flight duplicate; reports every outcome through the hooks. Throws only for a store that
 * answers something the contract does not define.
 */
export async function claimKey(
  options: ResolvedIdempotencyOptions<never>,
  event: IdempotencyEvent,
  fingerprint: string,
): Promise<KeyClaim> {
  const { store, hooks, wait, storeTimeout } = options;
  const deadline = wait === false ? 0 : Date.now() + wait.timeoutMs;
  for (;;) {
    let result: ClaimResult;
    try {
      result = await callStore(
        'claim',
        storeTimeout,
        () => store.claim({ key: event.storeKey, fingerprint, leaseMs: options.lease, ttlMs: options.ttl }),
        (late) => undoLateClaim(options, event, late),
      );
    } catch (error) {
      const failOpen = options.onStoreError === 'fail-open';
      emit(hooks.onStoreFailure, { ...event, operation: 'claim', error, failOpen });
      return failOpen ? { outcome: 'fail-open' } : { outcome: 'unavailable', error };
    }
    switch (result.outcome) {
      case 'claimed':
        if (hooks.onClaim !== undefined) {
          emit(hooks.onClaim, { ...event, fencingToken: result.fencingToken, takeover: result.takeover });
        }
        if (result.takeover) emit(hooks.onTakeover, { ...event, fencingToken: result.fencingToken });
        return { outcome: 'claimed', execution: createExecution(options, event, result.fencingToken) };
      case 'completed': {
        const { response } = result.record;
        if (hooks.onReplay !== undefined) {
          emit(hooks.onReplay, { ...event, status: response.status, replayable: response.body !== null });
        }
        return { outcome: 'completed', response };
      }
      case 'mismatch':
        emit(hooks.onMismatch, event);
        return { outcome: 'mismatch' };
      case 'in_progress': {
        const remaining = deadline - Date.now();
        if (remaining > 0) {
          await sleep(Math.min(wait === false ? 0 : wait.pollMs, remaining));
          continue;
        }
        emit(hooks.onConflict, { ...event, retryAfterMs: result.retryAfterMs });
        return { outcome: 'in_progress', retryAfterMs: result.retryAfterMs };
      }
      default:
        throw new OncelyError(
          'ERR_ONCELY_INVALID_STORE_RESULT',
          `The store's claim() returned an unknown outcome: ${describeValue((result as { outcome?: unknown }).outcome)}.`,
        );
    }
  }
}

/** A claim given up on ("not run") that lands later owns a key nobody runs: release it. */
function undoLateClaim(
  options: ResolvedIdempotencyOptions<never>,
  event: IdempotencyEvent,
  late: ClaimResult,
): void {
  if (late.outcome !== 'claimed') return;
  const { store, storeTimeout, hooks } = options;
  const token = late.fencingToken;
  callStore('release', storeTimeout, () => store.release(event.storeKey, token)).catch((error: unknown) =>
    emit(hooks.onStoreFailure, { ...event, operation: 'release', error, failOpen: false }),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
