import { invalidOptionError, normalizeLogger, rateLimitedLog } from '@oncely/core';
import { HOOK_NAMES, emit } from '../engine/hooks.js';
import type { IdempotencyHooks } from '../engine/hooks.js';
import type { IdempotencyStore } from '../store/types.js';
import { logHooks } from './log-hooks.js';
import { timeStore, untimedStore } from './timed-store.js';

type HookName = (typeof HOOK_NAMES)[number];
type AnyHook = (event: never) => void;

/**
 * The hooks the engine calls: the user's own, then the `logger`'s, then each `telemetry` listener's.
 * Each listener is called on its own, so one that throws never keeps the next from hearing the event.
 * @throws {OncelyError} `ERR_ONCELY_INVALID_OPTION` for a bad `logger` or `telemetry`.
 */
export function observeHooks(user: IdempotencyHooks, logger: unknown, telemetry: unknown): IdempotencyHooks {
  const sets: IdempotencyHooks[] = [user];
  const resolved = normalizeLogger(logger);
  if (resolved !== undefined) sets.push(logHooks(rateLimitedLog(resolved)));
  sets.push(...telemetryHooks(telemetry));
  return composeHooks(sets);
}

/**
 * The store the engine calls: timed when someone listens to `onStoreCall` (no wrapper otherwise, so
 * the default costs nothing per call). A store that is already timed is unwrapped first, so an
 * engine built from another engine's resolved options never times a call twice.
 */
export function observeStore(store: IdempotencyStore, hooks: IdempotencyHooks): IdempotencyStore {
  const inner = untimedStore(store);
  return hooks.onStoreCall === undefined ? inner : timeStore(inner, hooks.onStoreCall);
}

function telemetryHooks(telemetry: unknown): IdempotencyHooks[] {
  if (telemetry === undefined) return [];
  const list: unknown[] = Array.isArray(telemetry) ? telemetry : [telemetry];
  return list.map((set, index) => {
    const option = Array.isArray(telemetry) ? `telemetry[${index}]` : 'telemetry';
    if (typeof set !== 'object' || set === null) {
      throw invalidOptionError(option, set, 'hooks such as openTelemetry() from @oncely/server/otel');
    }
    for (const name of HOOK_NAMES) {
      const hook = (set as Record<string, unknown>)[name];
      if (hook !== undefined && typeof hook !== 'function') {
        throw invalidOptionError(`${option}.${name}`, hook, 'a function');
      }
    }
    return set;
  });
}

function composeHooks(sets: readonly IdempotencyHooks[]): IdempotencyHooks {
  const composed: Partial<Record<HookName, AnyHook>> = {};
  for (const name of HOOK_NAMES) {
    const listeners = sets
      .map((set) => set[name] as AnyHook | undefined)
      .filter((hook): hook is AnyHook => hook !== undefined);
    if (listeners.length === 1) composed[name] = listeners[0]!;
    else if (listeners.length > 1) {
      composed[name] = function composedHook(event: never): void {
        for (const listener of listeners) emit(listener, event);
      };
    }
  }
  return composed as IdempotencyHooks;
}
