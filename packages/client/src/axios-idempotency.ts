import { invalidOptionError } from '@oncely/core';
import type { AxiosError, AxiosInstance, AxiosResponse } from 'axios';
import axiosRetryImport from 'axios-retry';
import type { AxiosCall } from './axios-call.js';
import { type Config, STATE, isFormData, isStream, serialiseFormData, stateOf } from './axios-call.js';
import { adoptCancellation, keyStrippingBeforeRedirect, recordKeyLast } from './axios-dispatch.js';
import { runBeforeRequestInterceptors } from './axios-interceptors.js';
import { keyStep, newCall } from './axios-key.js';
import { ClientErrorCode, type OncelyClientError, isOncelyClientError } from './errors.js';
import { retryableAttempt } from './keyed.js';
import { type ClientOptions, normalizeClientOptions } from './options.js';
import { raceWithSignal } from './signals.js';

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
 * `attemptTimeout` and the deadline are hard bounds, through a signal on each attempt's config (AbortSignal-shaped, no AbortController)
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

  const ensureKey = keyStep(resolved);

  /**
   * A dispatch of a config this call already dispatched, other than axios-retry's own retry: the caller
   * re-sends it (the refresh-token idiom, `api.request(error.config)`). It is the same logical operation
   * — the same key — with fresh attempt state: full retries, a new deadline, its own retry info, and
   * the signal and hooks the caller's config carries now (not those Oncely put on it).
   */
  const resend = (config: Config, previous: AxiosCall): AxiosCall => {
    previous.finish();
    const state = newCall(resolved, config, previous.call.idempotencyKey);
    config[STATE] = state;
    delete (config as unknown as Record<string, unknown>)['axios-retry'];
    if (previous.ownsSignal(config.signal))
      restore(config, 'signal', previous.userSignal as Config['signal']);
    if (config.beforeRedirect === previous.beforeRedirect) {
      restore(config, 'beforeRedirect', previous.userBeforeRedirect);
    }
    return state;
  };

  /** Takes over what the caller configured for the whole call; attempts get Oncely's instead. */
  const begin = (config: Config, state: AxiosCall): void => {
    state.userTimeout = config.timeout !== undefined && config.timeout > 0 ? config.timeout : undefined;
    state.userSignal = config.signal ?? undefined;
    state.caller = adoptCancellation(config.signal ?? undefined, config.cancelToken);
    state.userBeforeRedirect = config.beforeRedirect;
    state.beforeRedirect = keyStrippingBeforeRedirect(
      config.beforeRedirect as never,
      state.call.options.keyHeader,
    ) as never;
    config.beforeRedirect = state.beforeRedirect;
  };

  /** Checks the deadline and arms the attempt's timers; throws when the deadline has passed. */
  const startAttempt = (config: Config, state: AxiosCall): Config => {
    const { call } = state;
    state.keySent = false;
    if (state.signal?.aborted) {
      // Cancelled during the backoff: this re-dispatch ends the call as axios ends a cancelled request.
      const token = config.cancelToken as { reason?: unknown } | undefined;
      if (token?.reason !== undefined) {
        state.finish();
        call.giveUp('aborted', { error: token.reason });
        throw token.reason;
      }
      config.signal = state.signal;
      return config;
    }
    if (call.remaining() <= 0) {
      state.finish();
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
      let state = ensureKey(config)[STATE]!;
      if (state.redispatching) {
        state.redispatching = false;
      } else {
        if (state.call.attempts > 0) state = resend(config, state);
        begin(config, state);
      }
      state.call.attempts += 1;
      recordKeyLast(config);
      // Only FormData makes the first attempt wait (for its serialisation).
      if (state.call.attempts === 1 && isFormData(config.data)) {
        return serialiseFormData(config).then(() => startAttempt(config, state));
      }
      return startAttempt(config, state);
    });

    const { requestInterceptorId } = axiosRetry(instance, {
      // Each call's own `retries` (a request may override the client's) is checked in retryCondition.
      retries: Number.POSITIVE_INFINITY,
      shouldResetTimeout: true,
      retryDelay: () => 0, // Oncely sleeps in onRetry: abortable, deadline-checked, injectable.
      retryCondition(error) {
        const state = stateOf(error.config);
        const failure = state?.judge(error);
        if (state === undefined || failure === undefined) return false; // the caller aborted
        const { call } = state;
        state.failure = { error, failure };
        if (call.attempts > call.options.policy.retries) return false; // retries exhausted
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
        const retryable = retryableAttempt(error.config?.method ?? 'get', state.keySent);
        if (retryable !== true) {
          state.notRetried = retryable;
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
        // axios-retry dispatches the config again whatever happens here.
        state.redispatching = true;
        state.endAttempt();
        const { failure } = state.failure!;
        state.call.announceRetry(failure, state.plannedDelay);
        try {
          // Raced: a custom `sleep` that ignores the signal must not hold a cancelled call.
          await raceWithSignal(resolved.sleep(state.plannedDelay, state.signal), state.signal);
        } catch {
          return; // cancelled: the re-dispatch ends the call (see startAttempt)
        }
        state.call.slept(state.plannedDelay, failure.decision.reason);
      },
    });
    // axios-retry's request interceptor only stamps `lastRequestTime` (for `shouldResetTimeout: false`)
    // and applies `validateResponse`, neither used here; its response interceptor makes the same state
    // on the first failure. Without it every request saves an options spread and an interceptor step.
    instance.interceptors.request.eject(requestInterceptorId);
  });

  instance.interceptors.response.use(
    function oncelySucceeded(response: AxiosResponse) {
      const state = stateOf(response.config);
      if (state?.finish() === true) state.call.succeed(response);
      return response;
    },
    function oncelyGaveUp(error: AxiosError) {
      const state = stateOf(error?.config);
      if (isOncelyClientError(error) || state === undefined || !state.finish()) return Promise.reject(error);
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

/** Puts back what the caller had configured, absent included. */
function restore<K extends 'signal' | 'beforeRedirect'>(
  config: Config,
  field: K,
  value: Config[K] | undefined,
): void {
  if (value === undefined) delete config[field];
  else config[field] = value;
}
