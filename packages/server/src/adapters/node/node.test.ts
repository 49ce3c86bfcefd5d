import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
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
      for (const chunk of result.chunks) {
        res.write(Buffer.from(chunk));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      res.end();
    },
    { ...app.options, scope: (req) => app.scopeOf(req.headers) },
  );
  return listenLocal(createServer(listener));
};

runAdapterConformanceSuite('node:http (withIdempotency)', nodeHarness);
