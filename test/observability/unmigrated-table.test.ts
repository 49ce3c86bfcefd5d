// Issue 17's first-user story: a PostgresStore whose table was never migrated answers every keyed
// POST with 503, and the default logger says why — once, not once per request.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProblemType } from '@oncely/core';
import type { IdempotencyOptions } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import { PostgresStore } from '@oncely/postgres';
import {
  DATABASE_URL,
  postgresUnavailableReason,
  uniqueTable,
} from '../../packages/postgres/src/test-support.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the unmigrated-table tests: ${skipReason}.`);

const BODY = JSON.stringify({ card: 'secret-body-marker', amount: 100 });

describe.skipIf(skipReason !== undefined)('a PostgresStore on a table that was never migrated', () => {
  const table = uniqueTable('unmigrated');
  let pool: pg.Pool;
  let store: PostgresStore;
  let runs = 0;
  const servers: Server[] = [];

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    store = new PostgresStore({ pool, table });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await pool.end();
  });

  async function start(options: Partial<IdempotencyOptions<express.Request>> = {}): Promise<string> {
    const app = express();
    app.use(idempotency({ store, scope: 'global', ...options }));
    app.post('/payments', (_req, res) => {
      runs++;
      res.status(201).json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const post = (url: string, key: string) =>
    fetch(`${url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: BODY,
    });

  /** What the default logger (console) writes, captured instead of printed. */
  function captureConsole(): string[] {
    const lines: string[] = [];
    const capture = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    vi.spyOn(console, 'warn').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);
    return lines;
  }

  it('answers 503 and the default logger prints one warning naming the cause, not one per request', async () => {
    const lines = captureConsole();
    const url = await start();
    const key = randomUUID();

    const first = await post(url, key);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(((await first.json()) as { type: string }).type).toBe(ProblemType.storeUnavailable);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `oncely: store unavailable: a key could not be claimed, so requests with a key are answered 503 ` +
        `until the store works again. Cause: PostgresStore claim failed: relation "public.${table}" does not exist ` +
        `(code 42P01). (POST /payments, key ${key.slice(0, 8)}…)`,
    );

    // 50 more, ten at a time: every one refused, none of them logged again.
    for (let round = 0; round < 5; round++) {
      const statuses = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const response = await post(url, randomUUID());
          await response.arrayBuffer();
          return response.status;
        }),
      );
      expect(statuses).toEqual(Array(10).fill(503));
    }
    expect(lines).toHaveLength(1);
    expect(runs).toBe(0);
    expect(lines.join('\n')).not.toContain('secret-body-marker');
    expect(lines.join('\n')).not.toContain(key);
  });

  it('logs nothing with `logger: false`, and writes to the logger it is given', async () => {
    const printed = captureConsole();
    const silent = await start({ logger: false });
    expect((await post(silent, randomUUID())).status).toBe(503);

    const warned: string[] = [];
    const logger = { warn: (line: string) => void warned.push(line), error: () => undefined };
    const logged = await start({ logger });
    for (let i = 0; i < 3; i++) expect((await post(logged, randomUUID())).status).toBe(503);

    expect(printed).toEqual([]);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain(`relation "public.${table}" does not exist`);
    expect(runs).toBe(0);
  });
});
