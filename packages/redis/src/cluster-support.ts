import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';

/** A throwaway Redis Cluster of local `redis-server` processes, for tests only. */
export interface LocalCluster {
  ports: number[];
  client(): Cluster;
  stop(): Promise<void>;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` ports whose cluster-bus twins (port + 10000) are free too. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = 20000 + Math.floor(Math.random() * 20000); ports.length < count && port < 55000; port++) {
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) ports.push(port);
  }
  if (ports.length < count) throw new Error('No free ports for a local Redis Cluster.');
  return ports;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`Timed out waiting for ${what}.`);
}

/** Why a local cluster cannot be started here (no redis-server / redis-cli), or `undefined`. */
export function clusterUnavailableReason(): string | undefined {
  for (const bin of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(bin, ['--version'], { stdio: 'ignore' });
    if (probe.error !== undefined || probe.status !== 0) return `\`${bin}\` is not installed`;
  }
  return undefined;
}

/**
 * Starts `size` cluster-enabled redis-server processes in a temp dir and joins them with
 * `redis-cli --cluster create`. Everything is removed by `stop()`.
 */
export async function startLocalCluster(size = 3, timeoutMs = 20_000): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'oncely-redis-cluster-'));
  const ports = await freePorts(size);
  const servers: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--cluster-node-timeout',
        '2000',
      ],
      { stdio: 'ignore' },
    ),
  );
  const stop = async () => {
    for (const server of servers) server.kill('SIGKILL');
    await Promise.all(
      servers.map((s) =>
        s.exitCode === null && s.signalCode === null
          ? new Promise((r) => s.once('exit', r))
          : Promise.resolve(),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        const pings = ports.map(async (port) => {
          const probe = new Redis({
            port,
            lazyConnect: true,
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
          });
          probe.on('error', () => undefined);
          try {
            await probe.connect();
            return (await probe.ping()) === 'PONG';
          } finally {
            probe.disconnect();
          }
        });
        return (await Promise.all(pings)).every(Boolean);
      },
      timeoutMs,
      'the cluster nodes to start',
    );
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: timeoutMs },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
    await waitFor(
      async () => {
        const probe = new Redis({ port: ports[0]!, lazyConnect: true, maxRetriesPerRequest: 0 });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return String(await probe.cluster('INFO')).includes('cluster_state:ok');
        } finally {
          probe.disconnect();
        }
      },
      timeoutMs,
      'cluster_state:ok',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ports,
    client: () => new Cluster(ports.map((port) => ({ host: '127.0.0.1', port }))),
    stop,
  };
}
