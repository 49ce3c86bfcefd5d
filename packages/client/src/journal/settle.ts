import { PROBLEM_CONTENT_TYPE, ProblemType, readProblemType } from '@oncely/core';
import { isOncelyClientError } from '../errors.js';
import { getRetryInfo } from '../retry-info.js';

/**
 * Statuses the server answers without keeping an outcome for the key (it releases the key: DESIGN,
 * "handler answers 408/409/423/425/429"): the operation has not happened yet, so it stays pending.
 */
const RELEASED = new Set([408, 409, 423, 425, 429]);

/**
 * Whether `response` is an answer the server kept for the key, so the operation is settled and its
 * journal entry can go: a status below 500 other than the released ones (a 422 "key reused" too —
 * no retry with this key can ever succeed), or the "response not replayable" problem (the operation
 * ran; only its answer was too large to store). A 5xx means the server released the key: pending.
 */
export async function isKeptAnswer(response: Response): Promise<boolean> {
  const { status } = response;
  if (status < 500) return !RELEASED.has(status);
  if (status !== 500) return false;
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith(PROBLEM_CONTENT_TYPE)) return false;
  const text = await response
    .clone()
    .text()
    .catch(() => '');
  return readProblemType(text) === ProblemType.responseNotReplayable;
}

/**
 * Whether a call that rejected with `error` is settled: when it carries a kept answer
 * (`throwOnHttpError`), or when it failed before any attempt was made (a malformed URL or method:
 * nothing was sent, and sending it again would fail the same way). Every other failure — attempts
 * used up, a deadline, an empty budget, the caller's abort — leaves the operation pending: a request
 * may have reached the server.
 */
export async function isSettledFailure(error: unknown, aborted: boolean): Promise<boolean> {
  if (aborted) return false;
  if (isOncelyClientError(error) && error.response instanceof Response) return isKeptAnswer(error.response);
  // The client records what a call did on every error it rejects with once attempts began.
  const info = getRetryInfo(error);
  return info === undefined || info.attempts === 0;
}
