// Issue #11 done-when, on real Redis: 300 clients leave mid-download; once the lease has run out no
// record is in progress and the heartbeat has stopped (no more extends).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeStoreKey } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import { RedisStore } from '@oncely/redis';
import {
  REDIS_URL,
  deleteKeys,
  redisUnavailableReason,
  uniquePrefix,
} from '../../packages/redis/src/test-support.js';
import { countingExtends, leaveMidDownload, listen, sleep, slowDownload } from './support.js';

const skipReason = await redisUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the Redis lifecycle tests: ${skipReason}.`);

const CLIENTS = 300;
const LEASE_MS = 900;

describe.skipIf(skipReason !== undefined)('300 downloads cut short on Redis (Express)', () => {
  const prefix = uniquePrefix('lifecycle');
  let client: Redis;

  beforeAll(() => {
    client = new Redis(REDIS_URL!);
  });
  afterAll(async () => {
    await deleteKeys(client, prefix);
    client.disconnect();
  });

  it('leaves no record in progress once the lease ran out, and stops extending', async () => {
    const store = countingExtends(new RedisStore({ client, prefix }));
    const app = express();
    app.use(idempotency({ store, scope: 'global', lease: LEASE_MS, storeTimeout: 300 }));
    // 100 KiB in 1 KiB chunks, 20 ms apart: every client leaves long before the end.
    app.post('/download', (_req, res) => {
      res.type('text/plain');
      pipeline(slowDownload(100, 20), res, () => undefined);
    });
    const server = await listen(createServer(app));
    try {
      const keys = Array.from({ length: CLIENTS }, () => randomUUID());
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(
          keys.slice(i, i + 50).map((key) => leaveMidDownload(`${server.url}/download`, key)),
        );
      }
      // Every claim settles on its own; a claim that did not would be extended every lease / 3.
      await sleep(2 * LEASE_MS);
      const before = store.extends();
      await sleep(LEASE_MS);
      const extendsPerLease = store.extends() - before;
      const records = await Promise.all(
        keys.map(async (key) => store.get(await computeStoreKey('global', key))),
      );
      const states = new Map<string, number>();
      for (const record of records) {
        const state = record === undefined ? 'none' : record.status;
        states.set(state, (states.get(state) ?? 0) + 1);
      }
      console.info(
        `${CLIENTS} downloads cut short: records ${JSON.stringify(Object.fromEntries(states))}, ` +
          `${extendsPerLease} extends in the last lease`,
      );
      expect(Object.fromEntries(states)).toEqual({ completed: CLIENTS });
      expect(extendsPerLease).toBe(0);
      // The records are kept as not replayable: a retry is answered, never run again.
      const retry = await fetch(`${server.url}/download`, {
        method: 'POST',
        headers: { 'idempotency-key': keys[0]!, 'content-type': 'application/json' },
        body: '{}',
      });
      expect([retry.status, ((await retry.json()) as { originalStatus: number }).originalStatus]).toEqual([
        500, 200,
      ]);
    } finally {
      await server.close();
    }
  }, 120_000);
});
