import { normalizeRetryPolicy } from '@oncely/core';
import type { ResolvedClientOptions } from './options.js';

/**
 * Per-call overrides of the client's policy: `init` fields of a `createFetch` call, axios request
 * config fields. `undefined` keeps the client's value.
 */
export interface CallPolicyOptions {
  /** Retries after the first attempt, for this call. @default the client's `retries` */
  retries?: number | undefined;
  /** This call's overall budget, in ms (`Infinity`: none). @default the client's `deadline` */
  deadline?: number | undefined;
  /** This call's per-attempt timeout, in ms (`Infinity`: none). @default the client's `attemptTimeout` */
  attemptTimeout?: number | undefined;
}

/**
 * The client's options with this call's overrides applied, checked like the client's own: a bad value
 * throws `ERR_ONCELY_INVALID_OPTION` naming the option. Without overrides, the client's options as they are.
 */
export function optionsForCall(
  options: ResolvedClientOptions,
  { retries, deadline, attemptTimeout }: CallPolicyOptions,
): ResolvedClientOptions {
  if (retries === undefined && deadline === undefined && attemptTimeout === undefined) return options;
  const policy = normalizeRetryPolicy({
    ...options.policy,
    ...(retries === undefined ? {} : { retries }),
    ...(deadline === undefined ? {} : { deadline }),
    ...(attemptTimeout === undefined ? {} : { attemptTimeout }),
  });
  return Object.freeze({ ...options, policy });
}
