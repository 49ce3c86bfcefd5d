import Fastify from 'fastify';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory-store.js';
import { serveFetch } from '../testing/serve-fetch.js';
import { idempotencyPlugin } from './fastify/plugin.js';
import { idempotency as honoIdempotency } from './hono/middleware.js';

/** Delivers the same webhook event twice; resolves the answers' bodies and replay flags. */
async function deliverTwice(url: string): Promise<Array<[unknown, string | null]>> {
  const answers: Array<[unknown, string | null]> = [];
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${url}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"id":"evt_1","type":"charge.succeeded"}',
    });
    answers.push([await response.json(), response.headers.get('idempotent-replayed')]);
  }
  return answers;
}

// Where the framework parsed the body before the key is read, the key function may use it
// (docs/jobs.md#webhooks). Express and Koa: see test/jobs/webhook.test.ts and koa.test.ts.
describe('a key from the body the framework parsed', () => {
  it('Fastify: request.body', async () => {
    const fastify = Fastify();
    await fastify.register(idempotencyPlugin, {
      store: new MemoryStore(),
      scope: 'global',
      key: (request) => (request.body as { id?: string } | undefined)?.id,
    });
    let runs = 0;
    fastify.post('/webhooks', async (request) => ({ id: (request.body as { id: string }).id, runs: ++runs }));
    const url = await fastify.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect(await deliverTwice(url)).toEqual([
        [{ id: 'evt_1', runs: 1 }, null],
        [{ id: 'evt_1', runs: 1 }, 'true'],
      ]);
    } finally {
      await fastify.close();
    }
  });

  it('Hono: c.req.json(), still readable by the handler', async () => {
    const hono = new Hono();
    hono.use(
      honoIdempotency({
        store: new MemoryStore(),
        scope: 'global',
        key: async (c) => (await c.req.json<{ id?: string }>()).id,
      }),
    );
    let runs = 0;
    hono.post('/webhooks', async (c) =>
      c.json({ id: (await c.req.json<{ id: string }>()).id, runs: ++runs }),
    );
    const served = await serveFetch(hono.fetch);
    try {
      expect(await deliverTwice(served.url)).toEqual([
        [{ id: 'evt_1', runs: 1 }, null],
        [{ id: 'evt_1', runs: 1 }, 'true'],
      ]);
    } finally {
      await served.close();
    }
  });
});
