const ONCELY_ERROR = Symbol.for('oncely.error');

/** Stable machine-readable codes of the errors thrown by @oncely/core. */
export const CoreErrorCode = {
  invalidOption: 'ERR_ONCELY_INVALID_OPTION',
  invalidKey: 'ERR_ONCELY_INVALID_KEY',
} as const;

/** Options of {@link OncelyError}. */
export interface OncelyErrorOptions {
  /** The error that caused this one; kept as `error.cause`. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by Oncely packages. `code` is stable across versions; match on it
 * (or on the package's guards), never on the message.
 */
export class OncelyError extends Error {
  /** Stable machine-readable code, e.g. `ERR_ONCELY_INVALID_OPTION`. */
  readonly code: string;

  constructor(code: string, message: string, options: OncelyErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'OncelyError';
    this.code = code;
    Object.defineProperty(this, ONCELY_ERROR, { value: true });
  }
}

/**
 * Whether `value` is an Oncely error. Checks a global-symbol marker, not `instanceof`, so it holds
 * across bundles and duplicated package copies.
 */
export function isOncelyError(value: unknown): value is OncelyError {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ONCELY_ERROR] === true
  );
}

/**
 * Renders a value for an error message: strings quoted, numbers as written, the rest by type.
 *
 * @internal Shared with the sibling packages; not part of the public API.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `an ${typeof value}`;
}

/**
 * The error for a bad option: names the option, the value given and what was expected.
 *
 * @internal Shared with the sibling packages; not part of the public API.
 */
export function invalidOptionError(option: string, value: unknown, expected: string): OncelyError {
  return new OncelyError(
    CoreErrorCode.invalidOption,
    `Invalid option \`${option}\`: expected ${expected}, got ${describeValue(value)}.`,
  );
}
