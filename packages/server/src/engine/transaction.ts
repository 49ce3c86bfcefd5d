import { ProblemType } from '@oncely/core';
import type { TransactionDecision, TransactionOutcome } from '../store/types.js';
import { decideResponse } from './decide.js';
import type { ResponseDecision } from './decide.js';
import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { RETRY_AFTER_SECONDS, problemResponse } from './problems.js';
import { callStore } from './store-call.js';
import type { CapturedResponse, PreparedResponse, TransactionResult } from './types.js';

/** What {@link runTransaction} needs from the execution it belongs to. */
export interface TransactionContext {
  options: ResolvedIdempotencyOptions<never>;
  event: IdempotencyEvent;
  fencingToken: number;
  /** The store's `executeTransactionally`, bound to the claimed key and token. */
  execute: (run: () => Promise<TransactionDecision>) => Promise<TransactionOutcome>;
  /** Stops the lease heartbeat; false when the execution had already settled. */
  settle: () => boolean;
}

const SEND: TransactionResult = { action: 'send' };

/**
 * Transactional mode: the store runs `handler` in its transaction, and the engine's decision about
 * the captured response (complete or release, by the same rules as `Execution.complete`) is applied
 * in that same transaction. No store-call timeout wraps it: it spans the handler. The lease heartbeat
 * runs until the handler is done.
 *
 * Resolves to what the adapter sends: the held response when the transaction completed or released
 * the key; a 409 when it was superseded (the writes were rolled back, so the response would describe
 * effects that did not happen); a 503 when the store failed. Rejects with the handler's own error
 * after the store rolled back and released the key, for the adapter to handle as usual.
 */
export async function runTransaction(
  context: TransactionContext,
  handler: () => Promise<CapturedResponse>,
): Promise<TransactionResult> {
  const { options, event, fencingToken, settle } = context;
  const { hooks } = options;
  let started = false;
  let failure: { error: unknown } | undefined;
  let captured: CapturedResponse | undefined;
  let decision: ResponseDecision | undefined;
  let outcome: TransactionOutcome;
  try {
    outcome = await context.execute(async function runHandler(): Promise<TransactionDecision> {
      started = true;
      try {
        captured = await handler();
      } catch (error) {
        failure = { error };
        throw error;
      }
      // What remains is one statement and the commit: the lease needs no more extending.
      settle();
      decision = decideResponse(options, captured);
      return decision.action === 'release' ? { action: 'release' } : decision;
    });
  } catch (error) {
    settle();
    if (failure !== undefined) {
      // The store rolled back and released the key; the handler's error is the adapter's to handle.
      if (error !== failure.error) {
        emit(hooks.onStoreFailure, { ...event, operation: 'transaction', error, failOpen: false });
      }
      emit(hooks.onRelease, { ...event, reason: 'error' });
      throw failure.error;
    }
    emit(hooks.onStoreFailure, { ...event, operation: 'transaction', error, failOpen: false });
    // Nothing ran: free the key now rather than after the lease. Once the handler ran, only the store
    // may release (it knows whether the commit failed; a release after a commit that went through
    // would let a retry run the handler twice with some stores).
    if (!started) await releaseUnstarted(context);
    return { action: 'respond', response: storeFailure(event.idempotencyKey, started) };
  }
  settle();
  if (outcome === 'completed' && decision?.action === 'complete' && captured !== undefined) {
    if (captured.body === null) {
      emit(hooks.onOversize, {
        ...event,
        status: captured.status,
        reason: captured.notReplayable ?? 'stream',
      });
    }
    const { status, body } = decision.response;
    emit(hooks.onComplete, { ...event, fencingToken, status, replayable: body !== null });
    return SEND;
  }
  if (outcome === 'released' && decision?.action === 'release') {
    emit(hooks.onRelease, { ...event, reason: 'status', status: decision.status });
    return SEND;
  }
  if (outcome === 'superseded' && decision !== undefined) {
    emit(hooks.onFenced, { ...event, fencingToken, operation: decision.action });
    return { action: 'respond', response: superseded(event.idempotencyKey) };
  }
  // An outcome that does not match the decision is a broken store: fail closed.
  const error = new Error(`executeTransactionally resolved to an unexpected outcome: ${String(outcome)}.`);
  emit(hooks.onStoreFailure, { ...event, operation: 'transaction', error, failOpen: false });
  return { action: 'respond', response: storeFailure(event.idempotencyKey, started) };
}

async function releaseUnstarted({ options, event, fencingToken }: TransactionContext): Promise<void> {
  try {
    await callStore('release', options.storeTimeout, () =>
      options.store.release(event.storeKey, fencingToken),
    );
  } catch (error) {
    emit(options.hooks.onStoreFailure, { ...event, operation: 'release', error, failOpen: false });
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
