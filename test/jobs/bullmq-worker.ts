// One BullMQ worker process for bullmq-crash.test.ts. It charges orders through an idempotent
// function on a PostgresStore; the charge is a row in LEDGER_TABLE, written in the store's transaction
// when TRANSACTIONAL=1, else on its own (committed at once). With CRASH=1 it announces each charge on
// stdout ("effect <order id>") and then hangs, so that the test can SIGKILL it between the effect and
// the completion. It prints "ready" once the worker runs.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PostgresStore } from '@oncely/postgres';
import { idempotent } from '@oncely/server';

const env = process.env as Record<string, string>;
const transactional = env.TRANSACTIONAL === '1';
const leaseMs = Number(env.LEASE_MS);

const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
const store = new PostgresStore({ pool, table: env.TABLE!, transactional });

interface Order {
  id: string;
  amount: number;
}

const chargeOrder = idempotent(
  async (order: Order) => {
    const db = transactional ? store.currentTransaction() : pool;
    await db.query(`INSERT INTO "${env.LEDGER_TABLE}" (order_id, pid) VALUES ($1, $2)`, [
      order.id,
      process.pid,
    ]);
    if (env.CRASH === '1') {
      process.stdout.write(`effect ${order.id}\n`);
      await new Promise<never>(() => undefined);
    }
    return { charged: order.amount, by: process.pid };
  },
  { name: 'charge-order', key: (order) => order.id, store, lease: leaseMs, storeTimeout: leaseMs / 4 },
);

const worker = new Worker<Order>(env.QUEUE!, async (job) => chargeOrder(job.data), {
  connection: new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null }),
  prefix: env.BULL_PREFIX!,
  // A killed worker's job is found stalled and handed to another worker after about this long.
  lockDuration: leaseMs,
  stalledInterval: leaseMs / 2,
  // A loaded machine may also miss a lock renewal before the kill: one more stall is not a failure.
  maxStalledCount: 5,
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
