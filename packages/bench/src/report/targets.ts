import { FRAMEWORKS, frameworkLabel, storeLabel, variantLabel } from '../scenarios.js';
import type { Framework, Mode, Variant } from '../scenarios.js';
import { fmtMs, fmtPct, fmtRatio, fmtRps } from './format.js';
import { cpuRatioToBare, findRow, isSkipped, ratioToBare } from './results.js';
import type { BenchResults } from './results.js';

/**
 * `unclear`: throughput and CPU time per request disagree, i.e. the machine's noise is larger than the
 * margin. Each target is judged on both; only when both agree is it `met` or `missed`.
 */
export type Verdict = 'met' | 'goal met' | 'missed' | 'unclear' | 'not measured';

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: Verdict;
}

/** Combines per-row verdicts: missed if any missed, then unclear if any unclear; not measured if none was. */
function overall(verdicts: Verdict[]): Verdict {
  const measured = verdicts.filter((v) => v !== 'not measured');
  if (measured.length === 0) return 'not measured';
  if (measured.includes('missed')) return 'missed';
  if (measured.includes('unclear')) return 'unclear';
  return measured.every((v) => v === 'goal met') ? 'goal met' : 'met';
}

/** One row judged on throughput and on CPU time: agreement decides, disagreement is `unclear`. */
function both(byThroughput: Verdict, byCpu: Verdict | undefined): Verdict {
  if (byCpu === undefined || byCpu === 'not measured') return byThroughput;
  const pass = (v: Verdict): boolean => v === 'met' || v === 'goal met';
  if (pass(byThroughput) && pass(byCpu))
    return byThroughput === 'goal met' && byCpu === 'goal met' ? 'goal met' : 'met';
  if (byThroughput === 'missed' && byCpu === 'missed') return 'missed';
  return 'unclear';
}

function measuredFrameworks(results: BenchResults): Framework[] {
  return FRAMEWORKS.filter((f) => results.http.some((row) => row.framework === f));
}

function ratioCheck(
  results: BenchResults,
  variant: Variant,
  mode: Mode,
  judge: (ratio: number, framework: Framework) => Verdict,
  frameworks: readonly Framework[] = measuredFrameworks(results),
): { parts: string[]; verdicts: Verdict[] } {
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  for (const framework of frameworks) {
    const row = findRow(results.http, framework, variant);
    const ratio = row === undefined ? undefined : ratioToBare(results.http, row, mode);
    if (ratio === undefined) {
      parts.push(
        `${frameworkLabel(framework)}: not measured${row?.skipped === undefined ? '' : ` (${row.skipped})`}`,
      );
      verdicts.push('not measured');
      continue;
    }
    const cpu = row === undefined ? undefined : cpuRatioToBare(results.http, row, mode);
    parts.push(
      `${frameworkLabel(framework)} ${fmtRatio(ratio)} (${fmtPct(ratio - 1)}; CPU ${fmtRatio(cpu)})`,
    );
    verdicts.push(both(judge(ratio, framework), cpu === undefined ? undefined : judge(cpu, framework)));
  }
  return { parts, verdicts };
}

/** At least `bounds[framework]` of bare: met, else missed. */
function atLeast(bounds: Record<Framework, number>): (ratio: number, framework: Framework) => Verdict {
  return (ratio, framework) => (ratio >= bounds[framework] ? 'met' : 'missed');
}

function boundsText(bounds: Record<Framework, number>): string {
  return FRAMEWORKS.map((f) => `${frameworkLabel(f)} ≥ ${bounds[f].toFixed(2)}×`).join(', ');
}

