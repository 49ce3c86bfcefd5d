/** Longest delay `setTimeout` takes before it overflows and fires at once (2^31 − 1 ms). */
const MAX_TIMER = 2_147_483_647;

const noop = (): void => undefined;

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

/** A caller's signal as this realm's `AbortSignal`, and how to let go of it when the call settles. */
export interface CallerSignal {
  readonly signal: AbortSignal | undefined;
  /** Unlinks a foreign signal; a no-op for a native one. */
  release(): void;
}

const NO_SIGNAL: CallerSignal = Object.freeze({ signal: undefined, release: noop });

/** What a signal from a polyfill (abort-controller), another realm or jsdom is sure to have. */
interface SignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Adopts the caller's signal. A native `AbortSignal` is used as it is. Any other (abort-controller@3,
 * jsdom, another realm) lacks `throwIfAborted` and is refused by `AbortSignal.any`, so a native signal
 * follows it through one listener, removed by `release()` when the call settles — a long-lived
 * foreign signal keeps no listener per call. Its reason is kept; a polyfill without `reason` aborts
 * with the `AbortError` a native `abort()` would give.
 */
export function adoptSignal(signal: unknown): CallerSignal {
  if (signal === undefined || signal === null) return NO_SIGNAL;
  if (signal instanceof AbortSignal && typeof signal.throwIfAborted === 'function') {
    return { signal, release: noop };
  }
  if (!isSignalLike(signal)) {
    throw new TypeError(
      '`signal` must be an AbortSignal (or an object with `aborted` and `addEventListener`).',
    );
  }
  const controller = new AbortController();
  const follow = (): void => controller.abort(foreignReason(signal));
  if (signal.aborted) {
    follow();
    return { signal: controller.signal, release: noop };
  }
  signal.addEventListener('abort', follow, { once: true });
  return { signal: controller.signal, release: () => signal.removeEventListener('abort', follow) };
}

function isSignalLike(value: unknown): value is SignalLike {
  return (
    typeof value === 'object' &&
    typeof (value as SignalLike).aborted === 'boolean' &&
    typeof (value as SignalLike).addEventListener === 'function' &&
    typeof (value as SignalLike).removeEventListener === 'function'
  );
}

function foreignReason(signal: SignalLike): unknown {
  return signal.reason !== undefined
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
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
 * or by the deadline timer. `settle()` stops the attempt timer once the response headers are in;
 * `dispose()` stops every timer and unlinks the caller's signal. Every scope is disposed by the time
 * its call has settled — or, for a body the call resolved with and the deadline still bounds, when
 * that body has been read, cancelled or cut.
 */
export interface AttemptScope {
  readonly signal: AbortSignal;
  /** Whether a deadline timer is armed (and not yet cleared or fired). */
  readonly holdsDeadline: boolean;
  settle(): void;
  dispose(): void;
}

/**
 * A scope whose attempt timer fires after `attemptMs` and deadline timer after `deadlineMs`
 * (`undefined` or not finite: none), aborting with the matching reason from `reasons`. `parent` must
 * be native (see {@link adoptSignal}).
 */
export function createAttemptScope(
  parent: AbortSignal | undefined,
  attemptMs: number | undefined,
  deadlineMs: number | undefined,
  reasons: ScopeReasons,
): AttemptScope {
  return new Scope(parent, attemptMs, deadlineMs, reasons);
}

export type TimerHandle = ReturnType<typeof setTimeout>;

/** One class, no closures: a scope is made for every attempt of every call. */
class Scope implements AttemptScope {
  readonly signal: AbortSignal;
  readonly controller = new AbortController();
  private attemptHandle: TimerHandle | undefined;
  private deadlineHandle: TimerHandle | undefined;
  /** The listener that links the caller's signal where `AbortSignal.any` is missing. */
  private onParentAbort: (() => void) | undefined;

  constructor(
    private readonly parent: AbortSignal | undefined,
    attemptMs: number | undefined,
    deadlineMs: number | undefined,
    readonly reasons: ScopeReasons,
  ) {
    // `AbortSignal.any` (Node 20.3+, current browsers) holds the link to the caller's signal weakly: a
    // response whose body is read later — or never — leaves no listener on a long-lived caller signal,
    // and the caller's abort still reaches that body read. Where it is missing, a listener links them
    // until `dispose()`.
    const own = this.controller;
    if (parent === undefined) {
      this.signal = own.signal;
    } else if (typeof AbortSignal.any === 'function') {
      this.signal = AbortSignal.any([parent, own.signal]);
    } else {
      this.signal = own.signal;
      if (parent.aborted) own.abort(parent.reason);
      else {
        const onParentAbort = (): void => own.abort(parent.reason);
        parent.addEventListener('abort', onParentAbort, { once: true });
        this.onParentAbort = onParentAbort;
      }
    }
    this.attemptHandle = arm(attemptMs, attemptTimerFired, this);
    this.deadlineHandle = arm(deadlineMs, deadlineTimerFired, this);
  }

  get holdsDeadline(): boolean {
    return this.deadlineHandle !== undefined;
  }

  settle(): void {
    if (this.attemptHandle === undefined) return;
    clearTimeout(this.attemptHandle);
    this.attemptHandle = undefined;
  }

  dispose(): void {
    this.settle();
    if (this.deadlineHandle !== undefined) {
      clearTimeout(this.deadlineHandle);
      this.deadlineHandle = undefined;
    }
    if (this.onParentAbort !== undefined) {
      this.parent!.removeEventListener('abort', this.onParentAbort);
      this.onParentAbort = undefined;
    }
  }
}

/** A timer calling `fire(target)` after `ms` (none when `ms` is undefined or not finite), unref'd. */
export function arm<T>(
  ms: number | undefined,
  fire: (target: T) => void,
  target: T,
): TimerHandle | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const handle = setTimeout(fire, Math.min(Math.max(0, ms), MAX_TIMER), target);
  // A timer that only bounds a body read must not keep a Node process alive.
  (handle as { unref?: () => void }).unref?.();
  return handle;
}

function attemptTimerFired(scope: Scope): void {
  scope.controller.abort(scope.reasons.attemptTimedOut());
}

function deadlineTimerFired(scope: Scope): void {
  scope.controller.abort(scope.reasons.deadlineCame());
  scope.dispose();
}

/** Settles like `promise`, or rejects with `signal.reason` as soon as `signal` aborts. */
export function raceWithSignal<T>(promise: PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return Promise.resolve(promise);
  if (signal.aborted) {
    // Left to settle on its own: its rejection must not surface as unhandled.
    Promise.resolve(promise).catch(noop);
    return Promise.reject(signal.reason as Error);
  }
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
