import type { IncomingMessage } from 'node:http';
import { BODY_TOO_LARGE, isBodyTooLarge } from '../../engine/types.js';
import { collectBody } from './collect-body.js';
import type { BodyTooLarge } from '../../engine/types.js';

const encoder = new TextEncoder();

/** Requests whose body we refused part-way: the rest is still on the connection, unread. */
const leftUnread = new WeakSet<IncomingMessage>();

/**
 * The body bytes of a node request, for the fingerprint, leaving the stream readable for whatever
 * runs next (body parsers, the handler). Never holds more than `maxBytes`.
 *
 * - `req.rawBody` (a Buffer set by a body parser's `verify` callback) wins: those are the exact bytes.
 * - A stream already consumed by a body parser mounted before us is fingerprinted from `req.body`
 *   (Buffer or string as is, anything else as JSON): equal requests still match.
 * - Otherwise the stream is read to its end and the bytes are put back with `unshift()` before `end`
 *   is emitted, so a parser mounted after us reads the same bytes.
 *
 * A body over `maxBytes` answers {@link BODY_TOO_LARGE}: a declared `Content-Length` above it before
 * anything is read, a chunked body as soon as the running total crosses it (the chunk that crosses it
 * is dropped, not kept). The request is then marked (see {@link isBodyLeftUnread}) so the answer can
 * close the connection cleanly.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | BodyTooLarge> {
  const {
    rawBody,
    body,
    _body: parsed,
    // Through unknown: body parsers' typings (`@koa/bodyparser`) declare `rawBody: string` globally.
  } = req as unknown as { rawBody?: unknown; body?: unknown; _body?: unknown };
  if (rawBody instanceof Uint8Array) return Promise.resolve(rawBody);
  if (parsed === true || req.readableEnded) return Promise.resolve(bytesOfParsedBody(body));
  if (declaredLength(req) > maxBytes) return Promise.resolve(refuse(req));
  return readAndRestore(req, maxBytes);
}

/**
 * Whether we refused this request's body before it was all received: the answer must close the
 * connection, since what is left of the body cannot be told apart from a next request.
 */
export function isBodyLeftUnread(req: IncomingMessage): boolean {
  return leftUnread.has(req) && !req.complete;
}

function refuse(req: IncomingMessage): BodyTooLarge {
  leftUnread.add(req);
  return BODY_TOO_LARGE;
}

/** The `Content-Length` the client declared, or -1 (none, chunked, or unreadable). */
function declaredLength(req: IncomingMessage): number {
  const value = req.headers['content-length'];
  if (value === undefined || !/^\d+$/.test(value)) return -1;
  return Number(value);
}

/** The bytes a parsed body stands for: a Buffer or string as is, anything else as JSON. */
export function bytesOfParsedBody(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  if (body === undefined || body === null) return new Uint8Array(0);
  try {
    return encoder.encode(JSON.stringify(body) ?? '');
  } catch {
    return new Uint8Array(0);
  }
}

async function readAndRestore(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | BodyTooLarge> {
  // Pulled, so the bytes can be put back (`unshift`) before `end` for whatever reads the body next.
  const body = await collectBody(req, maxBytes, { pull: true, arrived: () => req.complete });
  return isBodyTooLarge(body) ? refuse(req) : body;
}
