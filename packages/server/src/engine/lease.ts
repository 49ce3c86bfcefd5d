import { deadline, deadlineQueue } from './deadlines.js';
import type { Deadline, DeadlineQueue } from './deadlines.js';

/**
 * The time a claim holds its key: a heartbeat every `lease / 3` (so two missed beats still leave time
 * before the lease expires) until stopped, and a bound, `maxExecution`, after which the heartbeat
 * stops for good and `onBound` runs. The timers of all claims share one timer per delay, which never
 * keeps the process alive on its own.
 */
export class LeaseKeeper {
  readonly #beats: DeadlineQueue;
  readonly #bounds: DeadlineQueue;
  readonly #beat: Deadline;
  readonly #bound: Deadline;

  constructor(leaseMs: number, maxExecutionMs: number, beat: () => void, onBound: () => void) {
    this.#beats = deadlineQueue(Math.max(1, Math.floor(leaseMs / 3)), false);
    this.#bounds = deadlineQueue(maxExecutionMs, false);
    this.#beat = deadline(() => {
      this.#beats.add(this.#beat);
      beat();
    });
    this.#bound = deadline(() => {
      this.stop();
      onBound();
    });
    this.#beats.add(this.#beat);
    this.#bounds.add(this.#bound);
  }

  /** Stops extending the lease (and the bound): the lease runs out unless the record settles first. */
  stop(): void {
    this.#beats.remove(this.#beat);
    this.#bounds.remove(this.#bound);
  }
}
