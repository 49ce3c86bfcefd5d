import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { computeStoreKey } from '@oncely/server';
import { runStoreContractSuite } from '@oncely/server/testing';
import { RedisStore } from './index.js';
import { clusterUnavailableReason, startLocalCluster } from './cluster-support.js';
import type { LocalCluster } from './cluster-support.js';

const skipReason =
  process.env.ONCELY_SKIP_REDIS_CLUSTER === '1' ? 'ONCELY_SKIP_REDIS_CLUSTER=1' : clusterUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the Redis Cluster tests: ${skipReason}.`);

describe.skipIf(skipReason !== undefined)('RedisStore on a local 3-node Redis Cluster', () => {
  let cluster: LocalCluster;
  let client: Cluster;
  let store: RedisStore;

  beforeAll(async () => {
    cluster = await startLocalCluster(3);
    client = cluster.client();
    store = new RedisStore({ client, prefix: 'oncely-cluster-test' });
  }, 30_000);
  afterAll(async () => {
    await client?.quit().catch(() => undefined);
    await cluster?.stop();
  });

  it('claims, completes and replays keys that live on every node', async () => {
    // Store keys as the engine builds them (`<scope hash>:<key hash>`): the hash tag wraps them whole.
    const keys = await Promise.all(
      Array.from({ length: 30 }, (_, i) => computeStoreKey('tenant', `key-${i}`)),
    );
    const owners = new Set<number | undefined>();
    for (const key of keys) {
      const claimed = await store.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
      if (claimed.outcome !== 'claimed') throw new Error(`expected a claim of ${key}`);
      const body = new Uint8Array([0, 255, 0xc3, 0x28, keys.indexOf(key)]);
      expect(await store.complete(key, claimed.fencingToken, { status: 200, headers: [], body })).toBe(true);
      const replay = await store.claim({ key, fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 });
      expect(replay.outcome).toBe('completed');
      if (replay.outcome === 'completed') expect(replay.record.response.body).toEqual(body);
      const slot = await client.cluster('KEYSLOT', store.redisKey(key));
      owners.add(slotOwner(slot));
    }
    expect([...owners].sort()).toEqual([...cluster.ports].sort());
  });

  it('gives exactly one of 50 concurrent claims the key', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        store.claim({ key: 'race', fingerprint: 'fp', leaseMs: 5000, ttlMs: 60_000 }),
      ),
    );
    expect(results.filter((r) => r.outcome === 'claimed')).toHaveLength(1);
  });

  runStoreContractSuite(
    'RedisStore on a Redis Cluster',
    () => new RedisStore({ client, prefix: 'contract' }),
    {
      leaseMs: 60,
    },
  );

  /** The port of the master serving `slot`, from ioredis's slot table. */
  function slotOwner(slot: number): number | undefined {
    const slots = (client as unknown as { slots: string[][] }).slots;
    const address = slots[slot]?.[0];
    return address === undefined ? undefined : Number(address.split(':')[1]);
  }
});
