/**
 * The real `@oncely/server` (its node:http adapter and MemoryStore) on 127.0.0.1, behind a proxy that
 * can lose responses: the request reaches the server, which runs the handler and stores the outcome,
 * and the proxy then drops the connection instead of passing the answer back. That is the failure an
 * idempotency key exists for, with the server's fingerprint check and replay in the loop.
 */
import { type IncomingMessage, type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore } from '@oncely/server';
import { withIdempotency } from '@oncely/server/node';

/** A request as the proxy forwarded it. */
export interface ForwardedRequest {
  method: string;
  path: string;
  key: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

export interface OncelyServer {
  /** The proxy's origin: what the client calls. */
  readonly origin: string;
  /** How many times the handler ran. */
  readonly executions: number;
  /** Every request the proxy forwarded, in order. */
  readonly forwarded: ForwardedRequest[];
  /** Drops the answer to the next `count` requests after the server has sent it in full. */
  loseResponses(count: number): void;
  close(): Promise<void>;
}

/** Starts the server and its proxy. The handler answers 201 with `{execution, bytes}`. */
export async function startOncelyServer(): Promise<OncelyServer> {
  let executions = 0;
  let toLose = 0;
  const forwarded: ForwardedRequest[] = [];
  const app = createServer(
    withIdempotency(
      async (req, res) => {
        const body = await readBody(req);
        executions += 1;
        const text = JSON.stringify({ execution: executions, bytes: body.length });
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
      // `wait`: a retry that overtakes the first request's completion waits for it and gets the replay.
      { store: new MemoryStore(), scope: 'global', wait: { timeoutMs: 5_000, pollMs: 10 } },
    ),
  );
  const appOrigin = await listen(app);
  const proxy = createServer((req, res) => {
    void readBody(req).then((body) => {
      const key = req.headers['idempotency-key'];
      forwarded.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        key: Array.isArray(key) ? key.join(', ') : key,
        contentType: req.headers['content-type'],
        body,
      });
      const lose = toLose > 0;
      if (lose) toLose -= 1;
      const upstream = request(`${appOrigin}${req.url ?? '/'}`, {
        method: req.method,
        headers: req.headers,
      });
      upstream.on('response', (answer) => {
        void readBody(answer).then((bytes) => {
          if (lose) {
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(bytes);
        });
      });
      upstream.on('error', () => req.socket.destroy());
      upstream.end(body);
    });
  });
  const origin = await listen(proxy);
  return {
    origin,
    get executions() {
      return executions;
    },
    forwarded,
    loseResponses(count) {
      toLose = count;
    },
    async close() {
      await Promise.all([close(proxy), close(app)]);
    },
  };
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
