import { hashIdempotencyKey } from '@oncely/core';
import { SpanKind, SpanStatusCode, metrics, trace } from '@opentelemetry/api';
import type { Attributes, MeterProvider, Span, TracerProvider } from '@opentelemetry/api';
import type { IdempotencyEvent, IdempotencyHooks } from '../../engine/hooks.js';
import {
  IdempotencyDecision,
  IdempotencyOutcome,
  OncelyAttribute as A,
  OncelyMetric,
  STORE_DURATION_BUCKETS,
} from './attributes.js';
import { OpenSpans } from './open-spans.js';

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

type Decision = (typeof IdempotencyDecision)[keyof typeof IdempotencyDecision];
type Outcome = (typeof IdempotencyOutcome)[keyof typeof IdempotencyOutcome];

const SCOPE = '@oncely/server';
const SPAN_NAME = 'oncely.idempotency';

/**
 * OpenTelemetry for the server engine, as listeners for its `telemetry` option:
 * `idempotency({ store, scope, telemetry: openTelemetry() })`.
 *
 * Traces: each keyed request gets an `oncely.idempotency` span, a child of the active span (the HTTP
 * server span of your instrumentation), carrying the decision of its claim. A claimed request's span
 * stays open until its outcome (stored, released, fenced, store failure); the others end at once. The
 * decision and key hash are also set on the active span itself, so HTTP spans can be filtered by them.
 * Metrics: `oncely.server.decisions`, `oncely.server.outcomes` and the store-latency histogram
 * `oncely.server.store.duration`. Names and values: docs/operating.md.
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): IdempotencyHooks {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const decisions = meter.createCounter(OncelyMetric.decisions, {
    description: 'Claims of keyed requests, by what they decided.',
    unit: '{decision}',
  });
  const outcomes = meter.createCounter(OncelyMetric.outcomes, {
    description: 'Claimed requests, by how they ended.',
    unit: '{outcome}',
  });
  const storeDuration = meter.createHistogram(OncelyMetric.storeDuration, {
    description: 'Duration of idempotency store calls.',
    unit: 's',
    advice: { explicitBucketBoundaries: STORE_DURATION_BUCKETS },
  });
  const open = new OpenSpans();

  /** Starts the request's span with its decision, and marks the active span with it. */
  function decide(event: IdempotencyEvent, decision: Decision, attributes: Attributes = {}): Span {
    const span = tracer.startSpan(SPAN_NAME, {
      kind: SpanKind.INTERNAL,
      attributes: {
        [A.decision]: decision,
        [A.httpMethod]: event.method,
        [A.urlPath]: event.path,
        ...attributes,
      },
    });
    const parent = trace.getActiveSpan();
    const marked = parent?.isRecording() === true ? parent : undefined;
    marked?.setAttribute(A.decision, decision);
    withKeyHash(event.idempotencyKey, (hash) => {
      span.setAttribute(A.keyHash, hash);
      marked?.setAttribute(A.keyHash, hash);
    });
    decisions.add(1, { [A.decision]: decision, [A.httpMethod]: event.method });
    return span;
  }

  /** A request whose decision is final: its span ends at once. */
  function answer(
    event: IdempotencyEvent,
    decision: Decision,
    attributes?: Attributes,
    error?: unknown,
  ): void {
    const span = decide(event, decision, attributes);
    if (error !== undefined) fail(span, error);
    span.end();
  }

  /** A claimed request ended: its outcome ends its span. */
  function settle(
    event: IdempotencyEvent,
    fencingToken: number | undefined,
    outcome: Outcome,
    attributes: Attributes,
    error?: unknown,
  ): void {
    outcomes.add(1, { [A.outcome]: outcome, [A.httpMethod]: event.method, ...operationOf(attributes) });
    const span = open.take(event.storeKey, fencingToken);
    if (span === undefined) return;
    span.setAttributes({ [A.outcome]: outcome, ...attributes });
    if (error !== undefined) fail(span, error);
    span.end();
  }

  return {
    onClaim(event) {
      const decision = event.takeover ? IdempotencyDecision.takeover : IdempotencyDecision.claimed;
      const span = decide(event, decision, { [A.fencingToken]: event.fencingToken });
      open.add(event.storeKey, event.fencingToken, span, (evicted) => {
        evicted.setAttribute(A.outcome, IdempotencyOutcome.unknown);
        evicted.end();
      });
    },
    onReplay(event) {
      answer(event, IdempotencyDecision.replayed, {
        [A.responseStatus]: event.status,
        [A.replayable]: event.replayable,
      });
    },
    onConflict(event) {
      answer(event, IdempotencyDecision.conflict);
    },
    onMismatch(event) {
      answer(event, IdempotencyDecision.mismatch);
    },
    onComplete(event) {
      settle(event, event.fencingToken, IdempotencyOutcome.stored, {
        [A.responseStatus]: event.status,
        [A.replayable]: event.replayable,
      });
    },
    onRelease(event) {
      settle(event, undefined, IdempotencyOutcome.released, {
        [A.releaseReason]: event.reason,
        ...(event.status === undefined ? {} : { [A.responseStatus]: event.status }),
      });
    },
    onFenced(event) {
      const attributes = { [A.storeOperation]: event.operation };
      if (event.operation === 'extend') {
        // The request still runs; its late complete or release is refused too and ends the span.
        open.peek(event.storeKey, event.fencingToken)?.addEvent('oncely.fenced', attributes);
        return;
      }
      settle(event, event.fencingToken, IdempotencyOutcome.fenced, attributes, 'lost its key to a takeover');
    },
    onStoreFailure(event) {
      const attributes = { [A.storeOperation]: event.operation, [A.errorType]: errorType(event.error) };
      if (event.operation === 'claim') {
        answer(
          event,
          IdempotencyDecision.storeFailure,
          { ...attributes, [A.failOpen]: event.failOpen },
          event.error,
        );
      } else if (event.operation === 'extend') {
        open.peek(event.storeKey)?.addEvent('oncely.store_failure', attributes);
      } else {
        settle(event, undefined, IdempotencyOutcome.storeFailure, attributes, event.error);
      }
    },
    onStoreCall(event) {
      storeDuration.record(event.durationMs / 1000, {
        [A.storeOperation]: event.operation,
        [A.storeOutcome]: event.outcome,
        ...(event.outcome === 'error' ? { [A.errorType]: errorType(event.error) } : {}),
      });
    },
  };
}

/** Sets the key hash now where it is computed synchronously (Node), else when Web Crypto answers. */
function withKeyHash(key: string, use: (hash: string) => void): void {
  const hash = hashIdempotencyKey(key);
  if (typeof hash === 'string') use(hash);
  else void hash.then((value) => value !== undefined && use(value));
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** `error.type`: the error's stable code where it has one, else its class name. */
function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  return error instanceof Error ? error.name : '_OTHER';
}

function operationOf(attributes: Attributes): Attributes {
  const operation = attributes[A.storeOperation];
  return operation === undefined ? {} : { [A.storeOperation]: operation };
}
