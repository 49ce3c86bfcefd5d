import { frameworkLabel, peerLabel, storeLabel } from '../scenarios.js';
import type { Variant } from '../scenarios.js';
import { fmtBytes, fmtMs, fmtPct, fmtRps, textTable } from './format.js';
import { isSkipped } from './results.js';
import type { BenchResults } from './results.js';
import { CPU_HEADER, SERVER_HEADER, cpuRows, frameworksIn, serverRows } from './server-table.js';
import { checkTargets } from './targets.js';

export function variantName(variant: Variant): string {
  if (variant.kind === 'oncely') return `oncely ${storeLabel(variant.store)}`;
  if (variant.kind === 'peer') return peerLabel(variant.peer);
  return 'bare';
}

/** The table printed at the end of a run. */
export function renderConsole(results: BenchResults): string {
  const out: string[] = [];
  for (const framework of frameworksIn(results.http)) {
    out.push(
      `\n${frameworkLabel(framework)} (medians of ${results.settings.runs} × ${results.settings.durationSec} s)`,
    );
    out.push(textTable(SERVER_HEADER, serverRows(results.http, framework)));
    out.push(textTable(CPU_HEADER, cpuRows(results.http, framework)));
  }
  out.push('\nStore round trips per request (Express)');
  out.push(
    textTable(
      ['variant', 'first request', 'replay'],
      results.roundTrips.map((row) =>
        row.skipped !== undefined
          ? [variantName(row.variant), 'skipped', row.skipped]
          : [
              variantName(row.variant),
              `${row.first?.count ?? '–'} (${row.first?.commands.join(', ') ?? ''})`,
              `${row.replay?.count ?? '–'} (${row.replay?.commands.join(', ') ?? ''})`,
            ],
      ),
    ),
  );
  for (const [label, memory] of [
    ['MemoryStore', results.memory],
    ['SqliteStore', results.sqliteMemory],
  ] as const) {
    out.push(`\n${label} memory`);
    if (isSkipped(memory)) out.push(`skipped: ${memory.skipped}`);
    else {
      const m = memory;
      const per100k = 100_000 / m.keys;
      out.push(
        `${m.keys.toLocaleString('en-US')} keys, ${m.bodyBytes}-byte bodies: RSS +${fmtBytes(m.rssBytes * per100k)}, ` +
          `heap +${fmtBytes(m.heapUsedBytes * per100k)}, external +${fmtBytes(m.externalBytes * per100k)} per 100,000 keys ` +
          `(${fmtBytes((m.heapUsedBytes + m.externalBytes) / m.keys)} per key)` +
          (m.fileBytes === undefined
            ? ''
            : `; file + WAL ${fmtBytes(m.fileBytes * per100k)} per 100,000 keys`),
      );
    }
  }
  out.push('\nClient overhead (loopback, no faults)');
  if (isSkipped(results.client)) out.push(`skipped: ${results.client.skipped}`);
  else {
    out.push(
      textTable(
        ['pattern', 'bare', 'req/s', 'wrapped', 'req/s', 'overhead', 'CPU µs bare/wrapped', 'CPU overhead'],
        results.client.map((row) => [
          row.pattern,
          row.bare,
          fmtRps(row.bareRequestsPerSec),
          row.wrapped,
          fmtRps(row.wrappedRequestsPerSec),
          fmtPct(row.overhead),
          `${fmtMs(row.bareCpuMicros)} / ${fmtMs(row.wrappedCpuMicros)}`,
          fmtPct(row.cpuOverhead),
        ]),
      ),
    );
  }
  out.push('\nWhere we stand');
  for (const check of checkTargets(results))
    out.push(`- [${check.verdict}] ${check.target}: ${check.measured}`);
  return out.join('\n');
}
