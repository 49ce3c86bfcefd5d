// Renders docs/reliability.md from the latest run's figures in test/chaos/.results/*.json.
//   npx vitest run --project integration test/chaos test/security
//   node --import tsx test/chaos/report.ts
// Every number in the document comes from those files; nothing is typed by hand.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ScenarioFigures } from './verify.js';

const RESULTS = fileURLToPath(new URL('./.results/', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));

/** Order of the scenarios in the document. */
const ORDER = [
  'network-redis-fetch',
  'network-postgres-axios',
  'crash-redis',
  'pause-postgres',
  'redis-restart',
  'crash-postgres-transactional',
  'soak',
];

const SECURITY: Record<string, { title: string; covers: string }> = {
  headers: {
    title: 'Hostile Idempotency-Key headers (test/security/headers.test.ts)',
    covers:
      'fast-check over raw bytes sent with `net.connect` (what fetch refuses to send) and over strings sent with fetch, against an independent oracle of the key rules; empty, whitespace-only, 10 kB, 256 chars, obs-text, UTF-8, HTAB, comma, bad sf-strings, NUL/ESC/DEL, 50 repeated headers, 20 kB. Valid keys run the handler; invalid ones get a 400 `key-invalid` problem with no store write and no handler run; bytes Node’s parser refuses (CTLs, DEL) get Node’s own `400 Bad Request` + close, and over 16 KiB its `431`; never a stack trace. Quoted and bare forms name the same record.',
  },
  bodies: {
    title: 'Hostile request bodies (test/security/bodies.test.ts)',
    covers:
      'invalid JSON (the app’s 400 is kept and replayed; the handler never runs); a 64 MiB body over the parser’s limit, with and without a key, measuring the memory the server holds; chunked bodies that stop halfway (client closes: nothing stored; client stalls: Node’s `408` at `requestTimeout`, nothing stored).',
  },
  tenancy: {
    title: 'Tenancy, stored data, unkeepable responses (test/security/tenancy.test.ts)',
    covers:
      'keys guessed across scopes (fast-check) never replay the other scope’s response; a flood of unique keys stays within the MemoryStore bound; Set-Cookie, Authorization, WWW-Authenticate and Proxy-Authenticate are neither stored (store contents inspected) nor replayed, nor configurable; every store key is SHA-256(scope, key), never raw input; a 2 MiB and an event-stream response are sent once, kept without body, answered `response-not-replayable`, never re-run; a chunked small response replays byte for byte.',
  },
  'hostile-servers': {
    title: 'Hostile servers against the client (test/security/hostile-servers.test.ts)',
    covers:
      'Retry-After of a year (seconds and HTTP-date), negative, garbage; endless 409 in-progress; a server that never answers; a response that never ends (fetch buffered and streamed, axios); a server that always fails, against the retry budget. Elapsed time and attempts asserted for fetch and axios.',
  },
};

