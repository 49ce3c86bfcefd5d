// MemoryStore behind a real Express server on 127.0.0.1, under the default options: one tenant's flood
// never makes another tenant's key run twice, and the records never take more memory than the bound.
import { createServer } from 'node:http';
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { ProblemType } from '@oncely/core';
import { idempotency } from '../adapters/express/middleware.js';
import { listenLocal } from '../testing/listen.js';
import { MemoryStore } from './memory-store.js';
import { DEFAULT_MAX_BYTES } from './memory-store-options.js';
import type { MemoryStoreFull } from './memory-store-options.js';

interface Answer {
  status: number;
  replayed: boolean;
  body: string;
}

/** POSTs with a keep-alive agent: the flood must not run out of ephemeral ports. */
function poster(url: string, agent: http.Agent) {
  return (path: string, key: string, tenant: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const request = http.request(
        `${url}${path}`,
        { method: 'POST', agent, headers: { 'idempotency-key': key, 'x-tenant': tenant } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              replayed: response.headers['idempotent-replayed'] === 'true',
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end();
    });
}

describe('MemoryStore behind a real server, default options', () => {
  it('a flood of 20,000 keyed requests from one scope never re-runs another scope’s keys', async () => {
    const runs = new Map<string, number>();
    let releaseRunning!: () => void;
    const running = new Promise<void>((resolve) => (releaseRunning = resolve));
    let runningEntered!: () => void;
    const entered = new Promise<void>((resolve) => (runningEntered = resolve));
    const app = express();
    app.use(idempotency({ scope: (req) => req.get('x-tenant') ?? 'anonymous' }));
    app.post('/ops/:name', async (req, res) => {
      const id = `${req.get('x-tenant')}/${req.get('idempotency-key')}`;
      const run = (runs.get(id) ?? 0) + 1;
      runs.set(id, run);
      // Only the first run waits: a second one (the bug) answers at once, so the test fails, not hangs.
      if (req.params.name === 'slow' && run === 1) {
        runningEntered();
        await running;
      }
      res.status(201).json({ id });
    });
    const server = await listenLocal(createServer(app));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 24 });
    const post = poster(server.url, agent);
    try {
      const done = await post('/ops/fast', 'victim-done', 'victim');
      expect(done.status).toBe(201);
      const slow = post('/ops/slow', 'victim-running', 'victim');
      await entered;

      const FLOOD = 20_000;
      let next = 0;
      const statuses = new Map<number, number>();
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < FLOOD) {
            const { status } = await post('/ops/fast', `flood-${next++}`, 'flooder');
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      expect(Object.fromEntries(statuses)).toEqual({ 201: FLOOD });

      // The in-flight key is still held: a retry is told to wait, and does not run.
      const retryRunning = await post('/ops/slow', 'victim-running', 'victim');
      expect(retryRunning.status).toBe(409);
      expect(JSON.parse(retryRunning.body)).toMatchObject({ type: ProblemType.requestInProgress });
      // The completed key, older than every flood record, is still replayed.
      const retryDone = await post('/ops/fast', 'victim-done', 'victim');
      expect(retryDone).toEqual({ status: 201, replayed: true, body: done.body });

      releaseRunning();
      expect((await slow).status).toBe(201);
      expect(runs.get('victim/victim-done')).toBe(1);
      expect(runs.get('victim/victim-running')).toBe(1);
      // The flood paid with its own records: its oldest keys run again, its newest replay.
      expect((await post('/ops/fast', 'flood-0', 'flooder')).replayed).toBe(false);
      expect((await post('/ops/fast', `flood-${FLOOD - 1}`, 'flooder')).replayed).toBe(true);
    } finally {
      releaseRunning();
      agent.destroy();
      await server.close();
    }
  }, 180_000);

  it('answers 503 + Retry-After without running the handler when full of records in progress', async () => {
    const full: MemoryStoreFull[] = [];
    const store = new MemoryStore({ maxEntries: 2, scopeShare: 1, onFull: (event) => full.push(event) });
    let runs = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const app = express();
    app.use(idempotency({ scope: 'global', store }));
    app.post('/hold', async (_req, res) => {
      runs++;
      await held;
      res.status(201).end();
    });
    const server = await listenLocal(createServer(app));
    const agent = new http.Agent({ keepAlive: true });
    const post = poster(server.url, agent);
    try {
      const first = [post('/hold', 'a', 'any'), post('/hold', 'b', 'any')];
      while (store.size < 2) await new Promise((resolve) => setImmediate(resolve));
      const refused = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http
          .request(
            `${server.url}/hold`,
            { method: 'POST', agent, headers: { 'idempotency-key': 'c' } },
            resolve,
          )
          .on('error', reject)
          .end(),
      );
      refused.resume();
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(full).toEqual([expect.objectContaining({ operation: 'claim', reason: 'full', entries: 2 })]);
      release();
      expect((await Promise.all(first)).map((answer) => answer.status)).toEqual([201, 201]);
      expect(runs).toBe(2);
      expect((await post('/hold', 'c', 'any')).status).toBe(201); // room again: it runs now
      expect(runs).toBe(3);
    } finally {
      release();
      agent.destroy();
      await server.close();
    }
  });

  it(`holds no more than the default byte bound (${DEFAULT_MAX_BYTES / 1024 / 1024} MiB) of records, measured`, async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const measure = () => {
      for (let i = 0; i < 4; i++) gc();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const BODY = 1_000_000; // just under the default maxResponseBytes: every answer is kept
    const app = express();
    app.use(idempotency({ scope: 'global' }));
    app.post('/big', (_req, res) => {
      res.status(200).type('application/octet-stream').send(Buffer.alloc(BODY, 7));
    });
    const server = await listenLocal(createServer(app));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const post = poster(server.url, agent);
    try {
      await post('/big', 'warm-up', 'any'); // first-use allocations are not records
      const before = measure();
      const KEYS = 150; // 150 MB of answers: more than twice the bound
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < KEYS) {
            const answer = await post('/big', `big-${next++}`, 'any');
            expect(answer.status).toBe(200);
          }
        }),
      );
      const grown = measure() - before;
      expect(grown).toBeLessThanOrEqual(DEFAULT_MAX_BYTES);
      expect(grown).toBeGreaterThan(DEFAULT_MAX_BYTES * 0.8); // the store is used up to its bound
      // Evicted keys run again; the latest are replayed.
      expect((await post('/big', `big-${KEYS - 1}`, 'any')).replayed).toBe(true);
      expect((await post('/big', 'big-0', 'any')).replayed).toBe(false);
    } finally {
      agent.destroy();
      await server.close();
    }
  }, 120_000);
});
