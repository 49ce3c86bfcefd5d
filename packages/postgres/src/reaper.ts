import { invalidOptionError } from '@oncely/core';

/** Options of `PostgresStore.reap()`. */
export interface ReapOptions {
  /**
   * Rows deleted per statement. Small batches keep row locks and WAL bursts short.
   * @default 1000
   */
  batchSize?: number | undefined;
  /**
   * Most statements per call; a call stops earlier once a batch comes back short.
   * @default 10
   */
  maxBatches?: number | undefined;
}

/** Options of `PostgresStore.startReaper()`. */
export interface ReaperOptions extends ReapOptions {
  /**
   * Pause between runs, in ms (measured from the end of one run to the start of the next).
   * @default 60000
   */
  intervalMs?: number | undefined;
  /**
   * Called with the error when a run fails (the reaper keeps going). Without it, errors are ignored.
   * @default undefined
   */
  onError?: ((error: unknown) => void) | undefined;
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidOptionError(name, value, 'a positive integer');
  }
  return value;
}

/** Deletes expired rows in bounded batches; `deleteBatch(limit)` resolves to the rows it deleted. */
export async function reapExpired(
  deleteBatch: (limit: number) => Promise<number>,
  options: ReapOptions,
): Promise<number> {
  const batchSize = positiveInteger('batchSize', options.batchSize ?? 1000);
  const maxBatches = positiveInteger('maxBatches', options.maxBatches ?? 10);
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const deleted = await deleteBatch(batchSize);
    total += deleted;
    if (deleted < batchSize) break;
  }
  return total;
}

/**
 * Calls `reap` every `intervalMs`, never two runs at once, on an unref'd timer (it never keeps the
 * process alive). Returns a function that stops it.
 */
export function startReaper(
  reap: (options: ReapOptions) => Promise<number>,
  options: ReaperOptions,
): () => void {
  const { intervalMs = 60_000, onError, batchSize, maxBatches } = options;
  positiveInteger('intervalMs', intervalMs);
  positiveInteger('batchSize', batchSize ?? 1000);
  positiveInteger('maxBatches', maxBatches ?? 10);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(function runReaper() {
      reap({ batchSize, maxBatches })
        .catch((error: unknown) => onError?.(error))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return function stopReaper() {
    stopped = true;
    clearTimeout(timer);
  };
}
