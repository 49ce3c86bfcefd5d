import type { ServerResponse } from 'node:http';
import type { PreparedResponse } from '../../engine/types.js';

/** Writes a replay or problem to a node response; the length is recomputed, never replayed. */
export function sendPrepared(res: ServerResponse, response: PreparedResponse): void {
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
  res.end(Buffer.from(buffer, byteOffset, byteLength));
}
