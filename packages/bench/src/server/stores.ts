import type { IdempotencyStore } from '@oncely/server';
import { MemoryStore } from '@oncely/server';
import { PostgresStore } from '@oncely/postgres';
import { join } from 'node:path';
import { RedisStore } from '@oncely/redis';
import { SqliteStore } from '@oncely/sqlite';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { ServerSpec, StoreKind } from '../scenarios.js';

/** Records outlive every run but not the day: the benchmark shares Redis and PostgreSQL with others. */
export const BENCH_TTL_MS = 10 * 60_000;

/** Lets the round-trip suite wrap the pg pool a store uses. */
export interface StoreInstrumentation {
  onPool?: (pool: pg.Pool) => void;
}

export interface OpenedStore {
  store: IdempotencyStore;
  close: () => Promise<void>;
}

/** The store of an Oncely variant, configured as the store READMEs show (defaults everywhere). */
export async function openStore(
  kind: StoreKind,
  spec: ServerSpec,
  instrumentation: StoreInstrumentation = {},
): Promise<OpenedStore> {
  switch (kind) {
    case 'memory':
      return { store: new MemoryStore(), close: async () => {} };
    case 'redis': {
      const client = new Redis(spec.redisUrl, { connectionName: `oncely-bench-${spec.namespace}` });
      return {
        store: new RedisStore({ client, prefix: `oncely-bench-${spec.namespace}` }),
        close: async () => {
          await client.quit();
        },
      };
    }
    case 'postgres': {
      const pool = new pg.Pool({ connectionString: spec.databaseUrl });
      instrumentation.onPool?.(pool);
      return {
        store: new PostgresStore({ pool, table: spec.table }),
        close: async () => {
          await pool.end();
        },
      };
    }
    case 'sqlite': {
      // A file of its own per server child, on the run's directory (a real disk, not tmpfs, here).
      const store = new SqliteStore({ filename: join(spec.sqliteDir, `${spec.namespace}.db`) });
      return { store, close: async () => store.close() };
    }
  }
}
