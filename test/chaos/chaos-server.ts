// One server instance of the chaos suite, in its own Node process: Express + the idempotency middleware
// on a shared RedisStore or PostgresStore. Started through test/multi-instance/harness.ts; prints
// `listening <port>` when ready. Configured by environment:
//   STORE            redis | postgres
//   STORE_REDIS_URL  Redis of the RedisStore (STORE=redis), PREFIX its key prefix
//   DATABASE_URL     PostgreSQL of the ledger (and of the PostgresStore, TABLE)
//   TRANSACTIONAL    1: PostgresStore in transactional mode, the ledger row written in its transaction
//   LEDGER_TABLE     the run's ledger: one row per effect
//   LEASE_MS, STORE_TIMEOUT_MS, HANDLER_MS (time the handler spends after its effect), PORT
//
// POST /ops applies one effect (a ledger row with a fresh effect id), spends HANDLER_MS, then answers
// 201 { op, effectId, instance }. GET /debug reports memory, active resources and hook counts.
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { idempotency } from '@oncely/server/express';
import type { IdempotencyHooks, IdempotencyStore } from '@oncely/server';
import { RedisStore } from '@oncely/redis';
import { PostgresStore } from '@oncely/postgres';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

// A callable gc() so /debug?gc=1 measures live memory, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const instance = env('INSTANCE');
const handlerMs = Number(env('HANDLER_MS', '20'));
const ledgerTable = env('LEDGER_TABLE');
// No idle timeout: idle clients then hold no timer, so timer counts in /debug mean requests.
const pool = new pg.Pool({
  connectionString: env('DATABASE_URL'),
  max: 6,
  idleTimeoutMillis: 0,
  connectionTimeoutMillis: 2000,
});
pool.on('error', () => undefined);

let store: IdempotencyStore;
let query: (sql: string, params: unknown[]) => Promise<unknown> = (sql, params) => pool.query(sql, params);
const storeKind = env('STORE');
if (storeKind === 'redis') {
  const client = new Redis(env('STORE_REDIS_URL'), { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // reconnection is ioredis's; failures reach the store as errors
  store = new RedisStore({ client, prefix: env('PREFIX'), commandTimeoutMs: 500 });
} else if (storeKind === 'postgres') {
  const postgresStore = new PostgresStore({
    pool,
    table: env('TABLE'),
    transactional: env('TRANSACTIONAL', '0') === '1',
  });
  store = postgresStore;
  if (env('TRANSACTIONAL', '0') === '1') {
    query = (sql, params) => postgresStore.currentTransaction().query(sql, params);
  }
} else {
  throw new Error(`STORE must be redis or postgres, got ${storeKind}`);
}

const counts: Record<string, number> = {};
const count = (name: string) => () => {
  counts[name] = (counts[name] ?? 0) + 1;
};
const hooks: IdempotencyHooks = {
  onClaim: count('claim'),
  onReplay: count('replay'),
  onConflict: count('conflict'),
  onMismatch: count('mismatch'),
  onRelease: count('release'),
  onTakeover: count('takeover'),
  onFenced: count('fenced'),
  onOversize: count('oversize'),
  onStoreFailure: count('storeFailure'),
};

let inFlight = 0;
const app = express();
app.use(
  idempotency({
    store,
    scope: 'global',
    lease: Number(env('LEASE_MS', '5000')),
    storeTimeout: Number(env('STORE_TIMEOUT_MS', '1000')),
    ...hooks,
  }),
);
app.use(express.json());
app.post('/ops', async (req, res) => {
  inFlight++;
  try {
    const { op } = req.body as { op: string };
    const effectId = randomUUID();
    await query(`INSERT INTO "${ledgerTable}" (op, effect_id, instance, pid) VALUES ($1, $2, $3, $4)`, [
      op,
      effectId,
      instance,
      process.pid,
    ]);
    if (handlerMs > 0) await new Promise((resolve) => setTimeout(resolve, handlerMs));
    res.status(201).json({ op, effectId, instance });
  } finally {
    inFlight--;
  }
});
app.get('/debug', (req, res) => {
  if (req.query.gc === '1') gc();
  const resources: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) resources[name] = (resources[name] ?? 0) + 1;
  const { rss, heapUsed } = process.memoryUsage();
  res.json({ pid: process.pid, rss, heapUsed, resources, inFlight, hooks: counts });
});
app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  res.status(500).json({ error: error instanceof Error ? error.message : 'error' });
});

const server = app.listen(Number(env('PORT', '0')), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`listening ${address.port}\n`);
});
