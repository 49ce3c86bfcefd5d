import { createServer } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { ProblemType } from '@oncely/core';
import timeout from 'connect-timeout';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import express4 from 'express4';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store.js';
import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import { nodeStreamOf } from '../../testing/conformance/harness-support.js';
import type { ConformanceHarness } from '../../testing/conformance/types.js';
import { listenLocal } from '../../testing/listen.js';
import { idempotency } from './middleware.js';

type ExpressModule = typeof express;
type ParserMode = 'parser-after' | 'parser-before-verify' | 'parser-before';

function expressHarness(
  expressModule: ExpressModule,
  mode: ParserMode,
  timeoutAt: 'before' | 'after' = 'before',
): ConformanceHarness {
  return async (app) => {
    const server: Express = expressModule();
    const timeoutMiddleware = app.timeoutMs === undefined ? undefined : timeout(`${app.timeoutMs}ms`);
    if (timeoutMiddleware !== undefined && timeoutAt === 'before') server.use(timeoutMiddleware);
    const parser = expressModule.text({
      type: () => true,
      ...(mode === 'parser-before-verify'
        ? { verify: (req: object, _res: unknown, buf: Buffer) => Object.assign(req, { rawBody: buf }) }
        : {}),
    });
    if (mode !== 'parser-after') server.use(parser);
    server.use(idempotency({ ...app.options, scope: (req) => app.scopeOf(req.headers) }));
    if (timeoutMiddleware !== undefined && timeoutAt === 'after') server.use(timeoutMiddleware);
    if (mode === 'parser-after') server.use(parser);
    server.use((req: Request, res: Response, next: NextFunction) => {
      const body: unknown = req.body;
      app
        .handle({
          method: req.method,
          url: req.originalUrl,
          headers: req.headers,
          body: typeof body === 'string' ? body : '',
        })
        .then(async (result) => {
          if (result.kind === 'throw') return next(result.error);
          res.status(result.status);
          for (const [name, value] of result.headers) res.append(name, value);
          if (result.kind === 'send') return void res.end(Buffer.from(result.body));
          pipeline(nodeStreamOf(result), res, (error) => error && next(error));
        })
        .catch(next);
    });
    // As Express's own: an error after the head was sent cuts the connection.
    server.use((error: { status?: number }, _req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(error);
      res.status(error.status ?? 500).json({ error: 'internal' });
    });
    return listenLocal(createServer(server));
  };
}

const express4Module = express4;
runAdapterConformanceSuite('express 5 (body parser after)', expressHarness(express, 'parser-after'));
runAdapterConformanceSuite(
  'express 5 (body parser before, verify sets rawBody)',
  expressHarness(express, 'parser-before-verify'),
);
runAdapterConformanceSuite('express 4 (body parser after)', expressHarness(express4Module, 'parser-after'));
runAdapterConformanceSuite(
  'express 5 (connect-timeout after the middleware)',
  expressHarness(express, 'parser-after', 'after'),
);

describe('express adapter', () => {
  it('fingerprints the parsed body when a parser ran before it without rawBody', async () => {
    const server = express();
    server.use(express.json());
    server.use(idempotency({ store: new MemoryStore(), scope: 'global' }));
    let runs = 0;
    server.post('/pay', (req, res) => {
      runs += 1;
      res.status(201).json({ runs, body: req.body });
    });
    const { url, close } = await listenLocal(createServer(server));
    try {
      const post = (body: string) =>
        fetch(`${url}/pay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' },
          body,
        });
      expect((await post('{"a":1}')).status).toBe(201);
      const replay = await post('{"a":1}');
      expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
      expect((await post('{"a":2}')).status).toBe(422);
      expect(runs).toBe(1);
    } finally {
      await close();
    }
  });

  it('passes errors of the scope function to next', async () => {
    const server = express();
    server.use(
      idempotency({
        scope: () => {
          throw new Error('no user');
        },
      }),
    );
    server.use((_req: Request, res: Response) => void res.send('ran'));
    server.use(
      (error: Error, _req: Request, res: Response, _next: NextFunction) =>
        void res.status(401).send(error.message),
    );
    const { url, close } = await listenLocal(createServer(server));
    try {
      const answer = await fetch(`${url}/x`, {
        method: 'POST',
        headers: { 'idempotency-key': 'k' },
        body: '{}',
      });
      expect([answer.status, await answer.text()]).toEqual([401, 'no user']);
    } finally {
      await close();
    }
  });
  it('keeps a response destroyed by its failed stream as not replayable, though `end()` follows', async () => {
    const server = express();
    server.use(idempotency({ store: new MemoryStore(), scope: 'global' }));
    let runs = 0;
    server.post('/cut', (_req: Request, res: Response, next: NextFunction) => {
      runs += 1;
      res.status(200).type('text/plain');
      const body = Readable.from(
        (async function* () {
          yield Buffer.alloc(1024, 120);
          throw new Error('the stream failed');
        })(),
      );
      pipeline(body, res, (error) => error && next(error));
    });
    // An error handler that ends a response whose head went out (NestJS's exception filter does).
    server.use((_error: Error, _req: Request, res: Response, _next: NextFunction) => {
      if (res.headersSent) return void res.end();
      res.status(500).end();
    });
    const { url, close } = await listenLocal(createServer(server));
    try {
      const post = () =>
        fetch(`${url}/cut`, { method: 'POST', headers: { 'idempotency-key': 'k' }, body: '{}' });
      // The head and a chunk went out, then the connection was cut.
      await expect(post().then((answer) => answer.text())).rejects.toThrow();
      const retry = await post();
      const problem = (await retry.json()) as { type: string; originalStatus: number };
      expect([retry.status, problem.type, problem.originalStatus, runs]).toEqual([
        500,
        ProblemType.responseNotReplayable,
        200,
        1,
      ]);
    } finally {
      await close();
    }
  });
});
