import { Readable } from 'node:stream';
import type { ConformanceResponse } from './types.js';

type Streamed = Extract<ConformanceResponse, { kind: 'stream' }>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The chunks of a streamed route result, `delayMs` apart; errors after `failAfter` chunks. */
export async function* chunksOf(result: Streamed): AsyncGenerator<Uint8Array> {
  for (const [index, chunk] of result.chunks.entries()) {
    if (index === result.failAfter) throw new Error('the stream failed');
    yield chunk;
    await sleep(result.delayMs ?? 5);
  }
}

/** A node stream of a streamed route result (for `stream.pipeline` into a response). */
export function nodeStreamOf(result: Streamed): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of chunksOf(result)) yield Buffer.from(chunk);
    })(),
  );
}

/** A Web `Response` for a route result (the Hono and fetch harnesses). */
export function webResponseOf(result: Exclude<ConformanceResponse, { kind: 'throw' }>): Response {
  const headers = new Headers();
  for (const [name, value] of result.headers) headers.append(name, value);
  if (result.kind === 'send') {
    return new Response(result.status === 204 ? null : Buffer.from(result.body), {
      status: result.status,
      headers,
    });
  }
  const chunks = chunksOf(result);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done === true) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, { status: result.status, headers });
}
