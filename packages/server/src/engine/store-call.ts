import { storeTimeoutError } from './errors.js';

/**
 * Runs one store call with a deadline, so a store that hangs becomes a store failure (503) instead of
 * a request that never answers. Each call has a timer of its own: a runtime such as workerd ties a
 * timer to the request that started it, so a timer shared across requests would stop firing.
 *
 * A call given up on may still land later (a command queued in a driver while the store was away):
 * `onLate` then receives its result, so the caller can undo it (a claim nobody owns would hold its key
 * for a whole lease).
 */
export function callStore<T>(
  operation: string,
  timeoutMs: number,
  call: () => Promise<T>,
  onLate?: (value: T) => void,
): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(storeTimeoutError(operation, timeoutMs));
    }, timeoutMs);
    pending.then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
