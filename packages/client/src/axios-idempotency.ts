import {
  IDEMPOTENCY_KEY_HEADER,
  formatIdempotencyKeyHeader,
  SAFE_METHODS,
  assertIdempotencyKey,
  generateIdempotencyKey,
  invalidOptionError,
  isRetryableMethod,
  parseIdempotencyKeyHeader,
  readHeader,
} from '@oncely/core';
import type { AxiosError, AxiosInstance, AxiosResponse } from 'axios';
import axiosRetryImport from 'axios-retry';
import {
  type Config,
  AxiosCall,
  STATE,
  isFormData,
  isStream,
  serialiseFormData,
  stateOf,
} from './axios-call.js';
import { runBeforeRequestInterceptors } from './axios-interceptors.js';
import { ClientErrorCode, type OncelyClientError, isOncelyClientError } from './errors.js';
import { type ClientOptions, normalizeClientOptions } from './options.js';

// axios-retry's CJS build sets `exports.default`; a CJS bundle's Node-mode interop then hands us the
// whole exports object as the default import. Take the function wherever it is.
const axiosRetry: typeof axiosRetryImport =
  typeof axiosRetryImport === 'function'
    ? axiosRetryImport
    : (axiosRetryImport as unknown as { default: typeof axiosRetryImport }).default;

/** Options of {@link withIdempotency}: the shared client options. */
export type AxiosIdempotencyOptions = ClientOptions;

const INSTALLED = Symbol.for('oncely.client.axios-installed');

/**
 * Makes an axios instance retry safely: one idempotency key per logical request, set once (only where
 * absent) and seen by every request interceptor — yours included — on every attempt; retries through
 * axios-retry under the Oncely policy (classification, Retry-After, per-attempt timeout, deadline,
 * budget, events). Returns the same instance.
 *
 * `attemptTimeout` and the deadline are hard bounds, through an `AbortSignal` on each attempt's config
 * (linked to the caller's): an attempt is cut at `attemptTimeout` even while its body still trickles in.
 *
 * Final errors stay axios errors (read `getRetryInfo(error)`), except when Oncely stops the call itself:
 * the attempt timeout, the deadline, the budget or an unreplayable body reject with an
 * `OncelyClientError` (its `cause` the axios error and its `response` the axios response, when there is
 * one). The caller's abort rejects with axios's `CanceledError`, as axios always does.
 */
