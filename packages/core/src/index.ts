// The public API of @oncely/core: what a user needs to write a client or an adapter with Oncely's rules,
// each name documented in the README. Deliberately not exported: the tables behind the functions
// (retryable statuses, error codes and methods, the default policy, the problem titles, the longest
// key), the HTTP-date and should-retry parsers — the functions that use them are the API, so the
// tables can change without a breaking release.

export { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from './headers.js';
export type { HeaderSource } from './headers.js';
export { CoreErrorCode, OncelyError, isOncelyError } from './errors.js';
export type { OncelyErrorOptions } from './errors.js';
export { ProblemType, PROBLEM_CONTENT_TYPE, createProblem, isOncelyProblemType } from './problem.js';
export type { ProblemDetails, ProblemTypeUri } from './problem.js';
export {
  assertIdempotencyKey,
  checkIdempotencyKey,
  formatQuotedIdempotencyKey,
  generateIdempotencyKey,
  parseIdempotencyKeyHeader,
} from './key.js';
export type { KeyGenerator, KeyProblem, ParsedKeyHeader } from './key.js';
export { normalizeRetryPolicy } from './policy.js';
export type { JitterKind, ResolvedRetryPolicy, RetryPolicyOptions } from './policy.js';
export { INITIAL_BACKOFF_STATE, computeDelay, createBackoff } from './backoff.js';
export type { Backoff, BackoffParameters, BackoffState, RandomSource } from './backoff.js';
export { parseRetryAfter } from './retry-after.js';
export type { ParseRetryAfterOptions, RetryAfterHint, RetryAfterSource } from './retry-after.js';
export { classifyError, classifyResponse, isRetryableMethod } from './classify.js';
export type { ClassifyErrorOptions, ResponseFacts, RetryDecision } from './classify.js';
export { createRetryBudget } from './budget.js';
export type { RetryBudget, RetryBudgetOptions } from './budget.js';
export {
  LOG_INTERVAL_MS,
  abbreviateKey,
  createRateLimitedLog,
  normalizeLogger,
  rateLimitedLog,
} from './log.js';
export type { OncelyLogger, RateLimitedLog } from './log.js';
export { hashIdempotencyKey } from './key-hash.js';

// Shared by @oncely/client and @oncely/server so that one rule lives in one place; not for users, and
// not covered by semver (marked @internal in their TSDoc, so the API reference leaves them out).
export { invalidOptionError, describeValue } from './errors.js';
export { readHeader } from './headers.js';
export { describeKeyProblem, formatIdempotencyKeyHeader } from './key.js';
export { readProblemType } from './problem.js';
export { SAFE_METHODS } from './classify.js';
