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
// From @oncely/core, so that matching a server's problem type or any Oncely error needs no second dependency.
export {
  IDEMPOTENCY_KEY_HEADER,
  ProblemType,
  createRetryBudget,
  generateIdempotencyKey,
  isOncelyError,
} from '@oncely/core';
export type {
  JitterKind,
  OncelyError,
  ProblemTypeUri,
  RetryBudget,
  RetryBudgetOptions,
  RetryPolicyOptions,
} from '@oncely/core';
export type { CallObserver, CallStart, ClientTelemetry } from './observability/telemetry.js';
export type { OncelyLogger } from '@oncely/core';
