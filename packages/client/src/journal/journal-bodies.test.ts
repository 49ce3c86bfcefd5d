import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, destroy, startFaultServer, status } from '../../test/fault-server.js';
import { createFetch } from '../index.js';
import { type JournaledBody, createMemoryJournal, resumePending } from './index.js';

let server: FaultServer;
let n = 0;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

function form(): FormData {
  const data = new FormData();
  data.append('invoice', 'inv_7');
  data.append('file', new Blob([new Uint8Array([0, 255, 10])], { type: 'application/pdf' }), 'a.pdf');
  return data;
}

describe('bodies: the resumed call sends the bytes and content type of the first attempt', () => {
  it.each<[string, () => BodyInit, string]>([
    ['a string', () => '{"a":"é"}', 'text'],
    ['bytes', () => new Uint8Array([0, 1, 2, 255]), 'base64'],
    ['an ArrayBuffer', () => new Uint8Array([9, 8, 7]).buffer, 'base64'],
    ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'x y' }), 'text'],
    ['a Blob with a type', () => new Blob(['<p>hi</p>'], { type: 'text/html' }), 'base64'],
    ['FormData (one boundary, kept)', form, 'base64'],
  ])('%s', async (_name, make, encoding) => {
    const journal = createMemoryJournal();
    const p = `/bodies/${++n}`;
    const url = server.route(p, destroy(), status(201));
    const fetch = createFetch({ journal, retries: 0 });
    await fetch(url, { method: 'POST', body: make() }).catch(() => undefined);
    const [entry] = await journal.list();
    expect(Object.keys(entry!.body as JournaledBody)).toEqual([encoding]);
    const run = await resumePending(fetch);
    expect((await run.operations[0]!.response).status).toBe(201);
    const [first, resumed] = server.seen(p);
    expect(first!.body.length).toBeGreaterThan(0);
    expect(resumed!.body.equals(first!.body)).toBe(true);
    expect(resumed!.contentType).toBe(first!.contentType);
    expect(resumed!.key).toBe(first!.key);
    expect(await journal.list()).toEqual([]);
  });

  it('a Request with a body is journaled from its bytes', async () => {
    const journal = createMemoryJournal();
    const p = `/bodies/${++n}`;
    const url = server.route(p, destroy(), status(201));
    const fetch = createFetch({ journal, retries: 0 });
    const request = new Request(url, {
      method: 'PATCH',
      body: 'patch me',
      headers: { 'content-type': 'text/plain', 'idempotency-key': 'req-key-1' },
    });
    await fetch(request).catch(() => undefined);
    expect(await journal.list()).toMatchObject([
      {
        id: 'req-key-1',
        method: 'PATCH',
        body: { base64: btoa('patch me') },
        headers: { 'content-type': 'text/plain' },
      },
    ]);
    await (
      await resumePending(fetch)
    ).settled;
    expect(server.seen(p).map((s) => [s.method, s.key, s.body.toString()])).toEqual([
      ['PATCH', 'req-key-1', 'patch me'],
      ['PATCH', 'req-key-1', 'patch me'],
    ]);
  });
});
