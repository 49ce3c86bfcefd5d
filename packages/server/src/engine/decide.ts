import type { ResolvedIdempotencyOptions } from './options.js';
import { selectReplayHeaders } from './replay-headers.js';
import type { StoredResponse } from '../store/types.js';
import type { CapturedResponse } from './types.js';

/**
 * Statuses that say "not now" rather than "done": the key is released so a retry runs again
 * (408 Request Timeout, 409 Conflict, 423 Locked, 425 Too Early, 429 Too Many Requests).
 */
export const RELEASED_STATUSES: ReadonlySet<number> = new Set([408, 409, 423, 425, 429]);

/** What becomes of a first response: kept for replay, or released so a retry runs again. */
export type ResponseDecision =
  { action: 'release'; status: number } | { action: 'complete'; response: StoredResponse };

/** Released statuses and (unless `replayServerErrors`) 5xx release the key; anything else is kept. */
export function decideResponse(
  options: Pick<ResolvedIdempotencyOptions<never>, 'replayServerErrors' | 'replayHeaders'>,
  response: CapturedResponse,
): ResponseDecision {
  const { status } = response;
  if (RELEASED_STATUSES.has(status) || (status >= 500 && !options.replayServerErrors)) {
    return { action: 'release', status };
  }
  const headers = selectReplayHeaders(response.headers, options.replayHeaders);
  return { action: 'complete', response: { status, headers, body: response.body } };
}
