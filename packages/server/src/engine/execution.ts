import { deadline, deadlineQueue } from './deadlines.js';
import type { Deadline, DeadlineQueue } from './deadlines.js';
import { decideResponse } from './decide.js';
import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { callStore } from './store-call.js';
import { runTransaction } from './transaction.js';
import type { CapturedResponse, Execution, TransactionResult } from './types.js';

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
  return typeof options.store.executeTransactionally === 'function'
    ? new TransactionalClaim(options, event, fencingToken)
    : new Claim(options, event, fencingToken);
}

/** One claimed key. A class, so a request allocates one object rather than a set of closures. */
class Claim implements Execution {
  readonly maxResponseBytes: number;
  protected readonly options: ResolvedIdempotencyOptions<never>;
  protected readonly event: IdempotencyEvent;
  protected readonly fencingToken: number;
  #settled = false;
  #extending = false;
  readonly #heartbeat: Deadline;
  readonly #beats: DeadlineQueue;

  constructor(options: ResolvedIdempotencyOptions<never>, event: IdempotencyEvent, fencingToken: number) {
    this.options = options;
    this.event = event;
    this.fencingToken = fencingToken;
    this.maxResponseBytes = options.maxResponseBytes;
    // Extend at a third of the lease, so two missed beats still leave time before it expires. The
    // beats of all requests share one timer that never keeps the process alive on its own.
    this.#beats = deadlineQueue(Math.max(1, Math.floor(options.lease / 3)), false);
    this.#heartbeat = deadline(() => this.#beat());
    this.#beats.add(this.#heartbeat);
  }

  #beat(): void {
    this.#beats.add(this.#heartbeat);
    if (this.#extending) return;
    this.#extending = true;
    const { store, hooks, lease, storeTimeout } = this.options;
    const { event, fencingToken } = this;
    callStore('extend', storeTimeout, () => store.extend(event.storeKey, fencingToken, lease))
      .then((extended) => {
        if (extended || this.#settled) return;
        this.abandon();
        emit(hooks.onFenced, { ...event, fencingToken, operation: 'extend' });
      })
      .catch((error: unknown) => {
        emit(hooks.onStoreFailure, { ...event, operation: 'extend', error, failOpen: false });
      })
      .finally(() => {
        this.#extending = false;
      });
  }

  /** Marks the execution settled; false when it already was (a second report is ignored). */
  protected settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.abandon();
    return true;
  }

  async #release(reason: 'error' | 'status', status?: number): Promise<void> {
    const { store, hooks, storeTimeout } = this.options;
    const { event, fencingToken } = this;
    try {
      const released = await callStore('release', storeTimeout, () =>
        store.release(event.storeKey, fencingToken),
      );
      if (!released) {
        emit(hooks.onFenced, { ...event, fencingToken, operation: 'release' });
        return;
      }
      if (hooks.onRelease !== undefined) {
        emit(hooks.onRelease, status === undefined ? { ...event, reason } : { ...event, reason, status });
      }
    } catch (error) {
      emit(hooks.onStoreFailure, { ...event, operation: 'release', error, failOpen: false });
    }
  }

  async complete(response: CapturedResponse): Promise<void> {
    if (!this.settle()) return;
    const { options, event, fencingToken } = this;
    const { store, hooks, storeTimeout } = options;
    const decision = decideResponse(options, response);
    if (decision.action === 'release') return this.#release('status', decision.status);
    if (response.body === null) {
      emit(hooks.onOversize, {
        ...event,
        status: response.status,
        reason: response.notReplayable ?? 'stream',
      });
    }
    try {
      const stored = await callStore('complete', storeTimeout, () =>
        store.complete(event.storeKey, fencingToken, decision.response),
      );
      if (!stored) emit(hooks.onFenced, { ...event, fencingToken, operation: 'complete' });
      else if (hooks.onComplete !== undefined) {
        const { status, body } = decision.response;
        emit(hooks.onComplete, { ...event, fencingToken, status, replayable: body !== null });
      }
    } catch (error) {
      emit(hooks.onStoreFailure, { ...event, operation: 'complete', error, failOpen: false });
    }
  }

  async fail(): Promise<void> {
    if (!this.settle()) return;
    await this.#release('error');
  }

  abandon(): void {
    this.#beats.remove(this.#heartbeat);
  }
}

/** A claim on a transactional store: the adapter drives it through `transact`. */
class TransactionalClaim extends Claim {
  transact(handler: () => Promise<CapturedResponse>): Promise<TransactionResult> {
    const { options, event, fencingToken } = this;
    const { store } = options;
    return runTransaction(
      {
        options,
        event,
        fencingToken,
        // Called as a method: the store may rely on `this`.
        execute: (run) => store.executeTransactionally!.call(store, event.storeKey, fencingToken, run),
        settle: () => this.settle(),
      },
      handler,
    );
  }
}
