import { connect } from 'node:net';
import { ProblemType } from '@oncely/core';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store.js';
import { runAdapterConformanceSuite } from '../../testing/conformance/suite.js';
import { createRecordingStore } from '../../testing/store-wrappers.js';
import { nodeStreamOf } from '../../testing/conformance/harness-support.js';
import type { ConformanceHarness } from '../../testing/conformance/types.js';
import { idempotencyPlugin } from './plugin.js';

const fastifyHarness: ConformanceHarness = async (app) => {
  // Closing drops the connections of handlers that never answer.
  const server = Fastify({ forceCloseConnections: true });
  server.addHttpMethod('MERGE', { hasBody: true });
  const { timeoutMs } = app;
  if (timeoutMs !== undefined) {
    // What `handlerTimeout` does (which Fastify 5.12 cancels once a request body was read): answer 503
    // through the error handler while the handler runs on, marking the request as connect-timeout does.
    server.addHook('onRequest', (request, reply, done) => {
      const timer = setTimeout(() => {
        if (reply.sent) return;
        Object.assign(request.raw, { timedout: true });
        void reply.send(Object.assign(new Error('Response timeout'), { statusCode: 503 }));
      }, timeoutMs);
      reply.raw.once('close', () => clearTimeout(timer));
      done();
    });
  }
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  await server.register(idempotencyPlugin, { ...app.options, scope: (req) => app.scopeOf(req.headers) });
  server.setErrorHandler((error: { statusCode?: number }, _req, reply) =>
    reply.code(error.statusCode ?? 500).send({ error: 'internal' }),
  );
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
    return reply.send(nodeStreamOf(result));
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

  it('reads a keyed body up to the smaller of maxRequestBytes and bodyLimit, then answers 413', async () => {
    const store = createRecordingStore(new MemoryStore());
    const server = Fastify();
    await server.register(idempotencyPlugin, { store, scope: 'global' });
    let runs = 0;
    server.post('/small', { bodyLimit: 64 * 1024 }, async () => ({ runs: ++runs }));
    server.post('/default', async () => ({ runs: ++runs }));
    const url = new URL(await server.listen({ port: 0, host: '127.0.0.1' }));
    /** Sends the head, then 16 KiB chunks until the answer (at most `max`); resolves the answer. */
    const exchange = (path: string, framing: string, max: number) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(url.port), '127.0.0.1');
        let received = '';
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        socket.on('close', () => resolve(received));
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k1\r\n${framing}\r\n\r\n`);
        const block = Buffer.alloc(16 * 1024, 0x20);
        void (async () => {
          for (let sent = 0; sent < max && received === ''; sent += block.byteLength) {
            if (framing.includes('chunked')) socket.write(`4000\r\n${block.toString('latin1')}\r\n`);
            else socket.write(block);
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
      });
    try {
      // A declared length over the limit: answered on the headers, nothing read.
      const declared = await exchange('/default', `Content-Length: ${1024 * 1024 * 1024}`, 0);
      expect(declared).toMatch(/^HTTP\/1\.1 413 /);
      expect(declared).toMatch(/\r\nconnection: close\r\n/i);
      expect(declared).toContain(ProblemType.requestTooLarge);
      expect(declared).toContain('1048576 bytes');
      // A chunked body over the route's bodyLimit (below maxRequestBytes): ours, with that limit.
      const chunked = await exchange('/small', 'Transfer-Encoding: chunked', 1024 * 1024);
      expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
      expect(chunked).toContain('65536 bytes');
      expect([runs, store.calls]).toEqual([0, []]);
    } finally {
      await server.close();
    }
  });

  it('records a hijacked reply written to reply.raw, and settles one whose client left', async () => {
    const server = Fastify({ forceCloseConnections: true });
    await server.register(idempotencyPlugin, {
      store: new MemoryStore(),
      scope: 'global',
      lease: 300,
      storeTimeout: 50,
    });
    let runs = 0;
    server.post('/raw', async (_request, reply) => {
      runs += 1;
      reply.hijack();
      reply.raw.writeHead(201, { 'content-type': 'text/plain' });
      reply.raw.end(`hijacked ${runs}`);
    });
    server.post('/raw-stream', async (_request, reply) => {
      runs += 1;
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 50 && !reply.raw.destroyed; i++) {
        reply.raw.write('x'.repeat(1024));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      reply.raw.end();
    });
    const url = await server.listen({ port: 0, host: '127.0.0.1' });
    const post = (path: string, key: string, signal?: AbortSignal) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'idempotency-key': key },
        body: 'x',
        ...(signal === undefined ? {} : { signal }),
      });
    try {
      const first = await post('/raw', 'k1');
      const replay = await post('/raw', 'k1');
      expect([first.status, await first.text(), replay.status, await replay.text()]).toEqual([
        201,
        'hijacked 1',
        201,
        'hijacked 1',
      ]);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      const controller = new AbortController();
      const cut = await post('/raw-stream', 'k2', controller.signal);
      await cut.body!.getReader().read();
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 900));
      const retry = await post('/raw-stream', 'k2');
      expect([retry.status, ((await retry.json()) as { originalStatus: number }).originalStatus]).toEqual([
        500, 200,
      ]);
      expect(runs).toBe(2);
    } finally {
      await server.close();
    }
  });
});
