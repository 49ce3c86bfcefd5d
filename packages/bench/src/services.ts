import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '@oncely/postgres';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { ServiceUrls } from './scenarios.js';

/** Whether a backing service can be used in this run, and why not when it cannot. */
export type ServiceState = { ok: true } | { ok: false; reason: string };

export interface Services {
  urls: ServiceUrls;
  redis: ServiceState;
  postgres: ServiceState;
  /** Table shared by the PostgresStore rows of this run (truncated before and dropped after). */
  table: string;
}

export function serviceUrls(): ServiceUrls {
  return {
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    sqliteDir: mkdtempSync(join(tmpdir(), 'oncely-bench-sqlite-')),
  };
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

async function probeRedis(url: string): Promise<ServiceState> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `Redis unreachable at ${url} (${describe(lastError ?? error)})` };
  } finally {
    client.disconnect();
  }
}

async function probePostgres(url: string, table: string): Promise<ServiceState> {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 1500, max: 1 });
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
    await migrate(pool, { table });
    await pool.query(`TRUNCATE ${table}`);
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `PostgreSQL unusable at ${url} (${describe(error)})` };
  } finally {
    await pool.end().catch(() => {});
  }
}

/** Probes Redis and PostgreSQL once; prepares the benchmark's own table. */
export async function probeServices(namespace: string): Promise<Services> {
  const urls = serviceUrls();
  const table = `oncely_bench_${namespace.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 48);
  const [redis, postgres] = await Promise.all([
    probeRedis(urls.redisUrl),
    probePostgres(urls.databaseUrl, table),
  ]);
  return { urls, redis, postgres, table };
}

/** Best-effort removal of what this run left in Redis and PostgreSQL (records also expire in 10 min). */
export async function cleanupServices(services: Services, namespace: string): Promise<void> {
  rmSync(services.urls.sqliteDir, { recursive: true, force: true });
  if (services.postgres.ok) {
    const pool = new pg.Pool({ connectionString: services.urls.databaseUrl, max: 1 });
    pool.on('error', () => {});
    await pool.query(`DROP TABLE IF EXISTS ${services.table}`).catch(() => {});
    await pool.end().catch(() => {});
  }
  if (services.redis.ok) {
    const client = new Redis(services.urls.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      for (const pattern of [`*oncely-bench-${namespace}*`, `node-idempotency-bench-${namespace}*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await client.unlink(...keys);
        } while (cursor !== '0');
      }
    } catch {
      // Records expire on their own after BENCH_TTL_MS.
    } finally {
      client.disconnect();
    }
  }
}
