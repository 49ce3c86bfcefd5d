import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, destroy, ok, startFaultServer, status } from '../test/fault-server.js';
import { type OncelyServer, startOncelyServer } from '../test/oncely-server.js';
import { ClientErrorCode, createFetch, isOncelyClientError } from './index.js';

let server: FaultServer;
let n = 0;
const path = (): string => `/bodies/${++n}`;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const fetch = createFetch({ baseDelay: 1, retries: 3 });
const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
}

describe('createFetch: the same bytes on every attempt', () => {
  const form = (): FormData => {
    const data = new FormData();
    data.append('amount', '1000');
    data.append('receipt', new File([bytes], 'receipt.bin', { type: 'application/octet-stream' }));
    return data;
  };
  const cases: [string, () => BodyInit, Buffer | undefined][] = [
    ['a string', () => 'pay 10 € to Ada', Buffer.from('pay 10 € to Ada')],
    ['an ArrayBuffer', () => bytes.slice().buffer, Buffer.from(bytes)],
    [
      'a Uint8Array view into a larger buffer',
      () => new Uint8Array(bytes.buffer.slice(0), 100, 50),
      Buffer.from(bytes.subarray(100, 150)),
    ],
    ['a DataView', () => new DataView(bytes.slice().buffer, 10, 20), Buffer.from(bytes.subarray(10, 30))],
    ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'x y' }), Buffer.from('a=1&b=x+y')],
    ['a Blob', () => new Blob([bytes], { type: 'application/x-blob' }), Buffer.from(bytes)],
    ['FormData (one multipart boundary for all attempts)', form, undefined],
  ];

  it.each(cases)('%s', async (_name, make, expected) => {
    const p = path();
    const response = await fetch(server.route(p, destroy(), status(503), ok()), {
      method: 'POST',
      body: make(),
    });
    expect(response.status).toBe(200);
    const seen = server.seen(p);
    expect(seen).toHaveLength(3);
    if (expected !== undefined) expect(seen[0]!.body.equals(expected)).toBe(true);
    for (const attempt of seen.slice(1)) {
      expect(attempt.body.equals(seen[0]!.body)).toBe(true);
      expect(attempt.contentType).toBe(seen[0]!.contentType);
      expect(attempt.key).toBe(seen[0]!.key);
    }
    expect(seen[0]!.body.length).toBeGreaterThan(0);
  });

  it('FormData arrives as valid multipart with its file', async () => {
    const p = path();
    await fetch(server.route(p, destroy(), ok()), { method: 'POST', body: form() });
    const [first] = server.seen(p);
    expect(first!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const parsed = await new Response(new Uint8Array(first!.body), {
      headers: { 'content-type': first!.contentType! },
    }).formData();
    expect(parsed.get('amount')).toBe('1000');
    const file = parsed.get('receipt') as File;
    expect(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a caller that reuses its buffer cannot change a retry', async () => {
    const p = path();
    const buffer = new Uint8Array([1, 2, 3]);
    const url = server.route(
      p,
      (req) => {
        buffer[0] = 9; // the caller mutates its buffer while the call is in flight
        req.socket.destroy();
      },
      ok(),
    );
    await fetch(url, { method: 'POST', body: buffer });
    expect(server.seen(p).map((s) => [...s.body])).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });

  it('does not retry a ReadableStream body: clear error, sent once', async () => {
    const p = path();
    const error = await fetch(server.route(p, status(503), ok()), {
      method: 'POST',
      body: streamOf(['chunk-1 ', 'chunk-2']),
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e);
    expect(isOncelyClientError(error, ClientErrorCode.bodyNotReplayable)).toBe(true);
    expect((error as Error).message).toMatch(/body factory/);
    expect((error as { response: Response }).response.status).toBe(503);
    expect(server.seen(p).map((s) => s.body.toString())).toEqual(['chunk-1 chunk-2']);
  });

  it('retries a stream made afresh by a body factory', async () => {
    const p = path();
    let made = 0;
    const response = await fetch(server.route(p, destroy(), status(503), ok()), {
      method: 'POST',
      body: () => {
        made++;
        return streamOf(['chunk-1 ', 'chunk-2']);
      },
    });
    expect(response.status).toBe(200);
    expect(made).toBe(3);
    expect(server.seen(p).map((s) => s.body.toString())).toEqual(Array(3).fill('chunk-1 chunk-2'));
  });
});

describe('createFetch: a body factory against the real @oncely/server', () => {
  let oncely: OncelyServer;
  beforeAll(async () => {
    oncely = await startOncelyServer();
  });
  afterAll(() => oncely.close());

  it('FormData from a factory: serialised once, so the retry after a lost response gets the stored 201', async () => {
    oncely.loseResponses(1);
    let made = 0;
    const response = await fetch(`${oncely.origin}/payments`, {
      method: 'POST',
      body: () => {
        made++;
        const data = new FormData();
        data.append('amount', '1000');
        data.append('receipt', new Blob([bytes], { type: 'application/octet-stream' }), 'receipt.bin');
        return data;
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(await response.json()).toEqual({ execution: 1, bytes: oncely.forwarded[0]!.body.length });
    expect(oncely.executions).toBe(1);
    expect(made).toBe(1);
    const [first, second] = oncely.forwarded;
    expect(oncely.forwarded).toHaveLength(2);
    expect(first!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(second!.contentType).toBe(first!.contentType);
    expect(second!.body.equals(first!.body)).toBe(true);
    expect(second!.key).toBe(first!.key);
  });
});
