import { invalidOptionError } from '@oncely/core';
import type { OncelyLogger } from '@oncely/core';
import { observeHooks, observeStore } from '../observability/observe.js';
import { MemoryStore } from '../store/memory-store.js';
import type { IdempotencyStore } from '../store/types.js';
import { defaultFingerprint } from './fingerprint.js';
import type { Fingerprint } from './fingerprint.js';
import { HOOK_NAMES } from './hooks.js';
import type { IdempotencyHooks } from './hooks.js';
import { MAX_TTL_MS, duration, isStore, normalizeMethods, normalizeWait } from './option-values.js';
import { normalizeKeySource } from './key-source.js';
import type { KeySource, ResolvedKeySource } from './key-source.js';
import { normalizeReplayHeaders } from './replay-headers.js';
import { normalizeShouldStore } from './should-store.js';
import type { ShouldStore } from './should-store.js';

/** Bounded wait for an in-flight duplicate, instead of answering 409 at once. */
export interface WaitOptions {
  /**
   * Longest time to wait for the first request to finish, in ms; then 409.
   * @default 5000
   */
  timeoutMs?: number | undefined;
  /**
   * Interval between store reads while waiting, in ms.
   * @default 50
   */
  pollMs?: number | undefined;
}

/** Options of every adapter. `Req` is the framework's request type. */
export interface IdempotencyOptions<Req> extends IdempotencyHooks {
  /**
   * Who a key belongs to: a function of the request returning a tenant, user or API key id, or the
   * literal `'global'` when all clients share one key space. Required: two scopes never see each
   * other's records.
   */
  scope: 'global' | ((request: Req) => string | Promise<string>);
  /**
   * Where records live. Share one store between all instances of the server.
   * @default new MemoryStore()
   */
  store?: IdempotencyStore | undefined;
  /**
   * Where the key comes from: another header (`{ header: 'PayPal-Request-Id' }`, read by the same rules),
   * or a function of the request and its raw body bytes (a webhook's event id), see {@link KeySource}.
   * @default { header: 'Idempotency-Key' }
   */
  key?: KeySource<Req> | undefined;
  /**
   * Answer 400 when a configured method arrives without a key, instead of running it unprotected.
   * @default false
   */
  required?: boolean | undefined;
  /**
   * Methods that honour the key; safe methods (GET, HEAD, OPTIONS, TRACE) always pass through. The
   * default protects whatever a client may key and retry (`@oncely/client` keys every other method).
   * @default every method but GET, HEAD, OPTIONS and TRACE
   */
  methods?: readonly string[] | undefined;
  /**
   * How long a record is kept, in ms; a retry after that runs again. At most 365 days, and at least
   * twice `lease` and twice `maxExecution`, so a record outlives the longest execution and its retries.
   * @default 86_400_000 (24 h)
   */
  ttl?: number | undefined;
  /**
   * How long a claim holds before another request may take over, in ms. A running handler extends it
   * every `lease / 3`, so only a crashed or hung one loses it. Must be longer than `storeTimeout`.
   * @default 30_000
   */
  lease?: number | undefined;
  /**
   * The longest one execution may hold its key, in ms. Past it the heartbeat stops and the lease runs
   * out (a retry may then take over); a transactional run is rolled back and its connection returned.
   * @default 300_000 (5 min)
   */
  maxExecution?: number | undefined;
  /**
   * Wait for an in-flight duplicate and replay its response instead of answering 409.
   * `true` means `{ timeoutMs: 5000, pollMs: 50 }`.
   * @default false
   */
  wait?: boolean | WaitOptions | undefined;
  /**
   * How a request is fingerprinted; a key reused with another fingerprint is answered 422.
   * @default SHA-256 of method, path, canonical query and body bytes
   */
  fingerprint?: Fingerprint | undefined;
  /**
   * Largest response body kept for replay, in bytes. A larger one is sent but not kept: its replays
   * answer the "not replayable" problem, and the handler never runs again.
   * @default 1_048_576 (1 MiB)
   */
  maxResponseBytes?: number | undefined;
  /**
   * Largest request body read for the fingerprint of a request with a key, in bytes. A larger one is
   * answered `413` (the `request-too-large` problem) without running the handler or touching the
   * store: a declared `Content-Length` above it before any byte is read, a chunked body as soon as it
   * crosses it, so no more than this is ever held. Requests without a key are not read at all.
   * The default matches Fastify's `bodyLimit` and `maxResponseBytes`, and sits above the 100 kB of
   * Express's body parsers: raise it for routes that take larger bodies with a key.
   * @default 1_048_576 (1 MiB)
   */
  maxRequestBytes?: number | undefined;
  /**
   * Response headers to replay besides the defaults (content-type, location, etag, …). Set-Cookie,
   * auth, proxy-* and hop-by-hop headers are refused.
   * @default []
   */
  replayHeaders?: readonly string[] | undefined;
  /**
   * Keep and replay 5xx responses (Stripe's choice) instead of releasing the key so a retry runs again.
   * @default false
   */
  replayServerErrors?: boolean | undefined;
  /**
   * Decides per first response whether its key is kept (`'store'`), released so a retry runs again
   * (`'release'`), or kept without the body (`'store-without-body'`); `undefined` leaves it to the
   * default rules. Sees the status and headers once they are final. See {@link ShouldStore}.
   * @default the default rules
   */
  shouldStore?: ShouldStore | undefined;
  /**
   * What to do when the store fails: `'fail-closed'` answers 503 and does not run the handler;
   * `'fail-open'` runs it unprotected and reports it through `onStoreFailure`.
   * @default 'fail-closed'
   */
  onStoreError?: 'fail-closed' | 'fail-open' | undefined;
  /**
   * Longest time a store call may take, in ms, before it counts as a store failure.
   * @default 2000
   */
  storeTimeout?: number | undefined;
  /**
   * Where store failures, takeovers and fenced completions are reported: anything with `warn` and
   * `error` (console, pino), or `false` for none. Repeated lines are rate-limited; bodies and whole
   * keys are never written (see docs/operating.md).
   * @default console
   */
  logger?: OncelyLogger | false | undefined;
  /**
   * More listeners of the same events, called after the hooks above: e.g. `openTelemetry()` from
   * '@oncely/server/otel'.
   * @default undefined
   */
  telemetry?: IdempotencyHooks | readonly IdempotencyHooks[] | undefined;
}

