import { OncelyError, ProblemType, describeValue } from '@oncely/core';
import type { StoredResponse } from '../store/types.js';
import { invalidScopeError } from './errors.js';
import { createExecution } from './execution.js';
import {
  canonicalQuery,
  computeStoreKey,
  defaultFingerprint,
  defaultFingerprintSync,
  storeKeySync,
} from './fingerprint.js';
import type { FingerprintInput } from './fingerprint.js';
import { emit } from './hooks.js';
import type { IdempotencyEvent } from './hooks.js';
import { readKeyHeader } from './key-header.js';
import { normalizeIdempotencyOptions } from './options.js';
import type { IdempotencyOptions, ResolvedIdempotencyOptions } from './options.js';
import { RETRY_AFTER_SECONDS, problemResponse, requestTooLargeResponse } from './problems.js';
import { callStore } from './store-call.js';
import { isBodyTooLarge } from './types.js';
import type { Decision, EngineRequest, PreparedResponse } from './types.js';

/** The framework-agnostic state machine every adapter drives. */
export interface IdempotencyEngine<Req> {
  readonly options: ResolvedIdempotencyOptions<Req>;
  /**
   * Decides what to do with a request (DESIGN "Server", first match wins; a body over
   * `maxRequestBytes` is answered 413 before anything is claimed). Throws only when the user's
   * `scope` or `fingerprint` function throws or returns nonsense; store failures are answered.
   */
  begin(request: EngineRequest, frameworkRequest: Req): Promise<Decision>;
}

const PASS: Decision = { action: 'pass' };

