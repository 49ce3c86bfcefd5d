import { OncelyError, ProblemType } from '@oncely/core';
import type { TransactionDecision, TransactionOutcome } from '../store/types.js';
import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { RETRY_AFTER_SECONDS, problemResponse } from './problems.js';
import { callStore } from './store-call.js';
import type { PreparedResponse, Settlement } from './types.js';

/** What a {@link TransactionBridge} needs from the claim it belongs to. */
export interface TransactionContext {
  options: ResolvedIdempotencyOptions<never>;
  event: IdempotencyEvent;
  fencingToken: number;
  /** The store's `executeTransactionally`, bound to the claimed key and token. */
  execute: (run: () => Promise<TransactionDecision>) => Promise<TransactionOutcome>;
  /** The handler was invoked inside the transaction: its result (a promise to follow), or it threw. */
  onHandler: (result: unknown, threw: boolean) => void;
  /** The transaction is over: what the adapter sends. */
  onSettled: (settlement: Settlement) => void;
}

/** Code of the error a transaction is rolled back with when the engine gives its execution up. */
export const EXECUTION_ABORTED = 'ERR_ONCELY_EXECUTION_ABORTED';

const SEND: Settlement = { action: 'send' };
const DISCARD: Settlement = { action: 'discard' };

/**
 * Transactional mode: the store runs the handler in its transaction, and the claim's decision about
 * the response (complete or release, by the usual rules) is applied in that same transaction. No
 * store-call timeout wraps it: it spans the handler; `maxExecution` bounds it instead (the engine then
 * rolls it back through {@link TransactionBridge.abort}, which returns its pooled connection).
 *
 * Settles to: `send` when the transaction completed or released the key; `respond` with a 409 when it
 * was superseded (the writes were rolled back, so the response would describe effects that did not
 * happen), a 503 when the store failed or the execution was given up; `discard` when the handler threw
 * (rolled back and released; `run` rejects with the handler's error for the framework to answer).
 */
export class TransactionBridge {
  readonly #context: TransactionContext;
  #decide!: (decision: TransactionDecision) => void;
  #reject!: (error: unknown) => void;
  readonly #decision: Promise<TransactionDecision>;
  #started = false;
  #failure: { error: unknown } | undefined;
  #status: number | undefined;
  #replayable = false;
  #aborted: 'max-execution' | 'timed-out' | 'closed' | undefined;

