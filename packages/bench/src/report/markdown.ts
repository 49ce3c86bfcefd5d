import { MODES, frameworkLabel, variantLabel } from '../scenarios.js';
import { PAYMENT_REQUEST_BODY, chargePayment, effects } from '../server/payment.js';
import { BENCH_TTL_MS } from '../server/stores.js';
import { fmtBytes, fmtMs, fmtPct, fmtRps, markdownTable } from './format.js';
import { PEER_NOTES } from './peer-notes.js';
import { findRow, isSkipped } from './results.js';
import type { BenchResults } from './results.js';
import { CPU_HEADER, SERVER_HEADER, cpuRows, frameworksIn, serverRows } from './server-table.js';
import { checkTargets } from './targets.js';

function machineSection(results: BenchResults): string {
  const { machine: m, settings: s } = results;
  const rows = [
    ['Date', m.date],
    ['Commit', m.commit],
    ['CPU', `${m.cpuModel}, ${m.cores} cores`],
    ['Memory', `${m.memoryGiB.toFixed(1)} GiB (${m.freeMemoryGiB.toFixed(1)} GiB free at start)`],
    ['OS', m.os],
    ['Node.js', m.node],
    ['Load average (1/5/15 min) at start', m.loadAverage.map((l) => l.toFixed(2)).join(' / ')],
    ['Load average at end', results.loadAverageEnd.map((l) => l.toFixed(2)).join(' / ')],
    ['CPU pinning', results.pinned ? 'server child on core 0, load generator on core 1 (taskset)' : 'none'],
    ['Mode', s.quick ? 'quick (`--quick`): short runs, figures are rough' : 'full'],
    ['Total time', `${results.elapsedSec.toFixed(0)} s`],
    ...Object.entries(m.versions).map(([name, version]) => [name, version]),
  ];
  return markdownTable(['', ''], rows, 'll');
}

/** Size of the handler's answer, measured rather than typed (the counter is restored after). */
function paymentBytes(): number {
  const count = effects.count;
  const bytes = Buffer.byteLength(JSON.stringify(chargePayment(JSON.parse(PAYMENT_REQUEST_BODY))));
  effects.count = count;
  return bytes;
}

function methodSection(results: BenchResults): string {
  const s = results.settings;
  const memoryBody = isSkipped(results.memory) ? 200 : results.memory.bodyBytes;
  return [
    `- **Processes.** Each server runs in its own child process; the load generator (autocannon, in the parent) ` +
      `runs in another. ${results.pinned ? `On this ${results.machine.cores}-core machine the server child is pinned to core 0 and the load generator to core 1; Redis and PostgreSQL are not pinned and share the cores.` : 'No CPU pinning was applied in this run.'}`,
    '- **Code under test.** The Oncely packages as published: their ESM builds (`dist`, built by tsup before the run), not the TypeScript sources.',
    `- **Load.** autocannon, ${s.connections} connections, no pipelining, ${s.runs} run(s) × ${s.durationSec} s per row after a ${s.warmupSec} s warm-up, against 127.0.0.1. ` +
      'All servers of a framework start up front; the runs are interleaved in rounds (every row runs once per round), so drifts of a shared machine hit every row alike.',
    `- **Work.** \`POST /payments\` with a ${Buffer.byteLength(PAYMENT_REQUEST_BODY)}-byte JSON order; the handler parses it and answers 201 with a ${paymentBytes()}-byte JSON payment. The same handler in every row.`,
    "- **First requests**: every request carries a fresh `Idempotency-Key` (a counter in autocannon's `setupRequest`). **Replays**: every request carries one key, completed by one request just before the run. Bare apps receive the same requests and ignore the key.",
    '- **Figures.** req/s, p50 and p99 latency are medians over the runs. "vs bare" is the median, over rounds, of the row\'s req/s divided by the bare app\'s req/s in the same round and mode. "Spread" is (max − min) / median of req/s over the runs.',
    "- **Checks.** Failed requests (non-2xx, socket errors, timeouts) are counted; during replay runs the handler's executions are counted in the server child (must be 0 for an idempotency layer).",
    `- **Stores.** Configured as their READMEs show, defaults everywhere except a ${BENCH_TTL_MS / 60_000}-minute TTL (the records of this run should not outlive it in a shared Redis/PostgreSQL). Oncely scope: \`'global'\`; MemoryStore with its default bound; SqliteStore on a file of its own per server child, in a temporary directory (\`os.tmpdir()\`, on the machine's disk), default \`synchronous: 'full'\` (an fsync per write).`,
    "- **Round trips.** Express app in-process; one warm-up request and replay, then one first request and one replay. Redis commands are counted with `MONITOR`, filtered to the app's own connections (by client name); SQL statements through a wrapper of the pg pool's clients.",
    `- **Memory.** A child process with \`--expose-gc\` claims and completes ${results.settings.memoryKeys.toLocaleString('en-US')} keys directly through the MemoryStore API (SHA-256 hex keys and fingerprints, ${memoryBody}-byte bodies); RSS and heap are read after full GCs before and after.`,
    `- **Client.** A plain node:http server child answering 201 (no faults, so no retries happen); the bare client and the wrapper alternate in ${s.client.runs} rounds of ${s.client.sequentialRequests} sequential and ${s.client.concurrentRequests} concurrent (${s.client.concurrency} in flight) requests. Overhead (time) is the median, over rounds, of bare req/s ÷ wrapped req/s − 1; overhead (CPU) compares the client process's CPU time per call (user + system), which other load on the machine moves much less.`,
  ].join('\n');
}

