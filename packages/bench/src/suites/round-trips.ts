import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { PAYMENT_PATH, PAYMENT_REQUEST_BODY } from '../server/payment.js';
import { startExpress } from '../server/express-app.js';
import type { ServerSpec, Variant } from '../scenarios.js';
import type { Services } from '../services.js';

/** Round trips one request costs against its store, as seen from the wire. */
export interface RoundTripRow {
  variant: Variant;
  backend: 'Redis' | 'PostgreSQL';
  skipped?: string;
  first?: Trips;
  replay?: Trips;
}

export interface Trips {
  count: number;
  /** Command names (Redis) or statement heads (SQL), in order. */
  commands: string[];
}

/** Time for fire-and-forget writes (a completion after the response) to reach the store. */
const SETTLE_MS = 250;

async function post(port: number, key: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${PAYMENT_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: PAYMENT_REQUEST_BODY,
  });
  await response.arrayBuffer();
  return response.status;
}

/** The statement's first words, e.g. "INSERT INTO … ON CONFLICT" → "INSERT … ON CONFLICT". */
function statementHead(text: string): string {
  const sql = text.replace(/\s+/g, ' ').trim();
  const head = sql.split(' ')[0]?.toUpperCase() ?? '?';
  return /\bON CONFLICT\b/i.test(sql) ? `${head} … ON CONFLICT` : head;
}

/** Counts every statement any client of `pool` sends (pool.query goes through a client too). */
function countStatements(pool: pg.Pool, sink: { on: boolean; commands: string[] }): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (sink.on) {
        const first = args[0];
        const text =
          typeof first === 'string'
            ? first
            : ((first as { text?: string } | undefined)?.text ?? String(first));
        sink.commands.push(statementHead(text));
      }
      return query(...args);
    };
  });
}

async function clientAddresses(admin: Redis, name: string): Promise<Set<string>> {
  const list = (await admin.client('LIST')) as string;
  const addresses = new Set<string>();
  for (const line of list.split('\n')) {
    const fields = new Map(line.split(' ').map((field) => field.split('=', 2) as [string, string]));
    if (fields.get('name') === name) addresses.add(fields.get('addr') ?? '');
  }
  return addresses;
}

/**
 * Starts the Express app of each store-backed variant in this process, sends one first request and one
 * replay, and counts what reached the store: Redis commands from the app's own connections (MONITOR,
 * filtered by the client name the app set), SQL statements through a wrapper of the pg pool.
 * Warm first (one request and its replay) so one-time work such as loading Lua scripts is not counted.
 */
export async function runRoundTripSuite(services: Services, namespace: string): Promise<RoundTripRow[]> {
  const variants: Array<{
    variant: Variant;
    backend: RoundTripRow['backend'];
    clientName?: (ns: string) => string;
  }> = [
    {
      variant: { kind: 'oncely', store: 'redis' },
      backend: 'Redis',
      clientName: (ns) => `oncely-bench-${ns}`,
    },
    { variant: { kind: 'oncely', store: 'postgres' }, backend: 'PostgreSQL' },
    {
      variant: { kind: 'peer', peer: 'node-idempotency-redis' },
      backend: 'Redis',
      clientName: (ns) => `node-idempotency-bench-${ns}`,
    },
  ];
  const rows: RoundTripRow[] = [];
  let index = 0;
  for (const { variant, backend, clientName } of variants) {
    const row: RoundTripRow = { variant, backend };
    rows.push(row);
    const state = backend === 'Redis' ? services.redis : services.postgres;
    if (!state.ok) {
      row.skipped = state.reason;
      continue;
    }
    const ns = `${namespace}-rt${index++}`;
    const spec: ServerSpec = {
      ...services.urls,
      framework: 'express',
      variant,
      namespace: ns,
      table: services.table,
    };
    const sink = { on: false, commands: [] as string[] };
    let monitor: Awaited<ReturnType<Redis['monitor']>> | undefined;
    const admin = backend === 'Redis' ? new Redis(services.urls.redisUrl) : undefined;
    const server = await startExpress(spec, { onPool: (pool) => countStatements(pool, sink) });
    try {
      const warmKey = `${ns}-warm`;
      await post(server.port, warmKey);
      await post(server.port, warmKey);
      await sleep(SETTLE_MS);
      if (admin !== undefined && clientName !== undefined) {
        const addresses = await clientAddresses(admin, clientName(ns));
        if (addresses.size === 0) throw new Error(`no Redis connection named ${clientName(ns)}`);
        monitor = await admin.monitor();
        monitor.on('monitor', (_time: string, args: string[], source: string) => {
          if (sink.on && addresses.has(source)) sink.commands.push((args[0] ?? '?').toUpperCase());
        });
        await sleep(50);
      }
      const measure = async (key: string): Promise<Trips> => {
        sink.commands = [];
        sink.on = true;
        const status = await post(server.port, key);
        await sleep(SETTLE_MS);
        sink.on = false;
        if (status !== 201) throw new Error(`request answered ${status}`);
        return { count: sink.commands.length, commands: [...sink.commands] };
      };
      const key = `${ns}-measured`;
      row.first = await measure(key);
      row.replay = await measure(key);
    } catch (error) {
      row.skipped = `failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      monitor?.disconnect();
      admin?.disconnect();
      await server.close();
    }
  }
  return rows;
}
