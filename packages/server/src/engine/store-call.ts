import { storeTimeoutError } from './errors.js';

/**
 * Runs one store call with a deadline, so a store that hangs becomes a store failure (503) instead of
 * a request that never answers.
 */
export function callStore<T>(operation: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(storeTimeoutError(operation, timeoutMs)), timeoutMs);
    const settle = (done: () => void): void => {
      clearTimeout(timer);
      done();
    };
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(call());
    } catch (error) {
      settle(() => reject(error));
      return;
    }
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
