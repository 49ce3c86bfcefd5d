import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { idempotency } from '@oncely/server/hono';
import { Hono } from 'hono';
import type { ServerSpec } from '../scenarios.js';
import { listen } from './listen.js';
import type { RunningServer } from './listen.js';
import { PAYMENT_PATH, chargePayment } from './payment.js';
import { BENCH_TTL_MS, openStore } from './stores.js';

/** Hono 4 on Node through @hono/node-server: bare or with the Oncely middleware on the route. */
export async function startHono(spec: ServerSpec): Promise<RunningServer> {
  const app = new Hono();
  const { variant } = spec;
  let closeStore = async (): Promise<void> => {};
  if (variant.kind === 'oncely') {
    const opened = await openStore(variant.store, spec);
    closeStore = opened.close;
    app.use(PAYMENT_PATH, idempotency({ store: opened.store, scope: 'global', ttl: BENCH_TTL_MS }));
  } else if (variant.kind === 'peer') {
    // hono-idempotency, the one Hono peer users might look for, is not published on npm.
    throw new Error(`No peer library runs on Hono here (asked for ${variant.peer}).`);
  }
  app.post(PAYMENT_PATH, async (c) => c.json(chargePayment(await c.req.json()), 201));
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  return listen(server, closeStore);
}
