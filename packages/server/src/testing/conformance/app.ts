import { connect } from 'node:net';
import { readHeader } from '@oncely/core';
import type { ConformanceApp, ConformanceHarness, ConformanceRequest, ConformanceResponse } from './types.js';

const encoder = new TextEncoder();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The routes of the conformance app, by path prefix. */
async function route(
  request: ConformanceRequest,
  count: number,
  maxResponseBytes: number,
): Promise<ConformanceResponse> {
  const path = request.url.split('?', 1)[0]!;
  const json = (
    status: number,
    value: unknown,
    extra: Array<[string, string]> = [],
  ): ConformanceResponse => ({
    kind: 'send',
    status,
    headers: [['content-type', 'application/json; charset=utf-8'], ...extra],
    body: encoder.encode(JSON.stringify(value)),
  });
  const segments = path.split('/');
  if (path.startsWith('/slow') || path.startsWith('/hang/')) {
    await sleep(path.startsWith('/hang/') ? Number(segments[2]) : 150);
    return json(201, { count, body: request.body });
  }
  if (path.startsWith('/binary')) {
    return {
      kind: 'send',
      status: 200,
      headers: [['content-type', 'application/octet-stream']],
      body: allBytes(),
    };
  }
  if (path.startsWith('/throw')) return { kind: 'throw', error: new Error('boom: secret detail') };
  if (path.startsWith('/status/')) return json(Number(segments[2]), { count });
  if (path.startsWith('/big')) {
    return {
      kind: 'send',
      status: 200,
      headers: [['content-type', 'text/plain']],
      body: new Uint8Array(maxResponseBytes + 10).fill(120),
    };
  }
  if (path.startsWith('/sse')) {
    const chunks = ['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n'].map((c) => encoder.encode(c));
    return { kind: 'stream', status: 200, headers: [['content-type', 'text/event-stream']], chunks };
  }
  if (path.startsWith('/chunked')) {
    const chunks = ['one,', 'two,', `three:${count}`].map((c) => encoder.encode(c));
    return { kind: 'stream', status: 200, headers: [['content-type', 'text/plain; charset=utf-8']], chunks };
  }
  if (path.startsWith('/empty')) return { kind: 'send', status: 204, headers: [], body: new Uint8Array(0) };
  if (path.startsWith('/download') || path.startsWith('/cut')) {
    // 64 KiB in 1 KiB chunks, 10 ms apart: long enough for a client to leave in the middle.
    const chunks = Array.from({ length: 64 }, (_, i) => encoder.encode(String(i % 10).repeat(1024)));
    const failAfter = path.startsWith('/cut') ? { failAfter: 3 } : {};
    return {
      kind: 'stream',
      status: 200,
      headers: [['content-type', 'text/plain']],
      chunks,
      delayMs: 10,
      ...failAfter,
    };
  }
  if (path.startsWith('/stuck-first')) {
    // The first execution never ends (a hung handler); the ones after it answer at once.
    if (count === 1) await new Promise<never>(() => undefined);
    return json(201, { count });
  }
  return json(201, { count, body: request.body, url: request.url, note: 'héllo €' }, [
    ['location', '/things/42'],
    ['etag', '"v1"'],
    ['cache-control', 'no-cache'],
    ['set-cookie', 'a=1; Path=/'],
    ['set-cookie', 'b=2; Path=/'],
    ['x-internal', 'secret'],
  ]);
}

/** Every byte value, so an adapter that mangles binary fails. */
export function allBytes(): Uint8Array {
  return Uint8Array.from({ length: 512 }, (_, i) => i % 256);
}

/** A running conformance app: its URL, handler executions by path, and how to stop it. */
export interface RunningApp {
  url: string;
  /** Handler executions so far for paths starting with `prefix` (all when omitted). */
  count(prefix?: string): number;
  /** Handler executions that have ended so far (returned or thrown). */
  finished(prefix?: string): number;
  close(): Promise<void>;
}

/** Runs `test` against a fresh app (see {@link startApp}) and closes the app whatever happens. */
export async function withStartedApp(
  harness: ConformanceHarness,
  options: ConformanceApp['options'],
  test: (app: RunningApp) => Promise<void>,
  timeoutMs?: number,
): Promise<void> {
  const app = await startApp(harness, options, undefined, timeoutMs);
  try {
    await test(app);
  } finally {
    await app.close();
  }
}

/**
 * Starts the adapter with the conformance routes and options. Scope: the `x-tenant` header.
 * `beforeRoute` runs in the handler, before the route (e.g. a business write in the store's transaction).
 */
