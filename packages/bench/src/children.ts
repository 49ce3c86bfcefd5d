import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from './ipc.js';

/** Every child this process started; all are killed on exit, Ctrl-C or a crash. */
const live = new Set<ChildProcess>();
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

let cleanupInstalled = false;

/** Kills every child still alive (SIGKILL: they hold no state worth a graceful end). */
export function killChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

let interruptHook: (() => Promise<void>) | undefined;

/** Work to do (bounded to 3 s) after the children are killed on Ctrl-C, e.g. dropping this run's table. */
export function onInterrupt(hook: (() => Promise<void>) | undefined): void {
  interruptHook = hook;
}

/** Children die with the orchestrator, whatever ends it. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killChildren();
      process.stderr.write(`\nbench: stopped by ${signal}; child processes killed.\n`);
      const exit = (): never => process.exit(130);
      setTimeout(exit, 3000).unref();
      (interruptHook?.() ?? Promise.resolve()).then(exit, exit);
    });
  }
  process.on('uncaughtException', (error) => {
    killChildren();
    process.stderr.write(`bench: ${error.stack ?? String(error)}\n`);
    process.exit(1);
  });
}

/**
 * CPU pinning on a 2-core machine: core 0 runs the server under test, core 1 the load generator
 * (this process). Redis and PostgreSQL are not pinned. Returns whether pinning is in effect.
 */
export function pinLoadGenerator(enabled: boolean): boolean {
  if (!enabled || availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let pinnedCpu: number | undefined;
export function setServerCpu(cpu: number | undefined): void {
  pinnedCpu = cpu;
}

export interface SpawnOptions {
  /** Extra node flags (e.g. --expose-gc) besides this process's own (--conditions, --import tsx). */
  nodeFlags?: string[];
  /** Run on the server core when pinning is on. */
  pin?: boolean;
}

/** Starts `src/<script>` in a child node with an IPC channel, in the same TypeScript setup as this one. */
export function spawnChild(script: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const nodeArgs = [...process.execArgv, ...(options.nodeFlags ?? []), `src/${script}`, ...args];
  const pinned = options.pin !== false && pinnedCpu !== undefined;
  const [command, argv] = pinned
    ? ['taskset', ['-c', String(pinnedCpu), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(command, argv, { cwd: packageRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** The next message of `type` from a child; rejects when it fails, exits or stays silent too long. */
export function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no "${type}" message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: ChildMessage): void => {
      if (message.type === type) {
        finish();
        resolve(message as Extract<ChildMessage, { type: T }>);
      } else if (message.type === 'failed') {
        finish();
        reject(new Error(message.reason));
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      finish();
      reject(new Error(`child exited (${signal ?? `code ${String(code)}`}) before "${type}"`));
    };
    const finish = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export function sendTo(child: ChildProcess, message: ParentMessage): void {
  if (child.connected) child.send(message);
}

/** Asks a child to close, then kills it if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  sendTo(child, { type: 'close' });
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
