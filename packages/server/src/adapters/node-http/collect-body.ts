import type { Readable } from 'node:stream';
import { BODY_TOO_LARGE } from '../../engine/types.js';
import type { BodyTooLarge } from '../../engine/types.js';

/** How {@link collectBody} reads. */
export interface CollectOptions {
  /**
   * Pull with `read()` on `readable` (the bytes can then be put back with `unshift()` before `end`)
   * instead of taking `data` events.
   */
  pull: boolean;
  /** Pull mode: whether all of the body arrived before `end` fired (then the bytes are put back). */
  arrived?: () => boolean;
}

/**
 * Reads a node body stream to its end, holding at most `maxBytes`: past it the bytes read are dropped,
 * the stream is left paused with the rest unread, and {@link BODY_TOO_LARGE} is answered. Rejects when
 * the stream fails or closes before its end.
 */
export function collectBody(
  stream: Readable,
  maxBytes: number,
  options: CollectOptions,
): Promise<Buffer | BodyTooLarge> {
  return new Promise<Buffer | BodyTooLarge>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const joined = (): Buffer => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const cleanup = (): void => {
      stream.off(options.pull ? 'readable' : 'data', options.pull ? onReadable : onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    /** Takes one chunk; false once the body crossed the limit (and the answer was given). */
    const take = (chunk: unknown): boolean => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += bytes.byteLength;
      if (size <= maxBytes) {
        chunks.push(bytes);
        return true;
      }
      cleanup();
      stream.pause();
      chunks.length = 0;
      resolve(BODY_TOO_LARGE);
      return false;
    };
    const onData = (chunk: unknown): void => void take(chunk);
    const onReadable = (): void => {
      let chunk: unknown;
      while ((chunk = stream.read()) !== null) if (!take(chunk)) return;
      // The whole message arrived: the final read() found its end, and `end` is due on the next tick
      // unless data is put back first.
      if (options.arrived?.() !== true) return;
      cleanup();
      const bytes = joined();
      if (bytes.byteLength > 0) stream.unshift(bytes);
      resolve(bytes);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(joined());
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('The request was aborted before its body was read.'));
    };
    stream.on(options.pull ? 'readable' : 'data', options.pull ? onReadable : onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
