import type { AxiosHeaders, CancelToken } from 'axios';
import { type Config, stateOf } from './axios-call.js';
import { keyFollowsRedirect } from './keyed.js';
import { type CallerSignal, adoptSignal } from './signals.js';

/**
 * The last request transform of every attempt. axios runs `transformRequest` after every request
 * interceptor, just before the adapter sends what the config then holds, so this is where the
 * attempt's headers are final: it records whether they carry the key — the one rule of
 * `retryableAttempt`. (A transform, not a wrapped adapter: wrapping the adapter means resolving it with
 * `axios.getAdapter` of whichever axios copy Oncely imports, not the caller's.)
 */
export function oncelyRecordKey(this: Config, data: unknown, headers: AxiosHeaders): unknown {
  const state = stateOf(this);
  if (state !== undefined) state.keySent = headers.has(state.call.options.keyHeader);
  return data;
}

/** Makes {@link oncelyRecordKey} the last of the config's request transforms (a new array: axios shares its defaults'). */
export function recordKeyLast(config: Config): void {
  const own = config.transformRequest;
  if (Array.isArray(own)) {
    if (own[own.length - 1] !== oncelyRecordKey) config.transformRequest = [...own, oncelyRecordKey];
  } else {
    config.transformRequest = own === undefined ? [oncelyRecordKey] : [own, oncelyRecordKey];
  }
}

/**
 * The caller's `signal` and legacy `cancelToken` as one native signal, so the backoff sleep and every
 * attempt stop for either. The token's `CanceledError` is the reason.
 */
export function adoptCancellation(signal: unknown, token: CancelToken | undefined): CallerSignal {
  if (token === undefined) return adoptSignal(signal);
  const controller = new AbortController();
  const caller = adoptSignal(signal);
  const onSignal = (): void => controller.abort(caller.signal!.reason);
  const onCancel = (reason: unknown): void => controller.abort(reason);
  if (caller.signal?.aborted) onSignal();
  else caller.signal?.addEventListener('abort', onSignal, { once: true });
  token.subscribe(onCancel);
  return {
    signal: controller.signal,
    release() {
      token.unsubscribe(onCancel);
      caller.signal?.removeEventListener('abort', onSignal);
      caller.release();
    },
  };
}

/** What follow-redirects passes to `beforeRedirect` (axios's Node http adapter). */
interface RedirectOptions {
  href: string;
  method: string;
  headers: Record<string, unknown>;
}
type BeforeRedirect = (
  options: RedirectOptions,
  response: { headers: unknown; statusCode: number },
  request: { url: string; method: string; headers?: unknown },
) => void;

/**
 * axios's Node http adapter follows redirects through follow-redirects, which keeps custom headers
 * on every hop: the key is dropped here by the same rule as fetch (`keyFollowsRedirect`), then the
 * caller's own `beforeRedirect` runs. (The xhr and fetch adapters follow redirects inside the
 * runtime, where no script sees them.)
 */
export function keyStrippingBeforeRedirect(
  own: BeforeRedirect | undefined,
  keyHeader: string,
): BeforeRedirect {
  const lower = keyHeader.toLowerCase();
  return function oncelyBeforeRedirect(options, response, request) {
    let stays = false;
    try {
      stays = keyFollowsRedirect(new URL(request.url), request.method, new URL(options.href), options.method);
    } catch {
      // An unparsable URL: the key stays behind.
    }
    if (!stays) {
      for (const name of Object.keys(options.headers)) {
        if (name.toLowerCase() === lower) delete options.headers[name];
      }
    }
    own?.(options, response, request);
  };
}
