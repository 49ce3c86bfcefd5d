// The `oncely` command as a process, against a real server's records on real Redis and PostgreSQL:
// a key stuck in progress is inspected (state, lease holder, expiry, fingerprint) and purged, after which
// the next request with it runs again.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, migrate } from '@oncely/postgres';
import { RedisStore } from '@oncely/redis';
import { SqliteStore } from '@oncely/sqlite';
import { computeStoreKey } from '@oncely/server';
import type { IdempotencyStore } from '@oncely/server';
import { withIdempotency } from '@oncely/server/node';
import { DATABASE_URL, postgresUnavailableReason, uniqueTable } from '../../postgres/src/test-support.js';
import { REDIS_URL, deleteKeys, redisUnavailableReason, uniquePrefix } from '../../redis/src/test-support.js';
import { runCli } from './run.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, 'cli.ts');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `oncely <args>` as a child process, stdin not a terminal. */
function oncely(args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@oncely/source', '--import', 'tsx', CLI, ...args], {
      cwd: join(here, '..'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

interface Backend {
  name: string;
  skip: string | undefined;
  /** The store the server uses, and the CLI's flags for the same records. */
  setUp(): Promise<{ store: IdempotencyStore; flags: string[]; tearDown(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'Redis',
    skip: await redisUnavailableReason(),
    async setUp() {
      const client = new Redis(REDIS_URL!);
      const prefix = uniquePrefix('cli');
      return {
        store: new RedisStore({ client, prefix }),
        flags: ['--redis', REDIS_URL!, '--prefix', prefix],
        async tearDown() {
          await deleteKeys(client, prefix);
          await client.quit();
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: await postgresUnavailableReason(),
    async setUp() {
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
      const table = uniqueTable('cli');
      await migrate(pool, { table });
      return {
        store: new PostgresStore({ pool, table }),
        flags: ['--postgres', DATABASE_URL!, '--table', table],
        async tearDown() {
          await pool.query(`DROP TABLE IF EXISTS "${table}"`);
          await pool.end();
        },
      };
    },
  },
  {
    name: 'SQLite',
    skip: undefined,
    async setUp() {
      const dir = mkdtempSync(join(tmpdir(), 'oncely-cli-'));
      const filename = join(dir, 'records.db');
      const store = new SqliteStore({ filename });
      return {
        store,
        flags: ['--sqlite', filename],
        async tearDown() {
          store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

for (const backend of backends) {
  if (backend.skip !== undefined) console.warn(`Skipping the CLI tests on ${backend.name}: ${backend.skip}.`);

  describe.skipIf(backend.skip !== undefined)(`oncely on ${backend.name}`, () => {
    let store: IdempotencyStore;
    let flags: string[];
    let tearDown: () => Promise<void>;
    let server: Server;
    let url: string;
    const runs = new Map<string, number>();
    /** Requests to /stuck hang on their first run, as a handler stuck forever would. */
    const stuck: Array<() => void> = [];

    beforeAll(async () => {
      const setup = await backend.setUp();
      ({ store, flags } = setup);
      tearDown = () => setup.tearDown();
      const listener = (req: IncomingMessage, res: ServerResponse) => {
        const key = String(req.headers['idempotency-key']);
        const run = (runs.get(key) ?? 0) + 1;
        runs.set(key, run);
        const answer = () => res.writeHead(201, { 'content-type': 'application/json' }).end(`{"run":${run}}`);
        if (req.url === '/stuck' && run === 1) stuck.push(answer);
        else answer();
      };
      server = createServer(
        withIdempotency(listener, { store, scope: (req) => String(req.headers['x-tenant']), lease: 600_000 }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      for (const answer of stuck) answer();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tearDown();
    });

    const post = (path: string, key: string, tenant: string) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'idempotency-key': key, 'x-tenant': tenant } });

    it('inspects a key stuck in progress and purges it: the next request runs', async () => {
      const key = `stuck-${crypto.randomUUID()}`;
      const first = post('/stuck', key, 'tenant-a').catch(() => undefined);
      const storeKey = await computeStoreKey('tenant-a', key);
      while ((await store.get(storeKey)) === undefined)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await post('/stuck', key, 'tenant-a')).status).toBe(409);
      const record = (await store.get(storeKey))!;

      const inspected = await oncely(['inspect', key, '--scope', 'tenant-a', ...flags]);
      expect(inspected.stderr).toBe('');
      expect(inspected.code).toBe(0);
      expect(inspected.stdout).toContain(`store key      ${storeKey}`);
      expect(inspected.stdout).toContain(`scope, key     "tenant-a", ${JSON.stringify(key)}`);
      expect(inspected.stdout).toContain('state          in_progress');
      expect(inspected.stdout).toContain(`lease holder   fencing token ${record.fencingToken}`);
      // The lease is 10 min (no heartbeat moves it during the test), the TTL 24 h, both on the store's clock, shown against this machine's.
      const iso = (at: number) => new Date(at).toISOString();
      expect(inspected.stdout).toMatch(
        new RegExp(`lease expires  ${iso(record.leaseExpiresAt)} \\(in \\d+ min \\d+ s\\)`),
      );
      expect(inspected.stdout).toMatch(
        new RegExp(`expires        ${iso(record.expiresAt)} \\(in (23 h 59|24 h 0) min\\)`),
      );
      expect(inspected.stdout).toContain(`fingerprint    ${record.fingerprint}`);
      expect(inspected.stdout).toContain('stored status  (none yet: in progress)');

      // Not on a terminal and without --yes: refused, nothing deleted.
      const unconfirmed = await oncely(['purge', key, '--scope', 'tenant-a', ...flags]);
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toMatch(/pass --yes/);
      expect((await store.get(storeKey))?.status).toBe('in_progress');

      const purged = await oncely(['purge', key, '--scope', 'tenant-a', '--yes', ...flags]);
      expect(purged.code).toBe(0);
      expect(purged.stdout).toContain('state          in_progress');
      expect(purged.stdout).toContain('Purged: the next request with this key runs the handler again.');
      expect(await store.get(storeKey)).toBeUndefined();

      const again = await post('/stuck', key, 'tenant-a');
      expect(again.status).toBe(201);
      expect(await again.json()).toEqual({ run: 2 });
      expect((await oncely(['purge', key, '--scope', 'tenant-b', '--yes', ...flags])).code).toBe(1);
      stuck.shift()?.(); // the stuck run ends at last: fenced out, its answer is not stored
      await first;
    });

    it('shows a completed record, as text and as JSON', async () => {
      const key = `done-${crypto.randomUUID()}`;
      expect((await post('/done', key, 'tenant-c')).status).toBe(201);
      const storeKey = await computeStoreKey('tenant-c', key);
      const record = (await store.get(storeKey))!;

      const text = await oncely(['inspect', key, '--scope', 'tenant-c', ...flags]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('state          completed');
      expect(text.stdout).toContain('stored status  201, 1 header, body 9 bytes');

      const json = await oncely(['inspect', `"${key}"`, '--scope', 'tenant-c', '--json', ...flags]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({
        found: true,
        record: {
          storeKey,
          scope: 'tenant-c',
          key,
          state: 'completed',
          fencingToken: record.fencingToken,
          leaseExpiresAt: new Date(record.leaseExpiresAt).toISOString(),
          leaseActive: false,
          expiresAt: new Date(record.expiresAt).toISOString(),
          fingerprint: record.fingerprint,
          response: { status: 201, headers: 1, bodyBytes: 9 },
        },
      });

      const missing = await oncely(['inspect', key, '--scope', 'another-tenant', ...flags]);
      expect(missing.code).toBe(1);
      expect(missing.stdout).toMatch(/^No record for key/);
    });

    it('asks on a terminal, and purges only on yes', async () => {
      const key = `ask-${crypto.randomUUID()}`;
      expect((await post('/done', key, 'tenant-d')).status).toBe(201);
      const storeKey = await computeStoreKey('tenant-d', key);
      const ask = async (answer: string) => {
        const stdin = new PassThrough();
        const out = new PassThrough();
        const err = new PassThrough();
        let prompt = '';
        err.on('data', (chunk: Buffer) => {
          prompt += chunk.toString();
          if (prompt.includes('[y/N]')) stdin.write(`${answer}\n`);
        });
        out.resume();
        const code = await runCli(['purge', key, '--scope', 'tenant-d', ...flags], {
          stdout: out,
          stderr: err,
          stdin,
          interactive: true,
          now: Date.now,
        });
        return { code, prompt };
      };
      const declined = await ask('n');
      expect(declined.code).toBe(2);
      expect(declined.prompt).toContain('The next request with this key runs the handler again.');
      expect((await store.get(storeKey))?.status).toBe('completed');
      expect((await ask('yes')).code).toBe(0);
      expect(await store.get(storeKey)).toBeUndefined();
    });
  });
}

describe('oncely usage', () => {
  it('explains a bad command line with exit code 2', async () => {
    const noScope = await oncely(['inspect', 'k', '--redis', 'redis://127.0.0.1:6379']);
    expect(noScope.code).toBe(2);
    expect(noScope.stderr).toMatch(/--scope is required/);
    const twoStores = await oncely(['inspect', 'k', '--scope', 's', '--redis', 'r', '--postgres', 'p']);
    expect(twoStores.stderr).toMatch(/Name one store, not --redis and --postgres/);
    const badKey = await oncely(['inspect', '"unterminated', '--scope', 's', '--redis', 'r']);
    expect(badKey.stderr).toMatch(/Invalid idempotency key/);
    const help = await oncely(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage:/);
  });

  it('refuses a SQLite file that does not exist instead of creating an empty one', async () => {
    const missing = join(tmpdir(), `oncely-cli-missing-${process.pid}.db`);
    const ran = await oncely(['inspect', 'k', '--scope', 's', '--sqlite', missing]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`No SQLite database at ${missing}.`);
    expect(existsSync(missing)).toBe(false);
  });
});
