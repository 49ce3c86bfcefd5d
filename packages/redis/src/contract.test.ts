import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { runStoreContractSuite } from '@oncely/server/testing';
import { RedisStore } from './index.js';
import { REDIS_URL, deleteKeys, redisUnavailableReason, uniquePrefix } from './test-support.js';

const skipReason = await redisUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the RedisStore contract suite: ${skipReason}.`);

describe.skipIf(skipReason !== undefined)('RedisStore', () => {
  const prefix = uniquePrefix('contract');
  let client: Redis;
  beforeAll(() => {
    client = new Redis(REDIS_URL!);
  });
  afterAll(async () => {
    await deleteKeys(client, prefix);
    await client.quit();
  });
  runStoreContractSuite('RedisStore on a real Redis', () => new RedisStore({ client, prefix }), {
    leaseMs: 60,
  });
});
