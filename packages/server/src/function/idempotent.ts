import { OncelyError, ProblemType, assertIdempotencyKey, describeValue, readProblemType } from '@oncely/core';
import { claimKey } from '../engine/claim-key.js';
import { ServerErrorCode, invalidScopeError } from '../engine/errors.js';
import { sha256Hex } from '../engine/fingerprint.js';
import type { IdempotencyEvent } from '../engine/hooks.js';
import type { Execution, PreparedResponse, Settlement } from '../engine/types.js';
import { canonicalJson } from './canonical-json.js';
import { IdempotentCallError } from './errors.js';
import { normalizeIdempotentOptions } from './options.js';
import type { IdempotentOptions, ResolvedIdempotentOptions } from './options.js';
import { decodeResult, encodeResult } from './result.js';
import type { EncodedResult } from './result.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The first part of a function's store key: HTTP keys hash two parts, so the two never meet. */
const FUNCTION_PART = encoder.encode('oncely:function');
/** A result is recorded as a response of this status, without headers. */
const RESULT_STATUS = 200;

/**
 * Wraps an async function so that each key runs it once, across every process that shares the store:
 * a job delivered twice, a webhook event sent again, a message redelivered after a crash. The first
 * call runs `fn` and keeps its JSON result; every later call with the key returns that result without
 * running `fn` (a duplicate that arrives while the first runs waits for it with `wait`, or is refused
 * with `ERR_ONCELY_IN_PROGRESS`). If `fn` throws, the key is released before the error is rethrown, so
 * a retry runs it again. With a transactional store (`PostgresStore({ transactional: true })`), `fn`
 * runs inside the store's transaction and its writes commit together with the result, or not at all.
 *
 * Every call returns the result as JSON holds it, the first one too, so a caller never sees a run
 * differ from a replay. A result JSON cannot hold throws `ERR_ONCELY_RESULT_NOT_SERIALIZABLE`.
 *
 * @example
 * const sendReceipt = idempotent(async (order: Order) => mailer.send(receiptFor(order)), {
 *   name: 'send-receipt',
 *   key: (order) => order.id,
 *   store,
 * });
 */
export function idempotent<Args extends unknown[], Result>(
  fn: (...args: Args) => Result | Promise<Result>,
  options: IdempotentOptions<Args>,
): (...args: Args) => Promise<Awaited<Result>> {
  if (typeof fn !== 'function')
    throw new TypeError(`idempotent() needs a function, got ${describeValue(fn)}.`);
  const resolved = normalizeIdempotentOptions(options);
  const { engine, name } = resolved;
  const nameBytes = encoder.encode(name);

  return async function idempotentCall(this: unknown, ...args: Args): Promise<Awaited<Result>> {
    const idempotencyKey = assertIdempotencyKey(await resolved.key(...args), 'key()');
    const scope = await scopeOf(resolved, args);
    const fingerprint = await fingerprintOf(resolved, args);
    const storeKey = await sha256Hex([
      FUNCTION_PART,
      nameBytes,
      encoder.encode(scope),
      encoder.encode(idempotencyKey),
    ]);
    const event: IdempotencyEvent = { scope, idempotencyKey, storeKey, method: 'CALL', path: name };
    const invoke = (): Promise<Result> => Promise.resolve(fn.apply(this, args));
    const claimed = await claimKey(engine, event, fingerprint);
    switch (claimed.outcome) {
      case 'claimed':
        return (await execute(claimed.execution, invoke, event)) as Awaited<Result>;
      case 'completed': {
        const { body } = claimed.response;
        if (body === null) throw notReplayable(event);
        return decodeResult(body) as Awaited<Result>;
      }
      case 'fail-open':
        return unwrap(encodeResult(await invoke()), event) as Awaited<Result>;
      case 'in_progress':
        throw inProgress(event, claimed.retryAfterMs);
      case 'mismatch':
        throw new IdempotentCallError(
          ServerErrorCode.keyReused,
          `The key ${describeValue(idempotencyKey)} of ${name} was already used with other arguments.`,
          { idempotencyKey },
        );
      case 'unavailable':
        throw new IdempotentCallError(
          ServerErrorCode.storeUnavailable,
          `${name} did not run: the idempotency record of key ${describeValue(idempotencyKey)} could not be read.`,
          { idempotencyKey, cause: claimed.error },
        );
    }
  };
}

