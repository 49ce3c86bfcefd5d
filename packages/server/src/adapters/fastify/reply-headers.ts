import type { FastifyReply } from 'fastify';

/** Sets prepared headers on a reply: a name given once as a string, a repeated one as an array. */
export function setReplyHeaders(
  reply: FastifyReply,
  headers: ReadonlyArray<readonly [string, string]>,
): void {
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    let values: string[] | undefined;
    let seen = false;
    for (let j = 0; j < headers.length; j++) {
      if (headers[j]![0] !== name) continue;
      // Repeated names are set once, at their first position, with every value in order.
      if (j < i) {
        seen = true;
        break;
      }
      if (j > i) (values ??= [value]).push(headers[j]![1]);
    }
    if (!seen) reply.header(name, values ?? value);
  }
}
