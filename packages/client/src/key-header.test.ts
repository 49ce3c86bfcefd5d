import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, ok, redirect, startFaultServer } from '../test/fault-server.js';
import { withIdempotency } from './axios.js';
import { createFetch, getRetryInfo, normalizeClientOptions } from './index.js';

/**
 * A PayPal-style API: it deduplicates by `PayPal-Request-Id` (and knows no `Idempotency-Key`). The first
 * request with an id runs and is stored; its answer is lost once (the socket is destroyed after the
 * work is done); a request with a known id gets the stored answer.
 */
function startPayPal(): Promise<{
  origin: string;
  executions: number;
  requests: IncomingMessage['headers'][];
  server: Server;
}> {
  const stored = new Map<string, string>();
  const lost = new Set<string>();
  const state = {
    origin: '',
    executions: 0,
    requests: [] as IncomingMessage['headers'][],
    server: undefined! as Server,
  };
  state.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      state.requests.push(req.headers);
      const id = req.headers['paypal-request-id'];
      if (typeof id !== 'string') {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"name":"MISSING_REQUEST_ID"}');
        return;
      }
      let body = stored.get(id);
      if (body === undefined) {
        state.executions++;
        body = JSON.stringify({ id: `PAY-${state.executions}`, requestId: id });
        stored.set(id, body);
      }
      if (!lost.has(id)) {
        lost.add(id);
        req.socket.destroy(); // the work is done, the answer is lost
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' }).end(body);
    });
  });
  return new Promise((resolve) =>
    state.server.listen(0, '127.0.0.1', () => {
      state.origin = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
      resolve(state);
    }),
  );
}

let paypal: Awaited<ReturnType<typeof startPayPal>>;
let home: FaultServer;
let other: FaultServer;
beforeAll(async () => {
  [paypal, home, other] = await Promise.all([startPayPal(), startFaultServer(), startFaultServer()]);
});
afterAll(async () => {
  paypal.server.closeAllConnections();
  await new Promise((resolve) => paypal.server.close(resolve));
  await Promise.all([home.close(), other.close()]);
});

const noSleep = async (): Promise<void> => {};

describe('keyHeader: the key in the header the API reads (PayPal-Request-Id)', () => {
  it('createFetch: one execution across a lost answer, the key only in PayPal-Request-Id', async () => {
    const before = paypal.requests.length;
    const executed = paypal.executions;
    const fetch = createFetch({ keyHeader: 'PayPal-Request-Id', sleep: noSleep });
    const response = await fetch(`${paypal.origin}/v2/payments`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(201);
    const sent = paypal.requests.slice(before);
    expect(sent).toHaveLength(2);
    const id = sent[0]!['paypal-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.map((headers) => headers['paypal-request-id'])).toEqual([id, id]);
    expect(sent.map((headers) => headers['idempotency-key'])).toEqual([undefined, undefined]);
    expect(paypal.executions).toBe(executed + 1);
    expect(await response.json()).toEqual({ id: `PAY-${executed + 1}`, requestId: id });
    expect(getRetryInfo(response)).toMatchObject({ idempotencyKey: id, attempts: 2 });
  });

  it("createFetch: the caller's own PayPal-Request-Id is the key", async () => {
    const before = paypal.requests.length;
    const fetch = createFetch({ keyHeader: 'PayPal-Request-Id', sleep: noSleep });
    const response = await fetch(`${paypal.origin}/v2/payments`, {
      method: 'POST',
      body: '{}',
      headers: { 'PayPal-Request-Id': 'order-77' },
    });
    expect(response.status).toBe(201);
    expect(paypal.requests.slice(before).map((headers) => headers['paypal-request-id'])).toEqual([
      'order-77',
      'order-77',
    ]);
    expect(getRetryInfo(response)?.idempotencyKey).toBe('order-77');
  });

  it('withIdempotency: one execution across a lost answer, the key only in PayPal-Request-Id', async () => {
    const before = paypal.requests.length;
    const executed = paypal.executions;
    const api = withIdempotency(axios.create({ baseURL: paypal.origin }), {
      keyHeader: 'PayPal-Request-Id',
      sleep: noSleep,
    });
    const response = await api.post('/v2/payments', { amount: 1 });
    expect(response.status).toBe(201);
    const sent = paypal.requests.slice(before);
    const id = sent[0]!['paypal-request-id'];
    expect(sent.map((headers) => [headers['paypal-request-id'], headers['idempotency-key']])).toEqual([
      [id, undefined],
      [id, undefined],
    ]);
    expect(paypal.executions).toBe(executed + 1);
    expect(response.data).toEqual({ id: `PAY-${executed + 1}`, requestId: id });
  });

  it('the configured header is the one kept on a same-origin redirect and dropped across origins', async () => {
    const fetch = createFetch({ keyHeader: 'PayPal-Request-Id' });
    const same = other.route('/key-header/same', ok());
    await fetch(other.route('/key-header/from-same', redirect(307, same)), {
      method: 'POST',
      body: 'x',
      idempotencyKey: 'k-same',
    });
    expect(other.seen('/key-header/same').map((s) => s.headers['paypal-request-id'])).toEqual(['k-same']);

    const across = other.route('/key-header/across', ok());
    await fetch(home.route('/key-header/from-home', redirect(307, across)), {
      method: 'POST',
      body: 'x',
      idempotencyKey: 'k-across',
    });
    expect(home.seen('/key-header/from-home').map((s) => s.headers['paypal-request-id'])).toEqual([
      'k-across',
    ]);
    expect(other.seen('/key-header/across').map((s) => s.headers['paypal-request-id'])).toEqual([undefined]);
  });

  it('refuses a header name that is not an HTTP token', () => {
    expect(() => createFetch({ keyHeader: 'Bad Header' })).toThrow(
      'Invalid option `keyHeader`: expected an HTTP header name (RFC 9110 token), got "Bad Header".',
    );
    expect(() => normalizeClientOptions({ keyHeader: '' })).toThrow(/`keyHeader`/);
    expect(() => withIdempotency(axios.create(), { keyHeader: 'a:b' })).toThrow(/`keyHeader`/);
  });
});
