// One server process of the multi-instance tests (a cluster.ts worker): Express + the idempotency
// middleware on a shared RedisStore, PostgresStore or SqliteStore. Configured by environment.
//
// POST /orders applies one effect (a ledger entry in Redis, PostgreSQL or the SQLite file, outside the
// store), waits DELAY_MS, then answers 201 with a fresh order id. Every answer carries `x-instance` (this
// pid). With `x-crash-after-effect: 1` the process SIGKILLs itself after the effect and before answering
// (the header is not in the fingerprint, so a retry without it is the same request).
//
// With TRANSACTIONAL=1 (postgres, sqlite) the store runs in transactional mode: the effect is written
// on `store.currentTransaction()`, and `x-crash-after-commit: 1` kills the process right after the
// commit, before the response leaves.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { idempotency } from '@oncely/server/express';
import type { IdempotencyStore } from '@oncely/server';
import { PostgresStore } from '@oncely/postgres';
import { RedisStore } from '@oncely/redis';
import { SqliteStore } from '@oncely/sqlite';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const instance = String(process.pid);
const delayMs = Number(env('DELAY_MS', '0'));
const storeKind = env('STORE');
const transactional = env('TRANSACTIONAL', '0') === '1';

let store: IdempotencyStore;
let applyEffect: (key: string) => Promise<void>;

if (storeKind === 'redis') {
  const client = new Redis(env('STORE_REDIS_URL'), { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // reconnection is ioredis's; failures reach the store as errors
  store = new RedisStore({ client, prefix: env('PREFIX'), commandTimeoutMs: 500 });
  const ledger = new Redis(env('LEDGER_REDIS_URL'));
  const ledgerKey = env('LEDGER_KEY');
  applyEffect = async (key) => {
    await ledger.hincrby(ledgerKey, key, 1);
  };
} else if (storeKind === 'postgres') {
  const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 10, connectionTimeoutMillis: 1000 });
  pool.on('error', () => undefined);
  const insert = `INSERT INTO "${env('LEDGER_TABLE')}" (key, instance) VALUES ($1, $2)`;
  const postgres = new PostgresStore({ pool, table: env('TABLE'), transactional });
  store = postgres;
  applyEffect = async (key) => {
    await (transactional ? postgres.currentTransaction() : pool).query(insert, [key, instance]);
  };
} else if (storeKind === 'sqlite') {
  // The app's own connection to the same file, for effects outside transactional mode.
  const app = new Database(env('SQLITE_FILE'));
  const sqlite = new SqliteStore({ filename: env('SQLITE_FILE'), transactional });
  store = sqlite;
  const insert = 'INSERT INTO ledger (key, instance) VALUES (?, ?)';
  applyEffect = async (key) => {
    (transactional ? sqlite.currentTransaction() : app).prepare(insert).run(key, instance);
  };
} else {
  throw new Error(`STORE must be redis, postgres or sqlite, got ${storeKind}`);
}

/** Set by a request with `x-crash-after-commit: 1`; the store wrapper then dies after its commit. */
let crashAfterNextCommit = false;

/** The store, with a SIGKILL right after a transactional commit when a request asked for it. */
function crashAfterCommit(inner: IdempotencyStore): IdempotencyStore {
  const execute = inner.executeTransactionally;
  if (execute === undefined) return inner;
  const executeThenCrash: typeof execute = async (key, token, run) => {
    const outcome = await execute.call(inner, key, token, run);
    if (crashAfterNextCommit && outcome === 'completed') process.kill(process.pid, 'SIGKILL');
    return outcome;
  };
  // Every other method as is, bound to the store (stores keep state in private fields).
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'executeTransactionally') return executeThenCrash;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const app = express();
app.use((_req, res, next) => {
  res.setHeader('x-instance', instance);
  next();
});
app.use(
  idempotency({
    store: crashAfterCommit(store),
    scope: 'global',
    lease: Number(env('LEASE_MS', '30000')),
    storeTimeout: Number(env('STORE_TIMEOUT_MS', '700')),
  }),
);
app.use(express.json());
app.post('/orders', async (req, res) => {
  const key = req.get('idempotency-key') ?? '';
  await applyEffect(key);
  if (req.get('x-crash-after-effect') === '1') process.kill(process.pid, 'SIGKILL');
  if (req.get('x-crash-after-commit') === '1') crashAfterNextCommit = true;
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  res.status(201).json({ orderId: randomUUID(), instance, item: (req.body as { item?: unknown }).item });
});

app.listen(0, '127.0.0.1');
