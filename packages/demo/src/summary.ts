import type { Charge } from './ledger.js';
import type { ClientKind, Payment, PaymentOutcome } from './clients.js';
import type { FaultStats } from './fault-proxy/index.js';

/** The figures of one client's run, all measured in that run. */
export interface ScenarioSummary {
  client: ClientKind;
  /** Logical payments the caller asked for. */
  payments: number;
  /** HTTP requests that reached the proxy (first attempts and retries). */
  httpAttempts: number;
  /** httpAttempts − payments. */
  retries: number;
  /** Times the payment handler ran (charges written). */
  handlerExecutions: number;
  /** Charges beyond the first for a payment. */
  duplicateCharges: number;
  /** Payments charged more than once. */
  paymentsChargedTwice: number;
  /** Sum of the amounts of the duplicate charges, in cents. */
  moneyChargedTwiceCents: number;
  /** Payments the caller saw fail (gave up, or a final error status). */
  failedPayments: number;
  /** Payments that succeeded but were charged 0 times, or whose caller got a charge id not in the ledger. */
  inconsistentPayments: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  faultsInjected: FaultStats['faults'];
  durationMs: number;
}

/** Compares what callers were told with what the ledger holds. */
export function summarize(input: {
  client: ClientKind;
  payments: readonly Payment[];
  outcomes: readonly PaymentOutcome[];
  charges: Map<string, Charge[]>;
  proxy: FaultStats;
  durationMs: number;
}): ScenarioSummary {
  const { payments, outcomes, charges } = input;
  let handlerExecutions = 0;
  let duplicateCharges = 0;
  let paymentsChargedTwice = 0;
  let moneyChargedTwiceCents = 0;
  for (const list of charges.values()) {
    handlerExecutions += list.length;
    if (list.length > 1) {
      paymentsChargedTwice++;
      duplicateCharges += list.length - 1;
      moneyChargedTwiceCents += list.slice(1).reduce((sum, charge) => sum + charge.amount, 0);
    }
  }
  let inconsistentPayments = 0;
  payments.forEach((payment, i) => {
    const outcome = outcomes[i];
    if (outcome?.ok !== true) return;
    const ids = (charges.get(payment.paymentId) ?? []).map((charge) => charge.chargeId);
    if (outcome.chargeId === undefined || !ids.includes(outcome.chargeId)) inconsistentPayments++;
  });
  const latencies = outcomes.map((outcome) => outcome.latencyMs).sort((a, b) => a - b);
  return {
    client: input.client,
    payments: payments.length,
    httpAttempts: input.proxy.requests,
    retries: input.proxy.requests - payments.length,
    handlerExecutions,
    duplicateCharges,
    paymentsChargedTwice,
    moneyChargedTwiceCents,
    failedPayments: outcomes.filter((outcome) => !outcome.ok).length,
    inconsistentPayments,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    faultsInjected: { ...input.proxy.faults },
    durationMs: Math.round(input.durationMs),
  };
}

/** Nearest-rank percentile of sorted values, rounded to 0.1 ms. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return Math.round(sorted[index]! * 10) / 10;
}

const money = (cents: number) => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`;

/** The side-by-side table the demo prints. */
export function renderComparison(naive: ScenarioSummary, oncely: ScenarioSummary): string {
  const rows: [string, (s: ScenarioSummary) => string][] = [
    ['logical payments', (s) => String(s.payments)],
    ['HTTP attempts', (s) => String(s.httpAttempts)],
    ['retries', (s) => String(s.retries)],
    ['handler executions', (s) => String(s.handlerExecutions)],
    ['duplicate charges', (s) => String(s.duplicateCharges)],
    ['payments charged twice', (s) => String(s.paymentsChargedTwice)],
    ['money charged twice', (s) => money(s.moneyChargedTwiceCents)],
    ['failed payments', (s) => String(s.failedPayments)],
    ['answers not in the ledger', (s) => String(s.inconsistentPayments)],
    ['p50 latency', (s) => `${s.latencyP50Ms} ms`],
    ['p99 latency', (s) => `${s.latencyP99Ms} ms`],
  ];
  const header = ['', 'naive (axios-retry)', '@oncely/client'];
  const table = [header, ...rows.map(([label, value]) => [label, value(naive), value(oncely)])];
  const widths = header.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, col) => cell.padEnd(widths[col]!))
      .join('   ')
      .trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('   '), ...table.slice(1).map(line)].join('\n');
}

/** One sentence on what the run showed. */
export function verdict(naive: ScenarioSummary, oncely: ScenarioSummary): string {
  const once =
    oncely.duplicateCharges === 0 && oncely.failedPayments === 0 && oncely.inconsistentPayments === 0
      ? `@oncely/client charged each of ${oncely.payments} payments exactly once`
      : `@oncely/client: ${oncely.duplicateCharges} duplicate charges, ${oncely.failedPayments} failed payments, ${oncely.inconsistentPayments} inconsistent answers`;
  return `The naive client charged ${naive.paymentsChargedTwice} payments more than once (${money(naive.moneyChargedTwiceCents)} taken twice); ${once}.`;
}
