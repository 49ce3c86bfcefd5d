import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { timeout } from 'hono/timeout';
import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import { webResponseOf } from '../../testing/conformance/harness-support.js';
import type { ConformanceHarness } from '../../testing/conformance/types.js';
import { serveFetch } from '../../testing/serve-fetch.js';
import { idempotency } from './middleware.js';

const honoHarness: ConformanceHarness = async (app) => {
  const hono = new Hono();
  // Above the idempotency middleware: its `next()` then waits for the handler itself.
  if (app.timeoutMs !== undefined) hono.use(timeout(app.timeoutMs));
  hono.use(idempotency({ ...app.options, scope: (c) => app.scopeOf(c.req.raw.headers) }));
  hono.all('*', async (c) => {
    const result = await app.handle({
      method: c.req.method,
      url: c.req.url.slice(new URL(c.req.url).origin.length),
      headers: c.req.raw.headers,
      body: await c.req.text(),
    });
    if (result.kind === 'throw') throw result.error;
    return webResponseOf(result);
  });
  hono.onError((error, c) =>
    error instanceof HTTPException ? error.getResponse() : c.json({ error: 'internal' }, 500),
  );
  return serveFetch(hono.fetch);
};

runAdapterConformanceSuite('hono 4', honoHarness);
