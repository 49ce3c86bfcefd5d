import type { StoredResponse } from '../store/types.js';
import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { callStore } from './store-call.js';

/** Tries of `complete()` before the claim is left to its lease, and the pauses between them (ms). */
export const COMPLETE_ATTEMPTS = 3;
const COMPLETE_PAUSES_MS = [100, 400];

/** A claimed key: what every store call on it needs. */
export interface ClaimedKey {
  options: ResolvedIdempotencyOptions<never>;
  event: IdempotencyEvent;
  fencingToken: number;
}

/** Extends the lease; false when the token was refused (taken over). Store failures go to the hooks. */
export async function extendClaim({ options, event, fencingToken }: ClaimedKey): Promise<boolean> {
  const { store, hooks, lease, storeTimeout } = options;
  try {
    const extended = await callStore('extend', storeTimeout, () =>
      store.extend(event.storeKey, fencingToken, lease),
    );
    return extended;
  } catch (error) {
    emit(hooks.onStoreFailure, { ...event, operation: 'extend', error, failOpen: false });
    return true;
  }
}

/**
 * Completes, retrying a failed store call (the caller keeps the lease extended meanwhile): at most
 * {@link COMPLETE_ATTEMPTS} tries. Every failure goes to `onStoreFailure`; after the last one the key
 * is left to its lease.
 */
export async function completeClaim(
  { options, event, fencingToken }: ClaimedKey,
  response: StoredResponse,
): Promise<void> {
  const { store, hooks, storeTimeout } = options;
  for (let attempt = 0; attempt < COMPLETE_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(COMPLETE_PAUSES_MS[attempt - 1] ?? 0);
    try {
      const stored = await callStore('complete', storeTimeout, () =>
        store.complete(event.storeKey, fencingToken, response),
      );
      if (!stored) emit(hooks.onFenced, { ...event, fencingToken, operation: 'complete' });
      else if (hooks.onComplete !== undefined) {
        const { status, body } = response;
        emit(hooks.onComplete, { ...event, fencingToken, status, replayable: body !== null });
      }
      return;
    } catch (error) {
      emit(hooks.onStoreFailure, { ...event, operation: 'complete', error, failOpen: false });
    }
  }
}

/** Releases the key so a retry runs again. Never throws: store trouble goes to the hooks. */
export async function releaseClaim(
  { options, event, fencingToken }: ClaimedKey,
  reason: 'error' | 'status',
  status?: number,
): Promise<void> {
  const { store, hooks, storeTimeout } = options;
  try {
    const released = await callStore('release', storeTimeout, () =>
      store.release(event.storeKey, fencingToken),
    );
    if (!released) {
      emit(hooks.onFenced, { ...event, fencingToken, operation: 'release' });
      return;
    }
    if (hooks.onRelease !== undefined) {
      const released =
        reason === 'error' || status === undefined ? { ...event, reason } : { ...event, reason, status };
      emit(hooks.onRelease, released);
    }
  } catch (error) {
    emit(hooks.onStoreFailure, { ...event, operation: 'release', error, failOpen: false });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
