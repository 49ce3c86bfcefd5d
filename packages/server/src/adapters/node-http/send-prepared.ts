import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PreparedResponse } from '../../engine/types.js';
import { isBodyLeftUnread } from './read-request-body.js';

/**
 * After refusing a body, at most this much of its rest is read and dropped (and for at most
 * {@link DISCARD_MAX_MS}) so that a client still sending reads the answer instead of a connection
 * reset; past either bound the connection is cut. The same bound as @hono/node-server's drain.
 */
export const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
/** Longest time spent dropping the rest of a refused body, in ms. */
export const DISCARD_MAX_MS = 5000;

/**
 * Writes a replay or problem to a node response; the length is recomputed, never replayed.
 *
 * Pass `req` when the answer may refuse a body left partly unread (413 over `maxRequestBytes`): the
 * answer is then sent at once with `Connection: close`, the rest of the body is dropped as it arrives,
 * never kept, within {@link DISCARD_MAX_BYTES} and {@link DISCARD_MAX_MS}, and the connection closes.
 */
export function sendPrepared(res: ServerResponse, response: PreparedResponse, req?: IncomingMessage): void {
  if (!isAnswerable(res)) {
    // Someone else answered first (a timeout middleware): a second answer would throw. A response
    // left half-written can only be cut.
    if (!res.writableEnded) res.destroy();
    return;
  }
  res.statusCode = response.status;
  const grouped = new Map<string, string[]>();
  for (const [name, value] of response.headers) {
    const values = grouped.get(name);
    if (values === undefined) grouped.set(name, [value]);
    else values.push(value);
  }
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.setHeader('content-length', response.body.byteLength);
  const { buffer, byteOffset, byteLength } = response.body;
  const body = Buffer.from(buffer, byteOffset, byteLength);
  if (req === undefined || !isBodyLeftUnread(req)) {
    res.end(body);
    return;
  }
  res.setHeader('connection', 'close');
  // The whole answer goes out now (the client reads it by its length); the response only ends once
  // the request did, since Node closes a `Connection: close` socket as soon as the response ends.
  res.write(body);
  discardThenEnd(req, res);
}

/** Whether nothing was sent on `res` yet, so it can still carry an answer. */
export function isAnswerable(res: ServerResponse): boolean {
  return !res.headersSent && !res.writableEnded && !res.destroyed;
}

function discardThenEnd(req: IncomingMessage, res: ServerResponse): void {
  let discarded = 0;
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', stop);
    req.off('error', stop);
    req.off('close', stop);
    // Still unread past the bounds: stop reading; ending the response closes the connection.
    if (!req.complete) req.pause();
    res.end();
  };
  const onData = (chunk: Buffer | string): void => {
    discarded += chunk.length;
    if (discarded > DISCARD_MAX_BYTES) stop();
  };
  const timer = setTimeout(stop, DISCARD_MAX_MS);
  timer.unref();
  req.on('data', onData);
  req.once('end', stop);
  req.once('error', stop);
  req.once('close', stop);
  req.resume();
}
