import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IdempotencyStore } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import express from 'express';
import type { Ledger } from './ledger.js';

/** A running instance of the demo's payments API. */
export interface PaymentsApi {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A small payments API, as a user would write it: Express, `@oncely/server` in front of the routes,
 * `POST /payments` charges the card (writes to the ledger) and answers 201 with the charge.
 * Requests without an `Idempotency-Key` pass through the middleware unprotected, as in any API that
 * accepts keys but does not require them: that is how the naive client gets charged twice.
 */
export async function startPaymentsApi(store: IdempotencyStore, ledger: Ledger): Promise<PaymentsApi> {
  const app = express();
  app.use(idempotency({ store, scope: 'global', lease: 5_000 }));
  app.use(express.json());
  app.post('/payments', async function createPayment(req, res) {
    const { paymentId, amount } = (req.body ?? {}) as { paymentId?: unknown; amount?: unknown };
    if (typeof paymentId !== 'string' || typeof amount !== 'number') {
      res.status(400).json({ error: 'paymentId (string) and amount (number) are required' });
      return;
    }
    await sleep(2 + Math.floor(Math.random() * 4)); // the card network takes a moment
    const charge = await ledger.charge(paymentId, amount);
    res.status(201).json(charge);
  });
  const server = http.createServer(app);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
