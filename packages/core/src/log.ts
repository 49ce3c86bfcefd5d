import { invalidOptionError } from './errors.js';

/**
 * Where Oncely writes what an operator must know: anything with `warn` and `error`, such as `console`,
 * a pino, winston or bunyan logger. Each line is one string, so every such logger prints it whole.
 */
export interface OncelyLogger {
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that prints a line of each kind at once, then at most one summary per interval. */
export interface RateLimitedLog {
  /**
   * Logs `message` unless a line of the same `kind` was logged less than an interval ago; such a line
   * is counted instead and summed up in one line at the end of the interval.
   */
  report(level: 'warn' | 'error', kind: string, message: string): void;
}

/** How long repeated lines of one kind are held back before their summary, in ms. */
export const LOG_INTERVAL_MS = 60_000;

/** Kinds tracked at once; past it, new kinds share one entry (a cause that varies must not grow it). */
const MAX_KINDS = 100;

interface Window {
  level: 'warn' | 'error';
  suppressed: number;
  last: string;
}

/**
 * Resolves a `logger` option: `undefined` means `console`, `false` means silence.
 * @throws {OncelyError} `ERR_ONCELY_INVALID_OPTION` for anything without `warn` and `error` methods.
 */
export function normalizeLogger(value: unknown, option = 'logger'): OncelyLogger | undefined {
  if (value === false) return undefined;
  if (value === undefined) return console;
  if (typeof value !== 'object' || value === null || !hasMethods(value, 'warn', 'error')) {
    throw invalidOptionError(
      option,
      value,
      'an object with warn and error methods (console, pino), or false',
    );
  }
  return value as OncelyLogger;
}

function hasMethods(value: object, ...names: string[]): boolean {
  return names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');
}

const shared = new WeakMap<OncelyLogger, RateLimitedLog>();

/**
 * The rate-limited log of `logger`, one per logger object: every engine or client writing to the same
 * logger shares its limits, so a store that is down prints one line per kind, not one per adapter.
 */
export function rateLimitedLog(logger: OncelyLogger, intervalMs = LOG_INTERVAL_MS): RateLimitedLog {
  let log = shared.get(logger);
  if (log === undefined) {
    log = createRateLimitedLog(logger, intervalMs);
    shared.set(logger, log);
  }
  return log;
}

/** A new {@link RateLimitedLog} of its own (tests; {@link rateLimitedLog} shares one per logger). */
export function createRateLimitedLog(logger: OncelyLogger, intervalMs = LOG_INTERVAL_MS): RateLimitedLog {
  const windows = new Map<string, Window>();

  function write(level: 'warn' | 'error', message: string): void {
    try {
      if (level === 'error') logger.error(message);
      else logger.warn(message);
    } catch {
      // A broken logger must not break the request that reported something.
    }
  }

  function close(kind: string): void {
    const window = windows.get(kind);
    if (window === undefined) return;
    if (window.suppressed === 0) {
      windows.delete(kind);
      return;
    }
    const { suppressed, level, last } = window;
    write(
      level,
      `oncely: ${suppressed} more "${kind}" line${suppressed === 1 ? '' : 's'} in the last ` +
        `${Math.round(intervalMs / 1000)} s, not printed; the last one: ${last}`,
    );
    // The kind still fires: hold back the next interval too, so a long outage prints one line a minute.
    window.suppressed = 0;
    schedule(kind);
  }

  function schedule(kind: string): void {
    const timer = setTimeout(() => close(kind), intervalMs) as { unref?: () => void };
    // Never keep a process alive just to print a summary.
    timer.unref?.();
  }

  return {
    report(level, kind, message) {
      const key = windows.has(kind) || windows.size < MAX_KINDS ? kind : 'other';
      const window = windows.get(key);
      if (window !== undefined) {
        window.suppressed++;
        window.last = message;
        if (level === 'error') window.level = 'error';
        return;
      }
      windows.set(key, { level, suppressed: 0, last: message });
      schedule(key);
      write(level, message);
    },
  };
}

/**
 * A key shortened for a log line: enough to find it in the caller's own logs, never the whole key
 * (with `scope: 'global'` a key is all it takes to be answered a stored response).
 */
export function abbreviateKey(key: string): string {
  return `${key.slice(0, Math.min(8, Math.floor(key.length / 2)))}…`;
}
