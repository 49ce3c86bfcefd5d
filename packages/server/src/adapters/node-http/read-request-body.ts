import type { IncomingMessage } from 'node:http';

const encoder = new TextEncoder();

/**
 * The body bytes of a node request, for the fingerprint, leaving the stream readable for whatever
 * runs next (body parsers, the handler).
 *
 * - `req.rawBody` (a Buffer set by a body parser's `verify` callback) wins: those are the exact bytes.
 * - A stream already consumed by a body parser mounted before us is fingerprinted from `req.body`
 *   (Buffer or string as is, anything else as JSON): equal requests still match.
 * - Otherwise the stream is read to its end and the bytes are put back with `unshift()` before `end`
 *   is emitted, so a parser mounted after us reads the same bytes.
 */
export function readRequestBody(req: IncomingMessage): Promise<Uint8Array> {
  const {
    rawBody,
    body,
    _body: parsed,
  } = req as IncomingMessage & { rawBody?: unknown; body?: unknown; _body?: unknown };
  if (rawBody instanceof Uint8Array) return Promise.resolve(rawBody);
  if (parsed === true || req.readableEnded) return Promise.resolve(bytesOfParsedBody(body));
  return readAndRestore(req);
}

function bytesOfParsedBody(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  if (body === undefined || body === null) return new Uint8Array(0);
  try {
    return encoder.encode(JSON.stringify(body) ?? '');
  } catch {
    return new Uint8Array(0);
  }
}

function readAndRestore(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const cleanup = (): void => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onReadable = (): void => {
      let chunk: unknown;
      while ((chunk = req.read()) !== null) {
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      }
      // `complete` turns true once the whole message arrived; then the final read() above found the
      // end, and `end` is due on the next tick unless data is put back first.
      if (!req.complete) return;
      cleanup();
      const bytes = Buffer.concat(chunks);
      if (bytes.byteLength > 0) req.unshift(bytes);
      resolve(bytes);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('The request was aborted before its body was read.'));
    };
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
