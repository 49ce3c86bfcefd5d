import { hashIdempotencyKey } from '@oncely/core';
import { SpanKind, SpanStatusCode, context, metrics, trace } from '@opentelemetry/api';
import type {
  Attributes,
  Context,
  Counter,
  Histogram,
  MeterProvider,
  Span,
  TracerProvider,
} from '@opentelemetry/api';
import { isOncelyClientError } from '../../errors.js';
import type { GiveUpEvent, RetryEvent, SuccessEvent } from '../../options.js';
import type { CallObserver, ClientTelemetry } from '../telemetry.js';
import {
  CALL_SPAN_NAME,
  ClientOutcome,
  OPERATION_DURATION_BUCKETS,
  OncelyClientAttribute as A,
  OncelyClientMetric,
  RETRY_EVENT_NAME,
} from './attributes.js';

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`)
   */
  tracerProvider?: TracerProvider | undefined;
  /**
   * Where metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider | undefined;
}

interface Instruments {
  duration: Histogram;
  retries: Counter;
}

const SCOPE = '@oncely/client';

/**
 * OpenTelemetry for a client: `createFetch({ telemetry: openTelemetry() })` (also `retry`,
 * `createRetry` and `withIdempotency`). Each logical call gets one `oncely.operation` span, a child
 * of the span active when it starts; each retry is an `oncely.retry` event on it with the failed
 * attempt's number, the delay, the reason and the key hash. With fetch and `retry()`, each attempt
 * runs in the call's context, so an instrumented HTTP client's spans are its children. Metrics:
 * `oncely.client.operation.duration` and `oncely.client.retries`. Names: docs/operating.md.
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): ClientTelemetry {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const instruments: Instruments = {
    duration: meter.createHistogram(OncelyClientMetric.operationDuration, {
      description: 'Duration of logical calls, from their start to their answer or error, retries included.',
      unit: 's',
      advice: { explicitBucketBoundaries: OPERATION_DURATION_BUCKETS },
    }),
    retries: meter.createCounter(OncelyClientMetric.retries, {
      description: 'Attempts that failed and were retried, by reason.',
      unit: '{retry}',
    }),
  };
  return {
    startCall({ idempotencyKey }) {
      const parent = context.active();
      const span = tracer.startSpan(CALL_SPAN_NAME, { kind: SpanKind.INTERNAL }, parent);
      return new CallSpan(span, trace.setSpan(parent, span), idempotencyKey, instruments);
    },
  };
}

/** The span of one call. Events wait for the key hash where it is computed asynchronously (browsers). */
class CallSpan implements CallObserver {
  readonly #span: Span;
  readonly #context: Context;
  readonly #instruments: Instruments;
  readonly #started = performance.now();
  #keyHash: Attributes = {};
  #pending: Promise<void> | undefined;

  constructor(
    span: Span,
    callContext: Context,
    idempotencyKey: string | undefined,
    instruments: Instruments,
  ) {
    this.#span = span;
    this.#context = callContext;
    this.#instruments = instruments;
    if (idempotencyKey === undefined) return;
    const hash = hashIdempotencyKey(idempotencyKey);
    if (typeof hash === 'string') this.#setKeyHash(hash);
    else
      this.#pending = hash.then((value) => {
        if (value !== undefined) this.#setKeyHash(value);
      });
  }

  #setKeyHash(hash: string): void {
    this.#keyHash = { [A.keyHash]: hash };
    this.#span.setAttributes(this.#keyHash);
  }

  /** Runs `record` now, or after the key hash when that is still being computed. */
  #later(record: () => void): void {
    if (this.#pending === undefined) record();
    else this.#pending = this.#pending.then(record);
  }

  onRetry(event: RetryEvent): void {
    const at = Date.now();
    this.#instruments.retries.add(1, { [A.retryReason]: event.reason });
    this.#later(() =>
      this.#span.addEvent(
        RETRY_EVENT_NAME,
        {
          [A.attempt]: event.attempt,
          [A.retryDelay]: event.delay,
          [A.retryReason]: event.reason,
          ...this.#keyHash,
        },
        at,
      ),
    );
  }

  onSuccess(event: SuccessEvent): void {
    this.#end(ClientOutcome.success, event, {});
  }

  onGiveUp(event: GiveUpEvent): void {
    if (event.reason === 'aborted') {
      // The caller's own decision, not a failure of the call.
      this.#end(ClientOutcome.aborted, event, {});
      return;
    }
    const errorType = isOncelyClientError(event.error) ? event.error.code : event.reason;
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: event.reason });
    this.#end(ClientOutcome.giveUp, event, { [A.giveUpReason]: event.reason, [A.errorType]: errorType });
  }

  runAttempt<T>(attempt: () => T): T {
    return context.with(this.#context, attempt);
  }

  #end(
    outcome: (typeof ClientOutcome)[keyof typeof ClientOutcome],
    event: { attempts: number; totalDelay: number },
    attributes: Attributes,
  ): void {
    const at = Date.now();
    this.#instruments.duration.record((performance.now() - this.#started) / 1000, {
      [A.outcome]: outcome,
      ...(attributes[A.errorType] === undefined ? {} : { [A.errorType]: attributes[A.errorType] }),
    });
    this.#span.setAttributes({
      [A.outcome]: outcome,
      [A.attempts]: event.attempts,
      [A.totalDelay]: event.totalDelay,
      ...attributes,
    });
    this.#later(() => this.#span.end(at));
  }
}
