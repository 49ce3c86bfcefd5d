// What the store sees and what a replay may carry: scopes never see each other's records, a flood of
// keys stays within the MemoryStore bound, secrets never enter the store, keys reach it only hashed.
// Plus responses too large or streamed to keep.
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemType } from '@oncely/core';
import { computeStoreKey } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import { startApp } from './support.js';
import type { TestApp } from './support.js';
import { recordSecurity } from './results.js';

const FLOOD_BOUND = 500;
const FLOOD_KEYS = 3000;

describe('tenancy, stored data and unkeepable responses', () => {
  let app: TestApp;
  const figures = {
    crossScopeGuesses: 0,
    floodKeys: FLOOD_KEYS,
    floodBound: FLOOD_BOUND,
    floodMaxSize: 0,
    storeKeysSeen: 0,
  };
  const post = (path: string, key: string, tenant: string, body = '{}') =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-tenant': tenant },
      body,
    });

  beforeAll(async () => {
    app = await startApp({ maxEntries: FLOOD_BOUND });
  });
  afterAll(async () => {
    await app.close();
    recordSecurity('tenancy', figures);
  });

  it('a key guessed from another scope never replays that scope’s response', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 64 }), async (raw) => {
        const key = `k${raw.replace(/[^\x21-\x7e]/g, '_').replaceAll(',', ';')}`;
        figures.crossScopeGuesses++;
        const victim = await post('/secret', key, 'tenant-a');
        expect([201, 200]).toContain(victim.status);
        const attacker = await post('/secret', key, 'tenant-b');
        const text = await attacker.text();
        expect(text).not.toContain('private to tenant-a');
        expect(JSON.parse(text)).toMatchObject({ tenant: 'tenant-b' });
      }),
      { numRuns: 100, seed: 3 },
    );
  });

  it('Set-Cookie and auth headers are never stored nor replayed; allowed ones are', async () => {
    const key = crypto.randomUUID();
    const first = await post('/secret', key, 'tenant-c');
    expect(first.headers.get('set-cookie')).toContain('session=s3cr3t'); // the first caller gets them
    const stored = app.store.completed.at(-1)!;
    const names = stored.headers.map(([name]) => name);
    for (const name of ['set-cookie', 'authorization', 'www-authenticate', 'proxy-authenticate']) {
      expect(names).not.toContain(name);
    }
    expect(JSON.stringify(stored.headers)).not.toMatch(/s3cr3t|leaked/);
    const replay = await post('/secret', key, 'tenant-c');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    for (const name of ['set-cookie', 'authorization', 'www-authenticate', 'proxy-authenticate']) {
      expect(replay.headers.get(name)).toBeNull();
    }
    expect(replay.headers.get('content-type')).toMatch(/^application\/json/);
    // Nor can they be allowed by configuration.
    for (const name of ['set-cookie', 'Authorization', 'proxy-authorization', 'connection']) {
      expect(() => idempotency({ scope: 'global', replayHeaders: [name] })).toThrow(/replayHeaders/);
    }
  });

  it('the store never sees raw user input as a key: only SHA-256(scope, key)', async () => {
    const key = `RAW-KEY-${crypto.randomUUID()}`;
    const tenant = `RAW-TENANT-${crypto.randomUUID()}`;
    const seen = app.store.keys.length;
    await (await post('/ops', key, tenant)).text();
    await (await post('/ops', key, tenant)).text();
    const keys = app.store.keys.slice(seen);
    expect(keys.length).toBeGreaterThanOrEqual(3); // claim, complete, claim (replay)
    const expected = await computeStoreKey(tenant, key);
    for (const storeKey of keys) expect(storeKey).toBe(expected);
    for (const storeKey of app.store.keys) {
      expect(storeKey).toMatch(/^[0-9a-f]{16}:[0-9a-f]{64}$/);
      expect(storeKey).not.toMatch(/RAW-|tenant/);
    }
    figures.storeKeysSeen = app.store.keys.length;
  });

  it(`a flood of ${FLOOD_KEYS} unique keys stays within the store bound (${FLOOD_BOUND})`, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < FLOOD_KEYS) {
          next++;
          await new Promise<void>((resolve, reject) => {
            const request = http.request(
              `${app.url}/ops`,
              {
                method: 'POST',
                agent,
                headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
              },
              (response) => {
                expect(response.statusCode).toBe(201);
                response.resume().on('end', resolve);
              },
            );
            request.on('error', reject);
            request.end('{}');
          });
        }
      }),
    );
    agent.destroy();
    figures.floodMaxSize = app.store.maxSize;
    expect(app.store.maxSize).toBeLessThanOrEqual(FLOOD_BOUND);
    expect(app.store.inner.size).toBeLessThanOrEqual(FLOOD_BOUND);
  });

  it('a huge response is sent once, kept without its body, and never re-run', async () => {
    const key = crypto.randomUUID();
    const first = await post('/huge', key, 'tenant-d');
    expect(first.status).toBe(200);
    expect((await first.arrayBuffer()).byteLength).toBe(2 * 1024 * 1024);
    expect(app.store.completed.at(-1)!.body).toBeNull();
    const replay = await post('/huge', key, 'tenant-d');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toMatchObject({
      type: ProblemType.responseNotReplayable,
      originalStatus: 200,
    });
    expect(app.runs.huge).toBe(1);
  });

  it('a streamed response (event stream) is sent whole, kept without its body, never re-run', async () => {
    const key = crypto.randomUUID();
    const first = await post('/events', key, 'tenant-e');
    expect(await first.text()).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n');
    const replay = await post('/events', key, 'tenant-e');
    expect(await replay.json()).toMatchObject({ type: ProblemType.responseNotReplayable });
    expect(app.runs.events).toBe(1);
  });

  it('a small response written in chunks is replayed byte for byte', async () => {
    const key = crypto.randomUUID();
    const first = await post('/chunked', key, 'tenant-f');
    expect(await first.text()).toBe('one,two');
    const replay = await post('/chunked', key, 'tenant-f');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.text()).toBe('one,two');
    expect(app.runs.chunked).toBe(1);
  });
});
