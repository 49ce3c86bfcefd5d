import 'reflect-metadata';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { All, Controller, Module, Req, Res } from '@nestjs/common';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import timeout from 'connect-timeout';
import type { ConformanceHarness, ConformanceRequest, ConformanceResponse } from '@oncely/server/testing';
import type { Request, Response } from 'express';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IdempotencyModule } from './idempotency-module.js';
import type { IdempotencyModuleOptions } from './options.js';

/** The platforms @oncely/nestjs runs on. */
export type Platform = 'express' | 'fastify';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates a Nest app on `platform` with `modules` (Nest's body parsing, rawBody on, no logger) and
 * listens on 127.0.0.1, port 0. `textBodies`: bodies of every type parsed as text instead of Nest's
 * JSON and urlencoded parsers (what the conformance routes read).
 */
export async function startNest(
  platform: Platform,
  module: Type | DynamicModule,
  {
    textBodies = false,
    configure,
  }: { textBodies?: boolean; configure?: (app: INestApplication) => void } = {},
): Promise<{ app: INestApplication; url: string; close: () => Promise<void> }> {
  let app: INestApplication;
  if (platform === 'express') {
    // Closing drops the connections of handlers that never answer.
    const express = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(), {
      logger: false,
      forceCloseConnections: true,
      rawBody: true,
      bodyParser: !textBodies,
    });
    if (textBodies) express.useBodyParser('text', { type: () => true });
    app = express;
  } else {
    const fastify = await NestFactory.create<NestFastifyApplication>(
      module,
      new FastifyAdapter({ forceCloseConnections: true }),
      {
        logger: false,
        rawBody: true,
        bodyParser: !textBodies,
      },
    );
    if (textBodies) {
      const instance = fastify.getHttpAdapter().getInstance();
      instance.removeAllContentTypeParsers();
      instance.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    }
    app = fastify;
  }
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** The conformance harness on `platform`: a catch-all controller behind `IdempotencyModule.forRoot()`. */
export function nestHarness(platform: Platform): ConformanceHarness {
  return async (conformance) => {
    const handle = (request: ConformanceRequest): Promise<ConformanceResponse> => conformance.handle(request);

    @Controller()
    class ConformanceController {
      // Every path: Express 5 names its wildcard, find-my-way (Fastify) does not.
      @All(platform === 'express' ? '*path' : '*')
      async route(@Req() req: Request | FastifyRequest, @Res() res: Response | FastifyReply): Promise<void> {
        const body: unknown = req.body;
        const result = await handle({
          method: req.method,
          url: platform === 'express' ? (req as Request).originalUrl : req.url,
          headers: req.headers,
          body: typeof body === 'string' ? body : '',
        });
        if (result.kind === 'throw') throw result.error;
        if (platform === 'express') return sendExpress(res as Response, result);
        return sendFastify(res as FastifyReply, result);
      }
    }

    const options: IdempotencyModuleOptions<Request | FastifyRequest> = {
      ...conformance.options,
      scope: (req) => conformance.scopeOf(req.headers),
    };
    @Module({ imports: [IdempotencyModule.forRoot(options)], controllers: [ConformanceController] })
    class ConformanceModule {}

    const { timeoutMs } = conformance;
    const { url, close } = await startNest(platform, ConformanceModule, {
      textBodies: true,
      configure: (app) => {
        if (platform === 'express') {
          // Ahead of every middleware of Nest's (the idempotency one too), as apps mount it.
          if (timeoutMs !== undefined) app.use(timeout(`${timeoutMs}ms`));
          return;
        }
        const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
        // Fastify routes only the methods it knows; `@All()` then serves MERGE too.
        fastify.addHttpMethod('MERGE', { hasBody: true });
        if (timeoutMs !== undefined) addFastifyTimeout(fastify, timeoutMs);
      },
    });
    return { url, close };
  };
}

/**
 * What Fastify's `handlerTimeout` does (which Fastify 5.12 cancels once a request body was read):
 * answer 503 through the error handler while the handler runs on, marking the request as
 * connect-timeout does. As in the Fastify adapter's own harness.
 */
function addFastifyTimeout(fastify: FastifyInstance, timeoutMs: number): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const timer = setTimeout(() => {
      if (reply.sent) return;
      Object.assign(request.raw, { timedout: true });
      void reply.send(Object.assign(new Error('Response timeout'), { statusCode: 503 }));
    }, timeoutMs);
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}

/** The chunks of a streamed result, `delayMs` apart, failing after `failAfter` of them. */
function streamOf(result: Extract<ConformanceResponse, { kind: 'stream' }>): Readable {
  return Readable.from(
    (async function* () {
      for (const [index, chunk] of result.chunks.entries()) {
        if (index === result.failAfter) throw new Error('the stream failed');
        yield Buffer.from(chunk);
        await sleep(result.delayMs ?? 5);
      }
    })(),
  );
}

async function sendExpress(
  res: Response,
  result: Exclude<ConformanceResponse, { kind: 'throw' }>,
): Promise<void> {
  res.status(result.status);
  for (const [name, value] of result.headers) res.append(name, value);
  if (result.kind === 'send') return void res.end(Buffer.from(result.body));
  // A stream that fails destroys the response (the connection is cut), then rejects into Nest's
  // exception filter, which finds the head sent.
  await pipeline(streamOf(result), res);
}

async function sendFastify(
  reply: FastifyReply,
  result: Exclude<ConformanceResponse, { kind: 'throw' }>,
): Promise<void> {
  reply.code(result.status);
  const grouped = new Map<string, string[]>();
  for (const [name, value] of result.headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  for (const [name, values] of grouped) reply.header(name, values.length === 1 ? values[0] : values);
  if (result.kind === 'send') return void (await reply.send(Buffer.from(result.body)));
  await reply.send(streamOf(result));
}
