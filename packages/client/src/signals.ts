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
  const onParentAbort = (): void => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
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
    signal: controller.signal,
    settle() {
      clearTimeout(attemptHandle);
    },
    dispose() {
      clearTimeout(attemptHandle);
      clearTimeout(deadlineHandle);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
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
