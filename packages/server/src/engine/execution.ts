import { decideResponse } from './decide.js';
import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { callStore } from './store-call.js';
import { runTransaction } from './transaction.js';
import type { CapturedResponse, Execution } from './types.js';

export { RELEASED_STATUSES } from './decide.js';

/**
 * The life of one claimed request: lease heartbeat, then complete or release, guarded by the token.
 * With a transactional store, `transact` replaces `complete`/`fail` (see {@link runTransaction}).
 */
export function createExecution(
  options: ResolvedIdempotencyOptions<never>,
  event: IdempotencyEvent,
  fencingToken: number,
): Execution {
  const { store, hooks, lease, storeTimeout } = options;
  const key = event.storeKey;
  let settled = false;
  let extending = false;

  // Extend at a third of the lease, so two missed beats still leave time before it expires.
  const heartbeat = setInterval(
    () => {
      if (extending) return;
      extending = true;
      callStore('extend', storeTimeout, () => store.extend(key, fencingToken, lease))
        .then((extended) => {
          if (extended || settled) return;
          stop();
          emit(hooks.onFenced, { ...event, fencingToken, operation: 'extend' });
        })
        .catch((error: unknown) => {
          emit(hooks.onStoreFailure, { ...event, operation: 'extend', error, failOpen: false });
        })
        .finally(() => {
          extending = false;
        });
    },
    Math.max(1, Math.floor(lease / 3)),
  );
  // A heartbeat must never keep a process alive on its own.
  heartbeat.unref?.();

  function stop(): void {
    clearInterval(heartbeat);
  }

  /** Marks the execution settled; false when it already was (a second report is ignored). */
  function settle(): boolean {
    if (settled) return false;
    settled = true;
    stop();
    return true;
  }

  async function release(reason: 'error' | 'status', status?: number): Promise<void> {
    try {
      const released = await callStore('release', storeTimeout, () => store.release(key, fencingToken));
      if (!released) {
        emit(hooks.onFenced, { ...event, fencingToken, operation: 'release' });
        return;
      }
      emit(hooks.onRelease, status === undefined ? { ...event, reason } : { ...event, reason, status });
    } catch (error) {
      emit(hooks.onStoreFailure, { ...event, operation: 'release', error, failOpen: false });
    }
  }

  const execution: Execution = {
    maxResponseBytes: options.maxResponseBytes,

    async complete(response: CapturedResponse): Promise<void> {
      if (!settle()) return;
      const decision = decideResponse(options, response);
      if (decision.action === 'release') {
        await release('status', decision.status);
        return;
      }
      if (response.body === null) {
        emit(hooks.onOversize, {
          ...event,
          status: response.status,
          reason: response.notReplayable ?? 'stream',
        });
      }
      try {
        const stored = await callStore('complete', storeTimeout, () =>
          store.complete(key, fencingToken, decision.response),
        );
        if (!stored) emit(hooks.onFenced, { ...event, fencingToken, operation: 'complete' });
      } catch (error) {
        emit(hooks.onStoreFailure, { ...event, operation: 'complete', error, failOpen: false });
      }
    },

    async fail(): Promise<void> {
      if (!settle()) return;
      await release('error');
    },

    abandon(): void {
      stop();
    },
  };

  const { executeTransactionally } = store;
  if (typeof executeTransactionally === 'function') {
    execution.transact = (handler) =>
      runTransaction(
        {
          options,
          event,
          fencingToken,
          // Called as a method: the store may rely on `this`.
          execute: (run) => executeTransactionally.call(store, key, fencingToken, run),
          settle,
        },
        handler,
      );
  }
  return execution;
}
