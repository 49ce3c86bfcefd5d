import { spawn } from 'node:child_process';
import http from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLUSTER = fileURLToPath(new URL('./cluster.ts', import.meta.url));

/** A running cluster (cluster.ts): worker processes sharing one port, and the primary that forked them. */
export interface Cluster {
  port: number;
  /** Worker pids, as they started. */
  workers: readonly number[];
  /** Resolves with the pid of the next worker that dies (already dead ones count, in order). */
  nextExit(): Promise<number>;
  /** Stops everything: every worker is SIGKILLed, then the primary exits. */
  stop(): Promise<void>;
}

/** Starts cluster.ts with `env` in a separate Node process; resolves once every worker listens. */
export function startCluster(env: Record<string, string>, workers = 3): Promise<Cluster> {
  const primary = spawn(process.execPath, ['--conditions=@oncely/source', '--import', 'tsx', CLUSTER], {
    env: { ...process.env, ...env, WORKERS: String(workers) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => primary.once('exit', () => resolve()));
  const exits: number[] = [];
  const exitWaiters: Array<(pid: number) => void> = [];
  let stderr = '';
  primary.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      primary.kill('SIGKILL');
      reject(new Error(`the cluster did not start within 60 s: ${stderr}`));
    }, 60_000);
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the cluster exited (${code}) before listening: ${stderr}`));
    };
    primary.once('exit', onEarlyExit);
    let buffered = '';
    primary.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const [kind, first, ...rest] = buffered.slice(0, newline).split(' ');
        buffered = buffered.slice(newline + 1);
        if (kind === 'exit') {
          const waiter = exitWaiters.shift();
          if (waiter === undefined) exits.push(Number(first));
          else waiter(Number(first));
        }
        if (kind !== 'listening') continue;
        clearTimeout(timer);
        primary.off('exit', onEarlyExit);
        resolve({
          port: Number(first),
          workers: rest.map(Number),
          nextExit: () =>
            exits.length > 0
              ? Promise.resolve(exits.shift()!)
              : new Promise<number>((r) => exitWaiters.push(r)),
          stop: () => stopProcess(primary, exited),
        });
      }
    });
  });
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000); // the workers then exit on disconnect
  await exited;
  clearTimeout(timer);
}

/** A server in its own Node process (the chaos suite's: each keeps its own port across restarts). */
export interface Instance {
  name: string;
  port: number;
  process: ChildProcess;
  /** SIGKILLs the process and waits for it to exit. */
  kill(): Promise<void>;
  /** Resolves when the process has exited (for instances that kill themselves). */
  exited: Promise<void>;
}

/** Starts `script` with `env` in a separate Node process; resolves once it prints `listening <port>`. */
export function startInstance(name: string, env: Record<string, string>, script: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--conditions=@oncely/source', '--import', 'tsx', script], {
    env: { ...process.env, ...env, INSTANCE: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${name} did not start: ${stderr}`)), 20_000);
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`instance ${name} exited (${code}) before listening: ${stderr}`));
    };
    child.once('exit', onEarlyExit);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      resolve({
        name,
        port: Number(match[1]),
        process: child,
        exited,
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

/** A response as the tests look at it. */
export interface Answer {
  status: number;
  replayed: boolean;
  /** Pid of the worker that answered (`x-instance`). */
  worker: number;
  /** When the answer arrived, in epoch ms (the host's clock, as the stores' clocks). */
  receivedAt: number;
  body: { orderId?: string; instance?: string } & Record<string, unknown>;
}

/**
 * POSTs an order with `key` on a new connection (so the cluster's round-robin spreads requests over
 * the workers, and no kept-alive socket of a killed worker is reused). Rejects when the connection
 * fails (a worker killed mid-request).
 */
export function postOrder(port: number, key: string, headers: Record<string, string> = {}): Promise<Answer> {
  const body = JSON.stringify({ item: 'book', key });
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/orders',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'idempotency-key': key, ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: response.statusCode ?? 0,
            replayed: response.headers['idempotent-replayed'] === 'true',
            worker: Number(response.headers['x-instance']),
            receivedAt: Date.now(),
            body: text === '' ? {} : (JSON.parse(text) as Answer['body']),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POSTs until the answer is not 409 (in flight elsewhere), pausing `pauseMs` between tries, for at most
 * `timeoutMs`. Resolves to every answer, the settled one last.
 */
export async function postUntilSettled(
  port: number,
  key: string,
  { timeoutMs, pauseMs }: { timeoutMs: number; pauseMs: number },
): Promise<Answer[]> {
  const deadline = Date.now() + timeoutMs;
  const answers: Answer[] = [];
  for (;;) {
    const answer = await postOrder(port, key);
    answers.push(answer);
    if (answer.status !== 409 || Date.now() > deadline) return answers;
    await sleep(pauseMs);
  }
}
