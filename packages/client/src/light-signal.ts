import { type ScopeReasons, type TimerHandle, arm } from './signals.js';

type AbortListener = (this: AttemptSignal, event: AbortEvent) => void;

/** What listeners of an {@link AttemptSignal} receive, as they would from an AbortSignal. */
interface AbortEvent {
  readonly type: 'abort';
  readonly target: AttemptSignal;
}

/**
 * The signal of one axios attempt: the shape axios takes (`GenericAbortSignal`: `aborted`, `reason`,
 * `onabort`, `addEventListener`, `removeEventListener`), without an AbortController. Every adapter
 * (http, xhr, fetch) and axios-retry only use that shape; a native AbortSignal costs an EventTarget,
 * its listeners and their garbage on every attempt — most of the integration's own CPU per call.
 * Listeners are called with the signal as `this` and an `abort` event, as an EventTarget calls them.
 */
export class AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: AbortListener | null = null;
  private listeners: AbortListener[] | undefined;

  addEventListener(type: string, listener: AbortListener): void {
    if (type === 'abort' && typeof listener === 'function') (this.listeners ??= []).push(listener);
  }

  removeEventListener(type: string, listener: AbortListener): void {
    const { listeners } = this;
    if (type !== 'abort' || listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Aborts once: every listener runs once (an abort signal fires once, so `once` needs no more). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const event: AbortEvent = { type: 'abort', target: this };
    const listeners = this.listeners;
    this.listeners = undefined;
    this.onabort?.call(this, event);
    if (listeners !== undefined) for (const listener of listeners) listener.call(this, event);
  }
}

/**
 * An attempt scope on an {@link AttemptSignal}: aborted by the caller's (native) signal, the attempt
 * timer or the deadline timer; `dispose()` stops the timers and unlinks the caller's signal. An axios
 * attempt ends before its call does (axios reads the body within the attempt), so a listener on the
 * caller's signal, removed then, is all the linking it needs.
 */
export class LightScope {
  readonly signal = new AttemptSignal();
  private attemptHandle: TimerHandle | undefined;
  private deadlineHandle: TimerHandle | undefined;
  private readonly onParentAbort: (() => void) | undefined;

  constructor(
    private readonly parent: AbortSignal | undefined,
    attemptMs: number | undefined,
    deadlineMs: number | undefined,
    readonly reasons: ScopeReasons,
  ) {
    if (parent !== undefined) {
      if (parent.aborted) this.signal.abort(parent.reason);
      else {
        this.onParentAbort = () => this.signal.abort(parent.reason);
        parent.addEventListener('abort', this.onParentAbort, { once: true });
      }
    }
    this.attemptHandle = arm(attemptMs, attemptTimerFired, this);
    this.deadlineHandle = arm(deadlineMs, deadlineTimerFired, this);
  }

  dispose(): void {
    if (this.attemptHandle !== undefined) clearTimeout(this.attemptHandle);
    if (this.deadlineHandle !== undefined) clearTimeout(this.deadlineHandle);
    this.attemptHandle = this.deadlineHandle = undefined;
    if (this.onParentAbort !== undefined) this.parent!.removeEventListener('abort', this.onParentAbort);
  }
}

function attemptTimerFired(scope: LightScope): void {
  scope.signal.abort(scope.reasons.attemptTimedOut());
}

function deadlineTimerFired(scope: LightScope): void {
  scope.signal.abort(scope.reasons.deadlineCame());
}
