import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store.js';
import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import type { ConformanceHarness } from '../../testing/conformance/types.js';
import { idempotencyPlugin } from './plugin.js';

const fastifyHarness: ConformanceHarness = async (app) => {
  const server = Fastify();
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  await server.register(idempotencyPlugin, { ...app.options, scope: (req) => app.scopeOf(req.headers) });
  server.setErrorHandler((_error, _req, reply) => reply.code(500).send({ error: 'internal' }));
  server.all('/*', async (req, reply) => {
    const result = await app.handle({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: typeof req.body === 'string' ? req.body : '',
    });
    if (result.kind === 'throw') throw result.error;
    reply.code(result.status);
    const grouped = new Map<string, string[]>();
    for (const [name, value] of result.headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
    for (const [name, values] of grouped) reply.header(name, values.length === 1 ? values[0] : values);
    if (result.kind === 'send') return reply.send(Buffer.from(result.body));
    const chunks = result.chunks;
    return reply.send(
      Readable.from(
        (async function* () {
          for (const chunk of chunks) {
            yield Buffer.from(chunk);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })(),
      ),
    );
  });
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => server.close() };
};

runAdapterConformanceSuite('fastify 5', fastifyHarness);

describe('fastify adapter', () => {
  it('takes per-route options from route config, and `false` turns it off', async () => {
    const server = Fastify();
    await server.register(idempotencyPlugin, { store: new MemoryStore(), scope: 'global' });
    let runs = 0;
    server.post('/off', { config: { idempotency: false } }, async () => ({ runs: ++runs }));
    server.post('/required', { config: { idempotency: { required: true } } }, async () => ({ runs: ++runs }));
    server.post('/default', async (req) => ({ runs: ++runs, body: req.body }));
    await server.ready();
    const post = (url: string, key?: string) =>
      server.inject({
        method: 'POST',
        url,
        headers:
          key === undefined
            ? { 'content-type': 'application/json' }
            : { 'content-type': 'application/json', 'idempotency-key': key },
        payload: '{"a":1}',
      });
    expect((await post('/off', 'k1')).json()).toEqual({ runs: 1 });
    expect((await post('/off', 'k1')).json()).toEqual({ runs: 2 });
    expect((await post('/required')).statusCode).toBe(400);
    expect((await post('/default', 'k2')).json()).toEqual({ runs: 3, body: { a: 1 } });
    const replay = await post('/default', 'k2');
    expect([replay.json(), replay.headers['idempotent-replayed']]).toEqual([
      { runs: 3, body: { a: 1 } },
      'true',
    ]);
    await server.close();
  });

  it('refuses bad per-route options when the route is declared', async () => {
    const server = Fastify();
    await server.register(idempotencyPlugin, { scope: 'global' });
    expect(() => server.post('/x', { config: { idempotency: { ttl: -1 } } }, async () => 'x')).toThrow(
      /`ttl`.*-1/,
    );
    await server.close();
  });
});
