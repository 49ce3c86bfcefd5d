// A real Express server on 127.0.0.1 with the idempotency middleware on a MemoryStore that is watched:
// every store call is counted and every key it is given is kept, so tests can assert "no store write"
// and "no raw user input as a key".
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MemoryStore } from '@oncely/server';
import type { ClaimRequest, IdempotencyStore, StoredResponse } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import type { ExpressIdempotencyOptions } from '@oncely/server/express';

/** A MemoryStore that records what it is asked to do. */
export class WatchedStore implements IdempotencyStore {
  readonly inner: MemoryStore;
  /** Calls that write: claim, complete, release, extend. */
  writes = 0;
  /** Every key any method was given. */
  readonly keys: string[] = [];
  /** Every response given to complete(). */
  readonly completed: StoredResponse[] = [];
  /** Largest size seen right after a claim. */
  maxSize = 0;

  constructor(maxEntries?: number) {
    this.inner = new MemoryStore(maxEntries === undefined ? {} : { maxEntries });
  }

  async claim(request: ClaimRequest) {
    this.writes++;
    this.keys.push(request.key);
    const result = await this.inner.claim(request);
    this.maxSize = Math.max(this.maxSize, this.inner.size);
    return result;
  }
  complete(key: string, token: number, response: StoredResponse) {
    this.writes++;
    this.keys.push(key);
    this.completed.push(response);
    return this.inner.complete(key, token, response);
  }
  release(key: string, token: number) {
    this.writes++;
    this.keys.push(key);
    return this.inner.release(key, token);
  }
  extend(key: string, token: number, leaseMs: number) {
    this.writes++;
    this.keys.push(key);
    return this.inner.extend(key, token, leaseMs);
  }
  get(key: string) {
    this.keys.push(key);
    return this.inner.get(key);
  }
  delete(key: string) {
    this.writes++;
    this.keys.push(key);
    return this.inner.delete(key);
  }
}

export interface TestApp {
  url: string;
  port: number;
  store: WatchedStore;
  /** Handler runs per route. */
  runs: Record<string, number>;
  server: http.Server;
  close(): Promise<void>;
}

/**
 * Starts the app: scope from `x-tenant` (as an API key would be), the middleware before the body
 * parser (as its README says), a JSON error handler. Routes: POST /ops (201 JSON), POST /secret (sets
 * Set-Cookie and auth headers), POST /huge (2 MiB), POST /events (an event stream), POST /chunked
 * (a small body written in pieces).
 */
export async function startApp(
  options: Partial<ExpressIdempotencyOptions> & { maxEntries?: number } = {},
  serverOptions: http.ServerOptions = {},
): Promise<TestApp> {
  const { maxEntries, ...idempotencyOptions } = options;
  const store = new WatchedStore(maxEntries);
  const runs: Record<string, number> = {};
  const ran = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);
  const app = express();
  app.use(idempotency({ store, scope: (req) => req.get('x-tenant') ?? 'anonymous', ...idempotencyOptions }));
  app.use(express.json());
  app.post('/ops', (req, res) => {
    const n = ran('ops');
    res.status(201).json({ n, tenant: req.get('x-tenant') ?? null, body: req.body as unknown });
  });
  app.post('/secret', (req, res) => {
    ran('secret');
    res.setHeader('set-cookie', ['session=s3cr3t; HttpOnly', 'other=1']);
    res.setHeader('authorization', 'Bearer leaked');
    res.setHeader('www-authenticate', 'Bearer realm="x"');
    res.setHeader('proxy-authenticate', 'Basic');
    res.setHeader('x-request-note', 'kept');
    res.status(201).json({ tenant: req.get('x-tenant') ?? null, data: `private to ${req.get('x-tenant')}` });
  });
  app.post('/huge', (_req, res) => {
    ran('huge');
    res
      .status(200)
      .type('application/octet-stream')
      .send(Buffer.alloc(2 * 1024 * 1024, 7));
  });
  app.post('/events', (_req, res) => {
    ran('events');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const timer = setInterval(() => {
      res.write(`data: ${i}\n\n`);
      if (++i === 5) {
        clearInterval(timer);
        res.end();
      }
    }, 10);
  });
  app.post('/chunked', (_req, res) => {
    ran('chunked');
    res.status(200).type('text/plain');
    res.write('one,');
    setTimeout(() => res.end('two'), 10);
  });
  app.use(
    (
      error: { status?: number; type?: string },
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      const status = typeof error.status === 'number' ? error.status : 500;
      res.status(status).json({ error: error.type ?? 'error' });
    },
  );
  const server = http.createServer(serverOptions, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    store,
    runs,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A raw HTTP exchange: the bytes as written, the response as received (to close or `timeoutMs`). */
export function rawExchange(
  port: number,
  request: Buffer | string,
  timeoutMs = 3000,
): Promise<{ raw: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
    socket.write(request);
  });
}

/** A POST /ops with `keyLines` as its raw Idempotency-Key header line(s) (bytes, latin1). */
export function postWithKeyLines(keyLines: Buffer[], path = '/ops', body = '{}'): Buffer {
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n`;
  const lines = keyLines.flatMap((value) => [
    Buffer.from('Idempotency-Key: ', 'latin1'),
    value,
    Buffer.from('\r\n'),
  ]);
  return Buffer.concat([Buffer.from(head, 'latin1'), ...lines, Buffer.from(`\r\n${body}`, 'latin1')]);
}

/** Status, headers (lower-case) and body of a raw HTTP/1.1 response. */
export function parseRaw(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = raw.slice(0, end === -1 ? raw.length : end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: end === -1 ? '' : raw.slice(end + 4) };
}

/** What a stack trace or an internal path looks like in a response body. */
export const STACK_TRACE = /\bat [\w.<>]+ \(|node:internal|\.[cm]?[jt]s:\d+:\d+|Error:\s/;

/** Node's own answer when its HTTP parser refuses the bytes (no handler, no middleware ran). */
export const NODE_PARSER_400 = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
