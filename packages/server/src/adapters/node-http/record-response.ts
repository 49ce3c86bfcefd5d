import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Execution } from '../../engine/types.js';
import { headerEntries, toBuffer } from './response-parts.js';

type Method = (this: ServerResponse, ...args: unknown[]) => unknown;

const PROBE_HEADER = 'x-oncely-capture';

/**
 * Feeds what the handler writes to `res` to `execution`: the head at the first write, every chunk,
 * and how the response ended (`end()`, or `close` for a connection closed or a response destroyed
 * first). Writes pass through at once (streaming keeps working); only `end()` is held until the
 * outcome is stored, so a client that sees the end of the response can count on its replay.
 *
 * Two stores on `res` (`write`, `end`), and none to put them back: Express gives every response its
 * own hidden class, so each property added to one copies a map. `writeHead` needs no patch: once
 * `setHeader()` was called, Node merges the headers passed to `writeHead()` into those `getHeaders()`
 * returns (documented), so when none was set yet a header is set and removed at once.
 */
export function recordResponse(
  req: IncomingMessage,
  res: ServerResponse,
  execution: Execution,
  answeredElsewhere?: () => boolean,
): void {
  // Patched below: always called with `this` set to `res`.
  /* eslint-disable @typescript-eslint/unbound-method */
  const recording = new Recording(req, execution, res.write as Method, res.end as Method, answeredElsewhere);
  /* eslint-enable @typescript-eslint/unbound-method */
  if (res.getHeaderNames().length === 0 && !res.headersSent) {
    res.setHeader(PROBE_HEADER, '1');
    res.removeHeader(PROBE_HEADER);
  }
  res.write = function write(this: ServerResponse, ...args: unknown[]) {
    return recording.write(this, args);
  } as ServerResponse['write'];
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    recording.end(this, args);
    return this;
  } as ServerResponse['end'];
  res.once('close', () => recording.close(res));
}

/** The state of one recorded response, and what its patched methods do. */
class Recording {
  #ended = false;
  #headed = false;

  constructor(
    readonly req: IncomingMessage,
    readonly execution: Execution,
    readonly originalWrite: Method,
    readonly originalEnd: Method,
    /** The framework's own sign that this answer is not the handler's (Koa: ended before `next()` was). */
    readonly answeredElsewhere: (() => boolean) | undefined,
  ) {}

  write(res: ServerResponse, args: unknown[]): unknown {
    if (!this.#ended) this.#feed(res, args[0], args[1]);
    return this.originalWrite.apply(res, args);
  }

  end(res: ServerResponse, args: unknown[]): void {
    if (this.#ended) {
      this.originalEnd.apply(res, args);
      return;
    }
    if (res.destroyed) {
      // Destroyed first (a failed `pipeline()`), then ended by an error handler that found the head
      // sent (NestJS's exception filter does): the response never completed.
      this.close(res);
      this.#ended = true;
      this.originalEnd.apply(res, args);
      return;
    }
    this.#ended = true;
    this.#feed(res, typeof args[0] === 'function' ? undefined : args[0], args[1]);
    // connect-timeout's mark: its answer goes out while the handler still runs.
    if ((this.req as { timedout?: unknown }).timedout === true || this.answeredElsewhere?.() === true) {
      this.execution.timedOut();
    }
    const finish = (): void => void this.originalEnd.apply(res, args);
    this.execution.end().then(finish, finish);
  }

  /**
   * `close` also follows a normal end; before one, the response ended some other way. The handler
   * may still end it later (writing into the void): that end is recorded like any other.
   */
  close(res: ServerResponse): void {
    if (this.#ended) return;
    if (res.headersSent) this.#head(res);
    this.execution.close();
  }

  #head(res: ServerResponse): void {
    if (this.#headed) return;
    this.#headed = true;
    this.execution.head(res.statusCode, headerEntries(res));
  }

  #feed(res: ServerResponse, chunk: unknown, encoding: unknown): void {
    this.#head(res);
    if (!this.execution.keepsBody) return;
    const buffer = toBuffer(chunk, encoding);
    // A string was encoded afresh: nobody else holds those bytes.
    if (buffer !== undefined) this.execution.write(buffer, typeof chunk === 'string');
  }
}
