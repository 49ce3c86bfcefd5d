import { IDEMPOTENCY_KEY_HEADER } from '@oncely/core';
import axios, { type AxiosPromise, type CancelToken } from 'axios';
import { type Config, stateOf } from './axios-call.js';
import { keyFollowsRedirect } from './keyed.js';
import { type CallerSignal, adoptSignal } from './signals.js';

/**
 * The adapter step of every attempt: it runs after every request interceptor and `transformRequest`,
 * so what it sees is what is sent. It records whether the attempt carries the key — the one rule of
 * `retryableAttempt` — serialises FormData once, and hands the request to the adapter the caller
 * configured.
 */
export async function oncelyDispatch(config: Config): AxiosPromise {
  const state = stateOf(config);
  if (state !== undefined) {
    state.keySent = config.headers.has(IDEMPOTENCY_KEY_HEADER);
    if (isFormData(config.data)) await serialiseFormData(config);
  }
  const adapter = axios.getAdapter(state?.adapter ?? axios.defaults.adapter, config);
  return adapter(config);
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
export function keyStrippingBeforeRedirect(own: BeforeRedirect | undefined): BeforeRedirect {
  return function oncelyBeforeRedirect(options, response, request) {
    let stays = false;
    try {
      stays = keyFollowsRedirect(new URL(request.url), request.method, new URL(options.href), options.method);
    } catch {
      // An unparsable URL: the key stays behind.
    }
    if (!stays) {
      for (const name of Object.keys(options.headers)) {
        if (name.toLowerCase() === 'idempotency-key') delete options.headers[name];
      }
    }
    own?.(options, response, request);
  };
}

function isFormData(data: unknown): data is FormData {
  return typeof FormData !== 'undefined' && data instanceof FormData;
}

/**
 * Serialises FormData once: axios picks a new random multipart boundary on each dispatch, which would
 * change the bytes — and the server's fingerprint — on every retry. Retries re-send the bytes.
 */
async function serialiseFormData(config: Config): Promise<void> {
  const serialised = new Response(config.data as FormData);
  config.data = await serialised.arrayBuffer();
  config.headers.set('Content-Type', serialised.headers.get('content-type'));
}
