import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Execution, PreparedResponse, Settlement } from '../../engine/types.js';
import { setReplyHeaders } from './reply-headers.js';

/** A transactional execution in flight between `preHandler` and `onSend`. */
export interface FastifyTransaction {
  /** From `onSend`: reports the payload, waits for the commit, returns the payload to send. */
  settle(reply: FastifyReply, payload: unknown): Promise<unknown>;
}

/**
 * Transactional mode on Fastify: `proceed` (the `preHandler` hook's `done`) is called from inside the
 * store's transaction, so the route handler runs in its async context; the payload reaches `onSend`,
 * is read in full and held until the commit. A handler error becomes the error handler's 5xx payload,
 * which rolls back and releases. A reply that never reaches `onSend` (hijacked, connection closed)
 * is rolled back once the handler ended, or at `maxExecution`.
 */
export function startFastifyTransaction(
  execution: Execution,
  reply: FastifyReply,
  proceed: () => void,
  answer: (response: PreparedResponse) => void,
): FastifyTransaction {
  let proceeded = false;
  let inOnSend = false;
  reply.raw.once('close', () => execution.close());
  execution
    .run(() => {
      proceeded = true;
      proceed();
    })
    .catch(() => undefined);
  // Before the handler ran (the transaction could not begin), or when the reply never reached onSend
  // (given up at maxExecution), nothing else would answer.
  void execution.settled.then((settlement) => {
    const unanswered = !proceeded || (!inOnSend && !reply.sent);
    if (unanswered && settlement.action === 'respond') answer(settlement.response);
  });
  return {
    async settle(reply, payload) {
      inOnSend = true;
      let held: { payload: unknown; ended: Promise<Settlement> | undefined };
      try {
        held = await holdPayload(reply, payload, execution);
      } catch (error) {
        execution.cancel();
        throw error;
      }
      // Settled, or (the answer of a timeout while the handler still runs) to be settled later.
      const settlement = await (held.ended ?? execution.settled);
      if (settlement.action !== 'respond') return held.payload;
      if (held.payload instanceof Readable) held.payload.destroy();
      return replacePayload(reply, settlement.response);
    },
  };
}

/** Reports the payload to `execution` (read in full, unless an event stream) and returns it to send. */
async function holdPayload(
  reply: FastifyReply,
  payload: unknown,
  execution: Execution,
): Promise<{ payload: unknown; ended: Promise<Settlement> | undefined }> {
  const headers: Array<[string, string | number | readonly string[]]> = [];
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers.push([name, value]);
  }
  execution.head(reply.statusCode, headers);
  // An event stream commits at its head and flows after the commit, outside the transaction.
  if (!execution.keepsBody && payload instanceof Readable) return { payload, ended: execution.end() };
  let body: Uint8Array | undefined;
  if (typeof payload === 'string') body = Buffer.from(payload);
  else if (payload instanceof Uint8Array) body = payload;
  else if (payload instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of payload)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    body = Buffer.concat(chunks);
    payload = body;
  }
  if (body !== undefined) execution.write(body, typeof payload === 'string');
  return { payload, ended: execution.end() };
}

function replacePayload(reply: FastifyReply, response: PreparedResponse): Buffer {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
  reply.code(response.status);
  setReplyHeaders(reply, response.headers);
  const { buffer, byteOffset, byteLength } = response.body;
  return Buffer.from(buffer, byteOffset, byteLength);
}
