import { parseArgs } from 'node:util';
import type { FaultRates } from './fault-proxy/index.js';
import type { RestartOptions } from './restart.js';
import { DEFAULT_RATES, type DemoOptions } from './run-demo.js';

/** Payments of the restart step unless `--operations` says otherwise: each costs a round trip per store. */
export const RESTART_OPERATIONS = 20;

/** Flags that only the chaos comparison (the default step) reads. */
const CHAOS_ONLY = [
  'concurrency',
  'drop-rate',
  'reset-rate',
  'delay-rate',
  'duplicate-rate',
  'slow-rate',
  'burst-rate',
  'no-faults',
  'store',
  'redis-url',
] as const;

export const USAGE = `Usage: pnpm demo [options]
       pnpm demo restart [--operations <n>] [--seed <n>] [--json]

Runs the same payments through a naive retrying client (axios + axios-retry, no keys) and through
@oncely/client, against a payments API behind a fault-injecting proxy, and compares the damage.

The restart step charges payments whose answers the network loses, restarts the API process, and
retries them with the same keys: once on MemoryStore (it forgets, and charges again) and once on
SqliteStore (it replays from its file). --operations defaults to ${RESTART_OPERATIONS} there.

Options:
  --operations <n>     logical payments per client             (default 300)
  --concurrency <n>    payments in flight at once               (default 16)
  --seed <n>           fault seed: same seed, same faults       (default 42)
  --drop-rate <p>      lose the response after the server charged   (default ${DEFAULT_RATES.dropResponse})
  --reset-rate <p>     reset the connection before / mid-response   (default ${DEFAULT_RATES.resetRequest} each)
  --delay-rate <p>     hold a request past the attempt timeout      (default ${DEFAULT_RATES.delay})
  --duplicate-rate <p> deliver a request twice                      (default ${DEFAULT_RATES.duplicate})
  --slow-rate <p>      send the response body slowly                (default ${DEFAULT_RATES.slowBody})
  --burst-rate <p>     start a burst of 503s with Retry-After       (default ${DEFAULT_RATES.burst503})
  --no-faults          all fault rates 0
  --store <kind>       memory (one server), redis (two servers sharing Redis) or
                       sqlite (two server processes sharing one SQLite file)       (default memory)
  --redis-url <url>    Redis for --store redis   (default $REDIS_URL or redis://127.0.0.1:6379)
  --json               print the summary as JSON on stdout (progress still goes to stderr)
  --kill-client        then kill the client mid-run and restart it, without and with the journal
  -h, --help           show this help`;

export type ParsedArgs =
  | { help: true }
  | { help: false; step: 'chaos'; json: boolean; options: DemoOptions }
  | { help: false; step: 'restart'; json: boolean; options: RestartOptions };

/** A bad flag or value: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

/** Turns argv into demo options; throws {@link UsageError} naming the bad flag and value. */
export function parseDemoArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        operations: { type: 'string' },
        concurrency: { type: 'string' },
        seed: { type: 'string' },
        'drop-rate': { type: 'string' },
        'reset-rate': { type: 'string' },
        'delay-rate': { type: 'string' },
        'duplicate-rate': { type: 'string' },
        'slow-rate': { type: 'string' },
        'burst-rate': { type: 'string' },
        'no-faults': { type: 'boolean' },
        store: { type: 'string' },
        'redis-url': { type: 'string' },
        json: { type: 'boolean' },
        'kill-client': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) return { help: true };
  const [step = 'chaos', ...extra] = parsed.positionals;
  if ((step !== 'chaos' && step !== 'restart') || extra.length > 0) {
    const got = [step, ...extra].map((word) => JSON.stringify(word)).join(' ');
    throw new UsageError(`The step must be chaos (the default) or restart, got ${got}.`);
  }
  if (step === 'restart') {
    const chaosOnly = CHAOS_ONLY.find((flag) => v[flag] !== undefined);
    if (chaosOnly !== undefined) throw new UsageError(`--${chaosOnly} does not apply to the restart step.`);
    return {
      help: false,
      step,
      json: v.json === true,
      options: {
        operations: integer('--operations', v.operations, RESTART_OPERATIONS, 1, 1_000),
        seed: integer('--seed', v.seed, 42, 0, 2 ** 31 - 1),
      },
    };
  }
  const store = v.store ?? 'memory';
  if (store !== 'memory' && store !== 'redis' && store !== 'sqlite') {
    throw new UsageError(`--store must be memory, redis or sqlite, got ${JSON.stringify(store)}.`);
  }
  const noFaults = v['no-faults'] === true;
  const rate = (flag: string, value: string | undefined, fallback: number) =>
    noFaults ? 0 : value === undefined ? fallback : probability(flag, value);
  const rates: FaultRates = {
    dropResponse: rate('--drop-rate', v['drop-rate'], DEFAULT_RATES.dropResponse),
    resetRequest: rate('--reset-rate', v['reset-rate'], DEFAULT_RATES.resetRequest),
    resetResponse: rate('--reset-rate', v['reset-rate'], DEFAULT_RATES.resetResponse),
    delay: rate('--delay-rate', v['delay-rate'], DEFAULT_RATES.delay),
    duplicate: rate('--duplicate-rate', v['duplicate-rate'], DEFAULT_RATES.duplicate),
    slowBody: rate('--slow-rate', v['slow-rate'], DEFAULT_RATES.slowBody),
    burst503: rate('--burst-rate', v['burst-rate'], DEFAULT_RATES.burst503),
  };
  const total = Object.values(rates).reduce((sum, r) => sum + r, 0);
  if (total > 1)
    throw new UsageError(`The fault rates add up to ${total.toFixed(3)}; they must add up to at most 1.`);
  return {
    help: false,
    step,
    json: v.json === true,
    options: {
      operations: integer('--operations', v.operations, 300, 1, 100_000),
      concurrency: integer('--concurrency', v.concurrency, 16, 1, 1_000),
      seed: integer('--seed', v.seed, 42, 0, 2 ** 31 - 1),
      rates,
      delayMs: 1_500,
      attemptTimeout: 1_000,
      store,
      redisUrl: v['redis-url'] ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      ...(v['kill-client'] === true ? { killClient: true } : {}),
    },
  };
}

function integer(
  flag: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`);
  }
  return n;
}

function probability(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`${flag} must be a number from 0 to 1, got ${JSON.stringify(value)}.`);
  }
  return n;
}
