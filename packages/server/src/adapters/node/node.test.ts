import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import timeout from 'connect-timeout';
import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import { nodeStreamOf } from '../../testing/conformance/harness-support.js';
import type { ConformanceHarness } from '../../testing/conformance/types.js';
import { listenLocal } from '../../testing/listen.js';
import { withIdempotency } from './with-idempotency.js';

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const nodeHarness: ConformanceHarness = async (app) => {
  const listener = withIdempotency(
    async (req, res) => {
      const result = await app.handle({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: await readText(req),
      });
      if (result.kind === 'throw') throw result.error;
      res.statusCode = result.status;
      for (const [name, value] of result.headers) res.appendHeader(name, value);
      if (result.kind === 'send') return void res.end(Buffer.from(result.body));
      await new Promise<void>((resolve, reject) =>
        pipeline(nodeStreamOf(result), res, (error) => (error ? reject(error) : resolve())),
      );
    },
    { ...app.options, scope: (req) => app.scopeOf(req.headers) },
  );
  if (app.timeoutMs === undefined) return listenLocal(createServer(listener));
  // connect-timeout in front of the listener: it answers 503 and marks `req.timedout`.
  const withTimeout = timeout(`${app.timeoutMs}ms`);
  return listenLocal(
    createServer((req: IncomingMessage, res: ServerResponse) =>
      withTimeout(req as never, res as never, (error?: unknown) => {
        if (error === undefined) return listener(req, res);
        if (res.headersSent) return void res.destroy();
        res.statusCode = (error as { status?: number }).status ?? 500;
        res.end('{"error":"timeout"}');
      }),
    ),
  );
};

runAdapterConformanceSuite('node:http (withIdempotency)', nodeHarness);
