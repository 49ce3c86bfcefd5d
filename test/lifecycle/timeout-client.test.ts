// Issue #11 done-when: a timeout middleware answers 503 at TIMEOUT_MS while the handler takes
// 3 × TIMEOUT_MS; a retrying @oncely/client produces exactly one run, on every framework.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import timeout from 'connect-timeout';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { timeout as honoTimeout } from 'hono/timeout';
import { describe, expect, it } from 'vitest';
import { createFetch } from '@oncely/client';
import { MemoryStore } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import { idempotencyPlugin } from '@oncely/server/fastify';
import { idempotency as honoIdempotency } from '@oncely/server/hono';
import { listen, sleep } from './support.js';

/** The timeout (1 s in the issue), scaled down so the test runs quickly; the handler takes 3×. */
const TIMEOUT_MS = Number(process.env.LIFECYCLE_TIMEOUT_MS ?? 400);
const HANDLER_MS = 3 * TIMEOUT_MS;
const options = { store: new MemoryStore(), scope: 'global' as const, lease: 30_000 };

interface Running {
  url: string;
  runs: () => number;
  close: () => Promise<void>;
}

async function expressApp(): Promise<Running> {
  let runs = 0;
  const app = express();
  app.use(timeout(`${TIMEOUT_MS}ms`));
  app.use(idempotency({ ...options, store: new MemoryStore() }));
  app.post('/charges', async (_req, res) => {
    runs += 1;
    await sleep(HANDLER_MS);
    if (!res.headersSent) res.status(201).json({ charged: runs });
  });
  app.use((error: { status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    res.status(error.status ?? 500).json({ error: 'timeout' });
  });
  const server = await listen(createServer(app));
  return { ...server, runs: () => runs };
}

async function fastifyApp(): Promise<Running> {
  let runs = 0;
  const app = Fastify({ forceCloseConnections: true });
  // A timeout as Fastify users write it: answer 503 through the error handler, mark the request.
  app.addHook('onRequest', (request, reply, done) => {
    const timer = setTimeout(() => {
      if (reply.sent) return;
      Object.assign(request.raw, { timedout: true });
      void reply.send(Object.assign(new Error('Response timeout'), { statusCode: 503 }));
    }, TIMEOUT_MS);
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
  await app.register(idempotencyPlugin, { ...options, store: new MemoryStore() });
  app.post('/charges', async (_request, reply) => {
    runs += 1;
    await sleep(HANDLER_MS);
    return reply.code(201).send({ charged: runs });
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, runs: () => runs, close: () => app.close() };
}

async function honoApp(): Promise<Running> {
  let runs = 0;
  const app = new Hono();
  app.use(honoTimeout(TIMEOUT_MS, new HTTPException(503, { message: 'timeout' })));
  app.use(honoIdempotency({ ...options, store: new MemoryStore() }));
  app.post('/charges', async (c) => {
    runs += 1;
    await sleep(HANDLER_MS);
    return c.json({ charged: runs }, 201);
  });
  app.onError((error, c) => (error instanceof HTTPException ? error.getResponse() : c.json({}, 500)));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  server.close();
  const running = await listen(server as Server);
  return { ...running, runs: () => runs };
}

describe(`a timeout answering 503 at ${TIMEOUT_MS} ms, a ${HANDLER_MS} ms handler, a retrying client`, () => {
  // Express cannot tell when the handler ended: the key stays held (409) until its lease runs out.
  // Fastify and Hono see the handler end: the key is kept as not replayable (500, never retried).
  it.each([
    ['Express + connect-timeout', expressApp, 409],
    ['Fastify + a timeout hook', fastifyApp, 500],
    ['Hono + hono/timeout', honoApp, 500],
  ] as const)(
    '%s: exactly one run',
    async (_name, start, finalStatus) => {
      const app = await start();
      try {
        const attempts: string[] = [];
        const oncelyFetch = createFetch({
          retries: 8,
          baseDelay: TIMEOUT_MS / 4,
          maxDelay: TIMEOUT_MS,
          onRetry: ({ reason }) => void attempts.push(reason),
        });
        const answer = await oncelyFetch(`${app.url}/charges`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"amount":100}',
        });
        attempts.push(`status ${answer.status}`);
        // Let a second run show up if the key had been released while the first ran.
        await sleep(HANDLER_MS);
        console.info(`${_name}: ${attempts.join(' → ')}; ${app.runs()} run`);
        expect(attempts[0]).toMatch(/503/);
        expect([app.runs(), answer.status]).toEqual([1, finalStatus]);
      } finally {
        await app.close();
      }
    },
    60_000,
  );
});
