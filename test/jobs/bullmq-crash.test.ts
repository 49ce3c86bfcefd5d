import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '@oncely/postgres';
import {
  DATABASE_URL,
  postgresUnavailableReason,
  uniqueTable,
} from '../../packages/postgres/src/test-support.js';
import { REDIS_URL, redisUnavailableReason } from '../../packages/redis/src/test-support.js';

const skipReason = (await redisUnavailableReason()) ?? (await postgresUnavailableReason());
if (skipReason !== undefined) console.warn(`Skipping the BullMQ crash tests: ${skipReason}.`);

const WORKER = fileURLToPath(new URL('./bullmq-worker.ts', import.meta.url));
/** The idempotency lease and BullMQ's lock: how long a killed worker's job stays its own. */
const LEASE_MS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A worker process (bullmq-worker.ts); resolves once it runs, with a way to read what it printed. */
function startWorker(env: Record<string, string>): Promise<{ child: ChildProcess; printed: () => string }> {
  const child = spawn(process.execPath, ['--conditions=@oncely/source', '--import', 'tsx', WORKER], {
    env: { ...process.env, ...env, LEASE_MS: String(LEASE_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (!out.includes('ready\n')) return;
      clearInterval(poll);
      resolve({ child, printed: () => out });
    }, 20);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`worker exited (${code}) before it was ready: ${out}`));
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(skipReason !== undefined)('a BullMQ worker killed in the middle of a job', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each([
    ['with transactional mode: exactly one charge (the killed one was rolled back)', true, 1],
    ['without it: the charge is repeated once, the documented bound', false, 2],
  ] as const)(
    '%s',
    async (_name, transactional, charges) => {
      const table = uniqueTable('bullmq');
      const ledgerTable = `${table}_ledger`;
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
      await migrate(pool, { table });
      await pool.query(`CREATE TABLE "${ledgerTable}" (order_id text NOT NULL, pid integer NOT NULL)`);
      const bullPrefix = `oncely-test-bull-${randomUUID()}`;
      const queueName = `crash-${randomUUID()}`;
      const queue = new Queue(queueName, {
        connection: new Redis(REDIS_URL!, { maxRetriesPerRequest: null }),
        prefix: bullPrefix,
      });
      const workers: ChildProcess[] = [];
      cleanups.push(async () => {
        await Promise.all(workers.map(kill));
        await queue.obliterate({ force: true });
        await queue.close();
        await queue.disconnect();
        await pool.query(`DROP TABLE IF EXISTS "${table}", "${ledgerTable}"`);
        await pool.end();
      });
      const env = {
        REDIS_URL: REDIS_URL!,
        DATABASE_URL: DATABASE_URL!,
        QUEUE: queueName,
        BULL_PREFIX: bullPrefix,
        TABLE: table,
        LEDGER_TABLE: ledgerTable,
        TRANSACTIONAL: transactional ? '1' : '0',
      };
      const charged = async (orderId: string) =>
        (await pool.query<{ pid: number }>(`SELECT pid FROM "${ledgerTable}" WHERE order_id = $1`, [orderId]))
          .rows;

      // The first worker charges, then is killed before the charge completes.
      const first = await startWorker({ ...env, CRASH: '1' });
      workers.push(first.child);
      const order = { id: `ord_${randomUUID()}`, amount: 4200 };
      // A redelivery that meets the lease still held is refused and retried by BullMQ, until the lease ran out.
      const job = await queue.add('charge', order, {
        attempts: 20,
        backoff: { type: 'fixed', delay: LEASE_MS / 2 },
      });
      while (!first.printed().includes(`effect ${order.id}`)) await sleep(20);
      await kill(first.child);

      // Another worker finds the job stalled, takes the key over once the lease ran out, and finishes it.
      const second = await startWorker({ ...env, CRASH: '0' });
      workers.push(second.child);
      let state = await job.getState();
      while (state !== 'completed' && state !== 'failed') {
        await sleep(50);
        state = await job.getState();
      }
      expect(state).toBe('completed');
      const done = await queue.getJob(job.id!);
      expect(done?.returnvalue).toEqual({ charged: 4200, by: second.child.pid });

      const rows = await charged(order.id);
      expect(rows).toHaveLength(charges);
      expect(rows.filter((row) => row.pid === second.child.pid)).toHaveLength(1);

      // A later duplicate delivery of the order replays the result: no further charge.
      const again = await queue.add('charge', order, { jobId: `${order.id}-again` });
      while ((await again.getState()) !== 'completed') await sleep(50);
      expect((await queue.getJob(again.id!))?.returnvalue).toEqual({ charged: 4200, by: second.child.pid });
      expect(await charged(order.id)).toHaveLength(charges);
    },
    90_000,
  );
});
