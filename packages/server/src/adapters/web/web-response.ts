import type { PreparedResponse } from '../../engine/types.js';

/** Statuses whose responses must not carry a body (RFC 9110 §6.4.1, §15.3.5, §15.4.5). */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** A Web `Response` for a replay or problem. */
export function toWebResponse(response: PreparedResponse): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers) headers.append(name, value);
  const body = NULL_BODY_STATUSES.has(response.status) ? null : response.body;
  return new Response(body as BodyInit | null, { status: response.status, headers });
}

/** `response` again with `body` (after its own body was read). */
export function withBody(response: Response, body: BodyInit | null): Response {
  return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

const encoder = new TextEncoder();

/**
 * The body bytes of a lightweight `Response` of @hono/node-server (what `c.json()`, `c.text()` and
 * `new Response(string | Uint8Array)` give there) that has not built its real `Response` yet: its
 * string or bytes, read without building it (which reading `body` would). Undefined for any other
 * `Response`. The lightweight response is recognised by its own `cache` symbol property holding
 * `[status, body, headers]`: were it renamed, the body is read as a stream as everywhere else.
 * `owned`: the bytes were made here (encoded from the string), not the handler's own array.
 */
export function cachedBodyOf(response: Response): { bytes: Uint8Array; owned: boolean } | undefined {
  for (const symbol of Object.getOwnPropertySymbols(response)) {
    if (symbol.description !== 'cache') continue;
    const cache = (response as unknown as Record<symbol, unknown>)[symbol];
    if (!Array.isArray(cache)) return undefined;
    const body: unknown = cache[1];
    if (typeof body === 'string') return { bytes: encoder.encode(body), owned: true };
    if (body instanceof Uint8Array) return { bytes: body, owned: false };
    return undefined;
  }
  return undefined;
}

/** Joins chunks into one array (the one chunk as is). */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The chunks already read, then the rest of the original body, without buffering it. */
export function concatThenRest(
  chunks: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const head = chunks.shift();
      if (head !== undefined) {
        controller.enqueue(head);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
