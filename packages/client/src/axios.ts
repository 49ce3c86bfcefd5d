export { withIdempotency } from './axios-idempotency.js';
export type { AxiosIdempotencyOptions } from './axios-idempotency.js';
export { ClientErrorCode, OncelyClientError, isOncelyClientError } from './errors.js';
export { getRetryInfo } from './retry-info.js';
export type { RetryInfo } from './retry-info.js';
