import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ProblemType } from '@oncely/core';
import { describe, expect, it } from 'vitest';
import { isBodyTooLarge } from '../../engine/types.js';
import { MemoryStore } from '../../store/memory-store.js';
import { createRecordingStore } from '../../testing/store-wrappers.js';
import { listenLocal } from '../../testing/listen.js';
import { withIdempotency } from '../node/with-idempotency.js';
import { readRequestBody } from './read-request-body.js';
import { DISCARD_MAX_BYTES } from './send-prepared.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A request whose body never ends: 64 KiB chunks, counted as they are pulled. */
function endlessRequest(headers: Record<string, string> = {}): {
  req: IncomingMessage;
  pulled: () => number;
} {
  let pulled = 0;
  const stream = new Readable({
    read() {
      pulled += 64 * KiB;
      this.push(Buffer.alloc(64 * KiB, 1));
    },
  });
  return {
    req: Object.assign(stream, { headers, complete: false }) as unknown as IncomingMessage,
    pulled: () => pulled,
  };
}

describe('readRequestBody', () => {
  it('refuses a declared Content-Length over the limit without reading a byte', async () => {
    const { req, pulled } = endlessRequest({ 'content-length': String(64 * MiB) });
    expect(isBodyTooLarge(await readRequestBody(req, MiB))).toBe(true);
    expect(pulled()).toBe(0);
  });

  it('stops reading a body without a length as soon as it crosses the limit', async () => {
    const { req, pulled } = endlessRequest();
    expect(isBodyTooLarge(await readRequestBody(req, MiB))).toBe(true);
    // The limit, plus what the stream buffers ahead (its highWaterMark) and the chunk that crossed it.
    expect(pulled()).toBeLessThanOrEqual(MiB + 2 * 64 * KiB);
  });

  it('refuses bytes a body parser already read when they are over the limit', async () => {
    const { req } = endlessRequest();
    Object.assign(req, { rawBody: Buffer.alloc(2 * KiB) });
    // Returned as is: the engine compares their length with the limit (and answers 413).
    expect(((await readRequestBody(req, KiB)) as Uint8Array).byteLength).toBe(2 * KiB);
  });
});

/** A raw POST with a key; resolves the answer's head once it arrived. */
function post(
  url: string,
  headers: string,
): { socket: Socket; head: Promise<string>; closed: Promise<boolean> } {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  const closed = new Promise<boolean>((resolve) => socket.once('close', resolve));
  socket.on('error', () => undefined);
  const head = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) resolve(received);
    });
  });
  socket.write(
    `POST /pay HTTP/1.1\r\nHost: 127.0.0.1\r\nIdempotency-Key: k1\r\nContent-Type: application/json\r\n${headers}\r\n`,
  );
  return { socket, head, closed };
}

describe('node:http, a body over maxRequestBytes', () => {
  const start = async (maxRequestBytes = MiB) => {
    const store = createRecordingStore(new MemoryStore());
    let runs = 0;
    const served = await listenLocal(
      createServer(
        withIdempotency(
          (_req, res) => {
            runs += 1;
            res.end('ran');
          },
          { store, scope: 'global', maxRequestBytes },
        ),
      ),
    );
    return { ...served, store, runs: () => runs };
  };

  it('is answered 413 on its headers alone, before the client sends any of it', async () => {
    const app = await start();
    try {
      const { socket, head } = post(app.url, `Content-Length: ${1024 * MiB}\r\n`);
      const answer = await head;
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer).toContain(ProblemType.requestTooLarge);
      expect([app.runs(), app.store.calls]).toEqual([0, []]);
      socket.destroy();
    } finally {
      await app.close();
    }
  });

  it('is answered 413 once a chunked body crosses the limit, and the rest is dropped, not kept', async () => {
    const app = await start();
    try {
      const { socket, head, closed } = post(app.url, 'Transfer-Encoding: chunked\r\n');
      const block = Buffer.alloc(256 * KiB, 0x20);
      const chunk = Buffer.concat([
        Buffer.from(`${block.byteLength.toString(16)}\r\n`),
        block,
        Buffer.from('\r\n'),
      ]);
      let answered = false;
      void head.then(() => (answered = true));
      let sent = 0;
      while (!answered && sent < 64 * MiB) {
        await new Promise<void>((resolve) =>
          socket.write(chunk) ? resolve() : socket.once('drain', resolve),
        );
        sent += block.byteLength;
      }
      expect(await head).toMatch(/^HTTP\/1\.1 413 /);
      // The client may go on sending: the rest is read and dropped until the body ends, then the
      // connection closes cleanly (no reset, so the client could read the answer).
      for (let i = 0; i < 8; i++) {
        await new Promise<void>((resolve) =>
          socket.write(chunk) ? resolve() : socket.once('drain', resolve),
        );
      }
      socket.end('0\r\n\r\n');
      expect(await closed).toBe(false);
      expect([app.runs(), app.store.calls]).toEqual([0, []]);
    } finally {
      await app.close();
    }
  });

  it(`drops at most ${DISCARD_MAX_BYTES / MiB} MiB after the answer, then cuts the connection`, async () => {
    const app = await start();
    try {
      const { socket, head, closed } = post(app.url, `Content-Length: ${1024 * MiB}\r\n`);
      await head;
      const block = Buffer.alloc(MiB, 0x20);
      let sent = 0;
      let open = true;
      while (open && sent < DISCARD_MAX_BYTES + 32 * MiB) {
        // The callback runs once the block is handed to the kernel, or with an error once cut.
        open = await new Promise<boolean>((resolve) => socket.write(block, (error) => resolve(!error)));
        sent += MiB;
      }
      await closed;
      expect(sent).toBeLessThan(DISCARD_MAX_BYTES + 32 * MiB);
    } finally {
      await app.close();
    }
  });
});
