// What every chaos scenario asserts, and the figures it reports (console + .results/<scenario>.json,
// from which report.ts renders docs/reliability.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { computeStoreKey } from '@oncely/server';
import type { IdempotencyStore } from '@oncely/server';
import { tally } from './ledger.js';
import type { LedgerRow } from './ledger.js';
import type { Outcome } from './load.js';

export const RESULTS_DIR = fileURLToPath(new URL('./.results/', import.meta.url));

/** The figures of one scenario run, as written to `.results/<scenario>.json`. */
export interface ScenarioFigures {
  scenario: string;
  title: string;
  setup: string;
  /** The effects-per-operation bound asserted, in words. */
  bound: string;
  operations: number;
  attempts: number;
  maxAttempts: number;
  succeeded: number;
  replayedAnswers: number;
  faults: Record<string, number>;
  ledger: { effects: number; histogram: Record<string, number>; strays: number };
  keys: { completed: number; claimable: number; locked: number };
  latencyMs: { p50: number; p99: number; max: number; deadline: number };
  durationMs: number;
  extra?: Record<string, number>;
  /** Invariants that did not hold (empty when the scenario passed). */
  violations: string[];
}

export interface VerifyInput {
  outcomes: readonly Outcome[];
  ops: readonly string[];
  rows: readonly LedgerRow[];
  store: IdempotencyStore;
  deadlineMs: number;
  /**
   * Most effects allowed for `op` given its ledger rows: 1 under non-crash faults and in transactional
   * mode; 2 for an operation whose first run died with its server (or hung past its lease).
   */
  bound: (op: string, rows: readonly LedgerRow[]) => number;
}

/**
 * Checks the suite's invariants and returns the figures, with every invariant that failed listed in
 * `violations` (so a failing run still reports its figures). The invariants: every operation ended in a definite outcome (a 201 naming an effect that is
 * in the ledger) within the client's deadline; effects per operation within the bound, none lost, none
 * for an operation never sent; and every key is completed, or claimable now that its lease is over.
 */
export async function verify(input: VerifyInput) {
  const { outcomes, ops, rows, store, deadlineMs, bound } = input;
  const effects = tally(rows, ops);
  const violations: string[] = [];
  const check = (list: readonly unknown[], what: string): void => {
    if (list.length > 0) violations.push(`${list.length} ${what}, e.g. ${JSON.stringify(list.slice(0, 3))}`);
  };
  if (outcomes.length !== ops.length)
    violations.push(`${outcomes.length} outcomes for ${ops.length} operations`);
  const failures = outcomes.filter((o) => o.status !== 201 || o.effectId === undefined);
  check(failures, 'operations without a definite outcome');
  check(
    outcomes.filter((o) => o.elapsedMs > deadlineMs + 1000),
    'operations that settled past the client deadline',
  );

  const overBound: string[] = [];
  const unknownEffect: string[] = [];
  for (const outcome of outcomes) {
    const opRows = effects.perOp.get(outcome.op)!;
    if (opRows.length < 1 || opRows.length > bound(outcome.op, opRows)) {
      overBound.push(`${outcome.op}: ${opRows.length}`);
    }
    const answered = outcome.effectId !== undefined;
    if (answered && !opRows.some((row) => row.effectId === outcome.effectId)) unknownEffect.push(outcome.op);
  }
  check(overBound, 'operations outside the effect bound');
  check(unknownEffect, 'answers naming an effect the ledger lacks');
  if (effects.strays > 0) violations.push(`${effects.strays} effects of operations never sent`);

  const keys = { completed: 0, claimable: 0, locked: 0 };
  const mismatched: string[] = [];
  const now = Date.now();
  // Read in batches: one round trip per key, a few dozen at a time.
  const records: Array<Awaited<ReturnType<IdempotencyStore['get']>>> = [];
  for (let i = 0; i < outcomes.length; i += 64) {
    const batch = outcomes.slice(i, i + 64);
    records.push(
      ...(await Promise.all(batch.map(async (o) => store.get(await computeStoreKey('global', o.key!))))),
    );
  }
  for (const [i, outcome] of outcomes.entries()) {
    const record = records[i];
    if (record?.status === 'completed') {
      keys.completed++;
      const body = record.response?.body;
      const stored =
        body === null || body === undefined
          ? undefined
          : (JSON.parse(Buffer.from(body).toString()) as { effectId?: string });
      if (outcome.effectId !== undefined && stored?.effectId !== outcome.effectId)
        mismatched.push(outcome.op);
    } else if (record === undefined || record.leaseExpiresAt <= now) {
      keys.claimable++;
    } else {
      keys.locked++;
    }
  }
  if (keys.locked > 0) violations.push(`${keys.locked} keys still locked after their lease`);
  check(mismatched, 'stored responses that differ from the answer');

  const latencies = outcomes.map((o) => o.elapsedMs).sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
  return {
    operations: ops.length,
    attempts: outcomes.reduce((sum, o) => sum + o.attempts, 0),
    maxAttempts: Math.max(...outcomes.map((o) => o.attempts)),
    succeeded: outcomes.length - failures.length,
    replayedAnswers: outcomes.filter((o) => o.replayed).length,
    ledger: { effects: effects.total, histogram: effects.histogram, strays: effects.strays },
    keys,
    latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1), deadline: deadlineMs },
    violations,
  };
}

/** Prints one compact line and writes the figures for report.ts. */
export function record(figures: ScenarioFigures): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${RESULTS_DIR}${figures.scenario}.json`, `${JSON.stringify(figures, null, 2)}\n`);
  const faults = Object.entries(figures.faults)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind}=${n}`)
    .join(' ');
  const histogram = Object.entries(figures.ledger.histogram)
    .map(([effects, n]) => `${effects}x:${n}`)
    .join(' ');
  console.log(
    `[chaos] ${figures.scenario}: ops=${figures.operations} ok=${figures.succeeded} attempts=${figures.attempts} ` +
      `(max ${figures.maxAttempts}) faults{${faults}} effects=${figures.ledger.effects} {${histogram}} ` +
      `keys{completed=${figures.keys.completed} claimable=${figures.keys.claimable} locked=${figures.keys.locked}} ` +
      `p99=${figures.latencyMs.p99}ms max=${figures.latencyMs.max}ms ${(figures.durationMs / 1000).toFixed(1)}s` +
      (figures.violations.length > 0 ? ` VIOLATIONS: ${figures.violations.join('; ')}` : ''),
  );
}
