// OpenTelemetry of the client through the real SDK's in-memory exporters, against a real HTTP server
// on 127.0.0.1 that answers 503 before it answers 200.
import { createHash } from 'node:crypto';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FaultServer, ok, startFaultServer, status } from '../../../test/fault-server.js';
import { createFetch, retry } from '../../index.js';
import { openTelemetry } from '../../otel.js';

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricsOut = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricsOut, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();
const tracer = tracerProvider.getTracer('test-app');
const telemetry = openTelemetry({ tracerProvider, meterProvider });

const keyHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);
const operations = (): ReadableSpan[] =>
  spans.getFinishedSpans().filter((span) => span.name === 'oncely.operation');

let server: FaultServer;
let n = 0;
const path = (): string => `/otel/${++n}`;

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  server = await startFaultServer();
});
afterAll(async () => {
  await server.close();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  context.disable();
});
beforeEach(() => spans.reset());

describe("openTelemetry() from '@oncely/client/otel'", () => {
  it('records one span per call, a child of the caller’s span, with an event for the retry after a 503', async () => {
    const p = path();
    const url = server.route(p, status(503), ok());
    const attemptParents: Array<string | undefined> = [];
    const fetch = createFetch({
      telemetry,
      logger: false,
      baseDelay: 10,
      random: () => 0.5,
      // Real fetch; records which span is active when each attempt is sent.
      fetch: (input, init) => {
        attemptParents.push(trace.getActiveSpan()?.spanContext().spanId);
        return globalThis.fetch(input, init);
      },
    });

    const response = await tracer.startActiveSpan('checkout', async (parent) => {
      try {
        return await fetch(url, { method: 'POST', body: '{"amount":100}' });
      } finally {
        parent.end();
      }
    });
    expect(response.status).toBe(200);
    const key = server.seen(p)[0]!.key!;
    expect(server.seen(p).map((seen) => seen.key)).toEqual([key, key]);

    expect(operations()).toHaveLength(1);
    const span = operations()[0]!;
    const checkout = spans.getFinishedSpans().find((s) => s.name === 'checkout')!;
    expect(span.parentSpanContext?.spanId).toBe(checkout.spanContext().spanId);
    expect(span.attributes).toEqual({
      'oncely.idempotency.key_hash': keyHash(key),
      'oncely.client.outcome': 'success',
      'oncely.client.attempts': 2,
      'oncely.client.total_delay_ms': 5,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'oncely.retry',
        {
          'oncely.client.attempt': 1,
          'oncely.client.retry.delay_ms': 5,
          'oncely.client.retry.reason': 'status 503',
          'oncely.idempotency.key_hash': keyHash(key),
        },
      ],
    ]);
    // Both attempts ran in the call's context: an instrumented fetch's spans are the call span's children.
    expect(attemptParents).toEqual([span.spanContext().spanId, span.spanContext().spanId]);
  });

  it('marks a call that gives up as an error, and one the caller aborts as aborted', async () => {
    const url = server.route(path(), status(503));
    const fetch = createFetch({ telemetry, logger: false, retries: 1, baseDelay: 1, random: () => 0 });
    expect((await fetch(url, { method: 'POST', body: 'x' })).status).toBe(503);

    const controller = new AbortController();
    const aborted = fetch(server.route(path(), status(503)), {
      method: 'POST',
      body: 'x',
      signal: controller.signal,
    });
    controller.abort(new Error('user left'));
    await expect(aborted).rejects.toThrow('user left');

    const [gaveUp, abortedSpan] = operations();
    expect(gaveUp!.attributes).toMatchObject({
      'oncely.client.outcome': 'give_up',
      'oncely.client.give_up_reason': 'retries exhausted (status 503)',
      'oncely.client.attempts': 2,
      'error.type': 'retries exhausted (status 503)',
    });
    expect(gaveUp!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'retries exhausted (status 503)' });
    expect(abortedSpan!.attributes['oncely.client.outcome']).toBe('aborted');
    expect(abortedSpan!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records retry() calls too, and counts retries and call durations', async () => {
    let calls = 0;
    const result = await retry(
      async ({ idempotencyKey }) => {
        if (++calls === 1) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return idempotencyKey;
      },
      { telemetry, logger: false, baseDelay: 1, random: () => 0 },
    );
    const span = operations()[0]!;
    expect(span.attributes['oncely.idempotency.key_hash']).toBe(keyHash(result));
    expect(span.events.map((event) => event.attributes?.['oncely.client.retry.reason'])).toEqual([
      'network ECONNRESET',
    ]);

    await reader.forceFlush();
    const metrics = metricsOut
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((scope) => scope.metrics);
    const retries = metrics.find((metric) => metric.descriptor.name === 'oncely.client.retries')!;
    expect(
      Object.fromEntries(
        (retries.dataPoints as DataPoint<number>[]).map((point) => [
          point.attributes['oncely.client.retry.reason'],
          point.value,
        ]),
      ),
    ).toEqual({ 'status 503': 2, 'network ECONNRESET': 1 });
    const duration = metrics.find((metric) => metric.descriptor.name === 'oncely.client.operation.duration')!;
    expect(duration.descriptor.unit).toBe('s');
    expect(
      Object.fromEntries(
        (duration.dataPoints as DataPoint<Histogram>[]).map((point) => [
          point.attributes['oncely.client.outcome'],
          point.value.count,
        ]),
      ),
    ).toEqual({ success: 2, give_up: 1, aborted: 1 });
  });
});
