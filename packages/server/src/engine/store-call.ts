import { deadline, deadlineQueue } from './deadlines.js';
import { storeTimeoutError } from './errors.js';

/**
 * Runs one store call with a deadline, so a store that hangs becomes a store failure (503) instead of
 * a request that never answers. The deadlines of all calls share one timer (see {@link deadlineQueue}).
 */
export function callStore<T>(operation: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
  const queue = deadlineQueue(timeoutMs, true);
  return new Promise<T>((resolve, reject) => {
    const entry = deadline(() => reject(storeTimeoutError(operation, timeoutMs)));
    queue.add(entry);
    pending.then(
      (value) => {
        queue.remove(entry);
        resolve(value);
      },
      (error: unknown) => {
        queue.remove(entry);
        reject(error);
      },
    );
  });
}
