/**
 * The demo's "kill the client" step. The payments app runs in a process of its own (crash-client.ts)
 * behind the fault proxy (lost responses only: each one is a charge whose answer never came). Once a
 * third of the payments are confirmed, the app kills itself with SIGKILL at its next retry after a
 * lost response — between two attempts, as a crash or a deploy would. Then it restarts and pays every
 * payment it never saw confirmed:
 * - without a journal it has no key to resume with: each charged-but-unconfirmed payment is charged again;
 * - with a file journal it first resumes what the journal holds under the original keys, then pays
 *   the rest with the payment as `operationId` (a payment still pending keeps its key): no duplicate.
 *
 * The app confirms a payment in the same tick its call settles, and the file journal forgets an
 * operation in that tick too, so a kill from the retry hook never falls between the two.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from '@oncely/server';
import type { Payment } from '../clients.js';
import { startFaultProxy } from '../fault-proxy/index.js';
import { createMemoryLedger } from '../ledger.js';
import { startPaymentsApi } from '../payments-api.js';
import type { DemoOptions } from '../run-demo.js';
import { makePayments } from '../run-demo.js';
import type { CrashClientConfig } from './crash-client.js';

const CRASH_CLIENT = fileURLToPath(new URL('./crash-client.ts', import.meta.url));

/** One app, killed mid-run and restarted: the figures all come from the run. */
export interface KillClientRun {
  journal: boolean;
  payments: number;
  /** The app was killed (it met a lost response after a third of the payments). */
  killed: boolean;
  /** Payments the app saw confirmed before it was killed. */
  confirmedBeforeKill: number;
  /** Operations in the journal when the app restarted (0 without a journal). */
  pendingAtRestart: number;
  /** Operations the restarted app re-sent from the journal under their original keys. */
  resumed: number;
  /** Times the payment handler ran (charges written). */
  handlerExecutions: number;
  duplicateCharges: number;
  paymentsChargedTwice: number;
  moneyChargedTwiceCents: number;
  /** Payments the app never saw confirmed, after the restart. */
  failedPayments: number;
}

export interface KillClientResult {
  withoutJournal: KillClientRun;
  withJournal: KillClientRun;
}

/** Runs the step twice on fresh servers: without the journal, then with a file journal. */
export async function runKillClientStep(options: DemoOptions): Promise<KillClientResult> {
  const withoutJournal = await runKilledApp(false, options);
  const withJournal = await runKilledApp(true, options);
  return { withoutJournal, withJournal };
}

async function runKilledApp(useJournal: boolean, options: DemoOptions): Promise<KillClientRun> {
  const payments = makePayments(options.operations, options.seed);
  const ledger = createMemoryLedger();
  const api = await startPaymentsApi(new MemoryStore(), ledger);
  const proxy = await startFaultProxy({
    targets: [api.url],
    seed: options.seed,
    rates: { dropResponse: options.rates.dropResponse ?? 0 },
  });
  const journalDir = useJournal ? mkdtempSync(join(tmpdir(), 'oncely-demo-journal-')) : undefined;
  try {
    const base = {
      url: proxy.url,
      concurrency: options.concurrency,
      attemptTimeout: options.attemptTimeout,
      ...(journalDir === undefined ? {} : { journalDir }),
    };
    const first = await runApp(
      { ...base, payments, killAfter: Math.max(1, Math.floor(payments.length / 3)) },
      options.signal,
    );
    const pendingAtRestart =
      journalDir === undefined ? 0 : readdirSync(journalDir).filter((name) => name.endsWith('.json')).length;
    const unconfirmed = payments.filter((payment) => !first.paid.has(payment.paymentId));
    const second = await runApp({ ...base, payments: unconfirmed }, options.signal);
    if (second.signal !== null || second.code !== 0) {
      throw new Error(
        `the restarted payments app failed (${second.signal ?? second.code}): ${second.stderr}`,
      );
    }
    // Requests the killed app had in flight may still be landing at the server.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return count(useJournal, payments, ledger, first, second, pendingAtRestart);
  } finally {
    await proxy.close().catch(() => undefined);
    await api.close().catch(() => undefined);
    if (journalDir !== undefined) rmSync(journalDir, { recursive: true, force: true });
  }
}

