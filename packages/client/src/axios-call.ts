import { readProblemType } from '@oncely/core';
import type { AxiosError, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { CallState } from './call-state.js';
import { type Failure, errorFailure, responseFailure } from './classify-failure.js';
import type { OncelyClientError } from './errors.js';
import type { ResolvedClientOptions } from './options.js';

/** Where the state of one logical request lives on its axios config (it survives axios-retry's re-dispatch). */
export const STATE = 'oncely';

/** A class instance, not a plain object: axios's mergeConfig copies it by reference on every re-dispatch. */
export class AxiosCall {
  readonly call: CallState;
  /** The caller's own timeout, applied per attempt. */
  userTimeout: number | undefined;
  failure: { error: unknown; failure: Failure } | undefined;
  plannedDelay = 0;
  stop: OncelyClientError<AxiosResponse> | undefined;
  notRetried: string | undefined;
  done = false;
  converted = false;
  constructor(options: ResolvedClientOptions, key: string | undefined) {
    this.call = new CallState(options, key);
  }
}

export type Config = InternalAxiosRequestConfig & { [STATE]?: AxiosCall };

export function stateOf(config: unknown): AxiosCall | undefined {
  const state = typeof config === 'object' && config !== null ? (config as Config)[STATE] : undefined;
  return state instanceof AxiosCall ? state : undefined;
}

/** A response error by status, headers and problem type; an axios timeout as an attempt timeout. */
export function judge(error: AxiosError): Failure {
  const { response } = error;
  if (response !== undefined) {
    return responseFailure(
      {
        status: response.status,
        headers: response.headers as never,
        problemType: readProblemType(response.data),
      },
      { error, response },
    );
  }
  if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
    return { decision: { retry: true, reason: 'attempt timeout' }, timeout: true, error };
  }
  return errorFailure(error);
}

export function isCancel(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { code?: unknown }).code === 'ERR_CANCELED' ||
      (error as { __CANCEL__?: unknown }).__CANCEL__ === true)
  );
}

export function isStream(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    (typeof (data as { pipe?: unknown }).pipe === 'function' ||
      (typeof ReadableStream !== 'undefined' && data instanceof ReadableStream))
  );
}

/**
 * Serialises FormData once: axios picks a new random multipart boundary on each dispatch, which would
 * change the bytes — and the server's fingerprint — on every retry.
 */
export async function serialiseFormData(config: Config): Promise<void> {
  if (typeof FormData === 'undefined' || !(config.data instanceof FormData)) return;
  const serialised = new Response(config.data);
  config.data = await serialised.arrayBuffer();
  config.headers.set('Content-Type', serialised.headers.get('content-type'));
}