  constructor(context: TransactionContext) {
    this.#context = context;
    this.#decision = new Promise<TransactionDecision>((resolve, reject) => {
      this.#decide = resolve;
      this.#reject = reject;
    });
    // Rejected before the store awaits it (an abort before BEGIN): never an unhandled rejection.
    this.#decision.catch(() => undefined);
  }

  /** Whether the store began the transaction and the handler was invoked. */
  get started(): boolean {
    return this.#started;
  }

  /**
   * Begins the transaction and invokes the handler inside it. Resolves as the handler does; rejects
   * with the handler's error once the transaction was rolled back. Never settles when the handler did
   * not run (the transaction could not begin): the claim's `settled` says what to answer then.
   */
  run<T>(invoke: () => T): Promise<Awaited<T>> {
    const { onHandler } = this.#context;
    return new Promise<Awaited<T>>((resolve, reject) => {
      const outcome = this.#context.execute(async () => {
        // Given up while the transaction began: the handler must not run any more.
        if (this.#aborted !== undefined)
          throw new OncelyError(EXECUTION_ABORTED, 'The execution was given up.');
        this.#started = true;
        let result: T;
        try {
          result = invoke();
        } catch (error) {
          this.#failure = { error };
          onHandler(error, true);
          throw error;
        }
        // Registered before the claim follows `result`, so its failure is known when the claim settles.
        Promise.resolve(result).then(
          (value) => resolve(value),
          (error: unknown) => {
            this.#failure ??= { error };
          },
        );
        onHandler(result, false);
        return this.#decision;
      });
      void outcome.then(
        (result) => this.#settled(result),
        (error: unknown) => {
          this.#failed(error);
          if (this.#failure !== undefined) reject(this.#failure.error);
        },
      );
    });
  }

  /** Applies the claim's decision in the transaction. */
  decide(decision: TransactionDecision, status: number): void {
    this.#status = status;
    this.#replayable = decision.action === 'complete' && decision.response.body !== null;
    this.#decide(decision);
  }

  /** The handler threw: roll back and release, rethrowing its error. */
  fail(error: unknown): void {
    this.#failure ??= { error };
    this.#reject(this.#failure.error);
  }

  /** The engine gives the execution up: roll back (the store releases the key) and free the connection. */
  abort(reason: 'max-execution' | 'timed-out' | 'closed'): void {
    this.#aborted = reason;
    this.#reject(
      new OncelyError(
        EXECUTION_ABORTED,
        reason === 'max-execution'
          ? `The execution ran longer than maxExecution (${this.#context.options.maxExecution} ms): rolled back.`
          : "The response ended before the handler's answer: rolled back.",
      ),
    );
    if (!this.#started)
      void this.#releaseUnstarted().then(() => this.#context.onSettled(this.#abortAnswer()));
  }

  #settled(outcome: TransactionOutcome): void {
    const { options, event, fencingToken, onSettled } = this.#context;
    const { hooks } = options;
    const status = this.#status ?? 0;
    if (outcome === 'completed') {
      emit(hooks.onComplete, { ...event, fencingToken, status, replayable: this.#replayable });
      return onSettled(SEND);
    }
    if (outcome === 'released') {
      emit(hooks.onRelease, { ...event, reason: 'status', status });
      return onSettled(SEND);
    }
    if (outcome === 'superseded') {
      emit(hooks.onFenced, { ...event, fencingToken, operation: 'complete' });
      return onSettled({ action: 'respond', response: superseded(event.idempotencyKey) });
    }
    // An outcome the store does not define is a broken store: fail closed.
    const error = new Error(`executeTransactionally resolved to an unexpected outcome: ${String(outcome)}.`);
    emit(hooks.onStoreFailure, { ...event, operation: 'transaction', error, failOpen: false });
    onSettled({ action: 'respond', response: storeFailure(event.idempotencyKey, true) });
  }

  #failed(error: unknown): void {
    const { options, event, onSettled } = this.#context;
    const { hooks } = options;
    if (this.#aborted !== undefined) {
      if (this.#started) onSettled(this.#abortAnswer());
      return;
    }
    if (this.#failure !== undefined) {
      // The store rolled back and released the key; the handler's error is the adapter's to handle.
      if (error !== this.#failure.error) {
        emit(hooks.onStoreFailure, { ...event, operation: 'transaction', error, failOpen: false });
      }
      emit(hooks.onRelease, { ...event, reason: 'error' });
      return onSettled(DISCARD);
    }
    emit(hooks.onStoreFailure, { ...event, operation: 'transaction', error, failOpen: false });
    // Nothing ran: free the key now rather than after the lease. Once the handler ran, only the store
    // may release (it knows whether the commit failed; a release after a commit that went through
    // would let a retry run the handler twice with some stores).
    if (!this.#started) {
      void this.#releaseUnstarted().then(() =>
        onSettled({ action: 'respond', response: storeFailure(event.idempotencyKey, false) }),
      );
      return;
    }
    onSettled({ action: 'respond', response: storeFailure(event.idempotencyKey, true) });
  }

  #abortAnswer(): Settlement {
    const { event } = this.#context;
    const detail =
      this.#aborted === 'max-execution'
        ? 'The request ran longer than it may hold its Idempotency-Key (maxExecution); its writes were rolled back.'
        : "The response ended before the handler's answer; its writes were rolled back.";
    return {
      action: 'respond',
      response: problemResponse(
        ProblemType.storeUnavailable,
        { detail, idempotencyKey: event.idempotencyKey },
        [['retry-after', RETRY_AFTER_SECONDS]],
      ),
    };
  }

  async #releaseUnstarted(): Promise<void> {
    const { options, event, fencingToken } = this.#context;
    try {
      await callStore('release', options.storeTimeout, () =>
        options.store.release(event.storeKey, fencingToken),
      );
    } catch (error) {
      emit(options.hooks.onStoreFailure, { ...event, operation: 'release', error, failOpen: false });
    }
  }
}

function superseded(idempotencyKey: string): PreparedResponse {
  return problemResponse(
    ProblemType.requestInProgress,
    {
      detail:
        'This request ran past its lease and another request with the same Idempotency-Key took over; ' +
        'its writes were rolled back. Retry to get the result.',
      idempotencyKey,
    },
    [['retry-after', RETRY_AFTER_SECONDS]],
  );
}

function storeFailure(idempotencyKey: string, started: boolean): PreparedResponse {
  const detail = started
    ? 'The outcome of this request could not be committed; its writes were rolled back unless the ' +
      'commit went through. A retry replays the committed result, or runs the request again.'
    : 'The request was not run: its transaction could not be started.';
  return problemResponse(ProblemType.storeUnavailable, { detail, idempotencyKey }, [
    ['retry-after', RETRY_AFTER_SECONDS],
  ]);
}