/** The targets of issue #13, judged from this run's figures only. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const memory: Variant = { kind: 'oncely', store: 'memory' };
  const redis: Variant = { kind: 'oncely', store: 'redis' };
  const postgres: Variant = { kind: 'oncely', store: 'postgres' };

  const ratioTarget = (
    target: string,
    variant: Variant,
    mode: Mode,
    bounds: Record<Framework, number>,
    frameworks?: readonly Framework[],
  ): void => {
    const check = ratioCheck(results, variant, mode, atLeast(bounds), frameworks);
    checks.push({
      target: `${target}: ${frameworks === undefined ? boundsText(bounds) : frameworks.map((f) => `${frameworkLabel(f)} ≥ ${bounds[f].toFixed(2)}×`).join(', ')} of bare`,
      measured: `throughput vs bare: ${check.parts.join('; ')}`,
      verdict: overall(check.verdicts),
    });
  };

  ratioTarget(`First requests, ${storeLabel('memory')}`, memory, 'first', {
    express: 0.8,
    fastify: 0.75,
    hono: 0.75,
  });
  checks.push(peerCheck(results));
  ratioTarget(`Replays, ${storeLabel('memory')}`, memory, 'replay', {
    express: 0.95,
    fastify: 0.95,
    hono: 0.95,
  });
  ratioTarget(`First requests, ${storeLabel('redis')}`, redis, 'first', {
    express: 0.7,
    fastify: 0.55,
    hono: 0.7,
  });
  ratioTarget(`Replays, ${storeLabel('redis')}`, redis, 'replay', {
    express: 0.85,
    fastify: 0.85,
    hono: 0.85,
  });
  ratioTarget(
    `First requests, ${storeLabel('postgres')}`,
    postgres,
    'first',
    { express: 0.35, fastify: 0.35, hono: 0.35 },
    ['express'],
  );
  checks.push(clientCheck(results));
  return checks;
}

/** Oncely with MemoryStore against @node-idempotency/core (memory and Redis): Express first requests. */
function peerCheck(results: BenchResults): TargetCheck {
  const ours: Variant = { kind: 'oncely', store: 'memory' };
  const peers: Variant[] = [
    { kind: 'peer', peer: 'node-idempotency-memory' },
    { kind: 'peer', peer: 'node-idempotency-redis' },
  ];
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  const a = findRow(results.http, 'express', ours)?.modes.first;
  for (const theirs of peers) {
    const b = findRow(results.http, 'express', theirs)?.modes.first;
    if (a === undefined || b === undefined) {
      parts.push(`${variantLabel(theirs)}: not measured`);
      verdicts.push('not measured');
      continue;
    }
    const faster = a.requestsPerSec > b.requestsPerSec;
    const cheaper = a.cpuMicrosPerRequest < b.cpuMicrosPerRequest;
    parts.push(
      `${variantLabel(ours)} ${fmtRps(a.requestsPerSec)} req/s, ${fmtMs(a.cpuMicrosPerRequest)} µs CPU vs ` +
        `${variantLabel(theirs)} ${fmtRps(b.requestsPerSec)} req/s, ${fmtMs(b.cpuMicrosPerRequest)} µs CPU`,
    );
    verdicts.push(both(faster ? 'met' : 'missed', cheaper ? 'met' : 'missed'));
  }
  return {
    target:
      'First requests on Express: ahead of @node-idempotency/core (memory and Redis) by req/s and CPU per request',
    measured: parts.join('; '),
    verdict: overall(verdicts),
  };
}

function clientCheck(results: BenchResults): TargetCheck {
  if (isSkipped(results.client)) {
    return {
      target: 'Client wrappers: at most +8 % CPU per call over bare fetch/axios',
      measured: results.client.skipped,
      verdict: 'not measured',
    };
  }
  const parts = results.client.map(
    (row) => `${row.wrapped} ${row.pattern}: ${fmtPct(row.overhead)} (CPU ${fmtPct(row.cpuOverhead)})`,
  );
  const verdicts = results.client.map((row): Verdict => (row.cpuOverhead <= 0.08 ? 'met' : 'missed'));
  return {
    target: 'Client wrappers: at most +8 % CPU per call over bare fetch/axios',
    measured: `extra time per request: ${parts.join('; ')}`,
    verdict: overall(verdicts),
  };
}
