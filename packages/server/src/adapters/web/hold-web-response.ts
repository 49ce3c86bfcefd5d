import type { CapturedResponse, TransactionalExecution } from '../../engine/types.js';
import { NULL_BODY_STATUSES, toWebResponse } from './capture-web-response.js';
import { isStreamingContentType } from './streaming.js';

/** A handler's `Response`, read in full and held until the transaction settles. */
interface HeldWebResponse {
  captured: CapturedResponse;
  /** What to send once the transaction completed or released the key. */
  response: Response;
}

/**
 * Transactional mode on Web responses (fetch, Hono): `produce` runs the handler inside the store's
 * transaction and returns its `Response`; the body is read in full before the commit (whatever
 * `maxResponseBytes`: past it, it is sent but not kept), and nothing is returned until the commit.
 * An event stream is reported at once, not replayable, and flows after the commit: whatever its
 * producer does later runs outside the transaction. Rejects with the handler's error.
 */
export async function transactWebResponse(
  execution: TransactionalExecution,
  produce: () => Promise<Response>,
): Promise<Response> {
  let held: HeldWebResponse | undefined;
  const result = await execution.transact(async () => {
    held = await holdWebResponse(await produce(), execution.maxResponseBytes);
    return held.captured;
  });
  if (result.action === 'respond') {
    // Replaced (superseded, store failure): a held event stream is never read.
    await held?.response.body?.cancel().catch(() => undefined);
    return toWebResponse(result.response);
  }
  if (held === undefined) throw new Error('transact resolved to send, but the handler never answered.');
  return held.response;
}

async function holdWebResponse(response: Response, maxResponseBytes: number): Promise<HeldWebResponse> {
  const captured = (
    body: Uint8Array | null,
    notReplayable?: CapturedResponse['notReplayable'],
  ): CapturedResponse => {
    const result: CapturedResponse = { status: response.status, headers: [...response.headers], body };
    if (notReplayable !== undefined) result.notReplayable = notReplayable;
    return result;
  };
  if (response.body === null) return { captured: captured(new Uint8Array(0)), response };
  if (isStreamingContentType(response.headers.get('content-type'))) {
    return { captured: captured(null, 'stream'), response };
  }
  const body = new Uint8Array(await response.arrayBuffer());
  const kept = body.byteLength > maxResponseBytes ? captured(null, 'oversize') : captured(body);
  return {
    captured: kept,
    response: new Response(NULL_BODY_STATUSES.has(response.status) ? null : (body as BodyInit), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    }),
  };
}
