import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdempotencyStore } from '@oncely/server';
import { MemoryStore } from '@oncely/server';
import { RedisStore } from '@oncely/redis';
import { Redis } from 'ioredis';
import { type ClientKind, type Payment, createNaiveClient, createOncelyClient } from './clients.js';
import { type FaultRates, mulberry32, startFaultProxy } from './fault-proxy/index.js';
import { type Ledger, createMemoryLedger, createRedisLedger } from './ledger.js';
import { startApiProcess } from './api-processes.js';
import { type PaymentsApi, startPaymentsApi } from './payments-api.js';
import { createSqliteLedger } from './sqlite-ledger.js';
import { type ScenarioSummary, summarize } from './summary.js';
import { type KillClientResult, runKillClientStep } from './kill-client/kill-client.js';

/** Options of {@link runDemo}; the CLI fills them from flags. */
export interface DemoOptions {
  operations: number;
  concurrency: number;
  seed: number;
  rates: FaultRates;
  /** How long the `delay` fault holds a request; above `attemptTimeout` so the client times out. */
  delayMs: number;
  attemptTimeout: number;
  store: 'memory' | 'redis' | 'sqlite';
  redisUrl: string;
  onProgress?: (client: ClientKind, done: number, total: number) => void;
  signal?: AbortSignal;
  /** Also run the "kill the client" step (kill-client/kill-client.ts). @default false */
  killClient?: boolean;
}

export interface DemoResult {
  options: Omit<DemoOptions, 'onProgress' | 'signal'>;
  naive: ScenarioSummary;
  oncely: ScenarioSummary;
  /** With `killClient`: the client killed mid-run and restarted, without and with the journal. */
  killClient?: KillClientResult;
}

/** The default fault rates: a bad but realistic network. */
export const DEFAULT_RATES: Required<FaultRates> = {
  dropResponse: 0.08,
  resetRequest: 0.03,
  resetResponse: 0.03,
  delay: 0.02,
  duplicate: 0.02,
  slowBody: 0.02,
  burst503: 0.01,
};

/** The same payments, from the seed, for both clients. */
export function makePayments(count: number, seed: number): Payment[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => ({
    paymentId: `pay_${seed}_${String(i).padStart(5, '0')}`,
    amount: 500 + Math.floor(random() * 49_500),
  }));
}

/** Runs the same payments through the naive client and through @oncely/client, each on fresh servers. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { onProgress: _p, signal: _s, ...plain } = options;
  const naive = await runScenario('naive', options);
  const oncely = await runScenario('oncely', options);
  if (options.killClient === true)
    return { options: plain, naive, oncely, killClient: await runKillClientStep(options) };
  return { options: plain, naive, oncely };
}

async function runScenario(client: ClientKind, options: DemoOptions): Promise<ScenarioSummary> {
  const payments = makePayments(options.operations, options.seed);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const { stores, ledger, processes = [] } = await openBackends(client, options, cleanups);
    const apis: PaymentsApi[] = [...processes];
    for (const store of stores) {
      const api = await startPaymentsApi(store, ledger);
      cleanups.push(() => api.close());
      apis.push(api);
    }
    const proxy = await startFaultProxy({
      targets: apis.map((api) => api.url),
      seed: options.seed,
      rates: options.rates,
      delayMs: options.delayMs,
      burstLength: 4,
      retryAfterSeconds: 1,
    });
    cleanups.push(() => proxy.close());
    const timing = { attemptTimeout: options.attemptTimeout };
    const pay =
      client === 'naive' ? createNaiveClient(proxy.url, timing) : createOncelyClient(proxy.url, timing);
    const signal = options.signal ?? new AbortController().signal;
    const started = performance.now();
    const outcomes = await runPool(
      payments,
      options.concurrency,
      signal,
      // Each payment its own signal, following the run's: a request adds an abort listener to its signal,
      // and `concurrency` requests on one signal pass Node's 10-listener leak warning.
      (payment) => pay(payment, AbortSignal.any([signal])),
      (done) => options.onProgress?.(client, done, payments.length),
    );
    const durationMs = performance.now() - started;
    // Let duplicated or delayed requests still in flight at the servers land before counting.
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.delayMs + 200, 3_000)));
    const charges = await ledger.chargesByPayment();
    return summarize({ client, payments, outcomes, charges, proxy: proxy.stats, durationMs });
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

async function openBackends(
  client: ClientKind,
  options: DemoOptions,
  cleanups: (() => Promise<void>)[],
): Promise<{ stores: IdempotencyStore[]; ledger: Ledger; processes?: PaymentsApi[] }> {
  if (options.store === 'memory') return { stores: [new MemoryStore()], ledger: createMemoryLedger() };
  if (options.store === 'sqlite') return openSqliteBackends(cleanups);
  // Two API instances, each with its own Redis connection and store, sharing one Redis.
  const namespace = `oncely-demo:${process.pid}:${Date.now()}:${client}`;
  const connect = async () => {
    const redis = new Redis(options.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
    });
    cleanups.push(async () => void redis.disconnect());
    await redis.connect();
    return redis;
  };
  const [a, b, ledgerConnection] = [await connect(), await connect(), await connect()];
  const ledger = createRedisLedger(ledgerConnection, namespace);
  cleanups.push(() => ledger.close());
  return {
    stores: [
      new RedisStore({ client: a, prefix: namespace }),
      new RedisStore({ client: b, prefix: namespace }),
    ],
    ledger,
  };
}

/**
 * Two API processes sharing one SQLite file (a fresh one per scenario, in a temp dir): the idempotency
 * records and the ledger, as one app on one host with two processes would keep them.
 */
async function openSqliteBackends(
  cleanups: (() => Promise<void>)[],
): Promise<{ stores: IdempotencyStore[]; ledger: Ledger; processes: PaymentsApi[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'oncely-demo-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const database = join(dir, 'payments.db');
  const ledger = createSqliteLedger(database); // creates the file and its table before the processes start
  cleanups.push(() => ledger.close());
  const processes = await Promise.all([
    startApiProcess('sqlite', database),
    startApiProcess('sqlite', database),
  ]);
  for (const api of processes) cleanups.push(() => api.close());
  return { stores: [], ledger, processes };
}

/** Runs `work` over `items` with at most `concurrency` in flight, in order of the items. */
async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  work: (item: T) => Promise<R>,
  onDone: (done: number) => void,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    while (next < items.length && !signal.aborted) {
      const index = next++;
      results[index] = await work(items[index]!);
      onDone(++done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, () => worker()));
  signal.throwIfAborted();
  return results;
}
