import { OncelyError } from '@oncely/core';

/** The matchers the suites use: the common subset of vitest's and Jest's `expect`. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: object): void;
  toMatch(expected: string | RegExp): void;
  toContain(expected: unknown): void;
  toHaveLength(expected: number): void;
  toBeUndefined(): void;
  toBeDefined(): void;
  toBeNull(): void;
  toBeGreaterThan(expected: number): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toBeLessThan(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toThrow(expected?: unknown): void;
  readonly not: Matchers;
  readonly resolves: AsyncMatchers;
  readonly rejects: AsyncMatchers;
}

/** `expect(promise).resolves` / `.rejects`. */
export type AsyncMatchers = {
  [K in Exclude<keyof Matchers, 'not' | 'resolves' | 'rejects'>]: (
    ...args: Parameters<Matchers[K]>
  ) => Promise<void>;
} & { readonly not: AsyncMatchers };

/** An `expect` function with the asymmetric matcher the suites use. */
export interface Expect {
  (actual: unknown): Matchers;
  any(constructor: unknown): unknown;
  stringContaining(expected: string): unknown;
}

/**
 * The test functions the suites register their cases with: vitest's, Jest's, or node:test's
 * `describe`/`it` with a Jest-style `expect` (the `expect` package).
 */
export interface TestRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => void | Promise<void>, timeout?: number): void;
  expect: Expect;
  afterEach(body: () => void | Promise<void>): void;
}

let configured: TestRunner | undefined;

/**
 * Sets the test functions the suites use. Without it they use the global `describe`, `it`, `expect`
 * and `afterEach` (Jest, or vitest with `globals: true`).
 *
 * @example
 * import * as vitest from 'vitest';
 * useTestRunner(vitest);
 */
export function useTestRunner(runner: TestRunner): void {
  configured = runner;
}

/** The configured runner, else the globals; a clear error when there is neither. */
function testRunner(): TestRunner {
  if (configured !== undefined) return configured;
  const globals = globalThis as Partial<TestRunner>;
  const { describe, it, expect, afterEach } = globals;
  if (describe !== undefined && it !== undefined && expect !== undefined && afterEach !== undefined) {
    return { describe, it, expect, afterEach };
  }
  throw new OncelyError(
    'ERR_ONCELY_NO_TEST_RUNNER',
    'The @oncely/server/testing suites need test functions: call useTestRunner({ describe, it, expect, afterEach }) ' +
      "first (e.g. `useTestRunner(await import('vitest'))`), or run them where these are globals (Jest, vitest with globals: true).",
  );
}

// Resolved when called, not when imported: importing the suites needs no test framework.
export const describe: TestRunner['describe'] = (name, body) => testRunner().describe(name, body);
export const it: TestRunner['it'] = (name, body, timeout) =>
  timeout === undefined ? testRunner().it(name, body) : testRunner().it(name, body, timeout);
export const afterEach: TestRunner['afterEach'] = (body) => testRunner().afterEach(body);
export const expect: Expect = Object.assign((actual: unknown) => testRunner().expect(actual), {
  any: (constructor: unknown) => testRunner().expect.any(constructor),
  stringContaining: (expected: string) => testRunner().expect.stringContaining(expected),
});
