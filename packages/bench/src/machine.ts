import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem, type } from 'node:os';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  os: string;
  node: string;
  date: string;
  commit: string;
  loadAverage: number[];
  versions: Record<string, string>;
}

/** Versions of what was measured, read from the installed packages (so they are never typed by hand). */
const MEASURED_PACKAGES = [
  'autocannon',
  'express',
  'fastify',
  'hono',
  '@hono/node-server',
  'ioredis',
  'pg',
  'axios',
  'express-idempotency',
  '@node-idempotency/core',
  '@node-idempotency/storage-adapter-memory',
  '@node-idempotency/storage-adapter-redis',
];

/** Reads the package.json of a direct dependency of the bench package (some do not export it). */
function versionOf(name: string): string {
  try {
    const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: totalmem() / 1024 ** 3,
    freeMemoryGiB: freemem() / 1024 ** 3,
    os: `${type()} ${release()}`,
    node: process.version,
    date: new Date().toISOString(),
    commit: gitCommit(),
    loadAverage: loadavg(),
    versions: Object.fromEntries(MEASURED_PACKAGES.map((name) => [name, versionOf(name)])),
  };
}
