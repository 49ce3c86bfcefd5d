export {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  SHOULD_RETRY_HEADERS,
  readHeader,
} from './headers.js';
export type { HeaderSource } from './headers.js';
export { CoreErrorCode, OncelyError, isOncelyError, invalidOptionError, describeValue } from './errors.js';
export type { OncelyErrorOptions } from './errors.js';
export {
  ProblemType,
  PROBLEMS,
  PROBLEM_CONTENT_TYPE,
  createProblem,
  isOncelyProblemType,
  readProblemType,
} from './problem.js';
export type { ProblemDetails, ProblemTypeUri } from './problem.js';
export {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  assertIdempotencyKey,
  checkIdempotencyKey,
  describeKeyProblem,
  formatIdempotencyKeyHeader,
  formatQuotedIdempotencyKey,
  generateIdempotencyKey,
  isValidIdempotencyKey,
  parseIdempotencyKeyHeader,
} from './key.js';
export type { KeyGenerator, KeyProblem, ParsedKeyHeader } from './key.js';
export { DEFAULT_RETRY_POLICY, normalizeRetryPolicy } from './policy.js';
export type { JitterKind, ResolvedRetryPolicy, RetryPolicyOptions } from './policy.js';
export { INITIAL_BACKOFF_STATE, computeDelay, createBackoff } from './backoff.js';
export type { Backoff, BackoffParameters, BackoffState, RandomSource } from './backoff.js';
export { parseHttpDate } from './http-date.js';
export { parseRetryAfter } from './retry-after.js';
export type { ParseRetryAfterOptions, RetryAfterHint, RetryAfterSource } from './retry-after.js';
export {
  IDEMPOTENT_METHODS,
  NEVER_RETRY_STATUSES,
  RETRYABLE_ERROR_CODES,
  RETRYABLE_STATUSES,
  SAFE_METHODS,
  classifyError,
  classifyResponse,
  findErrorCode,
  isRetryableMethod,
  readShouldRetryHint,
} from './classify.js';
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
