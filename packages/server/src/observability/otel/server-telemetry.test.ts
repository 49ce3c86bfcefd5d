// OpenTelemetry of the server engine through the real SDK's in-memory exporters, behind a real Express
// app on 127.0.0.1: a replay, a conflict and a takeover, with the attributes docs/operating.md names.
import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, context, trace } from '@opentelemetry/api';
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
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { idempotency } from '../../express.js';
import { openTelemetry } from '../../otel.js';
import { MemoryStore } from '../../store/memory-store.js';

const LEASE = 60_000;
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricsOut = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricsOut, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();

const keyHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('openTelemetry() on the server', () => {
  let server: Server;
  let url: string;
  /** The store's clock runs `offset` ms ahead, so a lease can run out without waiting for it. */
  let offset = 0;
  let runs = 0;
  /** Keys whose next run waits for `release`; `started` resolves when it begins. */
  const holds = new Map<string, { started: () => void; release: Promise<void> }>();

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    const tracer = tracerProvider.getTracer('test-http');
    const app = express();
    // Stands in for @opentelemetry/instrumentation-http: the request runs in its server span's context.
    app.use(function httpServerSpan(req, res, next) {
      const span = tracer.startSpan(`${req.method} ${req.path}`, { kind: SpanKind.SERVER });
      res.on('finish', () => span.end());
      context.with(trace.setSpan(context.active(), span), next);
    });
    app.use(
      idempotency({
        store: new MemoryStore({ now: () => Date.now() + offset }),
        scope: 'global',
        lease: LEASE,
        logger: false,
        telemetry: openTelemetry({ tracerProvider, meterProvider }),
      }),
    );
    app.post('/payments', async (req, res) => {
      runs++;
      const hold = holds.get(req.get('idempotency-key')!);
      if (hold !== undefined) {
        holds.delete(req.get('idempotency-key')!);
        hold.started();
        await hold.release;
      }
      res.status(201).json({ run: runs });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    context.disable();
  });

  async function post(key: string): Promise<{ status: number; replayed: string | null }> {
    const response = await fetch(`${url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: '{"amount":100}',
    });
    await response.arrayBuffer();
    return { status: response.status, replayed: response.headers.get('idempotent-replayed') };
  }

  /** Makes the next run of `key` wait; resolves `started` once it runs. */
  function hold(key: string) {
    const started = deferred();
    const release = deferred();
    holds.set(key, { started: started.resolve, release: release.promise });
    return { started: started.promise, release: release.resolve };
  }

  const idempotencySpans = (key: string) =>
    spans
      .getFinishedSpans()
      .filter(
        (span) =>
          span.name === 'oncely.idempotency' &&
          span.attributes['oncely.idempotency.key_hash'] === keyHash(key),
      );
  const serverSpanOf = (span: ReadableSpan) =>
    spans.getFinishedSpans().find((parent) => parent.spanContext().spanId === span.parentSpanContext?.spanId);
  /** Waits for the spans of `key` to end: a claimed request's span ends when its outcome is stored. */
  const spansOf = async (key: string, count: number) => {
    await vi.waitFor(() => expect(idempotencySpans(key)).toHaveLength(count), { timeout: 10_000 });
    return idempotencySpans(key)
      .map((span) => ({
        decision: span.attributes['oncely.idempotency.decision'],
        outcome: span.attributes['oncely.idempotency.outcome'],
        parent: serverSpanOf(span)?.attributes['oncely.idempotency.decision'],
        status: span.status.code,
      }))
      .sort((a, b) => String(a.decision).localeCompare(String(b.decision)));
  };

  it('records a replay: a claimed span that ends stored, then a replayed one, children of the server spans', async () => {
    const key = randomUUID();
    expect(await post(key)).toEqual({ status: 201, replayed: null });
    expect(await post(key)).toEqual({ status: 201, replayed: 'true' });
    expect(await spansOf(key, 2)).toEqual([
      { decision: 'claimed', outcome: 'stored', parent: 'claimed', status: 0 },
      { decision: 'replayed', outcome: undefined, parent: 'replayed', status: 0 },
    ]);
    const stored = idempotencySpans(key).find((span) => span.attributes['oncely.idempotency.outcome']);
    const replayed = idempotencySpans(key).find((span) => span !== stored);
    expect(stored!.attributes).toEqual({
      'oncely.idempotency.decision': 'claimed',
      'oncely.idempotency.outcome': 'stored',
      'oncely.idempotency.key_hash': keyHash(key),
      'oncely.idempotency.fencing_token': expect.any(Number),
      'oncely.idempotency.response_status': 201,
      'oncely.idempotency.replayable': true,
      'http.request.method': 'POST',
      'url.path': '/payments',
    });
    expect(replayed!.attributes).toEqual({
      'oncely.idempotency.decision': 'replayed',
      'oncely.idempotency.key_hash': keyHash(key),
      'oncely.idempotency.response_status': 201,
      'oncely.idempotency.replayable': true,
      'http.request.method': 'POST',
      'url.path': '/payments',
    });
    expect(serverSpanOf(replayed!)!.attributes['oncely.idempotency.key_hash']).toBe(keyHash(key));
    expect(serverSpanOf(replayed!)!.kind).toBe(SpanKind.SERVER);
  });

  it('records a conflict: the duplicate of a request in flight', async () => {
    const key = randomUUID();
    const first = hold(key);
    const running = post(key);
    await first.started;
    expect(await post(key)).toEqual({ status: 409, replayed: null });
    first.release();
    expect((await running).status).toBe(201);
    const recorded = await spansOf(key, 2);
    expect(recorded).toContainEqual({
      decision: 'conflict',
      outcome: undefined,
      parent: 'conflict',
      status: 0,
    });
    expect(recorded).toContainEqual({ decision: 'claimed', outcome: 'stored', parent: 'claimed', status: 0 });
  });

  it('records a takeover: the late first request is fenced (an error), the one that took over is stored', async () => {
    const key = randomUUID();
    const first = hold(key);
    const running = post(key);
    await first.started;
    offset += LEASE + 1; // the first one is past its lease: as if its process had hung
    expect(await post(key)).toEqual({ status: 201, replayed: null });
    first.release();
    expect((await running).status).toBe(201);
    const recorded = await spansOf(key, 2);
    expect(recorded).toContainEqual({
      decision: 'takeover',
      outcome: 'stored',
      parent: 'takeover',
      status: 0,
    });
    expect(recorded).toContainEqual({ decision: 'claimed', outcome: 'fenced', parent: 'claimed', status: 2 });
    const fenced = idempotencySpans(key).find(
      (span) => span.attributes['oncely.idempotency.outcome'] === 'fenced',
    )!;
    expect(fenced.attributes['oncely.store.operation']).toBe('complete');
    expect(fenced.status.message).toBe('lost its key to a takeover');
  });

  it('counts decisions and outcomes, and times every store call', async () => {
    await reader.forceFlush();
    const metrics = metricsOut
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((scope) => scope.metrics);
    const points = (name: string) => metrics.find((metric) => metric.descriptor.name === name)!.dataPoints;
    const count = (name: string, attribute: string) =>
      Object.fromEntries(
        (points(name) as DataPoint<number>[]).map((point) => [
          String(point.attributes[attribute]),
          point.value,
        ]),
      );
    // The three tests above: claimed ×3, replayed, conflict, takeover.
    expect(count('oncely.server.decisions', 'oncely.idempotency.decision')).toEqual({
      claimed: 3,
      replayed: 1,
      conflict: 1,
      takeover: 1,
    });
    expect(count('oncely.server.outcomes', 'oncely.idempotency.outcome')).toEqual({ stored: 3, fenced: 1 });
    const storeCalls = metrics.find((metric) => metric.descriptor.name === 'oncely.server.store.duration')!;
    expect(storeCalls.descriptor.unit).toBe('s');
    const calls = Object.fromEntries(
      (storeCalls.dataPoints as DataPoint<Histogram>[]).map((point) => [
        `${String(point.attributes['oncely.store.operation'])} ${String(point.attributes['oncely.store.outcome'])}`,
        point.value.count,
      ]),
    );
    expect(calls).toEqual({
      'claim claimed': 4,
      'claim completed': 1,
      'claim in_progress': 1,
      'complete ok': 3,
      'complete refused': 1,
    });
  });
});
