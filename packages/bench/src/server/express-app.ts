import type { Server } from 'node:http';
import { getSharedIdempotencyService, idempotency as expressIdempotency } from 'express-idempotency';
import { Idempotency } from '@node-idempotency/core';
import { MemoryStorageAdapter } from '@node-idempotency/storage-adapter-memory';
import { RedisStorageAdapter } from '@node-idempotency/storage-adapter-redis';
import { idempotency } from '@oncely/server/express';
import express from 'express';
import type { Request, Response } from 'express';
import type { PeerName, ServerSpec } from '../scenarios.js';
import { nodeIdempotencyMiddleware } from './node-idempotency-express.js';
import { PAYMENT_PATH, chargePayment } from './payment.js';
import { BENCH_TTL_MS, openStore } from './stores.js';
import type { StoreInstrumentation } from './stores.js';
import { listen } from './listen.js';
import type { RunningServer } from './listen.js';

function paymentHandler(req: Request, res: Response): void {
  res.status(201).json(chargePayment(req.body));
}

/** Express 5: bare, Oncely (mounted before the body parser, as its README says), or a peer library. */
export async function startExpress(
  spec: ServerSpec,
  instrumentation: StoreInstrumentation = {},
): Promise<RunningServer> {
  const app = express();
  const { variant } = spec;
  let close = async (): Promise<void> => {};
  if (variant.kind === 'oncely') {
    const opened = await openStore(variant.store, spec, instrumentation);
    close = opened.close;
    app.use(idempotency({ store: opened.store, scope: 'global', ttl: BENCH_TTL_MS }));
    app.use(express.json());
    app.post(PAYMENT_PATH, paymentHandler);
  } else if (variant.kind === 'peer') {
    app.use(express.json());
    close = await mountPeer(app, variant.peer, spec);
  } else {
    app.use(express.json());
    app.post(PAYMENT_PATH, paymentHandler);
  }
  const server: Server = app.listen(0, '127.0.0.1');
  return listen(server, close);
}

async function mountPeer(
  app: express.Express,
  peer: PeerName,
  spec: ServerSpec,
): Promise<() => Promise<void>> {
  switch (peer) {
    case 'express-idempotency': {
      // README: `app.post('*', idempotency())` (Express 5 no longer accepts '*': the route is named) and,
      // in the handler, `if (getSharedIdempotencyService().isHit(req)) return;`.
      app.post(PAYMENT_PATH, expressIdempotency(), (req: Request, res: Response) => {
        if (getSharedIdempotencyService().isHit(req)) return;
        paymentHandler(req, res);
      });
      return async () => {};
    }
    case 'node-idempotency-memory': {
      const core = new Idempotency(new MemoryStorageAdapter(), { cacheTTLMS: BENCH_TTL_MS });
      app.post(PAYMENT_PATH, nodeIdempotencyMiddleware(core), paymentHandler);
      return async () => {};
    }
    case 'node-idempotency-redis': {
      const adapter = new RedisStorageAdapter({
        url: spec.redisUrl,
        name: `node-idempotency-bench-${spec.namespace}`,
      });
      await adapter.connect();
      const core = new Idempotency(adapter, {
        cacheTTLMS: BENCH_TTL_MS,
        cacheKeyPrefix: `node-idempotency-bench-${spec.namespace}`,
      });
      app.post(PAYMENT_PATH, nodeIdempotencyMiddleware(core), paymentHandler);
      return () => adapter.disconnect();
    }
  }
}
