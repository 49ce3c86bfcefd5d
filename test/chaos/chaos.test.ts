// The chaos suite: thousands of logical operations through a seeded fault-injecting proxy into several
// server processes on one shared store, with kill -9, SIGSTOP past the lease and Redis restarts; a
// ledger in PostgreSQL counts effects per operation. Scenarios run one after another (not in parallel)
// so each has the machine to itself and its figures mean something.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, postgresUnavailableReason } from '../../packages/postgres/src/test-support.js';
import { redisUnavailableReason } from '../../packages/redis/src/test-support.js';
import { sleep } from '../multi-instance/harness.js';
import { OwnRedis, hasRedisServer } from './cluster.js';
import { runScenario } from './scenario.js';
import { HEAP_GROWTH_BOUND, RSS_GROWTH_BOUND, SOAK_MS, createSoak } from './soak.js';

const skipReason =
  (await postgresUnavailableReason()) ??
  (await redisUnavailableReason()) ??
  (hasRedisServer ? undefined : '`redis-server` is not installed');
if (skipReason !== undefined) console.warn(`Skipping the chaos suite: ${skipReason}.`);

/** Every network fault the proxy has, at rates that hit about one attempt in four. */
const NETWORK_FAULTS = {
  dropResponse: 0.06,
  resetRequest: 0.04,
  resetResponse: 0.04,
  delay: 0.03,
  duplicate: 0.05,
  slowBody: 0.03,
  burst503: 0.01,
};

