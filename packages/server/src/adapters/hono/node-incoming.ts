import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/**
 * The node request behind `c.req.raw` on @hono/node-server (`c.env.incoming`), when its body is still
 * untouched; otherwise undefined (another runtime, or the body may be partly read elsewhere).
 *
 * Untouched: `c.req.raw` is still node-server's lightweight request for this very `incoming` and has
 * not built its real `Request` (which would read, or tee, the stream), and nothing has read the stream
 * (no `data`/`readable` listener, not flowing or paused, nothing read, not ended). The lightweight
 * request is recognised by its own symbol properties (`incomingKey`, `requestCache`): were they
 * renamed, it is not recognised and the body is read from a clone as everywhere else.
 */
export function untouchedIncoming(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming as IncomingMessage | undefined;
  if (typeof incoming !== 'object' || incoming === null || typeof incoming.unshift !== 'function') {
    return undefined;
  }
  const raw = c.req.raw as unknown as Record<symbol, unknown>;
  let bound = false;
  for (const symbol of Object.getOwnPropertySymbols(raw)) {
    if (symbol.description === 'requestCache') return undefined;
    if (symbol.description === 'incomingKey') bound = raw[symbol] === incoming;
  }
  const untouched =
    bound &&
    incoming.readableFlowing === null &&
    !incoming.readableDidRead &&
    !incoming.readableEnded &&
    incoming.listenerCount('data') === 0 &&
    incoming.listenerCount('readable') === 0;
  return untouched ? incoming : undefined;
}
