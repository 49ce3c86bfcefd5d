import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { selectReplayHeaders } from './replay-headers.js';
import { callStore } from './store-call.js';
import type { CapturedResponse, Execution } from './types.js';

/**
 * Statuses that say "not now" rather than "done": the key is released so a retry runs again
 * (408 Request Timeout, 409 Conflict, 423 Locked, 425 Too Early, 429 Too Many Requests).
 */
export const RELEASED_STATUSES: ReadonlySet<number> = new Set([408, 409, 423, 425, 429]);

/** The life of one claimed request: lease heartbeat, then complete or release, guarded by the token. */
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

  return {
    maxResponseBytes: options.maxResponseBytes,

    async complete(response: CapturedResponse): Promise<void> {
      if (settled) return;
      settled = true;
      stop();
      const { status } = response;
      if (RELEASED_STATUSES.has(status) || (status >= 500 && !options.replayServerErrors)) {
        await release('status', status);
        return;
      }
      const headers = selectReplayHeaders(response.headers, options.replayHeaders);
      if (response.body === null) {
        emit(hooks.onOversize, { ...event, status, reason: response.notReplayable ?? 'stream' });
      }
      try {
        const stored = await callStore('complete', storeTimeout, () =>
          store.complete(key, fencingToken, { status, headers, body: response.body }),
        );
        if (!stored) emit(hooks.onFenced, { ...event, fencingToken, operation: 'complete' });
      } catch (error) {
        emit(hooks.onStoreFailure, { ...event, operation: 'complete', error, failOpen: false });
      }
    },

    async fail(): Promise<void> {
      if (settled) return;
      settled = true;
      stop();
      await release('error');
    },

    abandon(): void {
      stop();
    },
  };
}
