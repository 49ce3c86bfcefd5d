import { isRetryableMethod } from '@oncely/core';

/**
 * One rule for fetch and axios: an attempt counts as keyed when the request it dispatched carried the
 * key header — read from what was sent, after every interceptor, not from whether a key was minted for
 * the call. POST and PATCH are not idempotent (RFC 9110 §9.2.2): one sent without a key is not retried.
 * Returns `true`, or the reason the attempt may not be retried.
 */
export function retryableAttempt(method: string, keySent: boolean): true | string {
  return isRetryableMethod(method, keySent)
    ? true
    : `${method.toUpperCase()} without an idempotency key is not retried`;
}

/**
 * Whether a followed redirect may carry the key: only to the same origin, as the same operation. To
 * another origin it never goes (as undici drops `Authorization` there): a key names one operation at
 * one server. A redirect that changes the method (a 303, or a 301/302 after a POST, which clients turn
 * into a GET) leads to another operation: the key stays behind.
 */
export function keyFollowsRedirect(from: URL, fromMethod: string, to: URL, toMethod: string): boolean {
  return from.origin === to.origin && fromMethod.toUpperCase() === toMethod.toUpperCase();
}
