import { OncelyError, ProblemType, describeValue } from '@oncely/core';
import type { StoredResponse } from '../store/types.js';
import { claimKey } from './claim-key.js';
import { invalidScopeError } from './errors.js';
import {
  canonicalQuery,
  computeStoreKey,
  defaultFingerprint,
  defaultFingerprintSync,
  storeKeySync,
} from './fingerprint.js';
import type { FingerprintInput } from './fingerprint.js';
import type { IdempotencyEvent } from './hooks.js';
import { keyProblemResponse, readKeyFromHead, readKeyFromRequest } from './key-source.js';
import { normalizeIdempotencyOptions, protectsMethod } from './options.js';
import type { IdempotencyOptions, ResolvedIdempotencyOptions } from './options.js';
import { RETRY_AFTER_SECONDS, problemResponse, requestTooLargeResponse } from './problems.js';
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
   * key (when a `key` function reads it from the request), the scope, fingerprints and claims (DESIGN
   * "Server", first match wins). Throws only when the user's `key`, `scope` or `fingerprint` function
   * throws or returns nonsense; store failures are answered.
   */
  claim(keyed: KeyedRequest, body: Uint8Array | BodyTooLarge, frameworkRequest: Req): Promise<Decision>;
  /** Both steps, for an adapter that reads the body through `request.readBody`. */
  begin(request: EngineRequest, frameworkRequest: Req): Promise<Decision>;
}

const PASS: Decision & Inspection = { action: 'pass' };

/** Builds the engine once per adapter: options are validated here, not per request. */
export function createIdempotencyEngine<Req>(options: IdempotencyOptions<Req>): IdempotencyEngine<Req> {
  const resolved = normalizeIdempotencyOptions(options);
  const { methods, maxRequestBytes, key: keySource } = resolved;

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
    const maxBytes = Math.min(maxRequestBytes, bodyLimit);
    // A key a function finds (in the body, perhaps) is known once the body was read: see claimKeyed.
    if (keySource.kind === 'function') {
      return { action: 'read', maxBytes, idempotencyKey: undefined, method, head: request };
    }
    const header = readKeyFromHead(keySource, request);
    if (header.kind === 'missing' && !resolved.required) return PASS;
    if (header.kind !== 'valid') {
      return { action: 'respond', response: keyProblemResponse(header, method, keySource), replayed: false };
    }
    return { action: 'read', maxBytes, idempotencyKey: header.key, method, head: request };
  }

  async function claimKeyed(
    keyed: KeyedRequest,
    body: Uint8Array | BodyTooLarge,
    frameworkRequest: Req,
  ): Promise<Decision> {
    const { method, head } = keyed;
    // Bounded: a body over the limit is refused before it is held, so nothing is claimed or stored.
    if (isBodyTooLarge(body) || body.byteLength > keyed.maxBytes) {
      return respond(requestTooLargeResponse(keyed.maxBytes, keyed.idempotencyKey));
    }
    let { idempotencyKey } = keyed;
    if (idempotencyKey === undefined) {
      if (keySource.kind !== 'function') throw new TypeError('A keyed request without its key.');
      const found = await readKeyFromRequest(keySource.read, frameworkRequest, body);
      if (found.kind === 'missing' && !resolved.required) return PASS;
      if (found.kind !== 'valid') return respond(keyProblemResponse(found, method, keySource));
      idempotencyKey = found.key;
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

  /** The engine's one state machine ({@link claimKey}), its outcomes answered over HTTP. */
  async function claim(event: IdempotencyEvent, fingerprint: string): Promise<Decision> {
    const { idempotencyKey } = event;
    const claimed = await claimKey(resolved, event, fingerprint);
    switch (claimed.outcome) {
      case 'claimed':
        return { action: 'execute', execution: claimed.execution };
      case 'completed':
        return replay(event, claimed.response);
      case 'fail-open':
        return PASS;
      case 'unavailable':
        return respond(
          problemResponse(
            ProblemType.storeUnavailable,
            { detail: 'The request was not run: its idempotency record could not be read.', idempotencyKey },
            [['retry-after', RETRY_AFTER_SECONDS]],
          ),
        );
      case 'mismatch':
        return respond(
          problemResponse(ProblemType.keyReused, {
            detail: 'This Idempotency-Key was already used with a different method, path, query or body.',
            idempotencyKey,
          }),
        );
      case 'in_progress':
        return respond(
          problemResponse(
            ProblemType.requestInProgress,
            { detail: 'A request with this Idempotency-Key is still being processed.', idempotencyKey },
            [['retry-after', RETRY_AFTER_SECONDS]],
          ),
        );
    }
  }

  function replay(event: IdempotencyEvent, response: StoredResponse): Decision {
    const { status, headers, body } = response;
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