function serverSection(results: BenchResults): string {
  const parts: string[] = [];
  for (const framework of frameworksIn(results.http)) {
    parts.push(
      `### ${frameworkLabel(framework)}\n\n${markdownTable(SERVER_HEADER, serverRows(results.http, framework))}`,
      `Server CPU time per request (user + system of the server child, over the requests it served):\n\n${markdownTable(CPU_HEADER, cpuRows(results.http, framework))}`,
    );
  }
  return parts.join('\n\n');
}

function roundTripSection(results: BenchResults): string {
  return markdownTable(
    ['variant', 'store', 'first request', 'replay'],
    results.roundTrips.map((row) =>
      row.skipped !== undefined
        ? [variantLabel(row.variant), row.backend, `skipped: ${row.skipped}`, '']
        : [
            variantLabel(row.variant),
            row.backend,
            `${row.first?.count ?? '–'} (${row.first?.commands.join(', ') ?? ''})`,
            `${row.replay?.count ?? '–'} (${row.replay?.commands.join(', ') ?? ''})`,
          ],
    ),
    'llll',
  );
}

/** Req/s and server CPU per request of one store's rows, every framework, both modes. */
function storeFigures(results: BenchResults, store: 'redis' | 'postgres'): string {
  const parts: string[] = [];
  for (const framework of frameworksIn(results.http)) {
    const row = findRow(results.http, framework, { kind: 'oncely', store });
    const bare = findRow(results.http, framework, { kind: 'bare' });
    const first = row?.modes.first;
    const replay = row?.modes.replay;
    if (first === undefined || replay === undefined) continue;
    parts.push(
      `${frameworkLabel(framework)} ${fmtRps(first.requestsPerSec)} / ${fmtRps(replay.requestsPerSec)} req/s ` +
        `(bare ${fmtRps(bare?.modes.first?.requestsPerSec ?? 0)}), ${fmtMs(first.cpuMicrosPerRequest)} / ` +
        `${fmtMs(replay.cpuMicrosPerRequest)} µs server CPU`,
    );
  }
  return parts.length === 0 ? 'not measured' : parts.join('; ');
}

/** What a store call costs in the server process, and where PostgresStore's ceiling comes from. */
function storeCostSection(results: BenchResults): string {
  return [
    `**Per-call client cost.** The server CPU columns above include the store client's own work, not the ` +
      `store's: RedisStore sends each call as one \`EVALSHA\` (ioredis falls back to \`EVAL\` once, while ` +
      `the script is not loaded yet: the warm-up request does that), its arguments and the record encoded ` +
      `once; PostgresStore runs each statement through \`pool.query\`: a pool checkout, one unnamed ` +
      `parameterised statement (parse, bind and execute in one round trip) and the decoding of its row. RedisStore, first / replay: ${storeFigures(results, 'redis')}.`,
    '',
    `**PostgreSQL's ceiling.** PostgresStore, first / replay: ${storeFigures(results, 'postgres')}. ` +
      'Every framework lands at about the same req/s with PostgresStore although their bare speeds differ ' +
      'several-fold, and replays (one statement) gain little over first requests (two): the limit is the ' +
      'statements, not the adapter. Each statement is its own transaction, and each commit that writes ' +
      '(the claim, the completion) waits for its WAL flush; the PostgreSQL backends run on the same cores ' +
      'as the server child and the load generator (they are not pinned), and the pg pool (10 connections ' +
      "by default) queues the 50 concurrent requests behind them. PostgresStore's rows are therefore bound " +
      "by the database's own per-statement time on this machine; a larger pool or a database on cores of " +
      'its own raises them, the adapter cannot.',
  ].join('\n');
}

