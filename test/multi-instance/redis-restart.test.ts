import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, redisUnavailableReason } from '../../packages/redis/src/test-support.js';
import { postOrder, postUntilSettled, sleep, startCluster } from './harness.js';
import type { Cluster } from './harness.js';

// The shared Redis (ledger) must be up; the store's Redis is our own redis-server, on a free port in
// a temp dir, so stopping it never disturbs anyone else on this machine.
const skipReason =
  (await redisUnavailableReason()) ??
  (spawnSync('redis-server', ['--version']).status === 0 ? undefined : '`redis-server` is not installed');
if (skipReason !== undefined) console.warn(`Skipping the Redis restart test: ${skipReason}.`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(skipReason !== undefined)(
  'Redis stopped and restarted under three server processes (node:cluster)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'oncely-redis-restart-'));
    const ledgerKey = `oncely-test:restart:${randomUUID()}`;
    let port: number;
    let redis: ChildProcess | undefined;
    let ledger: Redis;
    let cluster: Cluster | undefined;
    const effects = async (key: string) => Number((await ledger.hget(ledgerKey, key)) ?? 0);

    async function startRedis(): Promise<void> {
      // Every write is fsynced to the AOF, so records survive the kill -9 below.
      redis = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
        ],
        { stdio: 'ignore' },
      );
      const probe = new Redis({
        port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined);
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect();
          if ((await probe.ping()) === 'PONG') break;
        } catch {
          await sleep(50);
        }
      }
      probe.disconnect();
    }
    async function killRedis(): Promise<void> {
      const child = redis;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }

    beforeAll(async () => {
      port = await freePort();
      await startRedis();
      ledger = new Redis(REDIS_URL!);
      cluster = await startCluster({
        STORE: 'redis',
        STORE_REDIS_URL: `redis://127.0.0.1:${port}`,
        LEDGER_REDIS_URL: REDIS_URL!,
        LEDGER_KEY: ledgerKey,
        PREFIX: 'restart',
        LEASE_MS: '1000',
        STORE_TIMEOUT_MS: '500',
      });
    }, 90_000);
    afterAll(async () => {
      await cluster?.stop();
      await killRedis();
      await ledger.del(ledgerKey);
      await ledger.quit();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers 503 while Redis is down, runs nothing twice, and resumes after', async () => {
      const before = Array.from({ length: 12 }, () => randomUUID());
      const first = await Promise.all(before.map((key) => postOrder(cluster!.port, key)));
      expect(first.map((a) => a.status)).toEqual(before.map(() => 201));

      await killRedis();
      const during = Array.from({ length: 12 }, () => randomUUID());
      const down = await Promise.all([...before, ...during].map((key) => postOrder(cluster!.port, key)));
      expect(down.map((a) => a.status)).toEqual(down.map(() => 503));
      for (const key of during) expect(await effects(key)).toBe(0);

      await startRedis();
      // Retries after the restart: completed keys replay the first result (the AOF kept them); keys
      // first tried while Redis was down run now, once (a claim that ioredis queued offline and sent after
      // the reconnect may leave a record nobody runs: it answers 409 until its lease expires).
      const after = await Promise.all(
        [...before, ...during].map(async (key) =>
          (await postUntilSettled(cluster!.port, key, { timeoutMs: 15_000, pauseMs: 50 })).at(-1)!,
        ),
      );
      expect(after.map((a) => a.status)).toEqual(after.map(() => 201));
      before.forEach((_, i) => {
        expect(after[i]).toMatchObject({ replayed: true, body: { orderId: first[i]!.body.orderId } });
      });
      for (const key of [...before, ...during]) expect(await effects(key)).toBe(1);
    }, 30_000);
  },
);