/** Builds the engine once per adapter: options are validated here, not per request. */
export function createIdempotencyEngine<Req>(options: IdempotencyOptions<Req>): IdempotencyEngine<Req> {
  const resolved = normalizeIdempotencyOptions(options);
  const { store, hooks, methods, storeTimeout, maxRequestBytes } = resolved;

  async function resolveScope(request: Req): Promise<string> {
    if (resolved.scope === 'global') return 'global';
    const scope = await resolved.scope(request);
    if (typeof scope !== 'string' || scope === '') throw invalidScopeError(scope);
    return scope;
  }

  /** The fingerprint; the default one hashes synchronously where node:crypto exists (no promise). */
  function fingerprintOf(request: EngineRequest, method: string, body: Uint8Array): string | Promise<string> {
    const input: FingerprintInput = {
      method,
      path: request.path,
      query: canonicalQuery(request.query),
      headers: request.headers,
      body,
    };
    const sync = resolved.fingerprint === defaultFingerprint ? defaultFingerprintSync(input) : undefined;
    if (sync !== undefined) return sync;
    return Promise.resolve(resolved.fingerprint(input)).then(checkFingerprint);
  }

  async function begin(request: EngineRequest, frameworkRequest: Req): Promise<Decision> {
    const method = request.method.toUpperCase();
    if (!methods.has(method)) return PASS;
    const header = readKeyHeader(request.keyHeader);
    if (header.kind === 'missing') {
      if (!resolved.required) return PASS;
      return respond(
        problemResponse(ProblemType.keyMissing, {
          detail: `${method} requests to this endpoint need an Idempotency-Key header.`,
        }),
      );
    }
    if (header.kind === 'invalid') {
      return respond(problemResponse(ProblemType.keyInvalid, { detail: header.detail }));
    }
    const idempotencyKey = header.key;
    const scope = resolved.scope === 'global' ? 'global' : await resolveScope(frameworkRequest);
    // Bounded: a body over the limit is refused before it is held, so nothing is claimed or stored.
    const body = await request.readBody(maxRequestBytes);
    if (isBodyTooLarge(body) || body.byteLength > maxRequestBytes) {
      return respond(requestTooLargeResponse(maxRequestBytes, idempotencyKey));
    }
    const storeKey = storeKeySync(scope, idempotencyKey) ?? (await computeStoreKey(scope, idempotencyKey));
    const computed = fingerprintOf(request, method, body);
    const fingerprint = typeof computed === 'string' ? computed : await computed;
    const event: IdempotencyEvent = { scope, idempotencyKey, storeKey, method, path: request.path };
    return claim(event, fingerprint);
  }

  async function claim(event: IdempotencyEvent, fingerprint: string): Promise<Decision> {
    const { wait } = resolved;
    const deadline = wait === false ? 0 : Date.now() + wait.timeoutMs;
    const { idempotencyKey } = event;
    for (;;) {
      let result;
      try {
        result = await callStore('claim', storeTimeout, () =>
          store.claim({ key: event.storeKey, fingerprint, leaseMs: resolved.lease, ttlMs: resolved.ttl }),
        );
      } catch (error) {
        const failOpen = resolved.onStoreError === 'fail-open';
        emit(hooks.onStoreFailure, { ...event, operation: 'claim', error, failOpen });
        if (failOpen) return PASS;
        return respond(
          problemResponse(
            ProblemType.storeUnavailable,
            { detail: 'The request was not run: its idempotency record could not be read.', idempotencyKey },
            [['retry-after', RETRY_AFTER_SECONDS]],
          ),
        );
      }
      switch (result.outcome) {
        case 'claimed':
          if (hooks.onClaim !== undefined) {
            emit(hooks.onClaim, { ...event, fencingToken: result.fencingToken, takeover: result.takeover });
          }
          if (result.takeover) emit(hooks.onTakeover, { ...event, fencingToken: result.fencingToken });
          return {
            action: 'execute',
            execution: createExecution(resolved, event, result.fencingToken),
          };
        case 'completed':
          return replay(event, result.record.response);
        case 'mismatch':
          emit(hooks.onMismatch, event);
          return respond(
            problemResponse(ProblemType.keyReused, {
              detail: 'This Idempotency-Key was already used with a different method, path, query or body.',
              idempotencyKey,
            }),
          );
        case 'in_progress': {
          const remaining = deadline - Date.now();
          if (remaining > 0) {
            await sleep(Math.min(wait === false ? 0 : wait.pollMs, remaining));
            continue;
          }
          emit(hooks.onConflict, { ...event, retryAfterMs: result.retryAfterMs });
          return respond(
            problemResponse(
              ProblemType.requestInProgress,
              { detail: 'A request with this Idempotency-Key is still being processed.', idempotencyKey },
              [['retry-after', RETRY_AFTER_SECONDS]],
            ),
          );
        }
        default:
          throw new OncelyError(
            'ERR_ONCELY_INVALID_STORE_RESULT',
            `The store's claim() returned an unknown outcome: ${describeValue((result as { outcome?: unknown }).outcome)}.`,
          );
      }
    }
  }

  function replay(event: IdempotencyEvent, response: StoredResponse): Decision {
    const { status, headers, body } = response;
    if (hooks.onReplay !== undefined) emit(hooks.onReplay, { ...event, status, replayable: body !== null });
    if (body === null) {
      return respond(
        problemResponse(
          ProblemType.responseNotReplayable,
          {
            detail: `The first response (status ${status}) was too large or streamed, so it was not kept; the request was not run again.`,
            idempotencyKey: event.idempotencyKey,
            originalStatus: status,
          },
          // Asking again can only get this same answer: say so to every SDK that reads the hint.
          [
            ['idempotent-replayed', 'true'],
            ['x-should-retry', 'false'],
          ],
        ),
        true,
      );
    }
    return respond({ status, headers: [...headers, ['idempotent-replayed', 'true']], body }, true);
  }

  return { options: resolved, begin };
}

function checkFingerprint(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new OncelyError(
      'ERR_ONCELY_INVALID_FINGERPRINT',
      `The \`fingerprint\` function must return a non-empty string, got ${describeValue(value)}.`,
    );
  }
  return value;
}

function respond(response: PreparedResponse, replayed = false): Decision {
  return { action: 'respond', response, replayed };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
