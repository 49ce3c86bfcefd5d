import { existsSync } from 'node:fs';
import type { IdempotencyStore } from '@oncely/server';
import type { Backend } from './args.js';

/** A store and what closes its connections. */
export interface OpenStore {
  store: IdempotencyStore;
  /** What the output calls it, e.g. `Redis redis://127.0.0.1:6379 (prefix oncely)`. */
  label: string;
  close(): Promise<void>;
}

/** A store package or driver is not installed next to the CLI: exit 2 with how to install it. */
export class MissingPackageError extends Error {
  override readonly name = 'MissingPackageError';
}

/** Connects to the store the command names. The packages are loaded only when asked for. */
export async function openStore(backend: Backend): Promise<OpenStore> {
  switch (backend.kind) {
    case 'redis':
      return openRedis(backend.url, backend.prefix);
    case 'postgres':
      return openPostgres(backend.url, backend.table, backend.schema);
    case 'sqlite':
      return openSqlite(backend.file);
  }
}

async function openRedis(url: string, prefix: string | undefined): Promise<OpenStore> {
  const [{ Redis }, { RedisStore }] = await Promise.all([
    load(() => import('ioredis'), 'ioredis', '--redis', '@oncely/redis ioredis'),
    load(() => import('@oncely/redis'), '@oncely/redis', '--redis', '@oncely/redis ioredis'),
  ]);
  // Fail fast: one connection attempt, no offline queue, no retry loop behind the operator's back.
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  client.on('error', (error: unknown) => (lastError = error)); // reported below, or by the failing command
  try {
    await client.connect();
  } catch (error) {
    const cause = lastError ?? error;
    throw new Error(
      `cannot connect to Redis at ${redact(url)}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
  return {
    store: new RedisStore({ client, prefix }),
    label: `Redis ${redact(url)} (prefix ${prefix ?? 'oncely'})`,
    close: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

async function openPostgres(
  url: string,
  table: string | undefined,
  schema: string | undefined,
): Promise<OpenStore> {
  const [pg, { PostgresStore }] = await Promise.all([
    load(() => import('pg'), 'pg', '--postgres', '@oncely/postgres pg'),
    load(() => import('@oncely/postgres'), '@oncely/postgres', '--postgres', '@oncely/postgres pg'),
  ]);
  const pool = new pg.default.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined); // an idle client's error; the next query reports it
  return {
    store: new PostgresStore({ pool, table, schema }),
    label: `PostgreSQL ${redact(url)} (table ${schema ?? 'public'}.${table ?? 'oncely_idempotency'})`,
    close: () => pool.end(),
  };
}

async function openSqlite(file: string): Promise<OpenStore> {
  // SQLite would create an empty database: a typo must not look like "no such record".
  if (!existsSync(file)) throw new MissingPackageError(`No SQLite database at ${file}.`);
  const { SqliteStore } = await load(
    () => import('@oncely/sqlite'),
    '@oncely/sqlite',
    '--sqlite',
    '@oncely/sqlite better-sqlite3',
  );
  const store = new SqliteStore({ filename: file });
  return {
    store,
    label: `SQLite ${file}`,
    close: () => {
      store.close();
      return Promise.resolve();
    },
  };
}

/** Imports an optional package, turning "not installed" into an error that says what to install. */
async function load<T>(importer: () => Promise<T>, name: string, flag: string, install: string): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      typeof message === 'string' &&
      message.includes(`'${name}'`);
    if (!missing) throw error;
    throw new MissingPackageError(`${flag} needs ${name}, which is not installed: npm install ${install}`);
  }
}

/** The URL without its password, for output. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
