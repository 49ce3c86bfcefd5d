import { readProblemType } from '@oncely/core';
import type { AxiosError, AxiosRequestConfig, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { CallState } from './call-state.js';
import { type Failure, codeFailure, errorFailure, responseFailure } from './classify-failure.js';
import { type OncelyClientError, isOncelyClientError } from './errors.js';
import type { ResolvedClientOptions } from './options.js';
import type { AttemptSignal, LightScope } from './light-signal.js';
import type { CallerSignal } from './signals.js';

/** Where the state of one logical request lives on its axios config (it survives axios-retry's re-dispatch). */
export const STATE = 'oncely';

/** A class instance, not a plain object: axios's mergeConfig copies it by reference on every re-dispatch. */
export class AxiosCall {
  readonly call: CallState;
  /** The caller's own timeout, applied per attempt. */
  userTimeout: number | undefined;
  /** The caller's signal as they passed it (re-sending the config keeps it). */
  userSignal: unknown;
  /** The caller's signal and cancel token as one native signal; each attempt's config carries a scope's. */
  caller: CallerSignal | undefined;
  /** The caller's own `beforeRedirect`, and Oncely's, which runs it after dropping the key. */
  userBeforeRedirect: AxiosRequestConfig['beforeRedirect'];
  beforeRedirect: AxiosRequestConfig['beforeRedirect'];
  /** The attempt in flight: the caller's signal, the attempt timer and the deadline timer. */
  scope: LightScope | undefined;
  /** Whether the last attempt went out with the key header (read at dispatch). */
  keySent = false;
  /** Set while axios-retry re-dispatches this call; any other dispatch of its config is a re-send. */
  redispatching = false;
  failure: { error: unknown; failure: Failure } | undefined;
  plannedDelay = 0;
  stop: OncelyClientError<AxiosResponse> | undefined;
  notRetried: string | undefined;
  done = false;
  constructor(options: ResolvedClientOptions, key: string | undefined) {
    this.call = new CallState(options, key);
  }

  /** The caller's signal, adopted. */
  get signal(): AbortSignal | undefined {
    return this.caller?.signal;
  }

  /** Arms the timers of the next attempt; returns the signal its config must carry. */
  startAttempt(): AttemptSignal {
    this.scope?.dispose();
    this.scope = this.call.openLightScope(this.signal);
    return this.scope.signal;
  }

  /** Clears the timers of the last attempt. */
  endAttempt(): void {
    this.scope?.dispose();
  }

  /** The call is over: clears its timers and lets go of the caller's signal. Returns false if it already was. */
  finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.scope?.dispose();
    this.caller?.release();
    return true;
  }

  /** Whether `signal` is one Oncely put on this call's configs (not one the caller passed). */
  ownsSignal(signal: unknown): boolean {
    return signal !== undefined && (signal === this.scope?.signal || signal === this.signal);
  }

  /**
   * The verdict on the error of the last attempt; `undefined` when the caller aborted it. An attempt
   * cut by Oncely's own signal is judged by its reason: an attempt timeout (retried) or the deadline.
   */
  judge(error: AxiosError): Failure | undefined {
    if (!isCancel(error) && error.config?.signal?.aborted !== true) return judge(error);
    const reason: unknown = this.signal?.aborted ? undefined : this.scope?.signal.reason;
    return isOncelyClientError(reason) ? errorFailure(reason) : undefined;
  }
}

export type Config = InternalAxiosRequestConfig & { [STATE]?: AxiosCall };

export function stateOf(config: unknown): AxiosCall | undefined {
  const state = typeof config === 'object' && config !== null ? (config as Config)[STATE] : undefined;
  return state instanceof AxiosCall ? state : undefined;
}

/**
 * A response error by status, headers and problem type; an axios timeout as an attempt timeout. A
 * response whose body failed (the headers came, then a reset mid-body) is no answer, whatever its
 * status — a cut 409 cannot even say whether it is "in progress" — and is judged by its error code
 * like any network error; so is an error carrying a response below 400.
 */
export function judge(error: AxiosError): Failure {
  const { response } = error;
  const streamError = response === undefined ? undefined : bodyStreamError(error);
  if (streamError !== undefined) return { ...codeFailure(streamError), error };
  if (response !== undefined && response.status >= 400) {
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
  if (response !== undefined) return { ...codeFailure(error), error };
  return errorFailure(error);
}

/**
 * Why the response stream failed, if it did. axios rejects a body cut by a reset with its own
 * `ERR_BAD_RESPONSE` ("stream has been aborted", no `cause`); the socket's error (`ECONNRESET`) is left
 * on Node's response stream, `request.res.errored`.
 */
function bodyStreamError(error: AxiosError): unknown {
  const request: unknown = error.request;
  if (typeof request !== 'object' || request === null) return undefined;
  const stream = (request as { res?: unknown }).res;
  if (typeof stream !== 'object' || stream === null) return undefined;
  return (stream as { errored?: unknown }).errored ?? undefined;
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

export function isFormData(data: unknown): data is FormData {
  return typeof FormData !== 'undefined' && data instanceof FormData;
}

/**
 * Serialises FormData once: axios picks a new random multipart boundary on each dispatch, which would
 * change the bytes — and the server's fingerprint — on every retry.
 */
export async function serialiseFormData(config: Config): Promise<void> {
  if (!isFormData(config.data)) return;
  const serialised = new Response(config.data);
  config.data = await serialised.arrayBuffer();
  config.headers.set('Content-Type', serialised.headers.get('content-type'));
}
