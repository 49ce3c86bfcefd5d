import { USAGE, UsageError, parseDemoArgs } from './args.js';
import { type ClientKind } from './clients.js';
import type { RestartOptions } from './restart.js';
import { renderRestart, runRestart } from './restart.js';
import { runDemo } from './run-demo.js';
import { renderComparison, verdict } from './summary.js';
import { renderKillClient } from './kill-client/kill-client.js';

async function main(): Promise<number> {
  let args;
  try {
    args = parseDemoArgs(process.argv.slice(2).filter((arg) => arg !== '--'));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`pnpm demo: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave now
    interrupted = true;
    process.stderr.write('\nInterrupted: stopping and closing the servers…\n');
    controller.abort(new Error('interrupted'));
  });
  if (args.step === 'restart')
    return restartStep(args.options, args.json, controller.signal, () => interrupted);
  const { options, json } = args;
  const f = options.rates;
  process.stderr.write(
    `Oncely demo: ${options.operations} payments × 2 clients, concurrency ${options.concurrency}, seed ${options.seed}, ` +
      `store ${{ memory: 'memory (1 server)', redis: 'redis (2 servers)', sqlite: 'sqlite (2 server processes)' }[options.store]}\n` +
      `Faults per request: lost response ${f.dropResponse}, reset ${f.resetRequest}+${f.resetResponse}, ` +
      `delay ${f.delay}, duplicate ${f.duplicate}, slow body ${f.slowBody}, 503 burst ${f.burst503}\n`,
  );
  const progress = createProgress();
  try {
    const result = await runDemo({ ...options, onProgress: progress, signal: controller.signal });
    progress.finish();
    if (json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      process.stdout.write(
        `\n${renderComparison(result.naive, result.oncely)}\n\n${verdict(result.naive, result.oncely)}\n`,
      );
      if (result.killClient) process.stdout.write(`\n${renderKillClient(result.killClient)}\n`);
    }
    return 0;
  } catch (error) {
    progress.finish();
    if (interrupted) return 130;
    process.stderr.write(`pnpm demo failed: ${(error as Error).message}\n`);
    if (options.store === 'redis') process.stderr.write(`Is Redis running at ${options.redisUrl}?\n`);
    return 1;
  }
}

/** `pnpm demo restart`: MemoryStore and SqliteStore across a restart of the API process. */
async function restartStep(
  options: RestartOptions,
  json: boolean,
  signal: AbortSignal,
  interrupted: () => boolean,
): Promise<number> {
  process.stderr.write(
    `Oncely demo, restart step: ${options.operations} payments per store whose answers are lost, a restart ` +
      'of the API process, then the retries with the same keys (MemoryStore, then SqliteStore)…\n',
  );
  try {
    const result = await runRestart({ ...options, signal });
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `\n${renderRestart(result)}\n`);
    return 0;
  } catch (error) {
    if (interrupted()) return 130;
    process.stderr.write(`pnpm demo restart failed: ${(error as Error).message}\n`);
    return 1;
  }
}

/** A progress line on stderr: redrawn in place on a terminal, every 25% otherwise. */
function createProgress(): ((client: ClientKind, done: number, total: number) => void) & { finish(): void } {
  const tty = process.stderr.isTTY;
  let lastQuarter = -1;
  let lastClient: ClientKind | undefined;
  const report = (client: ClientKind, done: number, total: number) => {
    if (client !== lastClient) {
      if (tty && lastClient !== undefined) process.stderr.write('\n');
      lastClient = client;
      lastQuarter = -1;
    }
    const label = client === 'naive' ? 'naive client ' : 'oncely client';
    const width = 30;
    const filled = Math.round((done / total) * width);
    const bar = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    if (tty) {
      process.stderr.write(`\r${bar}`);
    } else {
      const quarter = Math.floor((done / total) * 4);
      if (quarter !== lastQuarter) {
        lastQuarter = quarter;
        process.stderr.write(`${bar}\n`);
      }
    }
  };
  return Object.assign(report, {
    finish() {
      if (tty && lastClient !== undefined) process.stderr.write('\n');
    },
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`pnpm demo crashed: ${String(error)}\n`);
    process.exit(1);
  },
);