export function withIdempotency<T extends AxiosInstance>(
  instance: T,
  options: AxiosIdempotencyOptions = {},
): T {
  if (typeof instance !== 'function' || typeof instance.interceptors?.request?.use !== 'function') {
    throw invalidOptionError('axiosInstance', instance, 'an axios instance (axios.create())');
  }
  if ((instance as unknown as Record<symbol, unknown>)[INSTALLED] === true) {
    throw invalidOptionError(
      'axiosInstance',
      instance,
      'an instance withIdempotency() was not applied to yet',
    );
  }
  const resolved = normalizeClientOptions(options);
  Object.defineProperty(instance, INSTALLED, { value: true });

  /** Idempotent: creates the call state and sets the key where absent. */
  const ensureKey = (config: Config): Config => {
    let state = config[STATE];
    let header: string | undefined;
    if (state === undefined) {
      const method = (config.method ?? 'get').toUpperCase();
      header = readHeader(config.headers, IDEMPOTENCY_KEY_HEADER);
      const parsed = header === undefined ? undefined : parseIdempotencyKeyHeader(header);
      const key =
        header !== undefined
          ? parsed?.ok
            ? parsed.key
            : assertIdempotencyKey(header, 'the Idempotency-Key header')
          : SAFE_METHODS.has(method)
            ? undefined
            : generateIdempotencyKey(resolved.keyGenerator);
      state = new AxiosCall(resolved, key);
      config[STATE] = state;
      if (header !== undefined) return config; // the key is the header's
    } else if (state.call.idempotencyKey !== undefined) {
      header = readHeader(config.headers, IDEMPOTENCY_KEY_HEADER);
    }
    const key = state.call.idempotencyKey;
    if (key !== undefined && header === undefined) {
      const value = formatIdempotencyKeyHeader(key);
      if (typeof config.headers?.set === 'function') config.headers.set(IDEMPOTENCY_KEY_HEADER, value);
      else
        config.headers = Object.assign(config.headers ?? {}, {
          [IDEMPOTENCY_KEY_HEADER]: value,
        });
    }
    return config;
  };

  /** Checks the deadline and arms the attempt's timers; throws when the deadline has passed. */
  const startAttempt = (config: Config, state: AxiosCall): Config => {
    const { call } = state;
    if (call.remaining() <= 0) {
      state.done = true;
      state.endAttempt();
      const error = call.error(
        ClientErrorCode.deadlineExceeded,
        `Deadline of ${resolved.policy.deadline} ms exceeded.`,
      );
      call.giveUp(ClientErrorCode.deadlineExceeded, { error });
      throw error;
    }
    // axios's `timeout` is the caller's own; the attempt timeout and the deadline are hard bounds on the
    // whole attempt, body included, through the signal (in Node, `timeout` stops counting at the headers).
    config.timeout = state.userTimeout ?? 0;
    config.signal = state.startAttempt();
    return config;
  };

  runBeforeRequestInterceptors(instance, ensureKey, () => {
    instance.interceptors.request.use(function oncelyPrepareAttempt(config: Config) {
      const state = ensureKey(config)[STATE]!;
      state.call.attempts += 1;
      if (state.call.attempts === 1) {
        state.userTimeout = config.timeout !== undefined && config.timeout > 0 ? config.timeout : undefined;
        state.signal = (config.signal ?? undefined) as AbortSignal | undefined;
        // Only FormData makes the first attempt wait (for its serialisation).
        if (isFormData(config.data)) return serialiseFormData(config).then(() => startAttempt(config, state));
      }
      return startAttempt(config, state);
    });

    axiosRetry(instance, {
      retries: resolved.policy.retries,
      shouldResetTimeout: true,
      retryDelay: () => 0, // Oncely sleeps in onRetry: abortable, deadline-checked, injectable.
      retryCondition(error) {
        const state = stateOf(error.config);
        const failure = state?.judge(error);
        if (state === undefined || failure === undefined) return false; // the caller aborted
        const { call } = state;
        state.failure = { error, failure };
        // Oncely's own deadline is final whatever a custom predicate says.
        const override = isOncelyClientError(failure.error, ClientErrorCode.deadlineExceeded)
          ? false
          : resolved.shouldRetry?.({
              attempt: call.attempts,
              decision: failure.decision,
              error,
              ...(error.response === undefined
                ? {}
                : { response: error.response, status: error.response.status }),
            });
        if (!(override ?? failure.decision.retry)) {
          state.notRetried = failure.decision.reason;
          return false;
        }
        const method = (error.config?.method ?? 'get').toUpperCase();
        if (!isRetryableMethod(method, call.idempotencyKey !== undefined)) {
          state.notRetried = `${method} without an idempotency key is not retried`;
          return false;
        }
        if (isStream(error.config?.data)) {
          state.stop = call.error(
            ClientErrorCode.bodyNotReplayable,
            'Cannot retry: the request body is a stream that was already sent.',
            {
              cause: error,
              response: error.response,
            },
          );
          return false;
        }
        try {
          state.plannedDelay = call.planRetry<AxiosResponse>(failure);
        } catch (stop) {
          state.stop = stop as OncelyClientError<AxiosResponse>;
          return false;
        }
        return true;
      },
      async onRetry(_retryCount, _error, config) {
        const state = stateOf(config as Config)!;
        state.endAttempt();
        const { failure } = state.failure!;
        state.call.announceRetry(failure, state.plannedDelay);
        try {
          await resolved.sleep(state.plannedDelay, state.signal);
        } catch {
          return; // aborted: axios-retry re-dispatches at once and axios rejects with CanceledError
        }
        state.call.slept(state.plannedDelay, failure.decision.reason);
      },
    });
  });

  instance.interceptors.response.use(
    function oncelySucceeded(response: AxiosResponse) {
      const state = stateOf(response.config);
      if (state !== undefined && !state.done) {
        state.done = true;
        state.endAttempt();
        state.call.succeed(response);
      }
      return response;
    },
    function oncelyGaveUp(error: AxiosError) {
      const state = stateOf(error?.config);
      if (isOncelyClientError(error) || state === undefined || state.done) return Promise.reject(error);
      state.done = true;
      state.endAttempt();
      const { call } = state;
      const evaluated = state.failure?.error === error;
      const failure = evaluated ? state.failure!.failure : state.judge(error);
      if (failure === undefined) {
        call.giveUp('aborted', { error });
        return Promise.reject(error);
      }
      if (state.stop !== undefined) {
        call.giveUp(state.stop.code, { error: state.stop, response: error.response });
        return Promise.reject(state.stop);
      }
      const reason =
        evaluated && state.notRetried !== undefined
          ? state.notRetried
          : failure.decision.retry
            ? `retries exhausted (${failure.decision.reason})`
            : failure.decision.reason;
      // An attempt cut by Oncely's own timer ends with Oncely's error, not axios's CanceledError.
      const final = isOncelyClientError(failure.error) ? failure.error : error;
      call.giveUp(reason, { error: final, response: error.response });
      return Promise.reject(final);
    },
  );
  return instance;
}
