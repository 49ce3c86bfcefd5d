import { PassThrough, Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { CapturedResponse, Execution } from '../../engine/types.js';
import { isStreamingContentType } from '../web/streaming.js';

/**
 * Reports the payload of `onSend` to `execution` and returns the payload to send. Strings and
 * buffers are kept as is; a stream is buffered up to `maxResponseBytes` (then streamed on unkept), an
 * event stream is passed through untouched.
 */
export async function captureFastifyPayload(
  reply: FastifyReply,
  payload: unknown,
  execution: Execution,
): Promise<unknown> {
  const report = (
    body: Uint8Array | null,
    notReplayable?: CapturedResponse['notReplayable'],
  ): Promise<void> => {
    const headers: Array<[string, string | number | readonly string[]]> = [];
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined) headers.push([name, value]);
    const captured: CapturedResponse = { status: reply.statusCode, headers, body };
    if (notReplayable !== undefined) captured.notReplayable = notReplayable;
    return execution.complete(captured);
  };
  if (payload === null || payload === undefined) {
    await report(new Uint8Array(0));
    return payload;
  }
  if (typeof payload === 'string' || payload instanceof Uint8Array) {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    await report(
      body.byteLength > execution.maxResponseBytes ? null : body,
      body.byteLength > execution.maxResponseBytes ? 'oversize' : undefined,
    );
    return payload;
  }
  if (!(payload instanceof Readable)) {
    await report(null, 'stream');
    return payload;
  }
  if (isStreamingContentType(reply.getHeader('content-type'))) {
    void report(null, 'stream');
    return payload;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = payload[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  try {
    for (;;) {
      const { done, value } = await iterator.next();
      if (done === true) break;
      const chunk = typeof value === 'string' ? Buffer.from(value) : (value as Buffer);
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size > execution.maxResponseBytes) {
        await report(null, 'oversize');
        return Readable.from(restOf(chunks, iterator)).pipe(new PassThrough());
      }
    }
  } catch (error) {
    await execution.fail(error);
    throw error;
  }
  const body = Buffer.concat(chunks);
  await report(body);
  return body;
}

async function* restOf(head: Buffer[], iterator: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  yield* head;
  for (;;) {
    const { done, value } = await iterator.next();
    if (done === true) return;
    yield typeof value === 'string' ? Buffer.from(value) : (value as Buffer);
  }
}
