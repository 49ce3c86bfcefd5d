export { withIdempotency } from './axios-idempotency.js';
export type { AxiosIdempotencyOptions } from './axios-idempotency.js';
export { ClientErrorCode, OncelyClientError, isOncelyClientError } from './errors.js';
export { getRetryInfo } from './retry-info.js';
export type { RetryInfo } from './retry-info.js';

/** Oncely's per-request fields on an axios request config (`api.post(url, data, { retries: 0 })`). */
declare module 'axios' {
  interface AxiosRequestConfig {
    /**
     * @oncely/client: the key of this request, e.g. one you persisted to resume after a crash; `false`
     * to send none, the key header removed too (then a POST or PATCH is not retried).
     * @default a new key for methods other than GET, HEAD, OPTIONS and TRACE (or the key header's)
     */
    idempotencyKey?: string | false | undefined;
    /** @oncely/client: retries after the first attempt, for this request. @default the client's */
    retries?: number | undefined;
    /** @oncely/client: this request's overall budget, in ms. @default the client's */
    deadline?: number | undefined;
    /** @oncely/client: this request's per-attempt timeout, in ms. @default the client's */
    attemptTimeout?: number | undefined;
  }
}
