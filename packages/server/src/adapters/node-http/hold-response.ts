import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Execution, PreparedResponse, Settlement } from '../../engine/types.js';
import { headerEntries, setWriteHeadHeaders, toBuffer } from './response-parts.js';
import { sendPrepared } from './send-prepared.js';

type Callback = (error?: Error | null) => void;
type Method = (this: ServerResponse, ...args: unknown[]) => unknown;

/**
 * Transactional mode on node responses (Express, node:http): runs `invoke` (the handler) through
 * `execution` with the whole response held back, because nothing may reach the client before the
 * commit (a superseded transaction's response describes writes that were rolled back). Once the claim
 * settled, sends what the handler wrote (an event stream then flows on), or the engine's problem
 * instead. Rejects with the handler's error after the rollback, with `res` handed back untouched so
 * the caller's error handling answers as without transactions.
 */
export async function transactResponse(
  req: IncomingMessage,
  res: ServerResponse,
  execution: Execution,
  invoke: () => unknown,
): Promise<void> {
  const held = holdResponse(res, execution);
  res.once('close', () => execution.close());
  const ran = execution.run(invoke);
  // Awaited below, once the claim says what to send.
  ran.catch(() => undefined);
  // Settled, or (the response ended while a timed-out handler still runs) to be settled later.
  const settlement = await Promise.race([execution.settled, held.ended]);
  if (settlement.action === 'send') held.send();
  else if (settlement.action === 'respond') held.replace(settlement.response, req);
  else held.discard();
  await ran;
}

export interface HeldResponse {
  /** Resolves once the handler ended the response, to what `execution.end()` said. */
  readonly ended: Promise<Settlement>;
  send(): void;
  replace(response: PreparedResponse, req: IncomingMessage): void;
  discard(): void;
}

/** Holds every part of `res` (status, headers, body) and reports it to `execution` as it is written. */
export function holdResponse(res: ServerResponse, execution: Execution): HeldResponse {
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
  let headed = false;
  let markEnded!: (settlement: Promise<Settlement>) => void;
  const ended$ = new Promise<Settlement>((resolve) => (markEnded = resolve));
  const head = (): void => {
    if (headed) return;
    headed = true;
    execution.head(res.statusCode, headerEntries(res));
  };
  const hold = (chunk: unknown, encoding: unknown, callback: unknown): void => {
    head();
    if (typeof callback === 'function') callbacks.push(callback as Callback);
    const buffer = toBuffer(chunk, encoding);
    if (buffer === undefined) return;
    // Copy: the handler may reuse its buffer after write() returns. The execution shares the copy.
    const copy = Buffer.from(buffer);
    chunks.push(copy);
    size += copy.byteLength;
    execution.write(copy, true);
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
    head();
    return this;
  };
  res.flushHeaders = function flushHeaders(this: ServerResponse) {
    headFlushed = true;
    head();
  };
  res.write = function write(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    hold(chunk, typeof rest[0] === 'string' ? rest[0] : undefined, lastCallback(rest));
    return true;
  } as ServerResponse['write'];
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    if (ended) return this;
    ended = true;
    const [chunk, encoding] = args;
    hold(
      typeof chunk === 'function' ? undefined : chunk,
      typeof encoding === 'string' ? encoding : undefined,
      lastCallback(args),
    );
    markEnded(execution.end());
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
    ended: ended$,
    send() {
      restore();
      const held = Buffer.concat(chunks, size);
      chunks.length = 0;
      const pending = callbacks.splice(0);
      const afterWrite = (error?: Error | null): void => {
        for (const callback of pending) callback(error);
      };
      if (res.destroyed) return afterWrite();
      if (ended) {
        (original.end as Method).call(res, held, afterWrite);
        return;
      }
      // An event stream that is still running: send what it wrote so far, then let it flow.
      if (held.byteLength > 0) (original.write as Method).call(res, held, afterWrite);
      else if (headFlushed) res.flushHeaders();
      if (held.byteLength === 0) afterWrite();
    },
    replace(response, req) {
      restore();
      clear();
      sendPrepared(res, response, req);
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
