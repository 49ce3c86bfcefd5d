// The stores the multi-instance scenarios run against. Each fixture prepares its backend (a key prefix,
// tables, a file), tells the server processes how to reach it (env), and reads back, from this process,
// the effects the handler applied and the record the store keeps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { computeStoreKey } from '@oncely/server';
import type { IdempotencyRecord, IdempotencyStore } from '@oncely/server';
import { PostgresStore, migrate } from '@oncely/postgres';
import { RedisStore } from '@oncely/redis';
import { SqliteStore } from '@oncely/sqlite';
import {
  DATABASE_URL,
  postgresUnavailableReason,
  uniqueTable,
} from '../../packages/postgres/src/test-support.js';
import {
  REDIS_URL,
  deleteKeys,
  redisUnavailableReason,
  uniquePrefix,
} from '../../packages/redis/src/test-support.js';

export interface StoreFixture {
  /** Environment of the server processes (server.ts). */
  env: Record<string, string>;
  /** How many times the handler's effect was applied for `key`. */
  effects(key: string): Promise<number>;
  /** The store's record of idempotency key `key` (scope `global`, as the servers use). */
  record(key: string): Promise<IdempotencyRecord | undefined>;
  close(): Promise<void>;
}

/** A fixture to create, or why its backend is not there (the scenarios are then skipped, saying so). */
export type FixtureSetup = {
  /** Whether the handler's effect commits with the record (transactional mode). */
  transactional: boolean;
} & ({ skip: string } | { create: () => Promise<StoreFixture> });

const recordOf = (store: IdempotencyStore) => async (key: string) =>
  store.get(await computeStoreKey('global', key));

export async function redisFixture(): Promise<FixtureSetup> {
  const skip = await redisUnavailableReason();
  if (skip !== undefined) return { transactional: false, skip };
  return {
    transactional: false,
    async create() {
      const prefix = uniquePrefix('multi');
      const ledgerKey = `${prefix}:ledger`;
      const client = new Redis(REDIS_URL!);
      return {
        env: {
          STORE: 'redis',
          STORE_REDIS_URL: REDIS_URL!,
          LEDGER_REDIS_URL: REDIS_URL!,
          LEDGER_KEY: ledgerKey,
          PREFIX: prefix,
        },
        effects: async (key) => Number((await client.hget(ledgerKey, key)) ?? 0),
        record: recordOf(new RedisStore({ client, prefix })),
        async close() {
          await client.del(ledgerKey);
          await deleteKeys(client, prefix);
          await client.quit();
        },
      };
    },
  };
}

export async function postgresFixture(transactional: boolean): Promise<FixtureSetup> {
  const skip = await postgresUnavailableReason();
  if (skip !== undefined) return { transactional, skip };
  return {
    transactional,
    async create() {
      const table = uniqueTable(transactional ? 'multitx' : 'multi');
      const ledgerTable = `${table}_ledger`;
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
      await migrate(pool, { table });
      await pool.query(`CREATE TABLE "${ledgerTable}" (key text NOT NULL, instance text NOT NULL)`);
      return {
        env: {
          STORE: 'postgres',
          TRANSACTIONAL: transactional ? '1' : '0',
          DATABASE_URL: DATABASE_URL!,
          TABLE: table,
          LEDGER_TABLE: ledgerTable,
        },
        effects: async (key) =>
          (await pool.query(`SELECT 1 FROM "${ledgerTable}" WHERE key = $1`, [key])).rowCount ?? 0,
        record: recordOf(new PostgresStore({ pool, table })),
        async close() {
          await pool.query(`DROP TABLE IF EXISTS "${table}", "${ledgerTable}"`);
          await pool.end();
        },
      };
    },
  };
}

/** SQLite needs no service: the records and the app's ledger share one file in a temp directory. */
export async function sqliteFixture(transactional: boolean): Promise<FixtureSetup> {
  return {
    transactional,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'oncely-multi-sqlite-'));
      const filename = join(dir, 'app.db');
      const app = new Database(filename);
      app.pragma('journal_mode = WAL');
      app.exec('CREATE TABLE ledger (key TEXT NOT NULL, instance TEXT NOT NULL)');
      const store = new SqliteStore({ filename });
      const count = app.prepare('SELECT count(*) AS n FROM ledger WHERE key = ?');
      return {
        env: { STORE: 'sqlite', TRANSACTIONAL: transactional ? '1' : '0', SQLITE_FILE: filename },
        effects: async (key) => (count.get(key) as { n: number }).n,
        record: recordOf(store),
        async close() {
          store.close();
          app.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}