/**
 * Runs the claimed call through the engine's execution, and reports its result as a response: the
 * JSON bytes ended (kept, or completed without them past `maxResultBytes`), or, for a result JSON
 * cannot hold, a response closed before its end (completed as not replayable; in transactional mode
 * rolled back and released). A throw releases the key (rolled back in transactional mode) first.
 */
async function execute(
  execution: Execution,
  invoke: () => Promise<unknown>,
  event: IdempotencyEvent,
): Promise<unknown> {
  const ran = execution.run(() => invoke().then(encodeResult));
  const reported = ran.then((encoded) => {
    execution.head(RESULT_STATUS, []);
    if (!encoded.ok) {
      execution.close();
      return execution.settled;
    }
    execution.write(encoded.bytes, true);
    return execution.end();
  });
  // In transactional mode `ran` never settles when the transaction could not begin: the settlement says so.
  const settlement: Settlement = await Promise.race([
    execution.settled,
    reported.then(
      () => execution.settled,
      () => execution.settled,
    ),
  ]);
  if (settlement.action === 'respond') throw notCommitted(event, settlement.response);
  return unwrap(await ran, event);
}

function unwrap(encoded: EncodedResult, event: IdempotencyEvent): unknown {
  if (encoded.ok) return encoded.value;
  throw new IdempotentCallError(
    ServerErrorCode.resultNotSerializable,
    `The result of ${event.path} (key ${describeValue(event.idempotencyKey)}) is not JSON: it cannot be kept for replay.`,
    { idempotencyKey: event.idempotencyKey, cause: encoded.error },
  );
}

async function scopeOf<Args extends unknown[]>(
  resolved: ResolvedIdempotentOptions<Args>,
  args: Args,
): Promise<string> {
  if (resolved.scope === 'global') return 'global';
  const scope = await resolved.scope(...args);
  if (typeof scope !== 'string' || scope === '') throw invalidScopeError(scope);
  return scope;
}

async function fingerprintOf<Args extends unknown[]>(
  resolved: ResolvedIdempotentOptions<Args>,
  args: Args,
): Promise<string> {
  if (resolved.fingerprint !== undefined) {
    const fingerprint = await resolved.fingerprint(...args);
    if (typeof fingerprint !== 'string' || fingerprint === '') {
      throw new OncelyError(
        'ERR_ONCELY_INVALID_FINGERPRINT',
        `The \`fingerprint\` function must return a non-empty string, got ${describeValue(fingerprint)}.`,
      );
    }
    return fingerprint;
  }
  let json: string;
  try {
    json = canonicalJson(args);
  } catch (error) {
    throw new OncelyError(
      ServerErrorCode.argumentsNotSerializable,
      `The arguments of ${resolved.name} cannot be fingerprinted as JSON; pass a \`fingerprint\` function.`,
      { cause: error },
    );
  }
  return sha256Hex([encoder.encode(json)]);
}

function inProgress(event: IdempotencyEvent, retryAfterMs: number): IdempotentCallError {
  return new IdempotentCallError(
    ServerErrorCode.inProgress,
    `A call of ${event.path} with key ${describeValue(event.idempotencyKey)} is still running.`,
    { idempotencyKey: event.idempotencyKey, retryAfterMs },
  );
}

function notReplayable(event: IdempotencyEvent): IdempotentCallError {
  return new IdempotentCallError(
    ServerErrorCode.resultNotReplayable,
    `${event.path} already ran for key ${describeValue(event.idempotencyKey)}, but its result was not kept (too large, or not JSON); it is not run again.`,
    { idempotencyKey: event.idempotencyKey },
  );
}

/** Transactional mode: the call's writes were rolled back (superseded, not committed, given up). */
function notCommitted(event: IdempotencyEvent, problem: PreparedResponse): IdempotentCallError {
  const { idempotencyKey } = event;
  const body = decoder.decode(problem.body);
  if (readProblemType(body) === ProblemType.requestInProgress) {
    return new IdempotentCallError(
      ServerErrorCode.inProgress,
      `${event.path} ran past its lease and another call with key ${describeValue(idempotencyKey)} took over: its writes were rolled back.`,
      { idempotencyKey, retryAfterMs: 0 },
    );
  }
  const detail = (JSON.parse(body) as { detail?: string }).detail ?? '';
  return new IdempotentCallError(
    ServerErrorCode.storeUnavailable,
    `${event.path} (key ${describeValue(idempotencyKey)}) did not complete. ${detail}`,
    { idempotencyKey },
  );
}
