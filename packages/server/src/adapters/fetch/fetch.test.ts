import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import type { ConformanceHarness } from '../../testing/conformance/types.js';
import { webResponseOf } from '../../testing/conformance/harness-support.js';
import { serveFetch } from '../../testing/serve-fetch.js';
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
      return webResponseOf(result);
    },
    { ...app.options, scope: (request) => app.scopeOf(request.headers) },
  );
  // A timeout wrapped around the idempotent handler: it answers 503 while the handler runs on.
  const timed =
    app.timeoutMs === undefined
      ? handler
      : (request: Request) =>
          Promise.race([
            handler(request),
            new Promise<Response>((resolve) =>
              setTimeout(() => resolve(Response.json({ error: 'timeout' }, { status: 503 })), app.timeoutMs),
            ),
          ]);
  // What Next.js, Bun or Deno do when a route handler throws: a bare 500.
  return serveFetch(async (request) => {
    try {
      return await timed(request);
    } catch {
      return Response.json({ error: 'internal' }, { status: 500 });
    }
  });
};

runAdapterConformanceSuite('fetch (withIdempotency)', fetchHarness);
