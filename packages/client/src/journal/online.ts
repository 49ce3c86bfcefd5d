import { invalidOptionError } from '@oncely/core';
import type { OncelyFetch } from '../fetch.js';
import { bindingOf } from './journaled-fetch.js';
import { type ResumeOptions, type ResumeRun, normalizeResumeOptions, resumePending } from './resume.js';

/** Options of {@link resumeWhenOnline}: those of `resumePending`, plus where to listen. */
export interface ResumeWhenOnlineOptions extends ResumeOptions {
  /**
   * What fires `online`: a window or a dedicated worker's global scope.
   * @default globalThis
   */
  target?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | undefined;
  /** Called with each resume's run, e.g. to follow its `settled` promise. @default undefined */
  onResume?: ((run: ResumeRun) => void) | undefined;
  /**
   * Called when a resume could not start (the journal could not be read).
   * @default reportError (the page's or worker's error event), else console.error
   */
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * Resumes the pending operations of `fetch` now (unless `navigator.onLine` says the device is
 * offline) and each time the `online` event fires. Returns a function that stops listening.
 *
 * No window-only API is used: it runs in a page or a dedicated worker. Service Workers get no
 * `online` event; call `resumePending` from their `sync` or `activate` event instead.
 */
export function resumeWhenOnline(fetch: OncelyFetch, options: ResumeWhenOnlineOptions = {}): () => void {
  const { target = globalThis, onResume, onError = report, ...resume } = options;
  if (bindingOf(fetch) === undefined) {
    throw invalidOptionError('fetch', fetch, 'a client made by createFetch({ journal })');
  }
  if (typeof target?.addEventListener !== 'function') {
    throw invalidOptionError('target', target, 'an EventTarget that fires `online`');
  }
  for (const [name, hook] of Object.entries({ onResume, onError })) {
    if (hook !== undefined && typeof hook !== 'function') throw invalidOptionError(name, hook, 'a function');
  }
  normalizeResumeOptions(resume);
  let running = false;
  let again = false;
  let stopped = false;
  async function resumeNow(): Promise<void> {
    if (running) {
      // An `online` during a resume: run once more afterwards, for what failed while offline.
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const run = await resumePending(fetch, resume);
        onResume?.(run);
        await run.settled;
      } while (again && !stopped);
    } catch (error) {
      onError(error);
    } finally {
      running = false;
    }
  }
  const onOnline = (): void => void resumeNow();
  target.addEventListener('online', onOnline);
  const navigator = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  if (navigator?.onLine !== false) void resumeNow();
  return function stopResumingWhenOnline(): void {
    stopped = true;
    target.removeEventListener('online', onOnline);
  };
}

function report(error: unknown): void {
  const reportError = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof reportError === 'function') reportError(error);
  else console.error('[oncely] resuming pending operations failed:', error);
}
