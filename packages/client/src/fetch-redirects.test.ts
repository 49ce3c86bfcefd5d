import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, ok, redirect, startFaultServer, status } from '../test/fault-server.js';
import { ClientErrorCode, createFetch, getRetryInfo, isOncelyClientError } from './index.js';

// Two servers on two ports: two origins.
let home: FaultServer;
let other: FaultServer;
let n = 0;
const path = (): string => `/redirects/${++n}`;
beforeAll(async () => {
  [home, other] = await Promise.all([startFaultServer(), startFaultServer()]);
});
afterAll(() => Promise.all([home.close(), other.close()]));

const fetch = createFetch({ baseDelay: 1 });
const bytes = Uint8Array.from({ length: 200 }, (_, i) => (i * 13) % 256);

function form(): FormData {
  const data = new FormData();
  data.append('amount', '1000');
  data.append('receipt', new Blob([bytes], { type: 'application/octet-stream' }), 'receipt.bin');
  return data;
}

describe('createFetch: the key never leaves its origin', () => {
  it.each([302, 307, 308])('a cross-origin %i does not carry the key (nor Authorization)', async (code) => {
    const from = path();
    const to = path();
    const target = other.route(to, ok());
    const response = await fetch(home.route(from, redirect(code, target)), {
      method: 'PUT',
      body: 'x',
      headers: { authorization: 'Bearer secret', 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(200);
    expect(response.url).toBe(target);
    expect(response.redirected).toBe(true);
    const [sent] = home.seen(from);
    expect(sent!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent!.headers.authorization).toBe('Bearer secret');
    const [followed] = other.seen(to);
    expect(followed!.method).toBe('PUT');
    expect(followed!.key).toBeUndefined();
    expect(followed!.headers.authorization).toBeUndefined();
    expect(followed!.body.toString()).toBe('x');
    expect(getRetryInfo(response)).toMatchObject({ idempotencyKey: sent!.key, attempts: 1 });
  });

  it.each([
    [303, 'POST'],
    [303, 'PUT'],
    [301, 'POST'],
    [302, 'POST'],
  ])(
    'a same-origin %i after a %s becomes a GET without the key, body or content headers',
    async (code, method) => {
      const from = path();
      const to = path();
      const response = await fetch(home.route(from, redirect(code, to)), {
        method,
        body: '{"amount":10}',
        headers: { 'content-type': 'application/json', 'x-trace': 't1' },
      });
      expect(response.status).toBe(200);
      expect(response.url).toBe(home.origin + to);
      const [sent] = home.seen(from);
      expect(sent!.key).toMatch(/^[0-9a-f-]{36}$/);
      const [followed] = home.seen(to);
      expect(followed!.method).toBe('GET');
      expect(followed!.key).toBeUndefined();
      expect(followed!.body.length).toBe(0);
      expect(followed!.contentType).toBeUndefined();
      expect(followed!.headers['x-trace']).toBe('t1');
    },
  );

  it.each([307, 308])('a same-origin %i keeps the method, the body and the key', async (code) => {
    const from = path();
    const to = path();
    const response = await fetch(home.route(from, redirect(code, to)), {
      method: 'POST',
      body: 'pay',
      idempotencyKey: 'order-7',
    });
    expect(response.status).toBe(200);
    expect(home.seen(to).map((s) => [s.method, s.key, s.body.toString()])).toEqual([
      ['POST', 'order-7', 'pay'],
    ]);
  });

  it('a same-origin 302 after a PUT keeps the method and the key', async () => {
    const from = path();
    const to = path();
    await fetch(home.route(from, redirect(302, to)), { method: 'PUT', body: 'x', idempotencyKey: 'put-1' });
    expect(home.seen(to).map((s) => [s.method, s.key])).toEqual([['PUT', 'put-1']]);
  });

  it('retries a redirected call from its first URL, with the key there and none at the other origin', async () => {
    const from = path();
    const to = path();
    const target = other.route(to, status(503), ok());
    const response = await fetch(home.route(from, redirect(307, target)), { method: 'POST', body: 'x' });
    expect(response.status).toBe(200);
    const keys = home.seen(from).map((s) => s.key);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(other.seen(to).map((s) => s.key)).toEqual([undefined, undefined]);
    expect(getRetryInfo(response)).toMatchObject({ attempts: 2, reasons: ['status 503'] });
  });

  it('leaves redirect: "manual" to the caller', async () => {
    const from = path();
    const response = await fetch(home.route(from, redirect(307, other.route(path(), ok()))), {
      method: 'POST',
      body: 'x',
      redirect: 'manual',
    });
    expect(response.status).toBe(307);
    expect(home.seen(from)).toHaveLength(1);
  });
});

describe('createFetch: redirects with FormData bodies', () => {
  it.each([
    ['a key', undefined],
    ['no key', false as const],
  ])(
    'a 307 with FormData (%s) is followed as bare fetch follows it, the same bytes on both hops',
    async (_name, idempotencyKey) => {
      for (const code of [307, 308]) {
        const from = path();
        const to = path();
        const response = await fetch(home.route(from, redirect(code, to)), {
          method: 'POST',
          body: form(),
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        });
        expect(response.status).toBe(200);
        const [first] = home.seen(from);
        const [second] = home.seen(to);
        expect(first!.contentType).toMatch(/^multipart\/form-data; boundary=/);
        expect(second!.contentType).toBe(first!.contentType);
        expect(second!.body.equals(first!.body)).toBe(true);
      }
    },
  );
});

describe('createFetch: redirects that cannot be followed are final, not network errors', () => {
  it.each([
    ['POST with a key', 'POST'],
    ['GET', 'GET'],
  ])(
    'a redirect loop (%s) stops after 20 redirects, like fetch, and is not retried',
    async (_name, method) => {
      const loop = path();
      const url = home.route(loop, redirect(302, loop));
      const error = await fetch(url, { method }).catch((e: unknown) => e);
      expect(isOncelyClientError(error, ClientErrorCode.invalidRequest)).toBe(true);
      expect((error as Error).message).toMatch(/redirect count exceeded/);
      expect(error).toMatchObject({ attempts: 1 });
      expect(home.seen(loop)).toHaveLength(21);
    },
  );

  it('redirect: "error" meeting a redirect is final', async () => {
    const from = path();
    const error = await fetch(home.route(from, redirect(302, path())), {
      method: 'POST',
      redirect: 'error',
    }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.invalidRequest)).toBe(true);
    expect(error).toMatchObject({ attempts: 1 });
    expect(home.seen(from)).toHaveLength(1);
  });

  it('a 307 for a one-shot stream body cannot be followed: final, sent once', async () => {
    const from = path();
    const error = await fetch(home.route(from, redirect(307, path())), {
      method: 'POST',
      body: new Blob(['streamed']).stream(),
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.invalidRequest)).toBe(true);
    expect(home.seen(from).map((s) => s.body.toString())).toEqual(['streamed']);
  });

  it('a redirect to a scheme other than http(s) is final', async () => {
    const from = path();
    const error = await fetch(home.route(from, redirect(302, 'ftp://127.0.0.1/file')), {
      method: 'POST',
    }).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.invalidRequest)).toBe(true);
    expect(home.seen(from)).toHaveLength(1);
  });
});
