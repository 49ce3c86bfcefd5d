import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

/** A server instance in its own Node process. */
export interface Instance {
  name: string;
  port: number;
  process: ChildProcess;
  /** SIGKILLs the process and waits for it to exit. */
  kill(): Promise<void>;
  /** Resolves when the process has exited (for instances that kill themselves). */
  exited: Promise<void>;
}

/** Starts `script` (default `server.ts`) with `env` in a separate Node process; resolves once it listens. */
export function startInstance(name: string, env: Record<string, string>, script = SERVER): Promise<Instance> {
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
  body: { orderId?: string; instance?: string } & Record<string, unknown>;
}

/** POSTs an order with `key` to an instance. Rejects when the connection fails (a killed instance). */
export async function postOrder(
  instance: Pick<Instance, 'port'>,
  key: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${instance.port}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, ...headers },
    body: JSON.stringify({ item: 'book', key }),
  });
  const text = await response.text();
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    body: text === '' ? {} : (JSON.parse(text) as Answer['body']),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries a POST while it answers 409 (in flight elsewhere), for at most `timeoutMs`. */
export async function postUntilSettled(
  instance: Pick<Instance, 'port'>,
  key: string,
  timeoutMs = 10_000,
): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await postOrder(instance, key);
    if (answer.status !== 409 || Date.now() > deadline) return answer;
    await sleep(50);
  }
}
