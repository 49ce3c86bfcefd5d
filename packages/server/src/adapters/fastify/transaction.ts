import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { CapturedResponse, PreparedResponse, TransactionalExecution } from '../../engine/types.js';
import { isStreamingContentType } from '../web/streaming.js';
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
 * which rolls back and releases. Routes that hijack the reply bypass `onSend`: do not combine them
 * with a transactional store.
 */
export function startFastifyTransaction(
  execution: TransactionalExecution,
  hook: {
    /** Lets Fastify run the route handler (the hook's `done()`). */
    proceed: () => void;
    /** Answers from the hook: the transaction failed before the handler ran. */
    answer: (response: PreparedResponse) => void;
    /** Hands an error to Fastify before the handler ran (the hook's `done(error)`). */
    fail: (error: unknown) => void;
  },
): FastifyTransaction {
  let proceeded = false;
  let report!: (captured: CapturedResponse) => void;
  let fail!: (error: unknown) => void;
  const captured = new Promise<CapturedResponse>((resolve, reject) => {
    report = resolve;
    fail = reject;
  });
  const outcome = execution.transact(() => {
    proceeded = true;
    hook.proceed();
    return captured;
  });
  // After the handler ran, settle() (in onSend) observes the outcome; before, nothing else would.
  outcome.then(
    (result) => {
      if (!proceeded && result.action === 'respond') hook.answer(result.response);
    },
    (error: unknown) => {
      if (!proceeded) hook.fail(error);
    },
  );
  return {
    async settle(reply, payload) {
      let held: HeldPayload;
      try {
        held = await holdPayload(reply, payload, execution.maxResponseBytes);
      } catch (error) {
        fail(error);
        await outcome.catch(() => undefined);
        throw error;
      }
      report(held.captured);
      const result = await outcome;
      if (result.action === 'send') return held.payload;
      if (held.payload instanceof Readable) held.payload.destroy();
      return replacePayload(reply, result.response);
    },
  };
}

interface HeldPayload {
  captured: CapturedResponse;
  payload: unknown;
}

async function holdPayload(
  reply: FastifyReply,
  payload: unknown,
  maxResponseBytes: number,
): Promise<HeldPayload> {
  const captured = (
    body: Uint8Array | null,
    notReplayable?: CapturedResponse['notReplayable'],
  ): CapturedResponse => {
    const headers: Array<[string, string | number | readonly string[]]> = [];
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined) headers.push([name, value]);
    const result: CapturedResponse = { status: reply.statusCode, headers, body };
    if (notReplayable !== undefined) result.notReplayable = notReplayable;
    return result;
  };
  if (payload === null || payload === undefined) return { captured: captured(new Uint8Array(0)), payload };
  let body: Uint8Array;
  if (typeof payload === 'string' || payload instanceof Uint8Array) {
    body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  } else if (!(payload instanceof Readable) || isStreamingContentType(reply.getHeader('content-type'))) {
    // An event stream flows after the commit; whatever produces it then runs outside the transaction.
    return { captured: captured(null, 'stream'), payload };
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of payload)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    body = Buffer.concat(chunks);
    payload = body;
  }
  const kept = body.byteLength > maxResponseBytes ? captured(null, 'oversize') : captured(body);
  return { captured: kept, payload };
}

function replacePayload(reply: FastifyReply, response: PreparedResponse): Buffer {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
  reply.code(response.status);
  setReplyHeaders(reply, response.headers);
  const { buffer, byteOffset, byteLength } = response.body;
  return Buffer.from(buffer, byteOffset, byteLength);
}
