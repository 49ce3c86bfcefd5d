import type { ChildProcess } from 'node:child_process';
import { nextMessage, sendTo, spawnChild, stopChild } from '../children.js';
import { primeReplayKey, runLoad } from '../load/autocannon-run.js';
import type { LoadResult } from '../load/autocannon-run.js';
import { FRAMEWORKS, MODES, scenarioId, serviceOf, variantsFor } from '../scenarios.js';
import type { Framework, Mode, ServerSpec, Variant } from '../scenarios.js';
import type { Services } from '../services.js';
import { median, spread } from '../stats.js';

export interface HttpSettings {
  runs: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  frameworks: readonly Framework[];
}

export interface ModeFigures {
  runs: RunFigures[];
  requestsPerSec: number;
  /** Median server CPU µs per request: unlike req/s, barely moved by other load on the machine. */
  cpuMicrosPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  /** Spread of req/s across runs: (max − min) / median. */
  spread: number;
  /** Responses that were not 2xx, plus socket errors and timeouts, over all runs. */
  failures: number;
  /** Handler executions during the replay runs (after the priming request): must be 0. */
  handlerRuns: number;
}

export interface HttpRow {
  framework: Framework;
  variant: Variant;
  /** Why this row was not measured. */
  skipped?: string;
  modes: Partial<Record<Mode, ModeFigures>>;
}

interface LiveServer {
  row: HttpRow;
  child: ChildProcess;
  port: number;
  results: Record<Mode, RunFigures[]>;
  handlerRuns: number;
  failures: Record<Mode, number>;
}

/** A scenario id as a key fragment: letters, digits and dashes only. */
function keyPart(id: string): string {
  return id.replace(/[^A-Za-z0-9]+/g, '-');
}

/** Starts a server child for `spec` and waits for its port; `nodeFlags` as in {@link spawnChild}. */
export async function startServer(
  spec: ServerSpec,
  nodeFlags: string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawnChild('server/main.ts', [JSON.stringify(spec)], { nodeFlags });
  try {
    const { port } = await nextMessage(child, 'ready', 30_000);
    return { child, port };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Handler executions and CPU time of a server child so far. */
export async function statsOf(child: ChildProcess): Promise<{ effects: number; cpuMicros: number }> {
  const reply = nextMessage(child, 'stats', 5000);
  sendTo(child, { type: 'stats' });
  return await reply;
}

/** One autocannon run plus the server CPU time it cost, per request. */
export interface RunFigures extends LoadResult {
  /** CPU time (user + system) the server child used during the run, divided by the requests served. */
  cpuMicrosPerRequest: number;
}

function summarize(server: LiveServer, mode: Mode): ModeFigures {
  const runs = server.results[mode];
  const rps = runs.map((r) => r.requestsPerSec);
  return {
    runs,
    requestsPerSec: median(rps),
    cpuMicrosPerRequest: median(runs.map((r) => r.cpuMicrosPerRequest)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    spread: spread(rps),
    failures: server.failures[mode],
    handlerRuns: mode === 'replay' ? server.handlerRuns : Number.NaN,
  };
}

/**
 * Per framework: one server child per variant, all started up front; a warm-up run each; then rounds,
 * each round running every variant in both modes in turn, so slow drifts of a shared machine hit every
 * row alike. Figures are medians over the rounds.
 */
export async function runHttpSuite(
  settings: HttpSettings,
  services: Services,
  namespace: string,
  log: (line: string) => void,
): Promise<HttpRow[]> {
  const rows: HttpRow[] = [];
  let serverIndex = 0;
  for (const framework of FRAMEWORKS.filter((f) => settings.frameworks.includes(f))) {
    const live: LiveServer[] = [];
    for (const variant of variantsFor(framework)) {
      const row: HttpRow = { framework, variant, modes: {} };
      rows.push(row);
      const service = serviceOf(variant);
      const state = service === undefined ? undefined : services[service];
      if (state !== undefined && !state.ok) {
        row.skipped = state.reason;
        continue;
      }
      const spec: ServerSpec = {
        ...services.urls,
        framework,
        variant,
        namespace: `${namespace}-${serverIndex++}`,
        table: services.table,
      };
      try {
        const { child, port } = await startServer(spec);
        live.push({
          row,
          child,
          port,
          results: { first: [], replay: [] },
          handlerRuns: 0,
          failures: { first: 0, replay: 0 },
        });
      } catch (error) {
        row.skipped = `server did not start: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    try {
      for (const server of live) {
        const id = scenarioId(framework, server.row.variant);
        log(`  warm-up ${id}`);
        await runLoad({
          port: server.port,
          mode: 'first',
          keyPrefix: `${namespace}-${keyPart(id)}-warmup`,
          replayKey: '',
          durationSec: settings.warmupSec,
          connections: settings.connections,
        });
      }
      for (let round = 1; round <= settings.runs; round++) {
        for (const server of live) {
          const id = scenarioId(framework, server.row.variant);
          for (const mode of MODES) {
            const replayKey = `${namespace}-${keyPart(id)}-replay`;
            if (mode === 'replay') {
              const status = await primeReplayKey(server.port, replayKey);
              if (status !== 201) server.failures.replay += 1;
            }
            const before = await statsOf(server.child);
            const load = await runLoad({
              port: server.port,
              mode,
              keyPrefix: `${namespace}-${keyPart(id)}-r${round}`,
              replayKey,
              durationSec: settings.durationSec,
              connections: settings.connections,
            });
            const after = await statsOf(server.child);
            if (mode === 'replay') server.handlerRuns += after.effects - before.effects;
            const result: RunFigures = {
              ...load,
              cpuMicrosPerRequest:
                load.total > 0 ? (after.cpuMicros - before.cpuMicros) / load.total : Number.NaN,
            };
            server.results[mode].push(result);
            server.failures[mode] += result.non2xx + result.errors + result.timeouts;
            log(
              `  run ${round}/${settings.runs} ${id} ${mode}: ${Math.round(result.requestsPerSec)} req/s, ` +
                `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${Math.round(result.cpuMicrosPerRequest)} µs CPU/req` +
                (result.non2xx + result.errors > 0
                  ? `, ${result.non2xx} non-2xx, ${result.errors} errors`
                  : ''),
            );
          }
        }
      }
      for (const server of live) {
        for (const mode of MODES) server.row.modes[mode] = summarize(server, mode);
      }
    } finally {
      await Promise.all(live.map((server) => stopChild(server.child)));
    }
  }
  return rows;
}