function readJson<T>(name: string): (T & { mtime: Date }) | undefined {
  const path = `${RESULTS}${name}.json`;
  if (!existsSync(path)) return undefined;
  return { ...(JSON.parse(readFileSync(path, 'utf8')) as T), mtime: statSync(path).mtime };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const list = (record: Record<string, number>) =>
  Object.entries(record)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ') || 'none';

function scenarioSection(f: ScenarioFigures): string {
  const histogram = Object.entries(f.ledger.histogram)
    .map(([effects, n]) => `${n} with ${effects}`)
    .join(', ');
  const status = f.violations.length === 0 ? 'passed' : `**FAILED**: ${f.violations.join('; ')}`;
  return [
    `### ${f.title}`,
    '',
    `${f.setup}. Asserted: ${f.bound}. Result: ${status}.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| logical operations | ${f.operations} (${f.succeeded} ended 201 with an effect in the ledger) |`,
    `| HTTP attempts | ${f.attempts} (at most ${f.maxAttempts} for one operation); ${f.replayedAnswers} answers were replays |`,
    `| faults injected | ${list(f.faults)} |`,
    `| ledger | ${f.ledger.effects} effects: ${histogram} effect(s) per operation; ${f.ledger.strays} strays |`,
    `| keys after the run | ${f.keys.completed} completed, ${f.keys.claimable} claimable, ${f.keys.locked} locked |`,
    `| latency per operation | p50 ${f.latencyMs.p50} ms, p99 ${f.latencyMs.p99} ms, max ${f.latencyMs.max} ms (deadline ${f.latencyMs.deadline} ms) |`,
    ...(f.extra === undefined ? [] : [`| other | ${list(f.extra)} |`]),
    `| duration | ${seconds(f.durationMs)} |`,
    '',
  ].join('\n');
}

const scenarios = ORDER.map((name) => readJson<ScenarioFigures>(name)).filter((f) => f !== undefined);
const security = Object.keys(SECURITY).map((name) => ({
  name,
  result: readJson<{ figures: Record<string, number> }>(`security-${name}`),
}));
const files = readdirSync(RESULTS).filter((name) => name.endsWith('.json'));
const latest = new Date(Math.max(...files.map((name) => statSync(`${RESULTS}${name}`).mtimeMs)));
const totals = scenarios.reduce(
  (sum, f) => ({
    ops: sum.ops + f.operations,
    attempts: sum.attempts + f.attempts,
    ms: sum.ms + f.durationMs,
  }),
  { ops: 0, attempts: 0, ms: 0 },
);

const doc = `# Reliability: what the chaos and security suites prove

<!-- Generated by test/chaos/report.ts from test/chaos/.results/*.json. Do not edit by hand: run
     npx vitest run --project integration test/chaos test/security && node --import tsx test/chaos/report.ts -->

Oncely promises that a logical operation has its effect once, even when the network, the servers or the
store break (see [the failure model](./failure-model.md) for what "once" means and where it stops). The
suites in \`test/chaos\` and \`test/security\` check that promise against real processes, real sockets,
real Redis and PostgreSQL, real Express, fetch and axios. Figures below are from the run of
${latest.toISOString().slice(0, 16).replace('T', ' ')} UTC.

## Chaos: exactly-once effects under faults

Each scenario starts several server processes (\`test/chaos/chaos-server.ts\`, Express and the
idempotency middleware) on one shared store, puts the seeded fault-injecting proxy
(\`@oncely/demo/fault-proxy\`) in front of them, and sends logical operations through
\`@oncely/client\` (fetch and/or axios) from several clients, each with its own retry budget. Every
handler writes one row per effect to a ledger table in PostgreSQL (a new table per run). After the load:

- every operation ended in a definite outcome: a 201 whose effect id is in the ledger, within the
  client's deadline (no server hang holds a client past it);
- effects per operation: exactly 1 under network faults, Redis restarts and in transactional mode; at
  most 2 for an operation whose first run was on a server killed (kill -9) or paused (SIGSTOP) past its
  lease without transactional mode, the bound the failure model documents; none lost, none stray;
- every key is completed (its stored response names the same effect the client got) or claimable once
  its lease is over: none stays locked.

Totals: ${totals.ops} logical operations, ${totals.attempts} HTTP attempts, ${seconds(totals.ms)} over
${scenarios.length} scenarios.

${scenarios.map(scenarioSection).join('\n')}
## Hostile input and hostile servers

${security
  .map(({ name, result }) =>
    [
      `### ${SECURITY[name]!.title}`,
      '',
      SECURITY[name]!.covers,
      '',
      result === undefined ? '_Not run._' : `Figures: ${list(result.figures)}.`,
      '',
    ].join('\n'),
  )
  .join('\n')}
## Bugs these suites found, now fixed

Each stays covered by the test that found it:

- \`test/chaos/reset-mid-body.test.ts\` — axios: a 2xx whose body was cut by a reset was not retried
  (now judged by the stream's error code and retried with the same key).
- \`test/security/bodies.test.ts\` — server: the body was read into memory without a limit before the
  body parser's limit applied (now bounded by \`maxRequestBytes\`, answered 413 \`request-too-large\`).
- \`test/security/hostile-servers.test.ts\` — axios: a response that trickled forever outlived the
  deadline (now every attempt carries a signal bound to the attempt timeout and the deadline).

## Running it

\`\`\`sh
npx vitest run --project integration test/chaos test/security   # Redis and PostgreSQL on 127.0.0.1
node --import tsx test/chaos/report.ts                            # regenerates this file
\`\`\`

\`REDIS_URL\` and \`DATABASE_URL\` override the defaults; with \`CI=true\` an unreachable Redis or
PostgreSQL fails the suite instead of skipping it. \`CHAOS_SOAK_MS\` changes the soak's length.
`;

writeFileSync(DOC, doc);
console.log(
  `wrote ${DOC} (${scenarios.length} scenarios, ${security.filter((s) => s.result).length} security files)`,
);
