// The client side of a chaos scenario: logical operations sent through @oncely/client (fetch or axios)
// by several clients at steady concurrency, each outcome recorded.
import axios from 'axios';
import type { AxiosResponse } from 'axios';
import { createFetch, getRetryInfo, isOncelyClientError } from '@oncely/client';
import type { ClientOptions } from '@oncely/client';
import { withIdempotency } from '@oncely/client/axios';

/** How one logical operation ended, as its caller saw it. */
export interface Outcome {
  op: string;
  /** The idempotency key the client minted and kept through every attempt. */
  key: string | undefined;
  /** Final HTTP status; `undefined` when the call rejected without an answer. */
  status: number | undefined;
  /** The effect the answer reports (must exist in the ledger). */
  effectId: string | undefined;
  replayed: boolean;
  attempts: number;
  elapsedMs: number;
  /** Error code when the call rejected. */
  error: string | undefined;
}

export type ClientKind = 'fetch' | 'axios';

/** One logical operation: POST /ops with its own body. */
export type Send = (op: string) => Promise<Outcome>;

/**
 * The retry policy of the chaos clients: attempts time out before the proxy's `delay` fault ends, every
 * call has a deadline, and there are enough retries that faults alone never exhaust them.
 */
export const CHAOS_POLICY = {
  retries: 20,
  baseDelay: 50,
  maxDelay: 1000,
  attemptTimeout: 1000,
  deadline: 20_000,
  maxRetryAfter: 2000,
} satisfies ClientOptions;

/** A client of `kind` against `baseUrl`, with its own retry budget. */
export function createSender(kind: ClientKind, baseUrl: string, options: ClientOptions = {}): Send {
  const policy = { ...CHAOS_POLICY, ...options };
  if (kind === 'fetch') {
    const oncelyFetch = createFetch({ ...policy, bufferResponse: true });
    return async function sendWithFetch(op) {
      const started = performance.now();
      try {
        const response = await oncelyFetch(`${baseUrl}/ops`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ op, amount: 1 + (op.length % 97) }),
        });
        const info = getRetryInfo(response);
        const body = (await response.json()) as { effectId?: string };
        return {
          op,
          key: info?.idempotencyKey,
          status: response.status,
          effectId: body.effectId,
          replayed: response.headers.get('idempotent-replayed') === 'true',
          attempts: info?.attempts ?? 0,
          elapsedMs: performance.now() - started,
          error: undefined,
        };
      } catch (error) {
        return failed(op, error, started);
      }
    };
  }
  const api = withIdempotency(axios.create({ baseURL: baseUrl }), policy);
  return async function sendWithAxios(op) {
    const started = performance.now();
    try {
      const response: AxiosResponse<{ effectId?: string }> = await api.post('/ops', {
        op,
        amount: 1 + (op.length % 97),
      });
      const info = getRetryInfo(response);
      return {
        op,
        key: info?.idempotencyKey,
        status: response.status,
        effectId: response.data.effectId,
        replayed: response.headers['idempotent-replayed'] === 'true',
        attempts: info?.attempts ?? 0,
        elapsedMs: performance.now() - started,
        error: undefined,
      };
    } catch (error) {
      return failed(op, error, started);
    }
  };
}

function failed(op: string, error: unknown, started: number): Outcome {
  const info = getRetryInfo(error);
  const status = (error as { response?: { status?: number } }).response?.status;
  return {
    op,
    key: info?.idempotencyKey,
    status,
    effectId: undefined,
    replayed: false,
    attempts: info?.attempts ?? 0,
    elapsedMs: performance.now() - started,
    error: isOncelyClientError(error) ? error.code : codeOf(error),
  };
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : 'unknown error';
}

/**
 * Sends `ops` with `concurrency` workers shared round-robin over `senders` (one per simulated client
 * process, each with its own retry budget). Resolves when every operation has settled.
 */
export async function runLoad(ops: readonly string[], senders: readonly Send[], concurrency: number) {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const send = senders[worker % senders.length]!;
      while (next < ops.length) outcomes.push(await send(ops[next++]!));
    }),
  );
  return outcomes;
}

/**
 * Keeps `concurrency` workers sending fresh operations (named `prefix-<n>`) for `durationMs`; resolves
 * with every outcome.
 */
export async function runSteady(
  prefix: string,
  senders: readonly Send[],
  concurrency: number,
  durationMs: number,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const until = performance.now() + durationMs;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const send = senders[worker % senders.length]!;
      while (performance.now() < until) outcomes.push(await send(`${prefix}-${n++}`));
    }),
  );
  return outcomes;
}
