// One chaos scenario end to end: a ledger, N server processes on a shared store, the fault proxy in
// front, clients at steady concurrency, server-side faults while they run, then the invariants.
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import type pg from 'pg';
import { startFaultProxy } from '@oncely/demo/fault-proxy';
import type { FaultProxy, FaultRates } from '@oncely/demo/fault-proxy';
import type { ClientOptions } from '@oncely/client';
import type { IdempotencyStore } from '@oncely/server';
import { RedisStore } from '@oncely/redis';
import { PostgresStore, migrate } from '@oncely/postgres';
import { DATABASE_URL, uniqueTable } from '../../packages/postgres/src/test-support.js';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../../packages/redis/src/test-support.js';
import { sleep } from '../multi-instance/harness.js';
import { Cluster } from './cluster.js';
import { Ledger } from './ledger.js';
import type { LedgerRow } from './ledger.js';
import { CHAOS_POLICY, createSender, runLoad } from './load.js';
import type { ClientKind, Outcome, Send } from './load.js';
import { record, verify } from './verify.js';
import type { ScenarioFigures } from './verify.js';

export interface ScenarioSpec {
  scenario: string;
  title: string;
  store: 'redis' | 'postgres';
  transactional?: boolean;
  /** Redis of the store when not the shared one (the scenarios that stop it). */
  storeRedisUrl?: string;
  client: ClientKind | 'mixed';
  instances: number;
  operations: number;
  concurrency: number;
  /** Simulated client processes, each with its own retry budget. */
  clients: number;
  rates: FaultRates;
  seed: number;
  leaseMs: number;
  handlerMs: number;
  policy?: ClientOptions;
  /** Server-side faults, run while the load runs; `done()` turns true when it has settled. */
  during?: (cluster: Cluster, done: () => boolean) => Promise<void>;
  /** Extra faults to report (e.g. Redis stops), read once the load has settled. */
  faults?: () => Record<string, number>;
  /** `exactly-one`, or at most 2 for an operation that had an effect on a killed or paused server. */
  bound: 'exactly-one' | 'crash';
  /** Extra checks and figures, once the load has settled (the proxy is still open). */
  after?: (cluster: Cluster, proxy: FaultProxy) => Promise<Record<string, number>>;
  /** Replaces the fixed batch of `operations` (e.g. a steady load for a duration). */
  load?: (senders: readonly Send[], cluster: Cluster) => Promise<Outcome[]>;
}

export async function runScenario(pool: pg.Pool, spec: ScenarioSpec): Promise<ScenarioFigures> {
  const started = performance.now();
  const ledger = await Ledger.create(pool, spec.scenario);
  const table = uniqueTable('chaos');
  const prefix = uniquePrefix(`chaos-${spec.scenario}`);
  const redisUrl = spec.storeRedisUrl ?? REDIS_URL!;
  const env: Record<string, string> = {
    STORE: spec.store,
    DATABASE_URL: DATABASE_URL!,
    LEDGER_TABLE: ledger.table,
    LEASE_MS: String(spec.leaseMs),
    HANDLER_MS: String(spec.handlerMs),
    STORE_TIMEOUT_MS: '500',
  };
  let store: IdempotencyStore;
  let redis: Redis | undefined;
  if (spec.store === 'redis') {
    Object.assign(env, { STORE_REDIS_URL: redisUrl, PREFIX: prefix });
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    store = new RedisStore({ client: redis, prefix });
  } else {
    await migrate(pool, { table });
    Object.assign(env, { TABLE: table, TRANSACTIONAL: spec.transactional === true ? '1' : '0' });
    store = new PostgresStore({ pool, table });
  }

  const cluster = await Cluster.start(spec.instances, env);
  const proxy = await startFaultProxy({
    targets: cluster.targets,
    seed: spec.seed,
    rates: spec.rates,
    delayMs: 1500,
    burstLength: 4,
    retryAfterSeconds: 1,
  });
  try {
    const policy = { ...CHAOS_POLICY, ...spec.policy };
    const senders = Array.from({ length: spec.clients }, (_, i) =>
      createSender(
        spec.client === 'mixed' ? (i % 2 === 0 ? 'fetch' : 'axios') : spec.client,
        proxy.url,
        policy,
      ),
    );
    const batch = Array.from({ length: spec.operations }, (_, i) => `${spec.scenario}-${i}`);
    let settled = false;
    const load = (spec.load?.(senders, cluster) ?? runLoad(batch, senders, spec.concurrency)).finally(
      () => (settled = true),
    );
    const [outcomes] = await Promise.all([load, spec.during?.(cluster, () => settled)]);
    const ops = spec.load === undefined ? batch : outcomes.map((outcome) => outcome.op);
    const extra = (await spec.after?.(cluster, proxy)) ?? {};
    // Leases of claims whose holder died run out; then every key must be completed or claimable.
    await sleep(spec.leaseMs + 100);
    const risky = new Set([...cluster.killedPids, ...cluster.pausedPids]);
    const figures = await verify({
      outcomes,
      ops,
      rows: await ledger.rows(),
      store,
      deadlineMs: policy.deadline ?? CHAOS_POLICY.deadline,
      bound: (_op, rows: readonly LedgerRow[]) =>
        spec.bound === 'crash' && rows.some((row) => risky.has(row.pid)) ? 2 : 1,
    });
    const result: ScenarioFigures = {
      scenario: spec.scenario,
      title: spec.title,
      setup:
        `${spec.instances} server processes (Express), ${spec.store === 'redis' ? 'RedisStore' : 'PostgresStore'}` +
        `${spec.transactional === true ? ' in transactional mode' : ''}, ${spec.clients} ${spec.client === 'mixed' ? 'fetch and axios' : spec.client} clients ` +
        `with ${spec.concurrency} operations in flight, lease ${spec.leaseMs} ms, attempt timeout ` +
        `${policy.attemptTimeout} ms, deadline ${policy.deadline} ms`,
      bound:
        spec.bound === 'exactly-one'
          ? 'exactly 1 effect per operation'
          : 'exactly 1, or at most 2 for an operation whose first run was on a killed or paused server',
      ...figures,
      faults: {
        ...proxy.stats.faults,
        kill9: cluster.kills,
        sigstop: cluster.pauses,
        ...spec.faults?.(),
      },
      durationMs: Math.round(performance.now() - started),
      extra: { proxiedRequests: proxy.stats.requests, forwarded: proxy.stats.forwarded, ...extra },
    };
    record(result);
    expect(result.violations).toEqual([]);
    return result;
  } finally {
    await proxy.close();
    await cluster.stop();
    await ledger.drop();
    if (redis !== undefined) {
      await deleteKeys(redis, prefix).catch(() => undefined);
      redis.disconnect();
    } else {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    }
  }
}
