import { Readable } from 'node:stream';
import { BODY_TOO_LARGE } from '../../engine/types.js';
import { collectBody } from '../node-http/collect-body.js';
import type { BodyTooLarge } from '../../engine/types.js';

const encoder = new TextEncoder();

/**
 * Reads `payload` to its end, holding at most `limit` bytes: a declared length above it is refused
 * before reading, a longer stream as soon as its running total crosses it (then left paused, unread).
 */
export function readPayload(
  payload: Readable,
  limit: number,
  declared: string | undefined,
): Promise<Buffer | BodyTooLarge> {
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) {
    return Promise.resolve(BODY_TOO_LARGE);
  }
  return collectBody(payload, limit, { pull: false });
}

function noRead(): void {
  // Everything is pushed up front.
}

/**
 * A stream of `body` for the parsers after `preParsing`: a plain Readable with the bytes already
 * pushed (`Readable.from` would pull them through an async iterator). Fastify checks the bytes it
 * parses against Content-Length through `receivedEncodedLength`.
 */
export function bodyStream(body: Uint8Array): Readable {
  const stream = new Readable({ read: noRead });
  stream.push(body);
  stream.push(null);
  return Object.assign(stream, { receivedEncodedLength: body.byteLength });
}

/** The bytes of a body a parser already read (when `preParsing` did not keep them). */
export function bytesOfParsedBody(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  if (body === undefined || body === null) return new Uint8Array(0);
  return encoder.encode(JSON.stringify(body) ?? '');
}