function memorySection(memory: BenchResults['memory']): string {
  if (isSkipped(memory)) return `skipped: ${memory.skipped}`;
  const m = memory;
  const scale = 100_000 / m.keys;
  return (
    markdownTable(
      ['per 100,000 completed keys', 'growth', 'per key'],
      [
        ['RSS', fmtBytes(m.rssBytes * scale), fmtBytes(m.rssBytes / m.keys)],
        ['V8 heap used', fmtBytes(m.heapUsedBytes * scale), fmtBytes(m.heapUsedBytes / m.keys)],
        ['external (body bytes)', fmtBytes(m.externalBytes * scale), fmtBytes(m.externalBytes / m.keys)],
        [
          'heap + external',
          fmtBytes((m.heapUsedBytes + m.externalBytes) * scale),
          fmtBytes((m.heapUsedBytes + m.externalBytes) / m.keys),
        ],
        ...(m.fileBytes === undefined
          ? []
          : [
              [
                'database file + WAL (on disk)',
                fmtBytes(m.fileBytes * scale),
                fmtBytes(m.fileBytes / m.keys),
              ],
            ]),
      ],
    ) +
    `\n\n${m.keys.toLocaleString('en-US')} claims and completions took ${(m.elapsedMs / 1000).toFixed(1)} s (${fmtRps(m.keys / (m.elapsedMs / 1000))} per second, hashing included).`
  );
}

function clientSection(results: BenchResults): string {
  if (isSkipped(results.client)) return `skipped: ${results.client.skipped}`;
  return markdownTable(
    [
      'pattern',
      'bare',
      'bare req/s',
      'wrapped',
      'wrapped req/s',
      'overhead (time)',
      'spread bare / wrapped',
      'client CPU µs/call bare / wrapped',
      'overhead (CPU)',
    ],
    results.client.map((row) => [
      row.pattern,
      row.bare,
      fmtRps(row.bareRequestsPerSec),
      row.wrapped,
      fmtRps(row.wrappedRequestsPerSec),
      fmtPct(row.overhead),
      `${Math.round(row.bareSpread * 100)} % / ${Math.round(row.wrappedSpread * 100)} %`,
      `${fmtMs(row.bareCpuMicros)} / ${fmtMs(row.wrappedCpuMicros)}`,
      fmtPct(row.cpuOverhead),
    ]),
  );
}

function rawRunsSection(results: BenchResults): string {
  const rows: string[][] = [];
  for (const row of results.http) {
    for (const mode of MODES) {
      const figures = row.modes[mode];
      if (figures === undefined) continue;
      rows.push([
        `${frameworkLabel(row.framework)} ${variantLabel(row.variant)} ${mode}`,
        figures.runs
          .map((run) => `${fmtRps(run.requestsPerSec)} (${fmtMs(run.p50Ms)}/${fmtMs(run.p99Ms)} ms)`)
          .join(', '),
      ]);
    }
  }
  return markdownTable(['row', 'each run: req/s (p50/p99)'], rows, 'll');
}

/** docs/benchmarks.md: generated from one run's results only. */
export function renderMarkdown(results: BenchResults): string {
  const targets = checkTargets(results);
  return `<!-- Generated by \`pnpm bench\` (packages/bench). Do not edit: rerun it. -->

# Benchmarks

What Oncely costs per request, next to the bare frameworks and the idempotency libraries users would
otherwise pick, measured in one run on one machine. Every figure on this page was produced by that run
(${results.machine.date}); none is typed by hand. Rerun with \`pnpm bench\` (see packages/bench/README.md).

## Where we stand

Each target is judged on throughput and, because a shared machine is noisy, on CPU time per request too:
**met** or **missed** when both agree, **unclear** when they do not.

${markdownTable(
  ['target', 'verdict', 'measured'],
  targets.map((t) => [t.target, `**${t.verdict}**`, t.measured]),
  'lll',
)}

## Machine

${machineSection(results)}

## Method

${methodSection(results)}

## Server: throughput and latency

Latency in ms; "vs bare" is throughput relative to the bare app of the same framework and mode.

${serverSection(results)}

### What the peers skip

The comparison is fair only if the work is: what each library does per request, read from its code.
None of them ships a Fastify or Hono adapter on npm, so they run on Express only; \`hono-idempotency\` is
not published on npm.

${PEER_NOTES}

## Store round trips per request

${roundTripSection(results)}

MemoryStore and the peers' in-memory stores make no network round trip, nor does SqliteStore: a first
request is one read, one \`BEGIN IMMEDIATE\` claim and one completion on the file; a replay is one read.

${storeCostSection(results)}

## Memory: MemoryStore

${memorySection(results.memory)}

## Memory: SqliteStore

The same fill through a SqliteStore (\`synchronous: 'normal'\` for this fill only: an fsync per write
would make it take minutes, and memory does not depend on it). Its records live in the file, not in the
process.

${memorySection(results.sqliteMemory)}

## Client overhead

${clientSection(results)}

## Every run

${rawRunsSection(results)}
`;
}
