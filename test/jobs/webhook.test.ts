import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdempotencyStore } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import { RedisStore } from '@oncely/redis';
import {
  REDIS_URL,
  deleteKeys,
  redisUnavailableReason,
  uniquePrefix,
} from '../../packages/redis/src/test-support.js';

const skipReason = await redisUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the webhook tests: ${skipReason}.`);

const SECRET = 'whsec_test';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface StripeEvent {
  id: string;
  type: string;
  data: { object: { id: string; amount: number } };
}

/** Stripe's scheme: `t=<unix seconds>,v1=<HMAC-SHA256 of "t.body">`, signed anew for every delivery. */
function sign(body: string, at = Math.floor(Date.now() / 1000)): string {
  return `t=${at},v1=${createHmac('sha256', SECRET).update(`${at}.${body}`).digest('hex')}`;
}

/** Refuses a delivery whose signature does not match its raw body (before any key is claimed). */
function verifySignature(req: Request, res: Response, next: NextFunction): void {
  const header = req.get('stripe-signature') ?? '';
  const at = /t=(\d+)/.exec(header)?.[1];
  const given = Buffer.from(/v1=([0-9a-f]+)/.exec(header)?.[1] ?? '', 'hex');
  const expected = createHmac('sha256', SECRET)
    .update(`${at}.`)
    .update(req.body as Buffer)
    .digest();
  if (at === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    res.status(400).json({ error: 'bad signature' });
    return;
  }
  next();
}

/**
 * The webhook endpoint as an app would write it: the raw body for the signature, then the
 * idempotency middleware keyed by the event id from that body, then the handler with its effect.
 */
function webhookServer(store: IdempotencyStore, effect: (event: StripeEvent) => Promise<void>): Server {
  const app = express();
  app.post(
    '/webhooks/stripe',
    express.raw({ type: 'application/json' }),
    verifySignature,
    idempotency({
      store,
      scope: 'global',
      key: (req) => (JSON.parse((req.body as Buffer).toString('utf8')) as StripeEvent).id,
    }),
    async (req: Request, res: Response) => {
      const event = JSON.parse((req.body as Buffer).toString('utf8')) as StripeEvent;
      await effect(event);
      res.status(200).json({ received: event.id });
    },
  );
  app.use((_error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: 'internal' });
  });
  return createServer(app);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe.skipIf(skipReason !== undefined)('a Stripe-style webhook endpoint keyed by the event id', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('applies each event once however often, wherever and however concurrently it is delivered', async () => {
    const prefix = uniquePrefix('webhook');
    const ledgerKey = `${prefix}:ledger`;
    const redis = new Redis(REDIS_URL!);
    const store = new RedisStore({ client: redis, prefix });
    const events = Array.from({ length: 8 }, (_, i): StripeEvent => ({
      id: `evt_${randomUUID().replaceAll('-', '')}`,
      type: 'payment_intent.succeeded',
      data: { object: { id: `pi_${i}`, amount: 1000 + i } },
    }));
    const failOnce = new Set([events[0]!.id]);
    // The effect: fulfil the order (counted in Redis). The first delivery of one event fails before it.
    const effect = async (event: StripeEvent) => {
      if (failOnce.delete(event.id)) throw new Error('database hiccup');
      await redis.hincrby(ledgerKey, event.id, 1);
      await sleep(20);
    };
    // Two instances of the endpoint behind one store: deliveries land on either.
    const servers = [webhookServer(store, effect), webhookServer(store, effect)];
    const urls = await Promise.all(servers.map(listen));
    cleanups.push(async () => {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
      await deleteKeys(redis, prefix);
      await redis.del(ledgerKey);
      redis.disconnect();
    });

    /** One delivery as Stripe makes it: signed anew; answered 2xx or retried (after 409 and 5xx). */
    const deliver = async (event: StripeEvent, url: string) => {
      const body = JSON.stringify(event);
      const statuses: number[] = [];
      for (;;) {
        const response = await fetch(`${url}/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) },
          body,
        });
        const answer = { status: response.status, replayed: response.headers.get('idempotent-replayed') };
        statuses.push(answer.status);
        if (answer.status === 200) return { ...answer, statuses, body: await response.json() };
        await response.arrayBuffer();
        await sleep(50);
      }
    };
    // Three deliveries of each event at once, spread over both instances, then one more later.
    const answers = await Promise.all(
      events.flatMap((event, i) => [0, 1, 2].map((n) => deliver(event, urls[(i + n) % 2]!))),
    );
    const late = await Promise.all(events.map((event, i) => deliver(event, urls[i % 2]!)));

    expect(await redis.hgetall(ledgerKey)).toEqual(Object.fromEntries(events.map((e) => [e.id, '1'])));
    for (const [i, event] of events.entries()) {
      const mine = [...answers.slice(3 * i, 3 * i + 3), late[i]!];
      expect(mine.map((answer) => answer.body)).toEqual(Array(4).fill({ received: event.id }));
      // One delivery ran the handler; every other one got its answer replayed.
      expect(mine.filter((answer) => answer.replayed === null)).toHaveLength(1);
    }
    // The event whose first handling failed was released (500), and a retry then applied it.
    expect(answers.slice(0, 3).flatMap((answer) => answer.statuses)).toContain(500);
  });

  it('refuses a forged delivery before its event id can claim anything', async () => {
    const prefix = uniquePrefix('webhook-forged');
    const redis = new Redis(REDIS_URL!);
    const store = new RedisStore({ client: redis, prefix });
    let effects = 0;
    const server = webhookServer(store, async () => void (effects += 1));
    const url = await listen(server);
    cleanups.push(async () => {
      await new Promise((resolve) => server.close(resolve));
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });
    const body = JSON.stringify({ id: 'evt_forged', type: 'charge.succeeded', data: { object: {} } });
    const forged = await fetch(`${url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
      body,
    });
    expect([forged.status, await forged.json()]).toEqual([400, { error: 'bad signature' }]);
    const real = await fetch(`${url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) },
      body,
    });
    expect([real.status, real.headers.get('idempotent-replayed'), effects]).toEqual([200, null, 1]);
  });
});
