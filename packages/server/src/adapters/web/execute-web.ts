import type { Decision, Execution } from '../../engine/types.js';
import {
  NULL_BODY_STATUSES,
  cachedBodyOf,
  concat,
  concatThenRest,
  toWebResponse,
  withBody,
} from './web-response.js';

/**
 * Carries out the engine's decision for a Web handler (fetch, Hono): `produce` runs the handler and
 * resolves to its `Response`, whose body is read and reported before the response is returned, so
 * the outcome is stored before the client sees it. Rejects with the handler's error.
 */
export async function carryOutWeb(
  decision: Decision,
  produce: () => Promise<Response>,
  answeredElsewhere: () => boolean = () => false,
): Promise<Response> {
  if (decision.action === 'pass') return produce();
  if (decision.action === 'respond') return toWebResponse(decision.response);
  const { execution } = decision;
  if (execution.transactional) return transact(execution, produce, answeredElsewhere);
  const response = await execution.run(produce);
  return record(execution, response, false, answeredElsewhere());
}

/**
 * Reports `response` to `execution` and returns the one to send. A kept body is read up to
 * `maxResponseBytes`; past it (or for an event stream) the response is passed on unbuffered, already
 * settled. `whole`: read the body to its end whatever its size (transactional mode holds it all).
 */
async function record(
  execution: Execution,
  response: Response,
  whole: boolean,
  answeredElsewhere: boolean,
): Promise<Response> {
  // A layer above answered while the handler ran (Hono: `hono/timeout`, whose finalized context keeps
  // that answer): `response` is that answer, already sent; the handler's own answer is lost.
  // Checked before `bodyUsed`, which makes a lightweight response build its real one.
  const cached = answeredElsewhere ? undefined : cachedBodyOf(response);
  if (answeredElsewhere || (cached === undefined && response.bodyUsed)) {
    execution.timedOut();
    execution.head(response.status, response.headers);
    void execution.end();
    return response;
  }
  execution.head(response.status, response.headers);
  if (cached !== undefined) {
    // @hono/node-server's c.json()/c.text(): the body is at hand (whole, so an event stream's too), and
    // the response goes out as is (node-server writes it without streams) instead of being read as a
    // stream and rebuilt. Bench row "Hono, oncely MemoryStore, first": 0.41× → 0.55× of bare's CPU a
    // request in an interleaved A/B (~690 → ~520 µs on a loaded machine).
    if (execution.keepsBody && !NULL_BODY_STATUSES.has(response.status)) {
      execution.write(cached.bytes, cached.owned);
    }
    await execution.end();
    return response;
  }
  if (response.body === null) {
    await execution.end();
    return response;
  }
  // An event stream: its outcome is fixed at its head, and it flows on untouched.
  if (!execution.keepsBody) {
    void execution.end();
    return response;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (error) {
      // Nothing of it was sent: the handler failed.
      execution.cancel();
      throw error;
    }
    if (result.done) break;
    chunks.push(result.value);
    execution.write(result.value, true);
    if (!whole && !execution.keepsBody) {
      // Over maxResponseBytes: not kept whatever follows, so the outcome is fixed; the rest flows on.
      void execution.end();
      return withBody(response, concatThenRest(chunks, reader));
    }
  }
  const body = concat(chunks);
  await execution.end();
  return withBody(response, body as BodyInit);
}

/**
 * Transactional mode: the handler runs inside the store's transaction, its body is read in full
 * before the commit, and nothing is returned until then. An event stream commits at its head and
 * flows after the commit: whatever its producer does later runs outside the transaction.
 */
async function transact(
  execution: Execution,
  produce: () => Promise<Response>,
  answeredElsewhere: () => boolean,
): Promise<Response> {
  const held = execution
    .run(produce)
    .then((response) => record(execution, response, true, answeredElsewhere()));
  // The handler may never run (the transaction could not begin): the settlement answers then.
  const settlement = await Promise.race([execution.settled, held.then(() => execution.settled)]);
  if (settlement.action === 'discard') return held;
  if (settlement.action === 'send') return held;
  // Replaced (superseded, store failure, given up): a held event stream is never read.
  void held.then((response) => response.body?.cancel()).catch(() => undefined);
  return toWebResponse(settlement.response);
}
