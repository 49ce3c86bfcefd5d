export { createFetch } from './fetch.js';
export type { FetchOptions, OncelyFetch, OncelyRequestInit } from './fetch.js';
export { createRetry, retry } from './retry.js';
export type { BoundRetry, RetryCallOptions, RetryContext, RetryOperation, RetryOptions } from './retry.js';
export { ClientErrorCode, OncelyClientError, isOncelyClientError } from './errors.js';
export type { ClientErrorCodeValue, OncelyClientErrorOptions } from './errors.js';
export { getRetryInfo } from './retry-info.js';
export type { RetryInfo } from './retry-info.js';
export { normalizeClientOptions } from './options.js';
export type {
  ClientHooks,
  ClientOptions,
  GiveUpEvent,
  ResolvedClientOptions,
  RetryCheck,
  RetryEvent,
  SuccessEvent,
} from './options.js';
export type { BodyFactory, BodyFactoryContext } from './body.js';
export type { CallPolicyOptions } from './per-call.js';
export { IDEMPOTENCY_KEY_HEADER, createRetryBudget, generateIdempotencyKey } from '@oncely/core';
export type { JitterKind, RetryBudget, RetryBudgetOptions, RetryPolicyOptions } from '@oncely/core';
