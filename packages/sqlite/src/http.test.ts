// SqliteStore under the real engine, over real HTTP (the node:http adapter): replays, the lease
// heartbeat of a handler longer than its lease, and transactional mode's all-or-nothing answers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withIdempotency } from '@oncely/server/node';
import { SqliteStore } from './index.js';
import { tempDatabase } from './test-support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Long enough that a loaded machine's event-loop stalls stay far below it: the heartbeat beats at a third. */
const LEASE_MS = 600;

describe('SqliteStore behind the engine, over HTTP', () => {
  const database = tempDatabase('http');
  const servers: http.Server[] = [];
  let app: Database.Database;
  let n = 0;

  /** Handlers that wait, by key, until the test opens their gate. */
  const gates = new Map<string, { entered: () => void; open: Promise<void> }>();
  function gate(key: string) {
    let entered!: () => void;
    let open!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    gates.set(key, { entered, open: new Promise<void>((resolve) => (open = resolve)) });
    return { inside, open };
  }

  const effects = (key: string) =>
    (app.prepare('SELECT count(*) AS n FROM ledger WHERE key = ?').get(key) as { n: number }).n;

  /** A server whose handler writes the ledger, waits `delayMs`, then answers `status`. */
  async function start(transactional: boolean) {
    const store = new SqliteStore({ filename: database.filename, transactional });
    let runs = 0;
    const server = http.createServer(
      withIdempotency(
        async (req, res) => {
          runs++;
          const key = String(req.headers['idempotency-key']);
          const status = Number(req.headers['x-status'] ?? 201);
          const db = transactional ? store.currentTransaction() : app;
          db.prepare('INSERT INTO ledger (key) VALUES (?)').run(key);
          await sleep(Number(req.headers['x-delay'] ?? 0));
          const waiting = gates.get(key);
          if (waiting !== undefined) {
            waiting.entered();
            await waiting.open;
          }
          if (req.headers['x-throw'] === '1') throw new Error('boom');
          res.writeHead(status, { 'content-type': 'text/plain' }).end(`run ${runs}`);
        },
        {
          store,
          scope: 'global',
          lease: LEASE_MS,
          storeTimeout: 100,
          onError: (_e, _req, res) => res.writeHead(500).end(),
        },
      ),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      runs: () => runs,
      post: async (key: string, headers: Record<string, string> = {}) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'idempotency-key': key, ...headers },
        });
        return {
          status: response.status,
          replayed: response.headers.get('idempotent-replayed'),
          body: await response.text(),
        };
      },
    };
  }

  beforeAll(() => {
    app = new Database(database.filename);
    app.pragma('journal_mode = WAL');
    app.exec('CREATE TABLE ledger (key TEXT NOT NULL)');
  });
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    app.close();
    database.remove();
  });

  for (const transactional of [false, true]) {
    describe(transactional ? 'transactional' : 'plain', () => {
      let api: Awaited<ReturnType<typeof start>>;
      beforeAll(async () => {
        api = await start(transactional);
      });

      it('runs a handler that outlives its lease once (the heartbeat extends it), then replays', async () => {
        const key = `long-${transactional}-${++n}`;
        const first = await api.post(key, { 'x-delay': String(LEASE_MS * 3) });
        expect(first).toMatchObject({ status: 201, replayed: null });
        const replay = await api.post(key);
        expect(replay).toEqual({ status: 201, replayed: 'true', body: first.body });
        expect(effects(key)).toBe(1);
      });

      it('answers a duplicate that arrives mid-run with 409, and runs nothing twice', async () => {
        const key = `dup-${transactional}-${++n}`;
        const { inside, open } = gate(key);
        const first = api.post(key);
        await inside;
        expect((await api.post(key)).status).toBe(409);
        open();
        expect((await first).status).toBe(201);
        expect(effects(key)).toBe(1);
      });

      it(
        transactional
          ? 'rolls the write back on a 503 answer and on a throw, and lets the retry run again'
          : 'keeps the write of a 503 answer or a throw (no transaction), and lets the retry run again',
        async () => {
          for (const failure of [{ 'x-status': '503' }, { 'x-throw': '1' }]) {
            const key = `fail-${transactional}-${++n}`;
            const answer = await api.post(key, failure);
            expect(answer.status).toBe(failure['x-status'] === '503' ? 503 : 500);
            expect(effects(key)).toBe(transactional ? 0 : 1);
            expect(await api.post(key)).toMatchObject({ status: 201, replayed: null });
            expect(effects(key)).toBe(transactional ? 1 : 2);
          }
        },
      );
    });
  }
});