interface AppRun {
  paid: Set<string>;
  resumed: number;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/** Runs crash-client.ts with `config` until it exits (or is killed), collecting what it printed. */
function runApp(config: CrashClientConfig, signal: AbortSignal | undefined): Promise<AppRun> {
  // The same loader the demo itself runs under (tsx, the source condition).
  const child = spawn(process.execPath, [...process.execArgv, CRASH_CLIENT], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stopChild = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', stopChild, { once: true });
  const run: AppRun = { paid: new Set(), resumed: 0, signal: null, code: null, stderr: '' };
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line) as { paid?: string; resumed?: number };
      if (event.paid !== undefined) run.paid.add(event.paid);
      if (event.resumed !== undefined) run.resumed = event.resumed;
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdin.end(JSON.stringify(config));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': every line the app printed before it died has been read.
    child.once('close', (code, killedBy) => {
      signal?.removeEventListener('abort', stopChild);
      if (signal?.aborted) return reject(signal.reason);
      resolve({ ...run, code, signal: killedBy });
    });
  });
}

async function count(
  journal: boolean,
  payments: readonly Payment[],
  ledger: ReturnType<typeof createMemoryLedger>,
  first: AppRun,
  second: AppRun,
  pendingAtRestart: number,
): Promise<KillClientRun> {
  const charges = await ledger.chargesByPayment();
  let handlerExecutions = 0;
  let duplicateCharges = 0;
  let paymentsChargedTwice = 0;
  let moneyChargedTwiceCents = 0;
  for (const list of charges.values()) {
    handlerExecutions += list.length;
    if (list.length < 2) continue;
    paymentsChargedTwice++;
    duplicateCharges += list.length - 1;
    moneyChargedTwiceCents += list.slice(1).reduce((sum, charge) => sum + charge.amount, 0);
  }
  const confirmed = new Set([...first.paid, ...second.paid]);
  return {
    journal,
    payments: payments.length,
    killed: first.signal === 'SIGKILL',
    confirmedBeforeKill: first.paid.size,
    pendingAtRestart,
    resumed: second.resumed,
    handlerExecutions,
    duplicateCharges,
    paymentsChargedTwice,
    moneyChargedTwiceCents,
    failedPayments: payments.filter((payment) => !confirmed.has(payment.paymentId)).length,
  };
}

const money = (cents: number) => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`;

/** The step's table and one sentence on what it showed. */
export function renderKillClient({ withoutJournal: off, withJournal: on }: KillClientResult): string {
  const rows: [string, (run: KillClientRun) => string][] = [
    ['logical payments', (r) => String(r.payments)],
    ['client killed (SIGKILL) in a retry', (r) => (r.killed ? 'yes' : 'no')],
    ['confirmed before the kill', (r) => String(r.confirmedBeforeKill)],
    ['pending in the journal at restart', (r) => (r.journal ? String(r.pendingAtRestart) : '-')],
    ['resumed under their original keys', (r) => (r.journal ? String(r.resumed) : '-')],
    ['handler executions', (r) => String(r.handlerExecutions)],
    ['duplicate charges', (r) => String(r.duplicateCharges)],
    ['money charged twice', (r) => money(r.moneyChargedTwiceCents)],
    ['failed payments', (r) => String(r.failedPayments)],
  ];
  const header = ['', 'restart, no journal', 'restart, file journal'];
  const table = [header, ...rows.map(([label, value]) => [label, value(off), value(on)])];
  const widths = header.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, col) => cell.padEnd(widths[col]!))
      .join('   ')
      .trimEnd();
  const verdict = !off.killed
    ? 'The client was never killed: no response was lost after a third of the payments (raise --drop-rate).'
    : `Killed mid-run and restarted, @oncely/client without a journal charged ${off.paymentsChargedTwice} payments twice (its keys died with the process); with the journal, ${on.duplicateCharges === 0 ? 'none' : on.paymentsChargedTwice}.`;
  return [
    'Kill the client mid-run, then restart it (@oncely/client both times):',
    '',
    line(header),
    widths.map((w) => '─'.repeat(w)).join('   '),
    ...table.slice(1).map(line),
    '',
    verdict,
  ].join('\n');
}
