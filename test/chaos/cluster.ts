// Server processes of a chaos scenario (chaos-server.ts, through the multi-instance harness), and a
// throwaway redis-server of our own for the scenarios that stop the store.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sleep, startInstance } from '../multi-instance/harness.js';
import type { Instance } from '../multi-instance/harness.js';

const CHAOS_SERVER = fileURLToPath(new URL('./chaos-server.ts', import.meta.url));

/** What GET /debug of a chaos server reports. */
export interface DebugReport {
  pid: number;
  rss: number;
  heapUsed: number;
  resources: Record<string, number>;
  inFlight: number;
  hooks: Record<string, number>;
}

/**
 * N chaos servers with one configuration. Each keeps its port across kill -9 and restart, so the fault
 * proxy in front of them needs no reconfiguration.
 */
export class Cluster {
  readonly instances: Instance[] = [];
  /** Pids that were killed with SIGKILL (their in-flight operations may repeat their effect). */
  readonly killedPids = new Set<number>();
  /** Pids that were paused with SIGSTOP past their lease. */
  readonly pausedPids = new Set<number>();
  kills = 0;
  pauses = 0;

  private constructor(private readonly env: Record<string, string>) {}

  static async start(size: number, env: Record<string, string>): Promise<Cluster> {
    const cluster = new Cluster(env);
    const started = await Promise.all(
      Array.from({ length: size }, (_, i) => startInstance(`s${i}`, env, CHAOS_SERVER)),
    );
    cluster.instances.push(...started);
    return cluster;
  }

  get targets(): string[] {
    return this.instances.map((instance) => `http://127.0.0.1:${instance.port}`);
  }

  /** kill -9 instance `index` (mid-handler, whatever it is doing), then start it again on its port. */
  async crashAndRestart(index: number): Promise<void> {
    const instance = this.instances[index]!;
    if (instance.process.pid !== undefined) this.killedPids.add(instance.process.pid);
    this.kills++;
    await instance.kill();
    this.instances[index] = await startInstance(
      instance.name,
      { ...this.env, PORT: String(instance.port) },
      CHAOS_SERVER,
    );
  }

  /** SIGSTOP instance `index` for `ms` (its lease heartbeat stops with it), then SIGCONT. */
  async pause(index: number, ms: number): Promise<void> {
    const { process: child } = this.instances[index]!;
    if (child.pid !== undefined) this.pausedPids.add(child.pid);
    this.pauses++;
    child.kill('SIGSTOP');
    await sleep(ms);
    child.kill('SIGCONT');
  }

  async debug(index: number, gc = false): Promise<DebugReport> {
    const response = await fetch(`http://127.0.0.1:${this.instances[index]!.port}/debug${gc ? '?gc=1' : ''}`);
    return (await response.json()) as DebugReport;
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((instance) => instance.kill()));
  }
}

/** Whether `redis-server` can be started here (for the scenarios that stop and restart the store). */
export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of our own on a free port in a temp dir, never the shared one. Every write is fsynced
 * to the AOF, so the records survive its kill -9; only in-flight commands are lost.
 */
export class OwnRedis {
  private child: ChildProcess | undefined;
  stops = 0;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), mkdtempSync(join(tmpdir(), 'oncely-chaos-redis-')));
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', 'yes', '--appendfsync', 'always');
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis({
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          await sleep(50);
        }
      }
      throw new Error(`redis-server on port ${this.port} did not start`);
    } finally {
      probe.disconnect();
    }
  }

  /** kill -9, as a crash would. */
  async down(): Promise<void> {
    this.stops++;
    await this.kill();
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
