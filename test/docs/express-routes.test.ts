import { once as onceEvent } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ProblemType } from '@oncely/core';
import { MemoryStore, idempotency } from '@oncely/server/express';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';

// What packages/server/README.md "Some routes only" promises, on a real Express app and socket.
describe('Express: the middleware on some routes only (server README)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  async function serve(app: express.Express): Promise<string> {
    const server = app.listen(0, '127.0.0.1');
    await onceEvent(server, 'listening');
    close = () => new Promise((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const post = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: '{"a":1}',
    });

  it('per route: covered routes run once per key and require one, the others need none', async () => {
    const runs = { payments: 0, webhooks: 0 };
    const once = idempotency({ store: new MemoryStore(), scope: 'global', required: true });
    const app = express();
    app.post('/payments', once, express.json(), (req, res) => {
      res.status(201).json({ run: ++runs.payments, body: req.body });
    });
    app.post('/webhooks', express.json(), (_req, res) => void res.json({ run: ++runs.webhooks }));
    const base = await serve(app);

    const missing = await post(`${base}/payments`);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { type: string }).type).toBe(ProblemType.keyMissing);

    const first = await post(`${base}/payments`, { 'idempotency-key': 'route-key-1' });
    const replay = await post(`${base}/payments`, { 'idempotency-key': 'route-key-1' });
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ run: 1, body: { a: 1 } });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual({ run: 1, body: { a: 1 } });

    const hooks = [await post(`${base}/webhooks`), await post(`${base}/webhooks`)];
    expect(hooks.map((r) => r.status)).toEqual([200, 200]);
    expect(runs).toEqual({ payments: 1, webhooks: 2 });
  });

  it('a route registered before app.use(once) answers before the middleware runs', async () => {
    let webhooks = 0;
    const app = express();
    app.post('/webhooks', express.json(), (_req, res) => void res.json({ run: ++webhooks }));
    app.use(idempotency({ store: new MemoryStore(), scope: 'global', required: true }));
    app.post('/payments', express.json(), (_req, res) => void res.status(201).json({ ok: true }));
    const base = await serve(app);

    expect((await post(`${base}/webhooks`)).status).toBe(200);
    expect((await post(`${base}/payments`)).status).toBe(400);
    expect(webhooks).toBe(1);
  });
});
