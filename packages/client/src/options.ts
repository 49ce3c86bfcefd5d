import {
  IDEMPOTENCY_KEY_HEADER,
  type KeyGenerator,
  type RandomSource,
  type ResolvedRetryPolicy,
  type RetryBudget,
  type RetryBudgetOptions,
  type RetryDecision,
  type RetryPolicyOptions,
  createRetryBudget,
  invalidOptionError,
  normalizeRetryPolicy,
} from '@oncely/core';
import { type OncelyLogger, normalizeLogger } from '@oncely/core';
import { giveUpLog } from './observability/give-up-log.js';
import { type ClientTelemetry, normalizeTelemetry } from './observability/telemetry.js';
import { abortableSleep } from './signals.js';

/** Passed to `onRetry`: an attempt failed and another one follows after `delay` ms. */
export interface RetryEvent {
  /** The key sent with every attempt (`undefined` when the call sends none). */
  idempotencyKey: string | undefined;
  /** The attempt that failed, 1 for the first. */
  attempt: number;
  /** How long the client sleeps before the next attempt, in ms. */
  delay: number;
  /** Why it retries, e.g. `status 503`, `request in progress`, `network ECONNRESET`, `attempt timeout`. */
  reason: string;
  /** The error of the failed attempt, when it threw. */
  error?: unknown;
  /** The response of the failed attempt, when the server answered. */
  response?: unknown;
}

/** Passed to `onGiveUp`: the call ends without success. */
export interface GiveUpEvent {
  idempotencyKey: string | undefined;
  /** Attempts made. */
  attempts: number;
  /** Total time slept between attempts, in ms. */
  totalDelay: number;
  /** Why no further attempt was made, e.g. `status 404`, `retries exhausted`, `retry budget exhausted`. */
  reason: string;
  /** The error the call rejects with (or the last attempt's error). */
  error?: unknown;
  /** The last response, when the server answered. */
  response?: unknown;
}

/** Passed to `onSuccess`: the call succeeded (a response with status < 400, or a returned value). */
export interface SuccessEvent {
  idempotencyKey: string | undefined;
  attempts: number;
  totalDelay: number;
  /** The final response (fetch, axios) or the operation's result (`retry`). */
  result: unknown;
}

/** What a custom `shouldRetry` sees: one failed attempt and Oncely's own verdict on it. */
export interface RetryCheck {
  attempt: number;
  /** Oncely's classification; return `undefined` from `shouldRetry` to keep it. */
  decision: RetryDecision;
  error?: unknown;
  response?: unknown;
  /** The HTTP status, when there was one. */
  status?: number;
}

