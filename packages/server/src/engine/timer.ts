/**
 * Lets a timer not hold the process open. Node's timers have `unref`; workerd's with an older
 * compatibility date are plain numbers, and there a timer belongs to its request anyway.
 */
export function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}
