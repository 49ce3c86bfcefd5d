// One server instance of the multi-instance tests: Express + idempotency middleware on a shared
// RedisStore or PostgresStore. Configured by environment; prints `listening <port>` when ready.
//
// POST /orders applies one effect (a ledger entry in Redis or PostgreSQL, outside the store), waits
// DELAY_MS, then answers 201 with a fresh order id. With `x-crash-after-effect: 1` the process kills
// itself with SIGKILL after the effect and before answering (the header is not in the fingerprint,
// so a retry without it is the same request).
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
  store = new PostgresStore({ pool, table: env('TABLE') });
  const ledgerTable = env('LEDGER_TABLE');
  applyEffect = async (key) => {
    await pool.query(`INSERT INTO "${ledgerTable}" (key, instance) VALUES ($1, $2)`, [key, instance]);
  };
} else {
  throw new Error(`STORE must be redis or postgres, got ${storeKind}`);
}

const app = express();
app.use(
  idempotency({
    store,
    scope: 'global',
    lease: Number(env('LEASE_MS', '30000')),
    storeTimeout: Number(env('STORE_TIMEOUT_MS', '1000')),
  }),
);
app.use(express.json());
app.post('/orders', async (req, res) => {
  const key = req.get('idempotency-key') ?? '';
  await applyEffect(key);
  if (req.get('x-crash-after-effect') === '1') process.kill(process.pid, 'SIGKILL');
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  res.status(201).json({ orderId: randomUUID(), instance, item: (req.body as { item?: unknown }).item });
});

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`listening ${address.port}\n`);
});
