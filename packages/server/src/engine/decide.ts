import type { StoredResponse } from '../store/types.js';
import type { ResolvedIdempotencyOptions } from './options.js';
import { selectReplayHeaders } from './replay-headers.js';
import type { CapturedResponse } from './types.js';

/**
 * Statuses that say "not now" rather than "done": the key is released so a retry runs again
 * (408 Request Timeout, 409 Conflict, 423 Locked, 425 Too Early, 429 Too Many Requests).
 */
export const RELEASED_STATUSES: ReadonlySet<number> = new Set([408, 409, 423, 425, 429]);

/** The record kept for a response: its status, the allowed headers, and the body when it was kept. */
export function toStoredResponse(
  options: Pick<ResolvedIdempotencyOptions<never>, 'replayHeaders'>,
  response: CapturedResponse,
): StoredResponse {
  const headers = selectReplayHeaders(response.headers, options.replayHeaders);
  return { status: response.status, headers, body: response.body };
}
