import { PROBLEM_CONTENT_TYPE, readProblemType } from '@oncely/core';
import { type Failure, responseFailure } from './classify-failure.js';
import type { AttemptScope } from './signals.js';

/**
 * A response with status ≥ 400 is a failure; whether it is retried is core's `classifyResponse`. A
 * problem document's `type` is read (from a clone, so the caller can still read the body) only where
 * it matters: 409 "in progress", 422 "key reused" and 500 "response not replayable".
 */
export function judgeResponse(response: Response): Failure | undefined | Promise<Failure | undefined> {
  return response.status < 400 ? undefined : judgeFailedResponse(response);
}

async function judgeFailedResponse(response: Response): Promise<Failure | undefined> {
  let problemType: string | undefined;
  const contentType = response.headers.get('content-type') ?? '';
  if (
    (response.status === 409 || response.status === 422 || response.status === 500) &&
    contentType.toLowerCase().startsWith(PROBLEM_CONTENT_TYPE)
  ) {
    problemType = readProblemType(await response.clone().text());
  }
  return responseFailure({ status: response.status, headers: response.headers, problemType }, { response });
}

/**
 * Frees a response that is not handed to the caller (retried, or a redirect followed), without waiting:
 * a web stream is cancelled, a Node stream (node-fetch) destroyed.
 */
export function discardResponse(response: Response): void {
  const body = response.body as unknown;
  if (typeof body !== 'object' || body === null) return;
  if (typeof (body as ReadableStream).cancel === 'function') {
    (body as ReadableStream).cancel().catch(() => undefined);
  } else if (typeof (body as { destroy?: unknown }).destroy === 'function') {
    (body as { destroy(): void }).destroy();
  }
}

/** Reads the whole body now; a reset mid-body rejects here, inside the attempt, and is retried. */
export async function bufferResponse(response: Response): Promise<Response> {
  const bytes = await response.arrayBuffer();
  return copyResponse(response, response.status === 204 || response.status === 304 ? null : bytes);
}

/**
 * Hands the scope of the call's last attempt over to the response the call resolves with. Without a
 * deadline timer (or a body) it is disposed now. With one, the deadline still bounds reading the body —
 * so the scope is disposed when that body is read to its end, cancelled or cut, and a finished call
 * keeps no timer. A body that is not a web stream (node-fetch) cannot be watched: disposed now.
 */
export function handOver(response: Response, scope: AttemptScope): Response {
  const source = response.body as unknown;
  if (!scope.holdsDeadline || !(source instanceof ReadableStream)) {
    scope.dispose();
    return response;
  }
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (!done) return controller.enqueue(value);
          scope.dispose();
          controller.close();
        } catch (error) {
          scope.dispose();
          controller.error(error);
        }
      },
      cancel(reason) {
        scope.dispose();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return copyResponse(response, body);
}

/** Marks a response reached by following redirects, as fetch would have. */
export function markRedirected(response: Response): Response {
  Object.defineProperty(response, 'redirected', { value: true, configurable: true });
  return response;
}

/** A new Response with `body`, and the status, headers, URL, type and redirect flag of `response`. */
function copyResponse(response: Response, body: BodyInit | null): Response {
  const copy = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(copy, 'url', { value: response.url, configurable: true });
  Object.defineProperty(copy, 'redirected', { value: response.redirected, configurable: true });
  Object.defineProperty(copy, 'type', { value: response.type, configurable: true });
  return copy;
}
