/**
 * A proxy on 127.0.0.1 that loses responses on demand: the upstream runs the request and answers in
 * full, then the client's connection is destroyed instead of getting that answer — a response lost on
 * the way back, after the server kept its outcome. With `cors`, it answers preflights and adds the
 * headers a page on another origin needs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  key: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface UpstreamAnswer {
  status: number;
  body: string;
  replayed: boolean;
  /** Lost on the way back to the client. */
  dropped: boolean;
}

export interface DropProxy {
  readonly url: string;
  /** Requests forwarded, in order (preflights excluded). */
  readonly seen: ProxiedRequest[];
  /** What the upstream answered each of them. */
  readonly answers: UpstreamAnswer[];
  /** Loses the next `count` responses. */
  dropNext(count: number): void;
  close(): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'content-type, idempotency-key, authorization',
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
  'access-control-expose-headers': 'idempotent-replayed, retry-after',
};
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export async function startDropProxy(target: string, { cors = false } = {}): Promise<DropProxy> {
  const seen: ProxiedRequest[] = [];
  const answers: UpstreamAnswer[] = [];
  let drops = 0;
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer(function proxyRequest(req, res) {
    if (cors && req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const key = req.headers['idempotency-key'];
      seen.push({
        method: req.method!,
        path: req.url!,
        key: Array.isArray(key) ? key.join(', ') : key,
        headers: req.headers,
        body: body.toString(),
      });
      const upstream = http.request(
        `${target}${req.url}`,
        { method: req.method, headers: { ...req.headers, host: new URL(target).host }, agent },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            const payload = Buffer.concat(parts);
            const dropped = drops > 0;
            if (dropped) drops--;
            answers.push({
              status: answer.statusCode!,
              body: payload.toString(),
              replayed: answer.headers['idempotent-replayed'] === 'true',
              dropped,
            });
            if (dropped) {
              req.socket.destroy();
              return;
            }
            const headers = Object.fromEntries(
              Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name)),
            );
            res.writeHead(answer.statusCode!, { ...headers, ...(cors ? CORS : {}) });
            res.end(payload);
          });
        },
      );
      upstream.on('error', () => req.socket.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    answers,
    dropNext(count) {
      drops += count;
    },
    close() {
      server.closeAllConnections();
      agent.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
