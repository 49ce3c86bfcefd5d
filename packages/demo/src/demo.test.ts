import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { redisUnavailableReason } from '../../redis/src/test-support.js';
import { USAGE, UsageError, parseDemoArgs } from './args.js';
import { renderRestart } from './restart.js';
import type { RestartResult, RestartRow } from './restart.js';
import type { DemoResult } from './run-demo.js';
import { makePayments } from './run-demo.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const node = (args: string[]) =>
  run(process.execPath, ['--conditions=@oncely/source', '--import', 'tsx', cli, ...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    timeout: 90_000,
  });

describe('pnpm demo (the CLI, as a user runs it)', () => {
  it('at default fault rates: the naive client double-charges, Oncely charges each payment once, none fails', async () => {
    const { stdout, stderr } = await node(['--operations', '120', '--json']);
    // No process warning either (16 requests in flight once shared one signal: MaxListenersExceeded).
    expect(stderr).not.toMatch(/\(node:\d+\) \w*Warning/);
    const result = JSON.parse(stdout) as DemoResult;
    expect(result.naive.payments).toBe(120);
    expect(result.oncely.payments).toBe(120);
    expect(result.naive.duplicateCharges).toBeGreaterThan(0);
    expect(result.naive.moneyChargedTwiceCents).toBeGreaterThan(0);
    expect(result.oncely.duplicateCharges).toBe(0);
    expect(result.oncely.paymentsChargedTwice).toBe(0);
    expect(result.oncely.failedPayments).toBe(0);
    expect(result.oncely.inconsistentPayments).toBe(0);
    expect(result.oncely.handlerExecutions).toBe(120);
    // The numbers come from the run: the proxy injected faults and the clients retried.
    expect(result.oncely.retries).toBeGreaterThan(0);
    expect(Object.values(result.oncely.faultsInjected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('--store redis: two servers on a shared Redis, still exactly once', async (context) => {
    const unavailable = await redisUnavailableReason();
    if (unavailable !== undefined) {
      console.warn(`[demo --store redis] skipped: ${unavailable}`);
      context.skip();
    }
    const { stdout } = await node(['--operations', '80', '--store', 'redis', '--json']);
    const result = JSON.parse(stdout) as DemoResult;
    expect(result.options.store).toBe('redis');
    expect(result.naive.duplicateCharges).toBeGreaterThan(0);
    expect(result.oncely.duplicateCharges).toBe(0);
    expect(result.oncely.failedPayments).toBe(0);
    expect(result.oncely.handlerExecutions).toBe(80);
  });

  it('--store sqlite: two server processes sharing one SQLite file, still exactly once', async () => {
    const { stdout } = await node(['--operations', '80', '--store', 'sqlite', '--json']);
    const result = JSON.parse(stdout) as DemoResult;
    expect(result.options.store).toBe('sqlite');
    expect(result.naive.duplicateCharges).toBeGreaterThan(0);
    expect(result.oncely.duplicateCharges).toBe(0);
    expect(result.oncely.failedPayments).toBe(0);
    expect(result.oncely.inconsistentPayments).toBe(0);
    expect(result.oncely.handlerExecutions).toBe(80);
  });

  it('restart: MemoryStore charges every payment again after a restart, SqliteStore replays each', async () => {
    const { stdout } = await node(['restart', '--operations', '12', '--json']);
    const result = JSON.parse(stdout) as RestartResult;
    expect(result.memory).toEqual({
      store: 'memory',
      payments: 12,
      charges: 24,
      paymentsChargedTwice: 12,
      replayed: 0,
      rerun: 12,
      failed: 0,
    });
    expect(result.sqlite).toEqual({
      store: 'sqlite',
      payments: 12,
      charges: 12,
      paymentsChargedTwice: 0,
      replayed: 12,
      rerun: 0,
      failed: 0,
    });
  });

  it('stops on Ctrl-C: announces it is closing the servers and exits 130', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@oncely/source', '--import', 'tsx', cli, '--operations', '5000'],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('naive client') && !child.killed) child.kill('SIGINT');
    });
    const started = performance.now();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('Interrupted: stopping and closing the servers');
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('prints a usage message and exits 2 on a bad flag', async () => {
    const error = (await node(['--operations', 'many']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(2);
    expect(error.stderr).toContain('--operations must be an integer from 1 to 100000, got "many".');
    expect(error.stderr).toContain('Usage: pnpm demo [options]');
  });
});

describe('parseDemoArgs', () => {
  it('has defaults that finish well under a minute', () => {
    const parsed = parseDemoArgs([], {});
    expect(parsed).toMatchObject({
      help: false,
      step: 'chaos',
      json: false,
      options: {
        operations: 300,
        concurrency: 16,
        seed: 42,
        store: 'memory',
        redisUrl: 'redis://127.0.0.1:6379',
      },
    });
  });

  it('reads every flag', () => {
    const parsed = parseDemoArgs(
      [
        '--operations',
        '10',
        '--concurrency',
        '2',
        '--seed',
        '7',
        '--drop-rate',
        '0.5',
        '--store',
        'redis',
        '--redis-url',
        'redis://x:1',
        '--json',
      ],
      {},
    );
    expect(parsed).toMatchObject({
      json: true,
      options: {
        operations: 10,
        concurrency: 2,
        seed: 7,
        store: 'redis',
        redisUrl: 'redis://x:1',
        rates: { dropResponse: 0.5 },
      },
    });
    expect(parseDemoArgs(['--no-faults'], {})).toMatchObject({
      options: { rates: { dropResponse: 0, burst503: 0 } },
    });
    expect(parseDemoArgs(['-h'], {})).toEqual({ help: true });
    expect(USAGE).toContain('--store <kind>');
    expect(parseDemoArgs(['--store', 'sqlite'], {})).toMatchObject({ options: { store: 'sqlite' } });
  });

  it('reads the restart step and its flags', () => {
    expect(parseDemoArgs(['restart'], {})).toEqual({
      help: false,
      step: 'restart',
      json: false,
      options: { operations: 20, seed: 42 },
    });
    expect(parseDemoArgs(['restart', '--operations', '5', '--seed', '3', '--json'], {})).toEqual({
      help: false,
      step: 'restart',
      json: true,
      options: { operations: 5, seed: 3 },
    });
    expect(parseDemoArgs(['chaos', '--store', 'redis'], {})).toMatchObject({ step: 'chaos' });
  });

  it.each([
    [['--store', 'mongo'], '--store must be memory, redis or sqlite, got "mongo".'],
    [['reboot'], 'The step must be chaos (the default) or restart, got "reboot".'],
    [['restart', 'now'], 'The step must be chaos (the default) or restart, got "restart" "now".'],
    [['restart', '--store', 'sqlite'], '--store does not apply to the restart step.'],
    [['restart', '--operations', '5000'], '--operations must be an integer from 1 to 1000, got "5000".'],
    [['--drop-rate', '1.5'], '--drop-rate must be a number from 0 to 1, got "1.5".'],
    [
      ['--drop-rate', '0.9', '--reset-rate', '0.3'],
      'The fault rates add up to 1.570; they must add up to at most 1.',
    ],
    [['--concurrency', '0'], '--concurrency must be an integer from 1 to 1000, got "0".'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDemoArgs(argv, {})).toThrow(UsageError);
    expect(() => parseDemoArgs(argv, {})).toThrow(message);
  });

  it('makes the same payments from the same seed', () => {
    expect(makePayments(3, 1)).toEqual(makePayments(3, 1));
    expect(makePayments(3, 1)).not.toEqual(makePayments(3, 2));
    expect(makePayments(2, 1).map((p) => p.paymentId)).toEqual(['pay_1_00000', 'pay_1_00001']);
  });
});

describe('renderRestart', () => {
  it('prints the two stores side by side, and what happened', () => {
    const row = (store: RestartRow['store'], charges: number, replayed: number): RestartRow => ({
      store,
      payments: 3,
      charges,
      paymentsChargedTwice: charges - 3,
      replayed,
      rerun: 3 - replayed,
      failed: 0,
    });
    const text = renderRestart({
      options: { operations: 3, seed: 1 },
      memory: row('memory', 6, 0),
      sqlite: row('sqlite', 3, 3),
    });
    expect(text.split('\n').slice(0, 4)).toEqual([
      'after a restart          MemoryStore   SqliteStore',
      '──────────────────────   ───────────   ───────────',
      'logical payments         3             3',
      'charges in the ledger    6             3',
    ]);
    expect(text).toContain(
      'MemoryStore forgot every key in the restart and charged 3 of 3 payments again; SqliteStore kept ' +
        'them in its file and replayed 3.',
    );
  });
});
