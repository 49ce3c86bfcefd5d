import type { CapturedResponse, Execution, PreparedResponse } from '../../engine/types.js';
import { isStreamingContentType } from './streaming.js';

/** Statuses whose responses must not carry a body (RFC 9110 §6.4.1, §15.3.5, §15.4.5). */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** A Web `Response` for a replay or problem. */
export function toWebResponse(response: PreparedResponse): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers) headers.append(name, value);
  const body = NULL_BODY_STATUSES.has(response.status) ? null : response.body;
  return new Response(body as BodyInit | null, { status: response.status, headers });
}

/**
 * Reports a handler's `Response` to `execution` and returns the one to send. The body is read (up to
 * `maxResponseBytes`) before the response is returned, so the outcome is stored before the client sees
 * it. A larger body is streamed on unbuffered; an event stream is passed through untouched.
 */
export async function captureWebResponse(response: Response, execution: Execution): Promise<Response> {
  const captured = (
    body: Uint8Array | null,
    notReplayable?: CapturedResponse['notReplayable'],
  ): CapturedResponse => {
    const result: CapturedResponse = { status: response.status, headers: [...response.headers], body };
    if (notReplayable !== undefined) result.notReplayable = notReplayable;
    return result;
  };
  if (response.body === null) {
    await execution.complete(captured(new Uint8Array(0)));
    return response;
  }
  if (isStreamingContentType(response.headers.get('content-type'))) {
    // Never awaited by the client: an event stream may never end.
    void execution.complete(captured(null, 'stream'));
    return response;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (error) {
      await execution.fail(error);
      throw error;
    }
    if (result.done) break;
    chunks.push(result.value);
    size += result.value.byteLength;
    if (size > execution.maxResponseBytes) {
      await execution.complete(captured(null, 'oversize'));
      return new Response(concatThenRest(chunks, reader), init(response));
    }
  }
  const body = concat(chunks, size);
  await execution.complete(captured(body));
  return new Response(NULL_BODY_STATUSES.has(response.status) ? null : (body as BodyInit), init(response));
}

function init(response: Response): ResponseInit {
  return { status: response.status, statusText: response.statusText, headers: response.headers };
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The chunks already read, then the rest of the original body, without buffering it. */
function concatThenRest(
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
