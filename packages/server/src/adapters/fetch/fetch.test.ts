import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import type { ConformanceHarness } from '../../testing/conformance/types.js';
import { serveFetch, toTestResponse } from '../hono/hono.test.js';
import { withIdempotency } from './with-idempotency.js';

const fetchHarness: ConformanceHarness = async (app) => {
  const handler = withIdempotency(
    async (request: Request) => {
      const url = new URL(request.url);
      const result = await app.handle({
        method: request.method,
        url: url.pathname + url.search,
        headers: request.headers,
        body: await request.text(),
      });
      if (result.kind === 'throw') throw result.error;
      return toTestResponse(result);
    },
    { ...app.options, scope: (request) => app.scopeOf(request.headers) },
  );
  // What Next.js, Bun or Deno do when a route handler throws: a bare 500.
  return serveFetch(async (request) => {
    try {
      return await handler(request);
    } catch {
      return Response.json({ error: 'internal' }, { status: 500 });
    }
  });
};

runAdapterConformanceSuite('fetch (withIdempotency)', fetchHarness);
