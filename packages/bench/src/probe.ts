/**
 * `pnpm --filter @oncely/bench probe`: a quick look at a few rows while optimising, not a report.
 * Starts one server child per variant (pinned like the full bench), then alternates short autocannon
 * runs over them in rounds and prints req/s and server CPU µs per request (medians). With `--prof <dir>`
 * the children also write a V8 CPU profile (`--cpu-prof`) there when they close.
 *
 *   probe --framework express --variants bare,memory,redis --mode first --rounds 5 --duration 2
 */
import { installCleanup, pinLoadGenerator, setServerCpu, stopChild } from './children.js';
import { ensureBuilt } from './ensure-built.js';
import { runLoad, primeReplayKey } from './load/autocannon-run.js';
import type { Framework, Mode, ServerSpec, Variant } from './scenarios.js';
import { serviceUrls } from './services.js';
import { median } from './stats.js';
import { startServer, statsOf } from './suites/http.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function variantOf(name: string): Variant {
  if (name === 'bare') return { kind: 'bare' };
  if (name.startsWith('node-idempotency') || name === 'express-idempotency') {
    return { kind: 'peer', peer: name as 'node-idempotency-memory' };
  }
  return { kind: 'oncely', store: name as 'memory' };
}

async function main(): Promise<void> {
  installCleanup();
  ensureBuilt((line) => console.log(line));
  const framework = option('framework', 'express') as Framework;
  const names = option('variants', 'bare,memory').split(',');
  const mode = option('mode', 'first') as Mode;
  const rounds = Number(option('rounds', '3'));
  const duration = Number(option('duration', '2'));
  const prof = option('prof', '');
  const pinned = pinLoadGenerator(true);
  setServerCpu(pinned ? 0 : undefined);
  const urls = serviceUrls();
  const servers = [];
  for (const name of names) {
    const spec: ServerSpec = {
      ...urls,
      framework,
      variant: variantOf(name),
      namespace: `probe-${process.pid}-${name}`,
      table: 'oncely_bench_probe',
    };
    const { child, port } = await startServer(
      spec,
      prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}/${framework}-${name}-${mode}`] : [],
    );
    const replayKey = `probe-replay-${process.pid}-${name}`;
    if (mode === 'replay') await primeReplayKey(port, replayKey);
    servers.push({ name, child, port, replayKey, rps: [] as number[], cpu: [] as number[] });
  }
  let run = 0;
  for (let round = -1; round < rounds; round++) {
    for (const server of servers) {
      const before = await statsOf(server.child);
      const result = await runLoad({
        port: server.port,
        mode,
        keyPrefix: `probe-${process.pid}-${run++}`,
        replayKey: server.replayKey,
        durationSec: round < 0 ? 1 : duration,
        connections: 50,
      });
      const after = await statsOf(server.child);
      if (result.non2xx + result.errors > 0)
        console.log(`${server.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      if (round < 0) continue;
      server.rps.push(result.requestsPerSec);
      server.cpu.push((after.cpuMicros - before.cpuMicros) / result.total);
    }
  }
  const bare = servers.find((s) => s.name === 'bare');
  for (const server of servers) {
    const cpu = median(server.cpu);
    const ratio = bare
      ? ` (${(median(bare.cpu) / cpu).toFixed(2)}× CPU, ${(median(server.rps) / median(bare.rps)).toFixed(2)}× req/s)`
      : '';
    console.log(
      `${framework} ${mode} ${server.name.padEnd(24)} ${Math.round(median(server.rps)).toString().padStart(6)} req/s  ${cpu.toFixed(1).padStart(6)} µs CPU${ratio}`,
    );
  }
  for (const server of servers) await stopChild(server.child, 10_000);
  process.exit(0);
}

void main();
