/**
 * A real HTTP server on 127.0.0.1 that injects faults, for the client's tests. Each path has a script:
 * the n-th request to it gets the n-th behaviour (the last one repeats). Every request is recorded
 * with its key and body bytes after the body has been read in full — "the handler ran".
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  key: string | undefined;
  contentType: string | undefined;
  body: Buffer;
  headers: IncomingMessage['headers'];
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void;

export interface FaultServer {
  readonly origin: string;
  /** Scripts a path and returns its URL. */
  route(path: string, ...behaviours: Behaviour[]): string;
  /** Requests the path received, in order. */
  seen(path: string): SeenRequest[];
  close(): Promise<void>;
}

export async function startFaultServer(): Promise<FaultServer> {
  const scripts = new Map<string, Behaviour[]>();
  const log = new Map<string, SeenRequest[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const key = req.headers['idempotency-key'];
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        path,
        key: Array.isArray(key) ? key.join(', ') : key,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks),
        headers: req.headers,
      };
      const list = log.get(path) ?? [];
      list.push(seen);
      log.set(path, list);
      const script = scripts.get(path) ?? [ok()];
      const behaviour = script[Math.min(list.length - 1, script.length - 1)]!;
      behaviour(req, res, seen);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    route(path, ...behaviours) {
      scripts.set(path, behaviours);
      log.set(path, []);
      return origin + path;
    },
    seen: (path) => log.get(path) ?? [],
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** 200 with `{ ok: true, key, attempt }`. */
export const ok =
  (extra: Record<string, unknown> = {}): Behaviour =>
  (_req, res, seen) =>
    json(res, 200, { ok: true, key: seen.key, ...extra });

/** Any status with optional headers and JSON body. */
export const status =
  (code: number, headers: Record<string, string> = {}, body: unknown = { status: code }): Behaviour =>
  (_req, res) =>
    json(res, code, body, headers);

/** An RFC 9457 problem document. */
export const problem =
  (code: number, type: string, headers: Record<string, string> = {}): Behaviour =>
  (_req, res) => {
    const text = JSON.stringify({ type, title: 'problem', status: code });
    res.writeHead(code, { 'content-type': 'application/problem+json', ...headers });
    res.end(text);
  };

/** The handler ran (the request was recorded) but the response is lost: the socket is destroyed. */
export const destroy = (): Behaviour => (req) => req.socket.destroy();

/** Headers and part of the body go out, then the connection resets. */
export const resetMidBody =
  (statusCode = 200): Behaviour =>
  (req, res) => {
    res.writeHead(statusCode, { 'content-type': 'text/plain', 'content-length': '1000' });
    res.write('partial body ');
    setTimeout(() => req.socket.destroy(), 10);
  };

/** Answers 200 only after `ms` (past an attempt timeout). */
export const slow =
  (ms: number): Behaviour =>
  (req, res, seen) => {
    const timer = setTimeout(() => ok({ slow: true })(req, res, seen), ms);
    res.on('close', () => clearTimeout(timer));
  };

/** Headers at once, then a byte every `every` ms, forever: a response that never ends. */
export const trickle =
  (every = 20): Behaviour =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), every);
    res.on('close', () => clearInterval(timer));
  };

/** A redirect to `location` (resolved by the client against the request URL). */
export const redirect =
  (code: number, location: string): Behaviour =>
  (_req, res) => {
    res.writeHead(code, { location, 'content-length': '0' });
    res.end();
  };
