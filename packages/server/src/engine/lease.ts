import { unref } from './timer.js';

/**
 * The time a claim holds its key: a heartbeat every `lease / 3` (so two missed beats still leave time
 * before the lease expires) until stopped, and a bound, `maxExecution`, after which the heartbeat
 * stops for good and `onBound` runs. Each claim has a timer of its own (a runtime such as workerd ties
 * a timer to the request that started it), armed for whichever comes first, the next beat or the
 * bound: one timer per claim instead of an interval and a timeout (most claims settle before either
 * fires). It never keeps the process alive on its own.
 */
export class LeaseKeeper {
  readonly #beatMs: number;
  readonly #boundAt: number;
  readonly #beat: () => void;
  readonly #onBound: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(leaseMs: number, maxExecutionMs: number, beat: () => void, onBound: () => void) {
    this.#beatMs = Math.max(1, Math.floor(leaseMs / 3));
    this.#boundAt = Date.now() + maxExecutionMs;
    this.#beat = beat;
    this.#onBound = onBound;
    this.#arm(maxExecutionMs);
  }

  /** Stops extending the lease (and the bound): the lease runs out unless the record settles first. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(untilBound: number): void {
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, Math.min(this.#beatMs, untilBound)));
    unref(this.#timer);
  }

  #tick(): void {
    if (this.#stopped) return;
    const untilBound = this.#boundAt - Date.now();
    if (untilBound <= 0) {
      this.stop();
      this.#onBound();
      return;
    }
    this.#beat();
    if (!this.#stopped) this.#arm(untilBound);
  }
}
