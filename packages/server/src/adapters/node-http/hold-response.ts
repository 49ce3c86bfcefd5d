import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CapturedResponse, PreparedResponse } from '../../engine/types.js';
import { isStreamingContentType } from '../web/streaming.js';
import { headerEntries, setWriteHeadHeaders, toBuffer } from './response-parts.js';
import { sendPrepared } from './send-prepared.js';

/** A response whose every part (status, headers, body) is held back until the transaction settles. */
export interface HeldResponse {
  /**
   * Resolves once the handler ended the response, or started an event stream (whose end may never
   * come: it is reported at once, not replayable).
   */
  readonly done: Promise<CapturedResponse>;
  /** Sends what the handler wrote; a running event stream then flows on directly. */
  send(): void;
  /** Drops what the handler wrote and answers `response` instead; later handler writes are ignored. */
  replace(response: PreparedResponse): void;
  /** Drops what the handler wrote and hands `res` back untouched, for an error handler to answer. */
  discard(): void;
}

type Callback = (error?: Error | null) => void;
type Method = (this: ServerResponse, ...args: unknown[]) => unknown;

/**
 * Transactional mode: holds back the whole response, because nothing may reach the client before the
 * commit (a superseded transaction's response describes writes that were rolled back). The body is
 * buffered in full, whatever `maxResponseBytes`; past that size it is sent but not kept for replay.
 */
export function holdResponse(res: ServerResponse, maxResponseBytes: number): HeldResponse {
  // Patched below and put back before anything is sent: always called with `this` set to `res`.
  /* eslint-disable @typescript-eslint/unbound-method */
  const original = {
    writeHead: res.writeHead,
    write: res.write,
    end: res.end,
    flushHeaders: res.flushHeaders,
  };
  /* eslint-enable @typescript-eslint/unbound-method */
  const chunks: Buffer[] = [];
  const callbacks: Callback[] = [];
  let size = 0;
  let headFlushed = false;
  let ended = false;
  let streaming = false;
  let report!: (captured: CapturedResponse) => void;
  const done = new Promise<CapturedResponse>((resolve) => (report = resolve));

  const checkStream = (): void => {
    if (streaming || !isStreamingContentType(res.getHeader('content-type'))) return;
    streaming = true;
    report({
      status: res.statusCode,
      headers: headerEntries(res),
      body: null,
      notReplayable: 'stream',
    });
  };
  const hold = (chunk: unknown, encoding: unknown, callback: unknown): void => {
    if (typeof callback === 'function') callbacks.push(callback as Callback);
    const buffer = toBuffer(chunk, encoding);
    if (buffer === undefined) return;
    // Copy: the handler may reuse its buffer after write() returns.
    chunks.push(Buffer.from(buffer));
    size += buffer.byteLength;
  };
  const lastCallback = (args: unknown[]): unknown => {
    const last = args[args.length - 1];
    return typeof last === 'function' ? last : undefined;
  };

  res.writeHead = function writeHead(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    this.statusCode = statusCode;
    if (typeof rest[0] === 'string') this.statusMessage = rest[0];
    setWriteHeadHeaders(
      this,
      rest.find((arg) => typeof arg === 'object' && arg !== null) as
        OutgoingHttpHeaders | Array<string | string[]> | undefined,
    );
    checkStream();
    return this;
  };
  res.flushHeaders = function flushHeaders(this: ServerResponse) {
    headFlushed = true;
    checkStream();
  };
  res.write = function write(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    checkStream();
    hold(chunk, typeof rest[0] === 'string' ? rest[0] : undefined, lastCallback(rest));
    return true;
  } as ServerResponse['write'];
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    if (ended) return this;
    ended = true;
    const [chunk, encoding] = args;
    checkStream();
    hold(
      typeof chunk === 'function' ? undefined : chunk,
      typeof encoding === 'string' ? encoding : undefined,
      lastCallback(args),
    );
    if (!streaming) {
      const body = Buffer.concat(chunks, size);
      const captured: CapturedResponse = {
        status: this.statusCode,
        headers: headerEntries(this),
        body: size > maxResponseBytes ? null : body,
      };
      if (size > maxResponseBytes) captured.notReplayable = 'oversize';
      report(captured);
    }
    return this;
  } as ServerResponse['end'];

  const restore = (): void => {
    Object.assign(res, original);
  };
  // After a replacement answer, whatever the handler still writes goes nowhere.
  const ignoreLaterWrites = (): void => {
    const ignore = function ignore(this: ServerResponse, ...args: unknown[]) {
      const callback = lastCallback(args);
      if (typeof callback === 'function') queueMicrotask(() => (callback as Callback)());
      return this;
    };
    res.writeHead = ignore;
    res.write = function write(...args: unknown[]) {
      ignore.apply(res, args);
      return true;
    } as ServerResponse['write'];
    res.end = ignore;
    res.flushHeaders = () => undefined;
  };
  const clear = (): void => {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 200;
    res.statusMessage = '';
  };

  return {
    done,
    send() {
      restore();
      const held = Buffer.concat(chunks, size);
      chunks.length = 0;
      const pending = callbacks.splice(0);
      const afterWrite = (error?: Error | null): void => {
        for (const callback of pending) callback(error);
      };
      if (ended) {
        (original.end as Method).call(res, held, afterWrite);
        return;
      }
      // An event stream that is still running: send what it wrote so far, then let it flow.
      if (held.byteLength > 0) (original.write as Method).call(res, held, afterWrite);
      else if (headFlushed) res.flushHeaders();
      if (held.byteLength === 0) afterWrite();
    },
    replace(response) {
      restore();
      clear();
      sendPrepared(res, response);
      for (const callback of callbacks.splice(0)) queueMicrotask(() => callback());
      ignoreLaterWrites();
    },
    discard() {
      restore();
      clear();
      chunks.length = 0;
      callbacks.length = 0;
    },
  };
}
