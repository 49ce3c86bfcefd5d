import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultProxy, FaultProxyOptions } from './proxy.js';
import { startFaultProxy } from './proxy.js';

let upstream: http.Server;
let upstreamUrl: string;
let effects: string[];
let proxy: FaultProxy | undefined;

beforeEach(async () => {
  effects = [];
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      effects.push(Buffer.concat(chunks).toString());
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ ok: true, padding: 'x'.repeat(200) }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

async function start(options: Partial<FaultProxyOptions>): Promise<FaultProxy> {
  proxy = await startFaultProxy({ targets: [upstreamUrl], ...options });
  return proxy;
}

async function post(
  url: string,
  body: string,
): Promise<{ status: number; text: string } | { error: string }> {
  try {
    const res = await fetch(`${url}/pay`, { method: 'POST', body });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

describe('startFaultProxy', () => {
  it('forwards faithfully without faults', async () => {
    const p = await start({});
    const res = await fetch(`${p.url}/pay`, { method: 'POST', body: 'a' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(await res.json()).toMatchObject({ ok: true });
    expect(effects).toEqual(['a']);
    expect(p.stats).toMatchObject({ requests: 1, forwarded: 1 });
  });

  it('dropResponse: the upstream applies the request but the client gets no answer', async () => {
    const p = await start({ rates: { dropResponse: 1 } });
    expect(await post(p.url, 'b')).toEqual({ error: 'TypeError' });
    expect(effects).toEqual(['b']);
    expect(p.stats.faults.dropResponse).toBe(1);
  });

  it('resetRequest: the upstream never sees the request', async () => {
    const p = await start({ rates: { resetRequest: 1 } });
    expect(await post(p.url, 'c')).toEqual({ error: 'TypeError' });
    expect(effects).toEqual([]);
  });

  it('resetResponse: the head arrives, the body is cut', async () => {
    const p = await start({ rates: { resetResponse: 1 } });
    const res = await fetch(`${p.url}/pay`, { method: 'POST', body: 'd' });
    expect(res.status).toBe(201);
    await expect(res.text()).rejects.toThrow();
    expect(effects).toEqual(['d']);
  });

  it('duplicate: the upstream sees the request twice, the client one answer', async () => {
    const p = await start({ rates: { duplicate: 1 } });
    expect(await post(p.url, 'e')).toMatchObject({ status: 201 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(effects).toEqual(['e', 'e']);
  });

  it('burst503: answers 503 with Retry-After for a burst, without forwarding', async () => {
    const p = await start({ rates: { burst503: 1 }, burstLength: 3, retryAfterSeconds: 2 });
    const res = await fetch(`${p.url}/pay`, { method: 'POST', body: 'f' });
    expect([res.status, res.headers.get('retry-after')]).toEqual([503, '2']);
    expect(effects).toEqual([]);
  });

  it('slowBody and delay still deliver the whole response', async () => {
    const p = await start({ rates: { slowBody: 0.5, delay: 0.5 }, delayMs: 20 });
    for (const body of ['g1', 'g2', 'g3', 'g4']) {
      expect(await post(p.url, body)).toMatchObject({ status: 201 });
    }
    expect(p.stats.faults.slowBody + p.stats.faults.delay).toBe(4);
  });

  it('same seed, same faults; another seed, other faults', async () => {
    const bodies = Array.from({ length: 40 }, (_, i) => `op-${i}`);
    const run = async (seed: number) => {
      const p = await startFaultProxy({ targets: [upstreamUrl], seed, rates: { resetRequest: 0.5 } });
      const outcomes = await Promise.all(bodies.map((b) => post(p.url, b).then((r) => 'status' in r)));
      await p.close();
      return outcomes;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
    expect(a.filter(Boolean).length).toBeGreaterThan(5);
    expect(a.filter((x) => !x).length).toBeGreaterThan(5);
  });

  it('rejects bad rates', async () => {
    await expect(startFaultProxy({ targets: [upstreamUrl], rates: { dropResponse: 2 } })).rejects.toThrow(
      'Fault rate dropResponse must be a number in [0, 1], got 2.',
    );
    await expect(
      startFaultProxy({ targets: [upstreamUrl], rates: { dropResponse: 0.6, delay: 0.6 } }),
    ).rejects.toThrow('Fault rates add up to 1.200, more than 1.');
  });
});
