import { toStoredResponse } from './decide.js';
import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import { LeaseKeeper } from './lease.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { ResponseRecorder } from './recorder.js';
import { nextStep } from './settle.js';
import type { HandlerState, Step } from './settle.js';
import { completeClaim, extendClaim, releaseClaim } from './claim-store.js';
import type { ClaimedKey } from './claim-store.js';
import { decideStore } from './should-store.js';
import type { StoreDecision } from './should-store.js';
import { TransactionBridge } from './transaction.js';
import type { Execution, ResponseHeaders, Settlement } from './types.js';

export { COMPLETE_ATTEMPTS } from './claim-store.js';

const SEND: Settlement = { action: 'send' };

/** The life of one claimed request; see {@link Execution}. */
export function createExecution(
  options: ResolvedIdempotencyOptions<never>,
  event: IdempotencyEvent,
  fencingToken: number,
): Execution {
  return new Claim(options, event, fencingToken);
}

/**
 * One claimed key, from the claim to its settlement. Everything an adapter reports lands here, and
 * {@link nextStep} says what follows; the claim settles once: completed, released, or left to its lease.
 */
class Claim implements Execution {
  readonly maxResponseBytes: number;
  readonly transactional: boolean;
  readonly settled: Promise<Settlement>;
  readonly #options: ResolvedIdempotencyOptions<never>;
  readonly #event: IdempotencyEvent;
  readonly #claimed: ClaimedKey;
  readonly #recorder: ResponseRecorder;
  readonly #lease: LeaseKeeper;
  readonly #transaction: TransactionBridge | undefined;
  #resolveSettled!: (settlement: Settlement) => void;
  #gate: Promise<Settlement> | undefined;
  #openGate: ((settlement: Settlement) => void) | undefined;
  #handler: HandlerState = 'untracked';
  #handlerError: unknown;
  #response: 'open' | 'ended' | 'closed' = 'open';
  #timedOut = false;
  #decision: StoreDecision | undefined;
  /** `held`: the heartbeat stopped, the claim waits for its lease to run out (or a late end). */
  #phase: 'open' | 'held' | 'settling' | 'settled' = 'open';
  #extending = false;

  constructor(options: ResolvedIdempotencyOptions<never>, event: IdempotencyEvent, fencingToken: number) {
    this.#options = options;
    this.#event = event;
    this.#claimed = { options, event, fencingToken };
    this.maxResponseBytes = options.maxResponseBytes;
    this.#recorder = new ResponseRecorder(options.maxResponseBytes);
    this.settled = new Promise((resolve) => (this.#resolveSettled = resolve));
    const { store } = options;
    this.transactional = typeof store.executeTransactionally === 'function';
    this.#transaction = this.transactional
      ? new TransactionBridge({
          options,
          event,
          fencingToken,
          // Called as a method: the store may rely on `this`.
          execute: (run) => store.executeTransactionally!.call(store, event.storeKey, fencingToken, run),
          onHandler: (result, threw) => {
            if (threw) this.#handlerError = result;
            this.#handlerStarted(result, threw);
          },
          onSettled: (settlement) => this.#finish(settlement),
        })
      : undefined;
    this.#lease = new LeaseKeeper(
      options.lease,
      options.maxExecution,
      () => this.#beat(),
      () => this.#hold('max-execution'),
    );
  }

  get keepsBody(): boolean {
    return this.#recorder.notReplayable === undefined;
  }

  run<T>(invoke: () => T): Promise<Awaited<T>> {
    if (this.#transaction !== undefined) return this.#transaction.run(invoke);
    let result: T;
    try {
      result = invoke();
    } catch (error) {
      this.#handlerError = error;
      this.#handlerStarted(undefined, true);
      return Promise.reject(error);
    }
    this.#handlerStarted(result, false);
    return Promise.resolve(result);
  }

  track(handler: PromiseLike<unknown>): void {
    this.#handlerStarted(handler, false);
  }

  /** Follows the handler's end when it returned a promise; a plain value leaves it untracked. */
  #handlerStarted(result: unknown, threw: boolean): void {
    if (threw) {
      this.#handlerEnded('threw');
      return;
    }
    if (!isThenable(result)) return;
    this.#handler = 'running';
    result.then(
      () => this.#handlerEnded('returned'),
      (error: unknown) => {
        this.#handlerError = error;
        this.#handlerEnded('threw');
      },
    );
  }

  #handlerEnded(state: 'returned' | 'threw'): void {
    this.#handler = state;
    this.#evaluate();
  }