/** `wait` with its defaults applied. */
export interface ResolvedWait {
  timeoutMs: number;
  pollMs: number;
}

/** Options with every default applied; built once per adapter. */
export interface ResolvedIdempotencyOptions<Req> {
  scope: 'global' | ((request: Req) => string | Promise<string>);
  store: IdempotencyStore;
  key: ResolvedKeySource<Req>;
  required: boolean;
  /** The configured methods, or `'unsafe'`: every method but the safe ones. */
  methods: ReadonlySet<string> | 'unsafe';
  ttl: number;
  lease: number;
  maxExecution: number;
  wait: ResolvedWait | false;
  fingerprint: Fingerprint;
  maxResponseBytes: number;
  maxRequestBytes: number;
  replayHeaders: ReadonlySet<string>;
  replayServerErrors: boolean;
  shouldStore: ShouldStore | undefined;
  onStoreError: 'fail-closed' | 'fail-open';
  storeTimeout: number;
  hooks: IdempotencyHooks;
}

/**
 * Turns user options into the resolved shape, treating `undefined` as absent.
 * @throws {OncelyError} `ERR_ONCELY_INVALID_OPTION`, naming the option and the value, for bad input.
 */
export function normalizeIdempotencyOptions<Req>(
  options: IdempotencyOptions<Req>,
): ResolvedIdempotencyOptions<Req> {
  if (typeof options !== 'object' || options === null) {
    throw invalidOptionError('options', options, 'an object with at least `scope`');
  }
  const { scope, store, required = false, methods, wait = false } = options;
  if (scope !== 'global' && typeof scope !== 'function') {
    throw invalidOptionError('scope', scope, "a function of the request, or 'global'");
  }
  if (store !== undefined && !isStore(store)) {
    throw invalidOptionError('store', store, 'an IdempotencyStore (claim, complete, release, extend, get)');
  }
  if (typeof required !== 'boolean') throw invalidOptionError('required', required, 'a boolean');
  const methodSet = normalizeMethods(methods);
  const fingerprint = options.fingerprint ?? defaultFingerprint;
  if (typeof fingerprint !== 'function') throw invalidOptionError('fingerprint', fingerprint, 'a function');
  const onStoreError = options.onStoreError ?? 'fail-closed';
  if (onStoreError !== 'fail-closed' && onStoreError !== 'fail-open') {
    throw invalidOptionError('onStoreError', onStoreError, "'fail-closed' or 'fail-open'");
  }
  const replayServerErrors = options.replayServerErrors ?? false;
  if (typeof replayServerErrors !== 'boolean') {
    throw invalidOptionError('replayServerErrors', replayServerErrors, 'a boolean');
  }
  const hooks: IdempotencyHooks = {};
  for (const name of HOOK_NAMES) {
    const hook = options[name];
    if (hook === undefined) continue;
    if (typeof hook !== 'function') throw invalidOptionError(name, hook, 'a function');
    (hooks as Record<string, unknown>)[name] = hook;
  }
  const storeTimeout = duration('storeTimeout', options.storeTimeout, 2000, 1);
  const lease = duration('lease', options.lease, 30_000, 1);
  if (lease <= storeTimeout) {
    throw invalidOptionError('lease', lease, `more than \`storeTimeout\` (${storeTimeout} ms)`);
  }
  const maxExecution = duration('maxExecution', options.maxExecution, 300_000, 1);
  const ttl = duration('ttl', options.ttl, 86_400_000, 1, MAX_TTL_MS);
  const minTtl = 2 * Math.max(lease, maxExecution);
  if (ttl < minTtl) {
    throw invalidOptionError(
      'ttl',
      ttl,
      `at least twice \`lease\` and twice \`maxExecution\` (${minTtl} ms with these options)`,
    );
  }
  const observed = observeHooks(hooks, options.logger, options.telemetry);
  return {
    scope,
    store: observeStore(store ?? new MemoryStore(), observed),
    key: normalizeKeySource<Req>(options.key),
    required,
    methods: methodSet,
    ttl,
    lease,
    maxExecution,
    wait: normalizeWait(wait),
    fingerprint,
    maxResponseBytes: duration(
      'maxResponseBytes',
      options.maxResponseBytes,
      1_048_576,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    maxRequestBytes: duration(
      'maxRequestBytes',
      options.maxRequestBytes,
      1_048_576,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    replayHeaders: normalizeReplayHeaders(options.replayHeaders),
    replayServerErrors,
    shouldStore: normalizeShouldStore(options.shouldStore),
    onStoreError,
    storeTimeout,
    hooks: observed,
  };
}

export { MAX_TTL_MS, protectsMethod } from './option-values.js';
