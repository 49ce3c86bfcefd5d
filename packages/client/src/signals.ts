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

/** A timer whose expiry aborts the scope with `reason()`. */
export interface ScopeTimer {
  ms: number;
  reason: () => unknown;
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

export function createAttemptScope(
  parent: AbortSignal | undefined,
  attemptTimer: ScopeTimer | undefined,
  deadlineTimer: ScopeTimer | undefined,
): AttemptScope {
  const controller = new AbortController();
  const { signal, unlink } = follow(parent, controller);
  const arm = (timer: ScopeTimer | undefined): ReturnType<typeof setTimeout> | undefined => {
    if (timer === undefined || !Number.isFinite(timer.ms)) return undefined;
    const handle = setTimeout(
      () => controller.abort(timer.reason()),
      Math.min(Math.max(0, timer.ms), MAX_TIMER),
    );
    // A timer that only bounds a body read must not keep a Node process alive.
    (handle as { unref?: () => void }).unref?.();
    return handle;
  };
  const attemptHandle = arm(attemptTimer);
  const deadlineHandle = arm(deadlineTimer);
  return {
    signal,
    settle() {
      clearTimeout(attemptHandle);
    },
    dispose() {
      clearTimeout(attemptHandle);
      clearTimeout(deadlineHandle);
      unlink();
    },
  };
}

/**
 * A signal that aborts when `parent` or `own` does, with the first one's reason. `AbortSignal.any`
 * (Node 20.3+, current browsers) holds the link weakly: a successful response whose body is read
 * later — or never — leaves no listener behind on a long-lived caller signal. Where it is missing, or
 * `parent` is not this realm's `AbortSignal` (e.g. jsdom's, which `any` rejects), a listener links
 * them until `unlink()`.
 */
function follow(
  parent: AbortSignal | undefined,
  own: AbortController,
): { signal: AbortSignal; unlink: () => void } {
  if (parent === undefined) return { signal: own.signal, unlink: () => undefined };
  if (typeof AbortSignal.any === 'function' && parent instanceof AbortSignal) {
    return { signal: AbortSignal.any([parent, own.signal]), unlink: () => undefined };
  }
  const onParentAbort = (): void => own.abort(parent.reason);
  if (parent.aborted) own.abort(parent.reason);
  else parent.addEventListener('abort', onParentAbort, { once: true });
  return { signal: own.signal, unlink: () => parent.removeEventListener('abort', onParentAbort) };
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
