import type { ServerResponse } from 'node:http';
import type { CapturedResponse, Execution } from '../../engine/types.js';
import { isStreamingContentType } from '../web/streaming.js';
import { headerEntries, toBuffer } from './response-parts.js';

type Method = (this: ServerResponse, ...args: unknown[]) => unknown;

const PROBE_HEADER = 'x-oncely-capture';

/**
 * Watches what the handler writes to `res` and reports it to `execution` when it ends. Writes pass
 * through at once (streaming keeps working); only `end()` is held until the outcome is stored, so a
 * client that sees the end of the response can count on its replay. An event stream is reported as
 * not replayable at its first write and never buffered.
 *
 * Two stores on `res` (`write`, `end`), and none to put them back (once ended, the patches pass
 * straight through): Express gives every response its own hidden class, so each property added to
 * one copies a map (~2 µs and ~2 KB each). `writeHead` needs no patch: once `setHeader()` was called,
 * Node merges the headers passed to `writeHead()` into those `getHeaders()` returns (documented), so
 * when none was set yet a header is set and removed at once.
 */
export function captureResponse(res: ServerResponse, execution: Execution): void {
  // Patched below: always called with `this` set to `res`.
  /* eslint-disable @typescript-eslint/unbound-method */
  const capture = new ResponseCapture(execution, res.write as Method, res.end as Method);
  /* eslint-enable @typescript-eslint/unbound-method */
  if (res.getHeaderNames().length === 0 && !res.headersSent) {
    res.setHeader(PROBE_HEADER, '1');
    res.removeHeader(PROBE_HEADER);
  }
  res.write = function write(this: ServerResponse, ...args: unknown[]) {
    return capture.write(this, args);
  } as ServerResponse['write'];
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    capture.end(this, args);
    return this;
  } as ServerResponse['end'];
}

/** The state of one captured response, and what its patched methods do. */
class ResponseCapture {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #notReplayable: CapturedResponse['notReplayable'];
  #reported = false;
  #ended = false;

  constructor(
    readonly execution: Execution,
    readonly originalWrite: Method,
    readonly originalEnd: Method,
  ) {}

  write(res: ServerResponse, args: unknown[]): unknown {
    if (!this.#ended) this.#capture(res, args[0], args[1]);
    return this.originalWrite.apply(res, args);
  }

  end(res: ServerResponse, args: unknown[]): void {
    if (this.#ended) {
      this.originalEnd.apply(res, args);
      return;
    }
    this.#capture(res, args[0], args[1]);
    this.#ended = true;
    if (this.#reported) {
      this.originalEnd.apply(res, args);
      return;
    }
    const finish = (): void => void this.originalEnd.apply(res, args);
    this.#report(res, this.#notReplayable === undefined ? this.#body() : null).then(finish, finish);
  }

  #report(res: ServerResponse, body: Uint8Array | null): Promise<void> {
    this.#reported = true;
    const captured: CapturedResponse = {
      status: res.statusCode,
      headers: headerEntries(res),
      body,
    };
    if (this.#notReplayable !== undefined) captured.notReplayable = this.#notReplayable;
    return this.execution.complete(captured);
  }

  #capture(res: ServerResponse, chunk: unknown, encoding: unknown): void {
    if (this.#notReplayable === undefined && isStreamingContentType(res.getHeader('content-type'))) {
      this.#notReplayable = 'stream';
      this.#chunks.length = 0;
      // An event stream may never end: complete the key now, body not kept.
      void this.#report(res, null);
    }
    if (this.#notReplayable !== undefined) return;
    const buffer = toBuffer(chunk, encoding);
    if (buffer === undefined) return;
    this.#size += buffer.byteLength;
    if (this.#size > this.execution.maxResponseBytes) {
      this.#notReplayable = 'oversize';
      this.#chunks.length = 0;
      return;
    }
    // Copy: the handler may reuse its buffer after write() returns. A string was encoded afresh.
    this.#chunks.push(typeof chunk === 'string' ? buffer : Buffer.from(buffer));
  }

  /** The captured body: the one chunk as is (the usual `end(body)`), or all of them joined. */
  #body(): Buffer {
    const chunks = this.#chunks;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size);
  }
}
