import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFetch } from '@oncely/client';
import { type ProcessStore, startApiProcess } from './api-processes.js';
import { startFaultProxy } from './fault-proxy/index.js';
import { makePayments } from './run-demo.js';
import { createSqliteLedger } from './sqlite-ledger.js';

/** Options of {@link runRestart}; the CLI fills them from flags. */
export interface RestartOptions {
  /** Logical payments per store. */
  operations: number;
  seed: number;
  signal?: AbortSignal;
}

/** What one store did across the restart, counted from the API's own ledger and the answers. */
export interface RestartRow {
  store: ProcessStore;
  payments: number;
  /** Charges in the ledger (the file survives the restart, whatever the store). */
  charges: number;
  /** Payments charged more than once. */
  paymentsChargedTwice: number;
  /** Retries after the restart answered with the stored response (`Idempotent-Replayed: true`). */
  replayed: number;
  /** Retries after the restart whose handler ran again. */
  rerun: number;
  /** Retries after the restart that did not end in a 201. */
  failed: number;
}

export interface RestartResult {
  options: Omit<RestartOptions, 'signal'>;
  memory: RestartRow;
  sqlite: RestartRow;
}

/**
 * The restart step: per store, a payments API process charges every payment but the network loses each
 * response (the client, which sent one key per payment, sees a failure); the process restarts, as in a
 * deploy or after a crash; the client retries with the same keys. With `MemoryStore` the new process
 * knows none of them and charges again; with `SqliteStore` the records are in the file, and it replays.
 */
export async function runRestart(options: RestartOptions): Promise<RestartResult> {
  const { signal: _s, ...plain } = options;
  const memory = await runOne('memory', options);
  const sqlite = await runOne('sqlite', options);
  return { options: plain, memory, sqlite };
}

async function runOne(store: ProcessStore, options: RestartOptions): Promise<RestartRow> {
  const payments = makePayments(options.operations, options.seed);
  const keys = payments.map((payment) => `restart-${store}-${payment.paymentId}`);
  const dir = mkdtempSync(join(tmpdir(), 'oncely-demo-restart-'));
  const database = join(dir, 'payments.db');
  const ledger = createSqliteLedger(database);
  const signal = options.signal ?? new AbortController().signal;
  // One key per payment, the same on every call; the first call is not retried, so that its lost
  // answer stays lost until the restart.
  const once = createFetch({ retries: 0, attemptTimeout: 2_000 });
  const retrying = createFetch({ retries: 3, baseDelay: 25, attemptTimeout: 2_000, bufferResponse: true });
  const post = (pay: typeof once, url: string, index: number) =>
    pay(`${url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payments[index]),
      idempotencyKey: keys[index]!,
      // A signal of its own per call, following the step's: concurrent calls add no listeners to it.
      signal: AbortSignal.any([signal]),
    });
  try {
    // 1. Every payment is charged, and every answer is lost on the way back.
    let api = await startApiProcess(store, database);
    const lossy = await startFaultProxy({ targets: [api.url], rates: { dropResponse: 1 } });
    await Promise.all(
      payments.map((_, i) =>
        post(once, lossy.url, i).then(
          () => Promise.reject(new Error('the proxy was to lose this answer')),
          () => undefined,
        ),
      ),
    );
    await lossy.close();
    // 2. The API process restarts.
    await api.close();
    api = await startApiProcess(store, database);
    // 3. The client retries each payment with its key, on a network that works again.
    let replayed = 0;
    let rerun = 0;
    let failed = 0;
    try {
      const answers = await Promise.all(
        payments.map((_, i) => post(retrying, api.url, i).catch(() => undefined)),
      );
      signal.throwIfAborted();
      for (const response of answers) {
        if (response?.status !== 201) failed++;
        else if (response.headers.get('idempotent-replayed') === 'true') replayed++;
        else rerun++;
      }
    } finally {
      await api.close();
    }
    const charges = [...(await ledger.chargesByPayment()).values()];
    return {
      store,
      payments: payments.length,
      charges: charges.reduce((sum, list) => sum + list.length, 0),
      paymentsChargedTwice: charges.filter((list) => list.length > 1).length,
      replayed,
      rerun,
      failed,
    };
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The side-by-side table the restart step prints. */
export function renderRestart(result: RestartResult): string {
  const rows: [string, (r: RestartRow) => number][] = [
    ['logical payments', (r) => r.payments],
    ['charges in the ledger', (r) => r.charges],
    ['payments charged twice', (r) => r.paymentsChargedTwice],
    ['retries replayed', (r) => r.replayed],
    ['retries run again', (r) => r.rerun],
    ['retries failed', (r) => r.failed],
  ];
  const header = ['after a restart', 'MemoryStore', 'SqliteStore'];
  const table = [
    header,
    ...rows.map(([label, value]) => [label, String(value(result.memory)), String(value(result.sqlite))]),
  ];
  const widths = header.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, col) => cell.padEnd(widths[col]!))
      .join('   ')
      .trimEnd();
  const { memory, sqlite } = result;
  return [
    line(header),
    widths.map((w) => '─'.repeat(w)).join('   '),
    ...table.slice(1).map(line),
    '',
    `MemoryStore forgot every key in the restart and charged ${memory.paymentsChargedTwice} of ${memory.payments} ` +
      `payments again; SqliteStore kept them in its file and replayed ${sqlite.replayed}.`,
  ].join('\n');
}
