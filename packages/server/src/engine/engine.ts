import { OncelyError, ProblemType, describeValue } from '@oncely/core';
import type { ClaimResult, StoredResponse } from '../store/types.js';
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
import { normalizeIdempotencyOptions, protectsMethod } from './options.js';
import type { IdempotencyOptions, ResolvedIdempotencyOptions } from './options.js';
import { RETRY_AFTER_SECONDS, problemResponse, requestTooLargeResponse } from './problems.js';
import { callStore } from './store-call.js';
import { isBodyTooLarge } from './types.js';
import type {
  BodyTooLarge,
  Decision,
  EngineRequest,
  Inspection,
  KeyedRequest,
  PreparedResponse,
  RequestHead,
} from './types.js';

/** The framework-agnostic state machine every adapter drives. */
export interface IdempotencyEngine<Req> {
  readonly options: ResolvedIdempotencyOptions<Req>;
  /**
   * Step one, without waiting: pass the request through, answer it at once (key missing or invalid),
   * or read at most `maxBytes` of its body and hand them to {@link IdempotencyEngine.claim}.
   * `bodyLimit` lowers the limit below `maxRequestBytes` (Fastify's per-route `bodyLimit`).
   */
  inspect(request: RequestHead, bodyLimit?: number): Inspection;
  /**
   * Step two: answers 413 for a body over the limit (before anything is claimed), else resolves the
   * scope, fingerprints and claims (DESIGN "Server", first match wins). Throws only when the user's
   * `scope` or `fingerprint` function throws or returns nonsense; store failures are answered.
   */
  claim(keyed: KeyedRequest, body: Uint8Array | BodyTooLarge, frameworkRequest: Req): Promise<Decision>;
  /** Both steps, for an adapter that reads the body through `request.readBody`. */
  begin(request: EngineRequest, frameworkRequest: Req): Promise<Decision>;
}

const PASS: Decision & Inspection = { action: 'pass' };

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
  function fingerprintOf(request: RequestHead, method: string, body: Uint8Array): string | Promise<string> {
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

  function inspect(request: RequestHead, bodyLimit = Number.POSITIVE_INFINITY): Inspection {
    if (!protectsMethod(methods, request.method)) return PASS;
    const method = request.method.toUpperCase();
    const header = readKeyHeader(request.keyHeader);
    if (header.kind === 'missing') {
      if (!resolved.required) return PASS;
      return {
        action: 'respond',
        response: problemResponse(ProblemType.keyMissing, {
          detail: `${method} requests to this endpoint need an Idempotency-Key header.`,
        }),
        replayed: false,
      };
    }
    if (header.kind === 'invalid') {
      return {
        action: 'respond',
        response: problemResponse(ProblemType.keyInvalid, { detail: header.detail }),
        replayed: false,
      };
    }
    return {
      action: 'read',
      maxBytes: Math.min(maxRequestBytes, bodyLimit),
      idempotencyKey: header.key,
      method,
      head: request,
    };
  }

  async function claimKeyed(
    keyed: KeyedRequest,
    body: Uint8Array | BodyTooLarge,
    frameworkRequest: Req,
  ): Promise<Decision> {
    const { idempotencyKey, method, head } = keyed;
    // Bounded: a body over the limit is refused before it is held, so nothing is claimed or stored.
    if (isBodyTooLarge(body) || body.byteLength > keyed.maxBytes) {
      return respond(requestTooLargeResponse(keyed.maxBytes, idempotencyKey));
    }
    const scope = resolved.scope === 'global' ? 'global' : await resolveScope(frameworkRequest);
    const storeKey = storeKeySync(scope, idempotencyKey) ?? (await computeStoreKey(scope, idempotencyKey));
    const computed = fingerprintOf(head, method, body);
    const fingerprint = typeof computed === 'string' ? computed : await computed;
    const event: IdempotencyEvent = { scope, idempotencyKey, storeKey, method, path: head.path };
    return claim(event, fingerprint);
  }

  async function begin(request: EngineRequest, frameworkRequest: Req): Promise<Decision> {
    const inspection = inspect(request);
    if (inspection.action !== 'read') return inspection;
    return claimKeyed(inspection, await request.readBody(inspection.maxBytes), frameworkRequest);
  }

  async function claim(event: IdempotencyEvent, fingerprint: string): Promise<Decision> {
    const { wait } = resolved;
    const deadline = wait === false ? 0 : Date.now() + wait.timeoutMs;
    const { idempotencyKey } = event;
    for (;;) {
      let result;
      try {
        result = await callStore(
          'claim',
          storeTimeout,
          () =>
            store.claim({ key: event.storeKey, fingerprint, leaseMs: resolved.lease, ttlMs: resolved.ttl }),
          (late) => undoLateClaim(event, late),
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

  /** A claim answered 503 ("not run") that lands later owns a key nobody runs: release it. */
  function undoLateClaim(event: IdempotencyEvent, late: ClaimResult): void {
    if (late.outcome !== 'claimed') return;
    const token = late.fencingToken;
    callStore('release', storeTimeout, () => store.release(event.storeKey, token)).catch((error: unknown) =>
      emit(hooks.onStoreFailure, { ...event, operation: 'release', error, failOpen: false }),
    );
  }

  function replay(event: IdempotencyEvent, response: StoredResponse): Decision {
    const { status, headers, body } = response;
    if (hooks.onReplay !== undefined) emit(hooks.onReplay, { ...event, status, replayable: body !== null });
    if (body === null) {
      return respond(
        problemResponse(
          ProblemType.responseNotReplayable,
          {
            detail: `The first response (status ${status}) was not kept for replay (too large, streamed or cut short); the request was not run again.`,
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

  return { options: resolved, inspect, claim: claimKeyed, begin };
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
