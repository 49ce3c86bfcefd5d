import { FRAMEWORKS, MODES, variantLabel } from '../scenarios.js';
import type { Framework } from '../scenarios.js';
import type { HttpRow } from '../suites/http.js';
import { fmtMs, fmtPct, fmtRatio, fmtRps } from './format.js';
import { cpuRatioToBare, ratioToBare } from './results.js';

export const SERVER_HEADER = [
  'variant',
  'first req/s',
  'p50 ms',
  'p99 ms',
  'vs bare',
  'replay req/s',
  'p50 ms',
  'p99 ms',
  'vs bare',
  'notes',
] as const;

function notes(row: HttpRow): string {
  const parts: string[] = [];
  for (const mode of MODES) {
    const figures = row.modes[mode];
    if (figures === undefined) continue;
    if (figures.failures > 0) parts.push(`${figures.failures} failed ${mode} requests`);
  }
  const replay = row.modes.replay;
  if (replay !== undefined && row.variant.kind !== 'bare' && replay.handlerRuns > 0) {
    parts.push(`handler ran ${replay.handlerRuns}× during replays`);
  }
  if (row.variant.kind === 'bare') parts.push('ignores the key: "replay" runs the handler');
  const spreads = MODES.map((mode) => row.modes[mode]?.spread).filter((s): s is number => s !== undefined);
  if (spreads.length > 0 && (row.modes.first?.runs.length ?? 0) > 1) {
    parts.push(`spread ${spreads.map((s) => `${Math.round(s * 100)} %`).join(' / ')}`);
  }
  return parts.join('; ');
}

/** One line per variant of `framework`: the figures of both modes, or why the row was skipped. */
export function serverRows(rows: readonly HttpRow[], framework: Framework): string[][] {
  return rows
    .filter((row) => row.framework === framework)
    .map((row) => {
      if (row.skipped !== undefined) {
        return [variantLabel(row.variant), ...Array<string>(8).fill('–'), `skipped: ${row.skipped}`];
      }
      const cells = [variantLabel(row.variant)];
      for (const mode of MODES) {
        const figures = row.modes[mode];
        const ratio = row.variant.kind === 'bare' ? undefined : ratioToBare(rows, row, mode);
        cells.push(
          fmtRps(figures?.requestsPerSec),
          fmtMs(figures?.p50Ms),
          fmtMs(figures?.p99Ms),
          row.variant.kind === 'bare'
            ? '1.00×'
            : `${fmtRatio(ratio)} (${fmtPct(ratio === undefined ? undefined : ratio - 1)})`,
        );
      }
      cells.push(notes(row));
      return cells;
    });
}

export function frameworksIn(rows: readonly HttpRow[]): Framework[] {
  return FRAMEWORKS.filter((framework) => rows.some((row) => row.framework === framework));
}

export const CPU_HEADER = [
  'variant',
  'first CPU µs/req',
  'vs bare (CPU)',
  'replay CPU µs/req',
  'vs bare (CPU)',
] as const;

/** Server CPU time per request per variant of `framework`, and the capacity ratio it implies. */
export function cpuRows(rows: readonly HttpRow[], framework: Framework): string[][] {
  return rows
    .filter((row) => row.framework === framework && row.skipped === undefined)
    .map((row) => {
      const cells = [variantLabel(row.variant)];
      for (const mode of MODES) {
        const ratio = row.variant.kind === 'bare' ? 1 : cpuRatioToBare(rows, row, mode);
        cells.push(fmtMs(row.modes[mode]?.cpuMicrosPerRequest), fmtRatio(ratio));
      }
      return cells;
    });
}
