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
  judge: (ratio: number) => Verdict,
): { parts: string[]; verdicts: Verdict[] } {
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  for (const framework of measuredFrameworks(results)) {
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
    verdicts.push(both(judge(ratio), cpu === undefined ? undefined : judge(cpu)));
  }
  return { parts, verdicts };
}

/** The issue's targets, judged from this run's figures only. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const memory: Variant = { kind: 'oncely', store: 'memory' };
  const redis: Variant = { kind: 'oncely', store: 'redis' };

  const first = ratioCheck(results, memory, 'first', (r) =>
    r >= 0.95 ? 'goal met' : r >= 0.9 ? 'met' : 'missed',
  );
  checks.push({
    target: `First requests with ${storeLabel('memory')}: overhead under 10 % of bare (goal: under 5 %)`,
    measured: `throughput vs bare: ${first.parts.join('; ')}`,
    verdict: overall(first.verdicts),
  });

  const replay = ratioCheck(results, memory, 'replay', (r) => (r >= 1 ? 'met' : 'missed'));
  checks.push({
    target: `Replays (${storeLabel('memory')}) at least as fast as the bare handler`,
    measured: `throughput vs bare: ${replay.parts.join('; ')}`,
    verdict: overall(replay.verdicts),
  });

  const redisFirst = ratioCheck(results, redis, 'first', (r) => (r >= 0.7 ? 'met' : 'missed'));
  const redisReplay = ratioCheck(results, redis, 'replay', (r) => (r >= 0.7 ? 'met' : 'missed'));
  checks.push({
    target: `${storeLabel('redis')} within 30 % of bare on loopback`,
    measured: `first requests: ${redisFirst.parts.join('; ')}. Replays: ${redisReplay.parts.join('; ')}`,
    verdict: overall([...redisFirst.verdicts, ...redisReplay.verdicts]),
  });

  checks.push(peerCheck(results));
  checks.push(clientCheck(results));
  return checks;
}

/** Oncely against each peer on the same store kind, Express, both modes. */
function peerCheck(results: BenchResults): TargetCheck {
  const pairs: Array<[Variant, Variant]> = [
    [
      { kind: 'oncely', store: 'memory' },
      { kind: 'peer', peer: 'express-idempotency' },
    ],
    [
      { kind: 'oncely', store: 'memory' },
      { kind: 'peer', peer: 'node-idempotency-memory' },
    ],
    [
      { kind: 'oncely', store: 'redis' },
      { kind: 'peer', peer: 'node-idempotency-redis' },
    ],
  ];
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  for (const [ours, theirs] of pairs) {
    for (const mode of ['first', 'replay'] as const) {
      const a = findRow(results.http, 'express', ours)?.modes[mode];
      const b = findRow(results.http, 'express', theirs)?.modes[mode];
      if (a === undefined || b === undefined) {
        parts.push(`${variantLabel(theirs)} ${mode}: not measured`);
        verdicts.push('not measured');
        continue;
      }
      const faster = a.requestsPerSec > b.requestsPerSec;
      const cheaper = a.cpuMicrosPerRequest < b.cpuMicrosPerRequest;
      parts.push(
        `${mode === 'first' ? 'first requests' : 'replays'}: ${variantLabel(ours)} ${fmtRps(a.requestsPerSec)} req/s, ` +
          `${fmtMs(a.cpuMicrosPerRequest)} µs CPU vs ${variantLabel(theirs)} ${fmtRps(b.requestsPerSec)} req/s, ` +
          `${fmtMs(b.cpuMicrosPerRequest)} µs CPU`,
      );
      verdicts.push(both(faster ? 'met' : 'missed', cheaper ? 'met' : 'missed'));
    }
  }
  return {
    target:
      'Faster than every peer library on the same work (Express; same store kind; req/s and server CPU per request)',
    measured: parts.join('; '),
    verdict: overall(verdicts),
  };
}

function clientCheck(results: BenchResults): TargetCheck {
  if (isSkipped(results.client)) {
    return {
      target: 'Client wrapper overhead under 5 %',
      measured: results.client.skipped,
      verdict: 'not measured',
    };
  }
  const parts = results.client.map(
    (row) => `${row.wrapped} ${row.pattern}: ${fmtPct(row.overhead)} (CPU ${fmtPct(row.cpuOverhead)})`,
  );
  const verdicts = results.client.map((row): Verdict =>
    both(row.overhead < 0.05 ? 'met' : 'missed', row.cpuOverhead < 0.05 ? 'met' : 'missed'),
  );
  return {
    target: 'Client wrapper overhead under 5 % of bare fetch/axios',
    measured: `extra time per request: ${parts.join('; ')}`,
    verdict: overall(verdicts),
  };
}
