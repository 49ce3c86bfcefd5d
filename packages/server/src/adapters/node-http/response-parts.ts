import type { OutgoingHttpHeaders, OutgoingMessage, ServerResponse } from 'node:http';

/**
 * Header name/value pairs of a node response, skipping unset ones. By name (`getHeaderNames()`):
 * `Object.entries(res.getHeaders())` copies a dictionary-mode object first, several times slower.
 */
export function headerEntries(res: OutgoingMessage): Array<[string, string | number | readonly string[]]> {
  const entries: Array<[string, string | number | readonly string[]]> = [];
  for (const name of res.getHeaderNames()) {
    const value = res.getHeader(name);
    if (value !== undefined) entries.push([name, value]);
  }
  return entries;
}

/** Headers passed to `writeHead()` bypass `getHeaders()`; setting them on `res` makes them visible. */
export function setWriteHeadHeaders(
  res: ServerResponse,
  headers: OutgoingHttpHeaders | Array<string | string[]> | undefined,
): void {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) res.appendHeader(String(headers[i]), headers[i + 1]!);
  } else if (headers !== undefined) {
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
  }
}

/** The bytes of a `write()`/`end()` chunk, or `undefined` when there is none. Not a copy. */
export function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined;
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  const view = chunk as Uint8Array;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
