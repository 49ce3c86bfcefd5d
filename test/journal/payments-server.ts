/**
 * The real server side of the journal tests: node:http + `@oncely/server`'s node adapter on its
 * MemoryStore, on 127.0.0.1. `POST /payments` charges (counts an effect) and answers 201.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore, withIdempotency } from '@oncely/server/node';

export interface Charge {
  chargeId: string;
  orderId: string;
  key: string | undefined;
}

export interface PaymentsServer {
  readonly url: string;
  /** Every time the handler ran. */
  readonly charges: Charge[];
  close(): Promise<void>;
}

export async function startPaymentsServer(): Promise<PaymentsServer> {
  const charges: Charge[] = [];
  const listener = withIdempotency(
    async function createPayment(req, res) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const { orderId } = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { orderId?: string };
      const key = req.headers['idempotency-key'] as string | undefined;
      const charge = { chargeId: `ch_${charges.length + 1}`, orderId: orderId ?? '?', key };
      charges.push(charge);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify(charge));
    },
    { store: new MemoryStore(), scope: 'global' },
  );
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    charges,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
