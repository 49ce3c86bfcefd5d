/**
 * `pnpm bench`: server throughput against the bare frameworks and the peer libraries, store round
 * trips, MemoryStore memory and client overhead; prints a table and writes the Markdown report.
 * Loaded by start.ts once the packages are built (its imports need their `dist`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { USAGE, parseArgs } from './args.js';
import { installCleanup, killChildren, onInterrupt, pinLoadGenerator, setServerCpu } from './children.js';
import { describeMachine } from './machine.js';
import { renderConsole } from './report/console.js';
import { renderMarkdown } from './report/markdown.js';
import { harnessProblems } from './report/results.js';
import type { BenchResults } from './report/results.js';
import { cleanupServices, probeServices } from './services.js';
import { runClientSuite } from './suites/client.js';
import { runHttpSuite } from './suites/http.js';
import { runMemorySuite } from './suites/memory.js';
import { runRoundTripSuite } from './suites/round-trips.js';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    log(`bench: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    log(USAGE);
    return 0;
  }
  const settings = parsed;
  installCleanup();
  const started = performance.now();
  const machine = describeMachine();
  const pinned = pinLoadGenerator(settings.pin);
  setServerCpu(pinned ? 0 : undefined);
  const namespace = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

  log(
    `bench: ${settings.quick ? 'quick' : 'full'} run, ${machine.cpuModel} × ${machine.cores}, Node ${machine.node}`,
  );
  const services = await probeServices(namespace);
  for (const [name, state] of [
    ['Redis', services.redis],
    ['PostgreSQL', services.postgres],
  ] as const) {
    log(`bench: ${name} ${state.ok ? 'ok' : `skipped: ${state.reason}`}`);
  }
  onInterrupt(() => cleanupServices(services, namespace));
  try {
    log('bench: server throughput');
    const http = await runHttpSuite(settings, services, namespace, log);
    log('bench: store round trips');
    const roundTrips = await runRoundTripSuite(services, namespace);
    log('bench: MemoryStore memory');
    const memory = await runMemorySuite(settings.memoryKeys);
    log('bench: SqliteStore memory');
    const sqliteMemory = await runMemorySuite(settings.memoryKeys, 200, 'sqlite');
    log('bench: client overhead');
    const client = await runClientSuite(settings.client);
    const results: BenchResults = {
      settings,
      machine,
      loadAverageEnd: loadavg(),
      pinned,
      services: { redis: services.redis, postgres: services.postgres },
      http,
      roundTrips,
      memory,
      sqliteMemory,
      client,
      elapsedSec: (performance.now() - started) / 1000,
    };
    process.stdout.write(`${renderConsole(results)}\n`);
    await mkdir(dirname(settings.out), { recursive: true });
    await writeFile(settings.out, renderMarkdown(results));
    log(`\nbench: report written to ${settings.out} (${results.elapsedSec.toFixed(0)} s)`);
    const problems = harnessProblems(results);
    for (const problem of problems) log(`bench: PROBLEM ${problem}`);
    return problems.length > 0 ? 1 : 0;
  } finally {
    await cleanupServices(services, namespace);
  }
}

main().then(
  (code) => {
    killChildren();
    process.exit(code);
  },
  (error: unknown) => {
    killChildren();
    log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
