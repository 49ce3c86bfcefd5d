import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import type { ConformanceHarness, ConformanceResponse } from '../../testing/conformance/types.js';
import { listenLocal } from '../../testing/listen.js';
import { idempotency } from './middleware.js';

/** The Web `Response` for a conformance route result (shared by the hono and fetch harnesses). */
export function toTestResponse(result: Exclude<ConformanceResponse, { kind: 'throw' }>): Response {
  const headers = new Headers();
  for (const [name, value] of result.headers) headers.append(name, value);
  if (result.kind === 'send') {
    return new Response(result.status === 204 ? null : Buffer.from(result.body), {
      status: result.status,
      headers,
    });
  }
  const chunks = [...result.chunks];
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = chunks.shift();
      if (chunk === undefined) return controller.close();
      await new Promise((resolve) => setTimeout(resolve, 5));
      controller.enqueue(chunk);
    },
  });
  return new Response(body, { status: result.status, headers });
}

/** Serves a fetch handler through @hono/node-server on 127.0.0.1, port 0. */
export function serveFetch(fetchHandler: (request: Request) => Response | Promise<Response>) {
  const server: ServerType = serve({
    fetch: fetchHandler,
    port: 0,
    hostname: '127.0.0.1',
    autoCleanupIncoming: false,
  });
  server.close();
  return listenLocal(server as Server);
}

const honoHarness: ConformanceHarness = async (app) => {
  const hono = new Hono();
  hono.use(idempotency({ ...app.options, scope: (c) => app.scopeOf(c.req.raw.headers) }));
  hono.all('*', async (c) => {
    const result = await app.handle({
      method: c.req.method,
      url: c.req.url.slice(new URL(c.req.url).origin.length),
      headers: c.req.raw.headers,
      body: await c.req.text(),
    });
    if (result.kind === 'throw') throw result.error;
    return toTestResponse(result);
  });
  hono.onError((_error, c) => c.json({ error: 'internal' }, 500));
  return serveFetch(hono.fetch);
};

runAdapterConformanceSuite('hono 4', honoHarness);
