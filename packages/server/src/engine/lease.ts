import { unref } from './timer.js';

/**
 * The time a claim holds its key: a heartbeat every `lease / 3` (so two missed beats still leave time
 * before the lease expires) until stopped, and a bound, `maxExecution`, after which the heartbeat
 * stops for good and `onBound` runs. Each claim has timers of its own (a runtime such as workerd ties
 * a timer to the request that started it); they never keep the process alive on their own.
 */
export class LeaseKeeper {
  readonly #beats: ReturnType<typeof setInterval>;
  readonly #bound: ReturnType<typeof setTimeout>;

  constructor(leaseMs: number, maxExecutionMs: number, beat: () => void, onBound: () => void) {
    this.#beats = setInterval(beat, Math.max(1, Math.floor(leaseMs / 3)));
    this.#bound = setTimeout(() => {
      this.stop();
      onBound();
    }, maxExecutionMs);
    unref(this.#beats);
    unref(this.#bound);
  }

  /** Stops extending the lease (and the bound): the lease runs out unless the record settles first. */
  stop(): void {
    clearInterval(this.#beats);
    clearTimeout(this.#bound);
  }
}
