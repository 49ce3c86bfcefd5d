import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PaymentsApi } from './payments-api.js';

const SCRIPT = fileURLToPath(new URL('./api-process.ts', import.meta.url));

/** Which idempotency store an API process uses. */
export type ProcessStore = 'memory' | 'sqlite';

/**
 * Starts the payments API in a process of its own (api-process.ts), with its ledger in the SQLite file
 * `database` and, for `sqlite`, its idempotency records there too. `close()` stops it as a deploy
 * would (SIGTERM: in-flight requests finish).
 */
export function startApiProcess(store: ProcessStore, database: string): Promise<PaymentsApi> {
  const child = fork(SCRIPT, [], {
    env: { ...process.env, STORE: store, DATABASE: database },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the payments API process exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (message: { url: string }) => {
      child.off('exit', onExit);
      resolve({
        url: message.url,
        async close() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
