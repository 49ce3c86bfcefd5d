import type { IncomingMessage } from 'node:http';

/**
 * The `Idempotency-Key` line(s) of a node request. Node joins repeated lines of this header with ", "
 * in `req.headers`, so a value without a comma is one line. Only a value with a comma needs
 * `headersDistinct` (a second pass over every header line, made on first read) to tell a repeated
 * header from a comma in a quoted key. Requests without it (Fastify's `inject()`) give the joined value.
 */
export function keyHeaderLines(req: IncomingMessage): string | string[] | undefined {
  const value = req.headers['idempotency-key'];
  if (value === undefined || !value.includes(',')) return value;
  const distinct = (req as { headersDistinct?: Record<string, string[] | undefined> }).headersDistinct;
  return distinct?.['idempotency-key'] ?? value;
}
