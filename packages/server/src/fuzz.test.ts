import { createServer } from 'node:http';
import { PROBLEM_CONTENT_TYPE, ProblemType } from '@oncely/core';
import express from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotency } from './adapters/express/middleware.js';
import { readKeyHeader } from './engine/key-header.js';
import { MemoryStore } from './store/memory-store.js';
import { listenLocal } from './testing/listen.js';
import { rawRequest } from './testing/raw-http.js';
import { createRecordingStore } from './testing/store-wrappers.js';

// Bad input never crashes the server, never leaks a stack trace, is answered 400 when the key is
// invalid, and never reaches the store.
describe('fuzzing the Idempotency-Key header and the body (express, real socket)', () => {
  const store = createRecordingStore(new MemoryStore());
  let runs = 0;
  let attempt = 0;
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    const app = express();
    app.use(idempotency({ store, scope: 'global' }));
    app.use(express.raw({ type: () => true, limit: '1mb' }));
    app.post('/echo', (req, res) => {
      runs += 1;
      res
        .status(201)
        .type('application/octet-stream')
        .send(req.body instanceof Buffer ? req.body : Buffer.alloc(0));
    });
    server = await listenLocal(createServer(app));
  });
  afterAll(() => server.close());

  // Any ASCII but CR and LF, which would end the header line and make it another request.
  const headerValue = fc.string({
    unit: fc
      .integer({ min: 0, max: 127 })
      .filter((c) => c !== 10 && c !== 13)
      .map((c) => String.fromCharCode(c)),
    maxLength: 300,
  });

  it('answers every header value with 201 or a 400 problem, and stores only valid keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          headerValue,
          fc.uuid().map((u) => `"${u}"`),
          fc.uuid(),
        ),
        async (value) => {
          const callsBefore = store.calls.length;
          const answer = await rawRequest(server.url, {
            path: '/echo',
            headerLines: [`Idempotency-Key: ${value}`],
            body: 'same body',
          });
          expect(answer.body).not.toMatch(/\bat .+:\d+|Error:/);
          // Node itself refuses control characters in header values (RFC 9110 §5.5) before we see them.
          const nodeRefuses = [...value].some((c) => c !== '\t' && (c < ' ' || c === '\x7f'));
          const valid = !nodeRefuses && readKeyHeader(value.replace(/^[ \t]+|[ \t]+$/g, '')).kind === 'valid';
          if (valid) {
            expect(answer.status).toBe(201);
            expect(answer.body).toBe('same body');
            expect(store.calls.length).toBeGreaterThan(callsBefore);
          } else {
            expect(answer.status).toBe(400);
            if (!nodeRefuses) {
              expect(answer.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
              expect(JSON.parse(answer.body).type).toBe(ProblemType.keyInvalid);
            }
            expect(store.calls.length).toBe(callsBefore);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('replays any body byte for byte and refuses a different one with 422', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uuid(),
        fc.uint8Array({ maxLength: 4096 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        async (uuid, body, other) => {
          // Shrinking replays values: a fresh suffix keeps each run's key its own.
          const key = `${uuid}-${++attempt}`;
          const post = (bytes: Uint8Array) =>
            fetch(`${server.url}/echo`, {
              method: 'POST',
              headers: { 'idempotency-key': key, 'content-type': 'application/octet-stream' },
              body: bytes as Uint8Array<ArrayBuffer>,
            });
          const first = await post(body);
          const before = runs;
          const replay = await post(body);
          expect(first.status).toBe(201);
          expect(Buffer.from(await replay.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
          expect(replay.headers.get('idempotent-replayed')).toBe('true');
          const changed = Buffer.concat([Buffer.from(body), Buffer.from(other)]);
          const mismatch = await post(changed);
          expect(mismatch.status).toBe(422);
          expect(await mismatch.text()).not.toMatch(/\bat .+:\d+/);
          expect(runs).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  });
});
