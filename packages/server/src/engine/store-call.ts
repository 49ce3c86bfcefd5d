import { deadline, deadlineQueue } from './deadlines.js';
import { storeTimeoutError } from './errors.js';

/**
 * Runs one store call with a deadline, so a store that hangs becomes a store failure (503) instead of
 * a request that never answers. The deadlines of all calls share one timer (see {@link deadlineQueue}).
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
  const queue = deadlineQueue(timeoutMs, true);
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const entry = deadline(() => {
      timedOut = true;
      reject(storeTimeoutError(operation, timeoutMs));
    });
    queue.add(entry);
    pending.then(
      (value) => {
        queue.remove(entry);
        if (timedOut) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        queue.remove(entry);
        reject(error);
      },
    );
  });
}