/** An HTTP header field name: a token (RFC 9110 §5.1, §5.6.2). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Options shared by `createFetch`, `retry` and `withIdempotency`. Every field is optional. */
export interface ClientOptions extends RetryPolicyOptions {
  /**
   * How keys are minted: UUID `'v4'`, time-ordered `'v7'`, or your own function.
   * @default 'v4'
   */
  keyGenerator?: KeyGenerator | undefined;
  /**
   * The request header that carries the key, for APIs that name it otherwise (PayPal:
   * `PayPal-Request-Id`). Read (a key you set there is used) and written by `createFetch` and
   * `withIdempotency`; `retry` hands you the key to put where your SDK wants it.
   * @default 'Idempotency-Key'
   */
  keyHeader?: string | undefined;
  /**
   * The retry budget (a token bucket) of this client: its options, a budget shared with other clients
   * (`createRetryBudget()`), or `false` for none. When empty, calls fail fast with
   * `ERR_ONCELY_RETRY_BUDGET_EXHAUSTED` instead of retrying.
   * @default {} (a new bucket per client, AWS standard-mode numbers; `retry()` alone: none)
   */
  retryBudget?: RetryBudgetOptions | RetryBudget | false | undefined;
  /** Called before each backoff sleep. A hook that throws ends the call with its error. @default undefined */
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Called once when a call ends without success. @default undefined */
  onGiveUp?: ((event: GiveUpEvent) => void) | undefined;
  /** Called once when a call succeeds. @default undefined */
  onSuccess?: ((event: SuccessEvent) => void) | undefined;
  /**
   * Overrides Oncely's verdict on a failed attempt: return `true` to retry, `false` not to, `undefined`
   * to keep the verdict. Method rules (POST/PATCH only with a key), the deadline and the budget still apply.
   * @default undefined
   */
  shouldRetry?: ((check: RetryCheck) => boolean | undefined) | undefined;
  /** Source of randomness for jitter, `[0, 1)`. Seed it in tests. @default Math.random */
  random?: RandomSource | undefined;
  /**
   * Sleeps between attempts; must reject with `signal.reason` when `signal` aborts. Replace it in tests
   * to record delays without waiting.
   * @default an abortable setTimeout
   */
  sleep?: ((ms: number, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  /**
   * Where the client warns about what a developer must act on (retry budget exhausted, a stream body
   * that cannot be retried, a key reused with a different request): anything with `warn` and `error`,
   * or `false` for none. Never on an abort or an ordinary failure; rate-limited (docs/operating.md).
   * @default console
   */
  logger?: OncelyLogger | false | undefined;
  /**
   * Telemetry of each call, e.g. `openTelemetry()` from '@oncely/client/otel'.
   * @default undefined
   */
  telemetry?: ClientTelemetry | undefined;
}

/** Hooks after normalisation. */
export interface ClientHooks {
  onRetry: ((event: RetryEvent) => void) | undefined;
  onGiveUp: ((event: GiveUpEvent) => void) | undefined;
  onSuccess: ((event: SuccessEvent) => void) | undefined;
}

/** Client options with every default resolved and every value checked. */
export interface ResolvedClientOptions {
  readonly policy: ResolvedRetryPolicy;
  readonly keyGenerator: KeyGenerator;
  readonly keyHeader: string;
  readonly budget: RetryBudget | undefined;
  readonly hooks: ClientHooks;
  readonly shouldRetry: ((check: RetryCheck) => boolean | undefined) | undefined;
  readonly random: RandomSource;
  readonly sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  readonly telemetry: ClientTelemetry | undefined;
}

/**
 * Turns user options into {@link ResolvedClientOptions}, once, at construction. `undefined` means
 * "use the default"; a bad value throws `ERR_ONCELY_INVALID_OPTION` naming the option and the value.
 * `defaultBudget: false` makes "no budget" the default (standalone `retry()` calls).
 */
export function normalizeClientOptions(
  options: ClientOptions = {},
  { defaultBudget = true }: { defaultBudget?: boolean } = {},
): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidOptionError('options', options, 'an object');
  }
  const policy = normalizeRetryPolicy(options);
  const keyGenerator = options.keyGenerator ?? 'v4';
  if (keyGenerator !== 'v4' && keyGenerator !== 'v7' && typeof keyGenerator !== 'function') {
    throw invalidOptionError('keyGenerator', keyGenerator, "'v4', 'v7' or a function returning a key");
  }
  const keyHeader = options.keyHeader ?? IDEMPOTENCY_KEY_HEADER;
  if (typeof keyHeader !== 'string' || !HEADER_NAME.test(keyHeader)) {
    throw invalidOptionError('keyHeader', keyHeader, 'an HTTP header name (RFC 9110 token)');
  }
  return Object.freeze({
    policy,
    keyGenerator,
    keyHeader,
    budget: resolveBudget(options.retryBudget, defaultBudget),
    hooks: Object.freeze({
      onRetry: checkFunction('onRetry', options.onRetry),
      onGiveUp: withGiveUpLog(checkFunction('onGiveUp', options.onGiveUp), normalizeLogger(options.logger)),
      onSuccess: checkFunction('onSuccess', options.onSuccess),
    }),
    shouldRetry: checkFunction('shouldRetry', options.shouldRetry),
    random: checkFunction('random', options.random) ?? Math.random,
    sleep: checkFunction('sleep', options.sleep) ?? abortableSleep,
    telemetry: normalizeTelemetry(options.telemetry),
  });
}

/** The caller's `onGiveUp`, then the logger's (whatever the caller's hook throws ends the call). */
function withGiveUpLog(
  hook: ((event: GiveUpEvent) => void) | undefined,
  logger: OncelyLogger | undefined,
): ((event: GiveUpEvent) => void) | undefined {
  if (logger === undefined) return hook;
  const log = giveUpLog(logger);
  if (hook === undefined) return log;
  return function onGiveUp(event) {
    log(event);
    hook(event);
  };
}

function resolveBudget(value: ClientOptions['retryBudget'], byDefault: boolean): RetryBudget | undefined {
  if (value === false) return undefined;
  if (value === undefined) return byDefault ? createRetryBudget() : undefined;
  if (typeof value !== 'object' || value === null) {
    throw invalidOptionError('retryBudget', value, 'budget options, a RetryBudget or false');
  }
  if (typeof (value as Partial<RetryBudget>).tryAcquire === 'function') {
    if (typeof (value as Partial<RetryBudget>).recordSuccess !== 'function') {
      throw invalidOptionError(
        'retryBudget.recordSuccess',
        (value as Partial<RetryBudget>).recordSuccess,
        'a function',
      );
    }
    return value as RetryBudget;
  }
  return createRetryBudget(value as RetryBudgetOptions);
}

function checkFunction<F>(option: string, value: F | undefined): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidOptionError(option, value, 'a function');
  return value;
}
