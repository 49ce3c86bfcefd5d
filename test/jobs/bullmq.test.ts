import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { idempotent } from '@oncely/server';
import type { IdempotentOptions } from '@oncely/server';
import { RedisStore } from '@oncely/redis';
import {
  REDIS_URL,
  deleteKeys,
  redisUnavailableReason,
  uniquePrefix,
} from '../../packages/redis/src/test-support.js';

const skipReason = await redisUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the BullMQ tests: ${skipReason}.`);

interface Order {
  id: string;
  amount: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until every job of `queue` finished (completed or failed); resolves to the counts. */
async function settle(queue: Queue, jobs: number): Promise<{ completed: number; failed: number }> {
  for (;;) {
    const { completed = 0, failed = 0 } = await queue.getJobCounts('completed', 'failed');
    if (completed + failed >= jobs) return { completed, failed };
    await sleep(50);
  }
}

describe.skipIf(skipReason !== undefined)('a BullMQ worker that receives every job twice', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each([
    ['waits for the running duplicate and returns its result', { wait: { timeoutMs: 20_000 } }, 1],
    ['refuses the running duplicate; BullMQ retries it into a replay', { wait: false }, 10],
  ] as const)(
    'charges each order once: %s',
    async (_name, waitOption, attempts) => {
      const storePrefix = uniquePrefix('bullmq');
      const bullPrefix = `oncely-test-bull-${randomUUID()}`;
      const queueName = `orders-${randomUUID()}`;
      const ledgerKey = `${storePrefix}:ledger`;
      const redis = new Redis(REDIS_URL!);
      const queue = new Queue(queueName, {
        connection: new Redis(REDIS_URL!, { maxRetriesPerRequest: null }),
        prefix: bullPrefix,
      });
      cleanups.push(async () => {
        await queue.obliterate({ force: true });
        await queue.close();
        await queue.disconnect();
        await deleteKeys(redis, storePrefix);
        await redis.del(ledgerKey);
        redis.disconnect();
      });

      const seen = { claims: 0, replays: 0, conflicts: 0 };
      const options: IdempotentOptions<[Order]> = {
        name: 'charge-order',
        key: (order) => order.id,
        store: new RedisStore({ client: redis, prefix: storePrefix }),
        lease: 5000,
        ...waitOption,
        onClaim: () => (seen.claims += 1),
        onReplay: () => (seen.replays += 1),
        onConflict: () => (seen.conflicts += 1),
      };
      // The effect: a charge counted in Redis, then a result the duplicates get back.
      const chargeOrder = idempotent(async (order: Order) => {
        await redis.hincrby(ledgerKey, order.id, 1);
        await sleep(30);
        return { chargeId: `ch_${order.id}`, amount: order.amount };
      }, options);
      // Two workers, each on its own connections, four jobs at a time each.
      const workers = [1, 2].map(
        () =>
          new Worker(queueName, async (job: Job<Order>) => chargeOrder(job.data), {
            connection: new Redis(REDIS_URL!, { maxRetriesPerRequest: null }),
            prefix: bullPrefix,
            concurrency: 4,
          }),
      );
      cleanups.push(() => Promise.all(workers.map((worker) => worker.close())));

      const orders = Array.from({ length: 12 }, (_, i): Order => ({
        id: `ord_${randomUUID()}`,
        amount: 100 + i,
      }));
      const jobOptions = { attempts, backoff: { type: 'fixed', delay: 100 } };
      // Each order twice, side by side (delivered at the same time), then once more after all finished.
      await queue.addBulk(
        orders.flatMap((order) => [
          { name: 'charge', data: order, opts: { ...jobOptions, jobId: `${order.id}-a` } },
          { name: 'charge', data: order, opts: { ...jobOptions, jobId: `${order.id}-b` } },
        ]),
      );
      expect(await settle(queue, 2 * orders.length)).toEqual({ completed: 2 * orders.length, failed: 0 });
      await queue.addBulk(
        orders.map((order) => ({
          name: 'charge',
          data: order,
          opts: { ...jobOptions, jobId: `${order.id}-c` },
        })),
      );
      expect(await settle(queue, 3 * orders.length)).toEqual({ completed: 3 * orders.length, failed: 0 });

      expect([seen.claims, seen.replays]).toEqual([orders.length, 2 * orders.length]);
      // Without `wait`, duplicates that met their running first were refused (and retried by BullMQ).
      if (waitOption.wait === false) expect(seen.conflicts).toBeGreaterThan(0);
      const ledger = await redis.hgetall(ledgerKey);
      expect(ledger).toEqual(Object.fromEntries(orders.map((order) => [order.id, '1'])));
      for (const order of orders) {
        const results = await Promise.all(['a', 'b', 'c'].map((s) => queue.getJob(`${order.id}-${s}`)));
        for (const job of results) {
          expect(job?.returnvalue).toEqual({ chargeId: `ch_${order.id}`, amount: order.amount });
        }
      }
    },
    60_000,
  );
});