describe.skipIf(skipReason !== undefined)('chaos', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('network faults, Redis, fetch: exactly one effect per operation', { timeout: 90_000 }, async () => {
    await runScenario(pool, {
      scenario: 'network-redis-fetch',
      title: 'Network faults in front of 3 servers on Redis (fetch client)',
      store: 'redis',
      client: 'fetch',
      instances: 3,
      operations: 1200,
      concurrency: 32,
      clients: 4,
      rates: NETWORK_FAULTS,
      seed: 7,
      leaseMs: 5000,
      handlerMs: 10,
      bound: 'exactly-one',
    });
  });

  it('network faults, PostgreSQL, axios: exactly one effect per operation', { timeout: 90_000 }, async () => {
    await runScenario(pool, {
      scenario: 'network-postgres-axios',
      title: 'Network faults in front of 3 servers on PostgreSQL (axios client)',
      store: 'postgres',
      client: 'axios',
      instances: 3,
      operations: 800,
      concurrency: 24,
      clients: 4,
      rates: NETWORK_FAULTS,
      seed: 11,
      leaseMs: 5000,
      handlerMs: 10,
      bound: 'exactly-one',
    });
  });

  it(
    'kill -9 mid-handler and restart: at most 2 effects for a crashed operation',
    { timeout: 90_000 },
    async () => {
      const figures = await runScenario(pool, {
        scenario: 'crash-redis',
        title:
          'kill -9 of a server (and restart) 0.3 s into the load, then every second, Redis, light network faults',
        store: 'redis',
        client: 'mixed',
        instances: 3,
        operations: 1000,
        concurrency: 24,
        clients: 4,
        rates: { dropResponse: 0.03, resetResponse: 0.02 },
        seed: 13,
        leaseMs: 1000,
        handlerMs: 30,
        bound: 'crash',
        async during(cluster, done) {
          // The first kill comes early, so it always lands under load; then one a second while the
          // load lasts (how many fit depends on the machine's speed).
          for (let i = 0; !done(); i++) {
            await sleep(i === 0 ? 300 : 1000);
            if (!done()) await cluster.crashAndRestart(i % cluster.instances.length);
          }
        },
      });
      expect(figures.faults.kill9).toBeGreaterThanOrEqual(1);
    },
  );

  it(
    'a server paused past its lease: takeover, the late completion fenced',
    { timeout: 90_000 },
    async () => {
      const figures = await runScenario(pool, {
        scenario: 'pause-postgres',
        title: 'SIGSTOP of a server for 3× its lease under load (then SIGCONT), PostgreSQL',
        store: 'postgres',
        client: 'axios',
        instances: 3,
        operations: 1000,
        concurrency: 24,
        clients: 4,
        rates: {},
        seed: 17,
        leaseMs: 1000,
        handlerMs: 30,
        bound: 'crash',
        async during(cluster, done) {
          for (let i = 0; i < 2 && !done(); i++) {
            await sleep(300);
            // Pause it while it runs handlers, so some of them lose their keys to a takeover.
            while (!done() && (await cluster.debug(i)).inFlight === 0) await sleep(5);
            await cluster.pause(i, 3000);
          }
        },
        async after(cluster) {
          const reports = await Promise.all(cluster.instances.map((_, i) => cluster.debug(i)));
          const sum = (name: string) => reports.reduce((total, r) => total + (r.hooks[name] ?? 0), 0);
          return { takeovers: sum('takeover'), fenced: sum('fenced') };
        },
      });
      // The paused handlers lost their keys to takeovers, and their late results were refused.
      expect(figures.extra?.takeovers).toBeGreaterThan(0);
      expect(figures.extra?.fenced).toBeGreaterThan(0);
    },
  );

  describe('Redis stopped and restarted', () => {
    let redis: OwnRedis;
    beforeAll(async () => {
      redis = await OwnRedis.start();
    });
    afterAll(async () => {
      await redis.close();
    });

    it(
      'fails closed while Redis is down; exactly one effect per operation',
      { timeout: 90_000 },
      async () => {
        const figures = await runScenario(pool, {
          scenario: 'redis-restart',
          title: 'kill -9 of the store’s Redis twice under load (AOF on), restarted after 1 s',
          store: 'redis',
          storeRedisUrl: redis.url,
          client: 'fetch',
          instances: 3,
          operations: 700,
          concurrency: 24,
          clients: 4,
          rates: {},
          seed: 19,
          leaseMs: 2000,
          handlerMs: 20,
          policy: { attemptTimeout: 5000 },
          bound: 'exactly-one',
          async during(_cluster, done) {
            // The first stop comes early, so it always lands under load; a second one while the
            // load lasts (the run may end before it on a fast machine).
            for (let i = 0; i < 2 && !done(); i++) {
              await sleep(i === 0 ? 300 : 1000);
              if (done()) break;
              await redis.down();
              await sleep(1000);
              await redis.up();
            }
          },
          faults: () => ({ redisStop: redis.stops }),
          async after(cluster) {
            const reports = await Promise.all(cluster.instances.map((_, i) => cluster.debug(i)));
            return { storeFailures: reports.reduce((total, r) => total + (r.hooks.storeFailure ?? 0), 0) };
          },
        });
        expect(figures.faults.redisStop).toBeGreaterThanOrEqual(1);
      },
    );
  });

  it(
    'transactional mode: kill -9 and a pause past the lease, exactly one effect per operation',
    { timeout: 90_000 },
    async () => {
      const figures = await runScenario(pool, {
        scenario: 'crash-postgres-transactional',
        title:
          'a SIGSTOP past the lease 0.3 s into the load, then kill -9 every 1.5 s, PostgreSQL transactional mode',
        store: 'postgres',
        transactional: true,
        client: 'mixed',
        instances: 3,
        operations: 1000,
        concurrency: 24,
        clients: 4,
        rates: { dropResponse: 0.03, duplicate: 0.03 },
        seed: 23,
        leaseMs: 1000,
        handlerMs: 30,
        // The ledger row commits with the completed record or not at all.
        bound: 'exactly-one',
        async during(cluster, done) {
          // The pause first and early, so it always lands under load (and keeps the load going past
          // the lease); then a kill every 1.5 s while the load lasts.
          for (let i = 0; !done(); i++) {
            await sleep(i === 0 ? 300 : 1500);
            if (done()) break;
            if (i === 0) await cluster.pause(i % cluster.instances.length, 3000);
            else await cluster.crashAndRestart(i % cluster.instances.length);
          }
        },
      });
      expect(figures.faults.kill9).toBeGreaterThanOrEqual(1);
      expect(figures.faults.sigstop).toBe(1);
    },
  );

  it(
    `soak: ${SOAK_MS / 1000} s at steady concurrency, memory flat, no leaked handles`,
    { timeout: SOAK_MS + 60_000 },
    async () => {
      const soak = createSoak(16);
      const figures = await runScenario(pool, {
        scenario: 'soak',
        title: `Soak: ${SOAK_MS / 1000} s at steady concurrency (after a 5 s warm-up), Redis, light network faults`,
        store: 'redis',
        client: 'mixed',
        instances: 3,
        operations: 0,
        concurrency: 16,
        clients: 4,
        rates: { dropResponse: 0.02, resetRequest: 0.01, duplicate: 0.02, burst503: 0.002 },
        seed: 29,
        leaseMs: 2000,
        handlerMs: 5,
        bound: 'exactly-one',
        load: (senders, cluster) => soak.load(senders, cluster),
        after: (cluster, proxy) => soak.after(cluster, () => proxy.close()),
      });
      const extra = figures.extra!;
      expect(extra.maxHeapGrowthMB).toBeLessThanOrEqual(HEAP_GROWTH_BOUND / 1024 / 1024);
      expect(extra.maxRssGrowthMB).toBeLessThanOrEqual(RSS_GROWTH_BOUND / 1024 / 1024);
      expect(extra.inFlightAfter).toBe(0);
      expect(extra.timersLeaked).toBeLessThanOrEqual(0);
      expect(extra.socketsLeaked).toBeLessThanOrEqual(0);
    },
  );
});
