import {
  SAFE_METHODS,
  assertIdempotencyKey,
  formatIdempotencyKeyHeader,
  generateIdempotencyKey,
  parseIdempotencyKeyHeader,
  readHeader,
} from '@oncely/core';
import { type Config, AxiosCall, STATE } from './axios-call.js';
import type { ResolvedClientOptions } from './options.js';
import { optionsForCall } from './per-call.js';

/**
 * The state of a new logical request: the client's options with the config's overrides, and its key —
 * the config's `idempotencyKey`, else the key header's, else a new one for unsafe methods. `key` given:
 * the same operation sent again (it keeps its key).
 */
export function newCall(resolved: ResolvedClientOptions, config: Config, key?: string): AxiosCall {
  const options = optionsForCall(resolved, config);
  if (key !== undefined) return new AxiosCall(options, key);
  const { keyHeader } = options;
  const choice = config.idempotencyKey;
  if (choice === false) {
    removeHeader(config, keyHeader);
    return new AxiosCall(options, undefined);
  }
  if (choice !== undefined) return new AxiosCall(options, assertIdempotencyKey(choice, 'idempotencyKey'));
  const header = readHeader(config.headers, keyHeader);
  if (header !== undefined) {
    const parsed = parseIdempotencyKeyHeader(header);
    return new AxiosCall(
      options,
      parsed.ok ? parsed.key : assertIdempotencyKey(header, `the ${keyHeader} header`),
    );
  }
  const method = (config.method ?? 'get').toUpperCase();
  return new AxiosCall(
    options,
    SAFE_METHODS.has(method) ? undefined : generateIdempotencyKey(options.keyGenerator),
  );
}

/**
 * The key step, run before every request interceptor and again in Oncely's own (so idempotent): makes
 * the call state on the first dispatch, and sets the key header where it is absent.
 */
export function keyStep(resolved: ResolvedClientOptions): (config: Config) => Config {
  return function ensureKey(config: Config): Config {
    const state = (config[STATE] ??= newCall(resolved, config));
    const key = state.call.idempotencyKey;
    const { keyHeader } = state.call.options;
    if (key !== undefined && readHeader(config.headers, keyHeader) === undefined) {
      const value = formatIdempotencyKeyHeader(key);
      if (typeof config.headers?.set === 'function') config.headers.set(keyHeader, value);
      else config.headers = Object.assign(config.headers ?? {}, { [keyHeader]: value });
    }
    return config;
  };
}

/** Removes a header from an AxiosHeaders or a plain object, whatever its case. */
function removeHeader(config: Config, name: string): void {
  const { headers } = config;
  if (headers === undefined || headers === null) return;
  if (typeof headers.delete === 'function') {
    headers.delete(name);
    return;
  }
  const lower = name.toLowerCase();
  for (const field of Object.keys(headers)) {
    if (field.toLowerCase() === lower) delete (headers as Record<string, unknown>)[field];
  }
}