  head(status: number, headers: ResponseHeaders): void {
    if (!this.#recorder.head(status, headers)) return;
    const { shouldStore } = this.#options;
    if (shouldStore !== undefined) {
      this.#decision = decideStore(shouldStore, status, headers);
      if (this.#decision === 'store-without-body') this.#recorder.decline();
    }
    this.#evaluate();
  }

  write(chunk: Uint8Array, owned = false): void {
    const kept = this.keepsBody;
    this.#recorder.write(chunk, owned);
    if (kept && !this.keepsBody) this.#evaluate();
  }

  end(): Promise<Settlement> {
    const gate = this.#endGate();
    if (this.#response !== 'ended') {
      this.#response = 'ended';
      this.#evaluate();
    }
    return gate;
  }

  close(): void {
    if (this.#response !== 'open') return;
    this.#response = 'closed';
    this.#evaluate();
  }

  timedOut(): void {
    this.#timedOut = true;
    this.#evaluate();
  }

  cancel(): void {
    if (this.#phase === 'settling' || this.#phase === 'settled') return;
    // A transaction under way is rolled back (the store releases the key and frees its connection).
    if (this.#transaction?.started === true) return this.#hold('closed');
    this.#phase = 'settling';
    this.#lease.stop();
    void releaseClaim(this.#claimed, 'error').then(() => this.#finish(SEND));
  }

  /** Resolves once the claim settled, or as soon as it was decided to wait for the handler or the lease. */
  #endGate(): Promise<Settlement> {
    if (this.#phase === 'settled') return this.settled;
    this.#gate ??= new Promise<Settlement>((resolve) => {
      this.#openGate = resolve;
      void this.settled.then(resolve);
    });
    if (this.#phase === 'held') this.#openGate?.(SEND);
    return this.#gate;
  }

  #evaluate(): void {
    if (this.#phase === 'settling' || this.#phase === 'settled') return;
    const step = nextStep({
      response: this.#response,
      // In transactional mode nothing leaves before the commit: a closed response sent nothing.
      committed: this.#recorder.headed && !(this.transactional && this.#response === 'closed'),
      status: this.#recorder.status,
      notReplayable: this.#recorder.notReplayable,
      decision: this.#decision,
      handler: this.#handler,
      timedOut: this.#timedOut,
      transactional: this.transactional,
      replayServerErrors: this.#options.replayServerErrors,
    });
    if (step === 'wait') {
      // The response ended but the handler still runs: let the answer go, settle when the handler ends.
      if (this.#response !== 'open') this.#openGate?.(SEND);
      return;
    }
    if (step === 'hold') {
      if (this.#phase === 'open')
        this.#hold(this.#timedOut && this.#response === 'ended' ? 'timed-out' : 'closed');
      return;
    }
    this.#settle(step);
  }

  #settle(step: Exclude<Step, 'wait' | 'hold'>): void {
    this.#phase = 'settling';
    const threw = step === 'release' && this.#handler === 'threw';
    if (step === 'cut') this.#recorder.cut();
    const captured = this.#recorder.captured();
    const response = toStoredResponse(this.#options, captured);
    if (step !== 'release' && response.body === null) {
      emit(this.#options.hooks.onOversize, {
        ...this.#event,
        status: response.status,
        reason: captured.notReplayable ?? 'stream',
      });
    }
    if (this.#transaction !== undefined) {
      this.#lease.stop();
      if (threw) this.#transaction.fail(this.#handlerError);
      else if (step === 'release') this.#transaction.decide({ action: 'release' }, response.status);
      else this.#transaction.decide({ action: 'complete', response }, response.status);
      return;
    }
    const done =
      step === 'release'
        ? (this.#lease.stop(), releaseClaim(this.#claimed, threw ? 'error' : 'status', response.status))
        : completeClaim(this.#claimed, response);
    // #finish stops the lease, which is extended meanwhile (a completion may be retried).
    void done.then(() => this.#finish(SEND));
  }

  /** The handler may still run and its end cannot be seen (or it ran past `maxExecution`). */
  #hold(reason: 'max-execution' | 'timed-out' | 'closed'): void {
    if (this.#phase !== 'open') return;
    this.#lease.stop();
    emit(this.#options.hooks.onAbandon, { ...this.#event, reason });
    if (this.#transaction !== undefined) {
      // A held transaction keeps its pooled connection: roll it back and give the connection back.
      this.#phase = 'settling';
      this.#transaction.abort(reason);
      return;
    }
    this.#phase = 'held';
    this.#openGate?.(SEND);
  }

  #finish(settlement: Settlement): void {
    this.#phase = 'settled';
    this.#lease.stop();
    this.#resolveSettled(settlement);
  }

  #beat(): void {
    if (this.#extending) return;
    this.#extending = true;
    void extendClaim(this.#claimed)
      .then((extended) => {
        // Refused by the token: another request took the key over; stop extending.
        if (extended || this.#phase === 'settled') return;
        this.#lease.stop();
        const { event, fencingToken } = this.#claimed;
        emit(this.#options.hooks.onFenced, { ...event, fencingToken, operation: 'extend' });
      })
      .finally(() => {
        this.#extending = false;
      });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
