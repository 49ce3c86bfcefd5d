/** Longest delay `setTimeout` takes before it overflows and fires at once (2^31 − 1 ms). */
const MAX_TIMER = 2_147_483_647;

/**
 * Sleeps `ms`, or rejects with `signal.reason` — exactly that value — the moment `signal` aborts,
 * so an abort during a long backoff settles at once.
 */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.min(Math.max(0, ms), MAX_TIMER),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What a scope's timers abort it with: asked only when one fires. */
export interface ScopeReasons {
  /** The reason of an attempt cut by `attemptTimeout`. */
  attemptTimedOut(): unknown;
  /** The reason of an attempt cut by the deadline. */
  deadlineCame(): unknown;
}

/**
 * The signal of one attempt: aborted by the caller's signal (with its reason), by the attempt timer,
 * or by the deadline timer. `settle()` stops the attempt timer once the response headers are in, but
 * keeps the caller's signal and the deadline wired, so they still bound the body read. `dispose()`
 * unwires everything.
 */
export interface AttemptScope {
  readonly signal: AbortSignal;
  settle(): void;
  dispose(): void;
}

/**
 * A scope whose attempt timer fires after `attemptMs` and deadline timer after `deadlineMs`
 * (`undefined` or not finite: none), aborting with the matching reason from `reasons`.
 */
export function createAttemptScope(
  parent: AbortSignal | undefined,
  attemptMs: number | undefined,
  deadlineMs: number | undefined,
  reasons: ScopeReasons,
): AttemptScope {
  return new Scope(parent, attemptMs, deadlineMs, reasons);
}

type TimerHandle = ReturnType<typeof setTimeout>;

/** One class, no closures: a scope is made for every attempt of every call. */
class Scope implements AttemptScope {
  readonly signal: AbortSignal;
  readonly controller = new AbortController();
  private readonly attemptHandle: TimerHandle | undefined;
  private readonly deadlineHandle: TimerHandle | undefined;
  /** The listener that links a caller's signal `AbortSignal.any` cannot take (see the constructor). */
  private readonly onParentAbort: (() => void) | undefined;

  constructor(
    private readonly parent: AbortSignal | undefined,
    attemptMs: number | undefined,
    deadlineMs: number | undefined,
    readonly reasons: ScopeReasons,
  ) {
    // `AbortSignal.any` (Node 20.3+, current browsers) holds the link to the caller's signal weakly, so
    // a successful response whose body is read later — or never — leaves no listener behind on a
    // long-lived caller signal. Where it is missing, or the signal is not this realm's `AbortSignal`
    // (e.g. jsdom's, which `any` rejects), a listener links them until `dispose()`.
    const own = this.controller;
    if (parent === undefined) {
      this.signal = own.signal;
    } else if (typeof AbortSignal.any === 'function' && parent instanceof AbortSignal) {
      this.signal = AbortSignal.any([parent, own.signal]);
    } else {
      this.signal = own.signal;
      const onParentAbort = (): void => own.abort(parent.reason);
      if (parent.aborted) own.abort(parent.reason);
      else {
        parent.addEventListener('abort', onParentAbort, { once: true });
        this.onParentAbort = onParentAbort;
      }
    }
    this.attemptHandle = arm(attemptMs, attemptTimerFired, this);
    this.deadlineHandle = arm(deadlineMs, deadlineTimerFired, this);
  }

  settle(): void {
    clearTimeout(this.attemptHandle);
  }

  dispose(): void {
    clearTimeout(this.attemptHandle);
    clearTimeout(this.deadlineHandle);
    if (this.onParentAbort !== undefined) this.parent!.removeEventListener('abort', this.onParentAbort);
  }
}

function arm(ms: number | undefined, fire: (scope: Scope) => void, scope: Scope): TimerHandle | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const handle = setTimeout(fire, Math.min(Math.max(0, ms), MAX_TIMER), scope);
  // A timer that only bounds a body read must not keep a Node process alive.
  (handle as { unref?: () => void }).unref?.();
  return handle;
}

function attemptTimerFired(scope: Scope): void {
  scope.controller.abort(scope.reasons.attemptTimedOut());
}

function deadlineTimerFired(scope: Scope): void {
  scope.controller.abort(scope.reasons.deadlineCame());
}

/** Settles like `promise`, or rejects with `signal.reason` as soon as `signal` aborts. */
export function raceWithSignal<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
