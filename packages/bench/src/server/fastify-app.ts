import { idempotencyPlugin } from '@oncely/server/fastify';
import Fastify from 'fastify';
import type { ServerSpec } from '../scenarios.js';
import type { RunningServer } from './listen.js';
import { PAYMENT_PATH, chargePayment } from './payment.js';
import { BENCH_TTL_MS, openStore } from './stores.js';

/** Fastify 5, logger off: bare or with the Oncely plugin registered as its README shows. */
export async function startFastify(spec: ServerSpec): Promise<RunningServer> {
  const app = Fastify({ logger: false });
  const { variant } = spec;
  let closeStore = async (): Promise<void> => {};
  if (variant.kind === 'oncely') {
    const opened = await openStore(variant.store, spec);
    closeStore = opened.close;
    await app.register(idempotencyPlugin, { store: opened.store, scope: 'global', ttl: BENCH_TTL_MS });
  } else if (variant.kind === 'peer') {
    throw new Error(`No peer library runs on Fastify here (asked for ${variant.peer}).`);
  }
  app.post(PAYMENT_PATH, async (request, reply) => {
    reply.code(201);
    return chargePayment(request.body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('Fastify did not listen on TCP.');
  return {
    port: address.port,
    close: async () => {
      await app.close();
      await closeStore();
    },
  };
}
