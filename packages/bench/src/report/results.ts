import type { BenchSettings } from '../args.js';
import type { Machine } from '../machine.js';
import type { Framework, Mode, Variant } from '../scenarios.js';
import type { ServiceState } from '../services.js';
import { median } from '../stats.js';
import type { ClientRow } from '../suites/client.js';
import type { HttpRow } from '../suites/http.js';
import type { MemoryResult } from '../suites/memory.js';
import type { RoundTripRow } from '../suites/round-trips.js';

export type Skipped = { skipped: string };

/** Everything one run measured: the only source of the printed table and of docs/benchmarks.md. */
export interface BenchResults {
  settings: BenchSettings;
  machine: Machine;
  loadAverageEnd: number[];
  pinned: boolean;
  services: { redis: ServiceState; postgres: ServiceState };
  http: HttpRow[];
  roundTrips: RoundTripRow[];
  memory: MemoryResult | Skipped;
  /** The same fill on a SqliteStore: its records live in the file, so the process barely grows. */
  sqliteMemory: MemoryResult | Skipped;
  client: ClientRow[] | Skipped;
  elapsedSec: number;
}

export function isSkipped(value: unknown): value is Skipped {
  return typeof value === 'object' && value !== null && 'skipped' in value;
}

function sameVariant(a: Variant, b: Variant): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function findRow(
  rows: readonly HttpRow[],
  framework: Framework,
  variant: Variant,
): HttpRow | undefined {
  return rows.find((row) => row.framework === framework && sameVariant(row.variant, variant));
}

/**
 * Throughput relative to the bare app of the same framework and mode: the median, over rounds, of
 * variant req/s ÷ bare req/s in that round (rounds are interleaved, so each pair ran close in time).
 */
export function ratioToBare(rows: readonly HttpRow[], row: HttpRow, mode: Mode): number | undefined {
  const bare = findRow(rows, row.framework, { kind: 'bare' })?.modes[mode];
  const own = row.modes[mode];
  if (bare === undefined || own === undefined) return undefined;
  const ratios = own.runs.flatMap((run, i) => {
    const base = bare.runs[i]?.requestsPerSec;
    return base === undefined || base === 0 ? [] : [run.requestsPerSec / base];
  });
  return ratios.length === 0 ? undefined : median(ratios);
}

/**
 * Capacity relative to bare from CPU time: bare CPU µs per request ÷ this row's. The throughput ratio a
 * CPU-bound server would show with a core to itself; far less disturbed by other load than req/s.
 */
export function cpuRatioToBare(rows: readonly HttpRow[], row: HttpRow, mode: Mode): number | undefined {
  const bare = findRow(rows, row.framework, { kind: 'bare' })?.modes[mode]?.cpuMicrosPerRequest;
  const own = row.modes[mode]?.cpuMicrosPerRequest;
  if (bare === undefined || own === undefined || !(own > 0)) return undefined;
  return bare / own;
}

/** Problems that mean the harness or a library misbehaved (CI fails on these, never on speed). */
export function harnessProblems(results: BenchResults): string[] {
  const problems: string[] = [];
  for (const row of results.http) {
    const label = `${row.framework} ${JSON.stringify(row.variant)}`;
    const serviceDown = row.skipped !== undefined && row.skipped.includes('unreachable');
    const unusable = row.skipped !== undefined && row.skipped.includes('unusable');
    if (row.skipped !== undefined && !serviceDown && !unusable) problems.push(`${label}: ${row.skipped}`);
    if (row.variant.kind !== 'oncely') continue;
    for (const [mode, figures] of Object.entries(row.modes)) {
      if (figures.failures > 0) problems.push(`${label} ${mode}: ${figures.failures} failed requests`);
    }
    const replayRuns = row.modes.replay?.handlerRuns ?? 0;
    if (replayRuns > 0) problems.push(`${label}: the handler ran ${replayRuns} times during replays`);
  }
  for (const row of results.roundTrips) {
    if (row.skipped?.startsWith('failed') === true)
      problems.push(`round trips ${JSON.stringify(row.variant)}: ${row.skipped}`);
  }
  if (isSkipped(results.memory)) problems.push(`memory: ${results.memory.skipped}`);
  if (isSkipped(results.sqliteMemory)) problems.push(`SqliteStore memory: ${results.sqliteMemory.skipped}`);
  if (isSkipped(results.client)) problems.push(`client: ${results.client.skipped}`);
  return problems;
}
