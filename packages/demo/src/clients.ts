import { createFetch } from '@oncely/client';
import axios, { type AxiosError } from 'axios';
import axiosRetryImport from 'axios-retry';

// axios-retry's CJS build puts the function on `exports.default`; take it wherever it is.
const axiosRetry: typeof axiosRetryImport =
  typeof axiosRetryImport === 'function'
    ? axiosRetryImport
    : (axiosRetryImport as unknown as { default: typeof axiosRetryImport }).default;

/** One payment the demo makes: the same list for both clients. */
export interface Payment {
  paymentId: string;
  amount: number;
}

/** How one logical payment ended, from the caller's side. */
export interface PaymentOutcome {
  ok: boolean;
  /** The charge id the caller was told about, when the payment succeeded. */
  chargeId?: string;
  /** Why it failed, when it did. */
  error?: string;
  latencyMs: number;
}

export type PaymentClient = (payment: Payment, signal: AbortSignal) => Promise<PaymentOutcome>;

export type ClientKind = 'naive' | 'oncely';

/** Timing shared by both clients, so the comparison is only about keys and policy. */
export interface ClientTiming {
  /** Per-attempt timeout, ms. */
  attemptTimeout: number;
}

/**
 * What many teams ship: axios + axios-retry told to retry POST on network errors, timeouts, 429 and
 * 5xx — with no idempotency key, so a retry after a lost response charges the card again.
 */
export function createNaiveClient(baseUrl: string, timing: ClientTiming): PaymentClient {
  const api = axios.create({ baseURL: baseUrl, timeout: timing.attemptTimeout });
  axiosRetry(api, {
    retries: 5,
    retryDelay: (retryCount, error) => axiosRetry.exponentialDelay(retryCount, error, 25),
    retryCondition: (error: AxiosError) =>
      axiosRetry.isRetryableError(error) || error.code === 'ECONNABORTED',
    shouldResetTimeout: true,
  });
  return async function payNaively(payment, signal) {
    const started = performance.now();
    try {
      const response = await api.post<{ chargeId: string }>('/payments', payment, { signal });
      return { ok: response.status === 201, chargeId: response.data.chargeId, latencyMs: since(started) };
    } catch (error) {
      return { ok: false, error: describe(error), latencyMs: since(started) };
    }
  };
}

/**
 * @oncely/client's fetch: one key per payment, kept on every retry; full-jitter backoff, Retry-After,
 * 409 "in progress" retried, a retry budget.
 */
export function createOncelyClient(baseUrl: string, timing: ClientTiming): PaymentClient {
  const fetchOnce = createFetch({
    retries: 5,
    baseDelay: 25,
    maxDelay: 1_000,
    attemptTimeout: timing.attemptTimeout,
    bufferResponse: true,
  });
  return async function payOnce(payment, signal) {
    const started = performance.now();
    try {
      const response = await fetchOnce(`${baseUrl}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payment),
        signal,
      });
      if (response.status !== 201) {
        return { ok: false, error: `status ${response.status}`, latencyMs: since(started) };
      }
      const body = (await response.json()) as { chargeId: string };
      return { ok: true, chargeId: body.chargeId, latencyMs: since(started) };
    } catch (error) {
      return { ok: false, error: describe(error), latencyMs: since(started) };
    }
  };
}

function since(started: number): number {
  return performance.now() - started;
}

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return String(error);
}
