import { invalidOptionError } from '@oncely/core';
import type { GiveUpEvent, RetryEvent, SuccessEvent } from '../options.js';

/**
 * Telemetry of a client: told when each logical call starts, it returns the listener of that call.
 * `openTelemetry()` from '@oncely/client/otel' is one; the main entry never imports OpenTelemetry.
 */
export interface ClientTelemetry {
  /** A logical call starts, before its first attempt. Returns the listener of its events, or nothing. */
  startCall(start: CallStart): CallObserver | undefined;
}

/** What is known when a call starts. */
export interface CallStart {
  /** The key sent with every attempt (`undefined` when the call sends none). */
  idempotencyKey: string | undefined;
}

/** Listens to one logical call. Whatever it throws is ignored. */
export interface CallObserver {
  /** An attempt failed and another follows after `event.delay` ms. */
  onRetry(event: RetryEvent): void;
  /** The call succeeded. */
  onSuccess(event: SuccessEvent): void;
  /** The call ended without success (`reason: 'aborted'` when the caller aborted it). */
  onGiveUp(event: GiveUpEvent): void;
  /**
   * Runs one attempt, e.g. inside the call's trace context so its HTTP spans are children of the
   * call's span. Must call `attempt` exactly once and return what it returns.
   */
  runAttempt?<T>(attempt: () => T): T;
}

/** Checks the `telemetry` option. */
export function normalizeTelemetry(value: unknown): ClientTelemetry | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as ClientTelemetry).startCall !== 'function'
  ) {
    throw invalidOptionError(
      'telemetry',
      value,
      "telemetry such as openTelemetry() from '@oncely/client/otel'",
    );
  }
  return value as ClientTelemetry;
}

/**
 * Starts observing a call. A telemetry that throws loses the call's events, and the call goes on:
 * observing must never change what the caller gets.
 */
export function observeCall(
  telemetry: ClientTelemetry | undefined,
  idempotencyKey: string | undefined,
): CallObserver | undefined {
  if (telemetry === undefined) return undefined;
  let observer: CallObserver | undefined;
  try {
    observer = telemetry.startCall({ idempotencyKey });
  } catch {
    return undefined;
  }
  if (observer === undefined) return undefined;
  const inner = observer;
  return {
    onRetry: (event) => quietly(() => inner.onRetry(event)),
    onSuccess: (event) => quietly(() => inner.onSuccess(event)),
    onGiveUp: (event) => quietly(() => inner.onGiveUp(event)),
    ...(inner.runAttempt === undefined ? {} : { runAttempt: (attempt) => inner.runAttempt!(attempt) }),
  };
}

/** Runs an attempt through the call's observer (in its trace context), or as it is. */
export function runAttempt<T>(observer: CallObserver | undefined, attempt: () => T): T {
  return observer?.runAttempt === undefined ? attempt() : observer.runAttempt(attempt);
}

function quietly(listen: () => void): void {
  try {
    listen();
  } catch {
    // A broken listener is not a reason to fail the call it listens to.
  }
}
