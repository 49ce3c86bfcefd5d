/** Lets one holder in at a time, in order of arrival. */
export type Turnstile = (timeoutMs: number) => Promise<(() => void) | undefined>;

/**
 * An in-process FIFO queue. `enter(timeoutMs)` resolves to a `leave` function once everyone who entered
 * earlier has left, or to `undefined` if `timeoutMs` passed first (the caller then holds no place).
 * `leave` may be called more than once.
 */
export function turnstile(): Turnstile {
  let tail: Promise<void> = Promise.resolve();
  let holders = 0;
  return async function enter(timeoutMs) {
    const previous = tail;
    const waiting = holders > 0;
    let open!: () => void;
    tail = previous.then(() => new Promise<void>((resolve) => (open = resolve)));
    holders++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      holders--;
      // `open` is set once `previous` settled; until then leaving early just marks the place as free.
      void previous.then(() => open());
    };
    if (!waiting) return leave;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      previous.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return leave;
    leave();
    return undefined;
  };
}