export async function startApp(
  harness: ConformanceHarness,
  options: ConformanceApp['options'],
  beforeRoute?: (path: string) => void,
  timeoutMs?: number,
): Promise<RunningApp> {
  const executions: string[] = [];
  const ended: string[] = [];
  const maxResponseBytes = options.maxResponseBytes ?? 1_048_576;
  const server = await harness({
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    options,
    scopeOf: (headers) => readHeader(headers, 'x-tenant') ?? 'anonymous',
    handle: async (request) => {
      const path = request.url.split('?', 1)[0]!;
      executions.push(path);
      beforeRoute?.(path);
      try {
        return await route(request, executions.filter((p) => p === path).length, maxResponseBytes);
      } finally {
        ended.push(path);
      }
    },
  });
  return {
    url: server.url,
    count: (prefix = '/') => executions.filter((path) => path.startsWith(prefix)).length,
    finished: (prefix = '/') => ended.filter((path) => path.startsWith(prefix)).length,
    close: () => server.close(),
  };
}

/** A response as the suite inspects it. */
export interface Answer {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
  json(): any;
}

/** Sends a request with real fetch. */
export async function send(
  url: string,
  path: string,
  init: {
    key?: string;
    body?: string;
    tenant?: string;
    method?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const { key, body = '{"amount":100}', tenant, method = 'POST' } = init;
  const headers = new Headers({ 'content-type': 'application/json', ...init.headers });
  if (key !== undefined) headers.set('idempotency-key', key);
  if (tenant !== undefined) headers.set('x-tenant', tenant);
  const response = await fetch(url + path, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? null : body,
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  return { status: response.status, headers: response.headers, bytes, text, json: () => JSON.parse(text) };
}

/**
 * Sends a POST with a body over a raw socket: the head, then each part a few ms apart (`chunked`:
 * each as one chunk, then the last chunk), stopping as soon as an answer starts. Resolves with the
 * first complete answer: a server that refused the body may close before it read all that was sent,
 * so a reset after a complete answer is not a failure.
 */
export function sendRawBody(
  url: string,
  path: string,
  init: { key?: string; parts: readonly string[]; chunked: boolean },
): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const size = init.parts.reduce((total, part) => total + Buffer.byteLength(part), 0);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Connection: close',
    'Content-Type: application/json',
    init.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`,
    ...(init.key === undefined ? [] : [`Idempotency-Key: ${init.key}`]),
  ].join('\r\n');
  return new Promise<Answer>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let answer: Answer | undefined;
    const settle = (): void => {
      if (answer !== undefined) return;
      answer = parseRawAnswer(received, socket.destroyed || socket.readableEnded);
      if (answer !== undefined) {
        resolve(answer);
        socket.destroy();
      }
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      settle();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      settle();
      if (answer === undefined) {
        reject(new Error(`No complete answer: ${JSON.stringify(received.toString('latin1').slice(0, 200))}`));
      }
    });
    void (async () => {
      socket.write(`${head}\r\n\r\n`);
      for (const part of init.parts) {
        await sleep(20);
        if (received.byteLength > 0 || socket.destroyed) return;
        socket.write(init.chunked ? `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n` : part);
      }
      if (init.chunked && received.byteLength === 0 && !socket.destroyed) socket.write('0\r\n\r\n');
    })();
  });
}

/** The answer in `bytes` once it is complete (by Content-Length, the last chunk, or `closed`). */
function parseRawAnswer(bytes: Buffer, closed: boolean): Answer | undefined {
  const split = bytes.indexOf('\r\n\r\n');
  if (split === -1) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, split).toString('latin1').split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = bytes.subarray(split + 4);
  const length = headers.get('content-length');
  if (length !== null) {
    if (body.byteLength < Number(length)) return undefined;
    body = body.subarray(0, Number(length));
  } else if (headers.get('transfer-encoding')?.includes('chunked')) {
    const parts: Buffer[] = [];
    for (let rest = body; ;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd === -1) return undefined;
      const chunkSize = Number.parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
      if (chunkSize === 0) break;
      if (rest.byteLength < lineEnd + 4 + chunkSize) return undefined;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + chunkSize));
      rest = rest.subarray(lineEnd + 4 + chunkSize);
    }
    body = Buffer.concat(parts);
  } else if (!closed) {
    return undefined;
  }
  const text = body.toString('utf8');
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    bytes: Buffer.from(body),
    text,
    json: () => JSON.parse(text),
  };
}
