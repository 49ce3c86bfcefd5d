// One server instance of the multi-instance tests: Express + idempotency middleware on a shared
// RedisStore or PostgresStore. Configured by environment; prints `listening <port>` when ready.
//
// POST /orders applies one effect (a ledger entry in Redis or PostgreSQL, outside the store), waits
// DELAY_MS, then answers 201 with a fresh order id. With `x-crash-after-effect: 1` the process kills
// itself with SIGKILL after the effect and before answering (the header is not in the fingerprint,
// so a retry without it is the same request).
//
// With TRANSACTIONAL=1 (postgres only) the store runs in transactional mode: the effect is written on
// `store.currentTransaction()`, and `x-crash-after-commit: 1` kills the process right after the
// commit, before the response leaves.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { idempotency } from '@oncely/server/express';
import type { IdempotencyStore } from '@oncely/server';
import { RedisStore } from '@oncely/redis';
import { PostgresStore } from '@oncely/postgres';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const instance = env('INSTANCE', 'a');
const delayMs = Number(env('DELAY_MS', '0'));
const storeKind = env('STORE');

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
  const ledgerTable = env('LEDGER_TABLE');
  const insert = `INSERT INTO "${ledgerTable}" (key, instance) VALUES ($1, $2)`;
  if (env('TRANSACTIONAL', '0') === '1') {
    const postgres = new PostgresStore({ pool, table: env('TABLE'), transactional: true });
    store = crashAfterCommit(postgres);
    applyEffect = async (key) => {
      await postgres.currentTransaction().query(insert, [key, instance]);
    };
  } else {
    store = new PostgresStore({ pool, table: env('TABLE') });
    applyEffect = async (key) => {
      await pool.query(insert, [key, instance]);
    };
  }
} else {
  throw new Error(`STORE must be redis or postgres, got ${storeKind}`);
}

/** Set by a request with `x-crash-after-commit: 1`; the store wrapper then dies after its commit. */
let crashAfterNextCommit = false;

/** The transactional store, with a SIGKILL right after a commit when a request asked for it. */
function crashAfterCommit(inner: PostgresStore): IdempotencyStore {
  const execute = inner.executeTransactionally!;
  return {
    claim: (request) => inner.claim(request),
    complete: (key, token, response) => inner.complete(key, token, response),
    release: (key, token) => inner.release(key, token),
    extend: (key, token, leaseMs) => inner.extend(key, token, leaseMs),
    get: (key) => inner.get(key),
    async executeTransactionally(key, token, run) {
      const outcome = await execute(key, token, run);
      if (crashAfterNextCommit && outcome === 'completed') process.kill(process.pid, 'SIGKILL');
      return outcome;
    },
  };
}

const app = express();
app.use(
  idempotency({
    store,
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

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`listening ${address.port}\n`);
});
