import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAMEWORKS } from './scenarios.js';
import type { Framework } from './scenarios.js';

export interface BenchSettings {
  quick: boolean;
  /** Where the Markdown report goes. */
  out: string;
  runs: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  frameworks: Framework[];
  pin: boolean;
  memoryKeys: number;
  client: { runs: number; sequentialRequests: number; concurrentRequests: number; concurrency: number };
}

export const DOCS_PATH = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));

export const USAGE = `Usage: pnpm bench [options]

  --quick              short run (1 x 1 s per row, fewer client rounds); writes to a temp file
  --write              write docs/benchmarks.md (the default without --quick)
  --out <file>         write the Markdown report to <file>
  --runs <n>           autocannon runs per row (default 4; quick 1)
  --duration <s>       seconds per run (default 3; quick 1)
  --connections <n>    autocannon connections (default 50)
  --frameworks <list>  comma-separated subset of ${FRAMEWORKS.join(',')}
  --no-pin             do not pin the server to core 0 and the load generator to core 1
  --help               this text`;

function positive(name: string, value: string | undefined): number {
  const number = Number(value);
  if (value === undefined || !Number.isFinite(number) || number <= 0) {
    throw new Error(`${name} needs a positive number, got ${String(value)}`);
  }
  return number;
}

/** Parses argv (after the script); throws with a message naming the bad option. */
export function parseArgs(argv: readonly string[]): BenchSettings | 'help' {
  const args = argv.filter((arg) => arg !== '--');
  if (args.includes('--help') || args.includes('-h')) return 'help';
  const quick = args.includes('--quick');
  const settings: BenchSettings = {
    quick,
    out: quick ? join(tmpdir(), `oncely-bench-${Date.now()}.md`) : DOCS_PATH,
    runs: quick ? 1 : 4,
    durationSec: quick ? 1 : 3,
    warmupSec: quick ? 0.5 : 2,
    connections: 50,
    frameworks: [...FRAMEWORKS],
    pin: true,
    memoryKeys: 100_000,
    client: quick
      ? { runs: 3, sequentialRequests: 200, concurrentRequests: 1000, concurrency: 32 }
      : { runs: 11, sequentialRequests: 500, concurrentRequests: 2000, concurrency: 32 },
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string | undefined => args[++i];
    switch (arg) {
      case '--quick':
        break;
      case '--write':
        settings.out = DOCS_PATH;
        break;
      case '--out': {
        const file = value();
        if (file === undefined || file.startsWith('--')) throw new Error('--out needs a file path');
        settings.out = file;
        break;
      }
      case '--runs':
        settings.runs = Math.round(positive(arg, value()));
        break;
      case '--duration':
        settings.durationSec = positive(arg, value());
        break;
      case '--connections':
        settings.connections = Math.round(positive(arg, value()));
        break;
      case '--frameworks': {
        const list = (value() ?? '').split(',').filter(Boolean);
        const unknown = list.filter((name) => !(FRAMEWORKS as readonly string[]).includes(name));
        if (list.length === 0 || unknown.length > 0) {
          throw new Error(
            `--frameworks takes a list of ${FRAMEWORKS.join(', ')}; got ${list.join(',') || 'nothing'}`,
          );
        }
        settings.frameworks = list as Framework[];
        break;
      }
      case '--no-pin':
        settings.pin = false;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return settings;
}
