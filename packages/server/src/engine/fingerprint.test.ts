import { createServer } from 'node:http';
import express from 'express';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProblemType } from '@oncely/core';
import { idempotency } from '../adapters/express/middleware.js';
import { listenLocal } from '../testing/listen.js';
import {
  canonicalQuery,
  computeStoreKey,
  defaultFingerprint,
  defaultFingerprintSync,
  sha256Hex,
  storeKeyScope,
  storeKeySync,
} from './fingerprint.js';
import { selectReplayHeaders } from './replay-headers.js';
import { normalizeReplayHeaders } from './replay-headers.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

const input = (overrides: Partial<Parameters<typeof defaultFingerprint>[0]> = {}) => ({
  method: 'POST',
  path: '/pay',
  query: '',
  headers: {},
  body: new TextEncoder().encode('{"a":1}'),
  ...overrides,
});

describe('fingerprint and store key', () => {
  it('hashes with SHA-256 over length-prefixed parts', async () => {
    expect(await sha256Hex([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const prefixed = new Uint8Array(9);
    prefixed[7] = 1;
    prefixed[8] = 0x61;
    const webCrypto = Buffer.from(await crypto.subtle.digest('SHA-256', prefixed)).toString('hex');
    expect(await sha256Hex([new Uint8Array([0x61])])).toBe(webCrypto);
  });

  it('keeps the store keys and fingerprints of records already stored (same bytes as before)', async () => {
    // Computed by the release before the hashing was fed part by part: stored records must still match.
    expect(await computeStoreKey('tenant-ä', 'k1')).toBe(
      'dede0200b5b877af:5950dfe988d5c5aadf93a30f0632df02711b55b83e4e89363faac3bddfe4778d',
    );
    expect(storeKeySync('tenant-ä', 'k1')).toBe(await computeStoreKey('tenant-ä', 'k1'));
    const request = input({ path: '/payments/ü', query: 'a=1&b=2', body: utf8('{"amount":4200}') });
    const expected = 'd3eb92e0d112b2d05d9ee03e590cb2cefcbc241254af36a43fa50413831eb0d9';
    expect(await defaultFingerprint(request)).toBe(expected);
    expect(defaultFingerprintSync(request)).toBe(expected);
    // The Web Crypto path (no node:crypto: workers, browsers) hashes the same bytes.
    const joined = new Uint8Array([
      ...[0, 0, 0, 0, 0, 0, 0, 4],
      ...utf8('POST'),
      ...[0, 0, 0, 0, 0, 0, 0, 12],
      ...utf8('/payments/ü'),
      ...[0, 0, 0, 0, 0, 0, 0, 7],
      ...utf8('a=1&b=2'),
      ...[0, 0, 0, 0, 0, 0, 0, 15],
      ...utf8('{"amount":4200}'),
    ]);
    expect(Buffer.from(await crypto.subtle.digest('SHA-256', joined)).toString('hex')).toBe(expected);
  });

  it('sorts the query by name only, keeping the order of repeated parameters', () => {
    expect(canonicalQuery('b=2&a=1&a=0')).toBe('a=1&a=0&b=2');
    expect(canonicalQuery('step=debit&step=credit')).not.toBe(canonicalQuery('step=credit&step=debit'));
    expect(canonicalQuery('z=1&step=debit&a=2&step=credit')).toBe('a=2&step=debit&step=credit&z=1');
    expect(canonicalQuery('')).toBe('');
  });

  it('answers 422 to a key reused with the repeated parameters in another order (real Express)', async () => {
    let runs = 0;
    const app = express();
    app.use(idempotency({ scope: 'global' }));
    app.post('/transfer', (_req, res) => {
      runs++;
      res.status(201).json({ runs });
    });
    const server = await listenLocal(createServer(app));
    try {
      const post = (query: string) =>
        fetch(`${server.url}/transfer?${query}`, {
          method: 'POST',
          headers: { 'idempotency-key': 'k-steps' },
        });
      const first = await post('step=debit&step=credit');
      expect(first.status).toBe(201);
      expect(await first.json()).toEqual({ runs: 1 });
      const reordered = await post('step=credit&step=debit');
      expect(reordered.status).toBe(422);
      expect(await reordered.json()).toMatchObject({ type: ProblemType.keyReused });
      const replay = await post('step=debit&step=credit');
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(runs).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('differs by method, path, query and body, and is stable', async () => {
    const base = await defaultFingerprint(input());
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await defaultFingerprint(input())).toBe(base);
    for (const other of [
      input({ method: 'PATCH' }),
      input({ path: '/pay2' }),
      input({ query: 'a=1' }),
      input({ body: new Uint8Array([1]) }),
    ]) {
      expect(await defaultFingerprint(other)).not.toBe(base);
    }
  });

  it('never lets scope and key run into each other', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.string(), fc.string(), async (s1, k1, s2, k2) => {
        fc.pre(s1 !== s2 || k1 !== k2);
        expect(await computeStoreKey(s1, k1)).not.toBe(await computeStoreKey(s2, k2));
      }),
      { numRuns: 200 },
    );
    expect(await computeStoreKey('a:b', 'c')).not.toBe(await computeStoreKey('a', 'b:c'));
  });

  it('prefixes the store key with a hash of the scope alone, so a store can group records by scope', async () => {
    const a1 = await computeStoreKey('tenant-a', 'k1');
    const a2 = await computeStoreKey('tenant-a', 'k2');
    const b1 = await computeStoreKey('tenant-b', 'k1');
    // Hex and one colon only: no raw input, nothing Redis Cluster reads as a hash tag.
    for (const storeKey of [a1, a2, b1]) expect(storeKey).toMatch(/^[0-9a-f]{16}:[0-9a-f]{64}$/);
    expect(storeKeyScope(a1)).toBe(storeKeyScope(a2));
    expect(storeKeyScope(a1)).not.toBe(storeKeyScope(b1));
    expect(a1).not.toContain('tenant');
    expect(storeKeySync('tenant-a', 'k1')).toBe(a1);
    // A key in another shape (a hand-made store key) belongs to no scope.
    expect(storeKeyScope('plain-key')).toBe('');
  });

  it('builds the store key from SHA-256 of the scope and SHA-256 of (scope, key)', async () => {
    const scopeHash = (await sha256Hex([utf8('tenant-a')])).slice(0, 16);
    const keyHash = await sha256Hex([utf8('tenant-a'), utf8('k1')]);
    expect(await computeStoreKey('tenant-a', 'k1')).toBe(`${scopeHash}:${keyHash}`);
  });

  it('keeps only allowed headers, never Set-Cookie or hop-by-hop ones', () => {
    const allowed = normalizeReplayHeaders(['x-trace']);
    expect(
      selectReplayHeaders(
        [
          ['Content-Type', 'text/plain'],
          ['Set-Cookie', ['a=1', 'b=2']],
          ['Transfer-Encoding', 'chunked'],
          ['Content-Length', 12],
          ['Link', ['</a>', '</b>']],
          ['X-Trace', 'abc'],
          ['X-Other', 'no'],
        ],
        allowed,
      ),
    ).toEqual([
      ['content-type', 'text/plain'],
      ['link', '</a>'],
      ['link', '</b>'],
      ['x-trace', 'abc'],
    ]);
  });
});
