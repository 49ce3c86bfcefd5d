import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore, withIdempotency } from '@oncely/server/node';

/** A Node-hosted Oncely server behind a front that fails the first answers of every call. */
export interface FlakyServer {
  url: string;
  /** The Idempotency-Key of each attempt that reached the front, in order. */
  keys: Array<string | undefined>;
  /** Runs of the handler behind the idempotency layer. */
  runs(): number;
  close(): Promise<void>;
}

/**
 * The front answers attempt 1 with a 503 (before anything runs) and lets attempt 2 through to the
 * idempotent handler, which runs and stores its answer, but then drops the connection without a byte
 * of it (the answer lost on the way back). Attempts from 3 on pass: a client that kept its key gets
 * the replay of the one run.
 */
export async function startFlakyServer(): Promise<FlakyServer> {
  let runs = 0;
  const backend = createServer(
    withIdempotency(
      (req, res) => {
        runs += 1;
        const run = runs;
        let body = '';
        req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ run, body }));
        });
      },
      { store: new MemoryStore(), scope: 'global' },
    ),
  );
  const backendUrl = await listen(backend);
  const keys: Array<string | undefined> = [];

  const front = createServer((req, res) => {
    keys.push(req.headers['idempotency-key'] as string | undefined);
    const attempt = keys.length;
    if (attempt === 1) {
      // A fresh connection for the next attempt: Deno's fetch re-sends a request by itself when a
      // reused keep-alive connection closes without an answer, which would hide attempt 2's drop.
      res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/plain', connection: 'close' });
      return void res.end('try again');
    }
    forward(req, backendUrl).then(
      async (answer) => {
        const bytes = Buffer.from(await answer.arrayBuffer());
        if (attempt === 2) return void req.socket.destroy();
        const headers: Record<string, string> = {};
        answer.headers.forEach((value, name) => (headers[name] = value));
        res.writeHead(answer.status, headers);
        res.end(bytes);
      },
      (error: unknown) => {
        res.writeHead(502);
        res.end(String(error));
      },
    );
  });
  const url = await listen(front);
  return {
    url,
    keys,
    runs: () => runs,
    close: async () => {
      await Promise.all([close(front), close(backend)]);
    },
  };
}

async function forward(req: IncomingMessage, backendUrl: string): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) {
      headers.set(name, value);
    }
  }
  return fetch(backendUrl + (req.url ?? '/'), {
    method: req.method ?? 'GET',
    headers,
    body: Buffer.concat(chunks),
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.closeAllConnections();
    server.close((error) => (error ? reject(error) : resolve()));
  });
}
