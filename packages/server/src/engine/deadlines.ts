/** One pending deadline: queued by {@link DeadlineQueue.add}, dropped by `remove` or when it fires. */
export interface Deadline {
  /** Called once, when the deadline passes while still queued. */
  fire: () => void;
  /** `performance.now()` at which it fires. */
  at: number;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  queued: boolean;
}

/** A new, unqueued deadline that calls `fire`. */
export function deadline(fire: () => void): Deadline {
  return { fire, at: 0, prev: undefined, next: undefined, queued: false };
}

/**
 * Deadlines that all share one delay, on one timer: a request costs a list insert and removal instead
 * of a timer of its own. Since every entry waits the same time, entries are queued in the order they
 * fire, so the timer only ever waits for the head. It is re-armed when it fires, not on every insert.
 *
 * `keepAlive`: the timer holds the process open while something is queued (as a pending `setTimeout`
 * would); otherwise it never does.
 */
export class DeadlineQueue {
  readonly #delayMs: number;
  readonly #keepAlive: boolean;
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #onTimer = (): void => this.#expire();

  constructor(delayMs: number, keepAlive: boolean) {
    this.#delayMs = delayMs;
    this.#keepAlive = keepAlive;
  }

  /** Queues `entry` to fire after the queue's delay (re-queues it when it already is). */
  add(entry: Deadline): void {
    if (entry.queued) this.remove(entry);
    entry.at = performance.now() + this.#delayMs;
    entry.queued = true;
    entry.next = undefined;
    entry.prev = this.#tail;
    if (this.#tail === undefined) {
      this.#head = entry;
      // A timer armed earlier fires no later than this entry: it re-arms then.
      if (this.#timer === undefined) this.#arm(this.#delayMs);
      else if (this.#keepAlive) this.#timer.ref();
    } else {
      this.#tail.next = entry;
    }
    this.#tail = entry;
  }

  /** Drops `entry` if it is still queued. */
  remove(entry: Deadline): void {
    if (!entry.queued) return;
    entry.queued = false;
    const { prev, next } = entry;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    entry.prev = undefined;
    entry.next = undefined;
    // The timer stays armed (it fires once and finds nothing), but no longer holds the process.
    if (this.#head === undefined && this.#keepAlive) this.#timer?.unref();
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(delayMs)));
    if (!this.#keepAlive) this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    let head = this.#head;
    while (head !== undefined && head.at <= now) {
      this.remove(head);
      head.fire();
      head = this.#head;
    }
    if (head !== undefined) this.#arm(head.at - now);
  }
}

const queues = [new Map<number, DeadlineQueue>(), new Map<number, DeadlineQueue>()];

/** The shared queue for one delay (each engine uses a few: store timeout, heartbeat interval). */
export function deadlineQueue(delayMs: number, keepAlive: boolean): DeadlineQueue {
  const byDelay = queues[keepAlive ? 1 : 0]!;
  let queue = byDelay.get(delayMs);
  if (queue === undefined) {
    queue = new DeadlineQueue(delayMs, keepAlive);
    byDelay.set(delayMs, queue);
  }
  return queue;
}
