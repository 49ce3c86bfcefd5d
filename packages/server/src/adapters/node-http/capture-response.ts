import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CapturedResponse, Execution } from '../../engine/types.js';
import { isStreamingContentType } from '../web/streaming.js';
import { headerEntries, setWriteHeadHeaders, toBuffer } from './response-parts.js';

type Method = (this: ServerResponse, ...args: unknown[]) => unknown;

/** Where a patched response keeps its capture: the patches are shared functions, not closures. */
const kCapture = Symbol('oncely.captureResponse');

interface CapturingResponse extends ServerResponse {
  [kCapture]?: ResponseCapture;
}

/**
 * Watches what the handler writes to `res` and reports it to `execution` when it ends. Writes pass
 * through at once (streaming keeps working); only `end()` is held until the outcome is stored, so a
 * client that sees the end of the response can count on its replay. An event stream is reported as
 * not replayable at its first write and never buffered.
 */
export function captureResponse(res: ServerResponse, execution: Execution): void {
  const capturing = res as CapturingResponse;
  // Patched below and put back in end(): always called with `this` set to `res`.
  /* eslint-disable @typescript-eslint/unbound-method */
  capturing[kCapture] = new ResponseCapture(
    execution,
    res.writeHead as Method,
    res.write as Method,
    res.end as Method,
  );
  /* eslint-enable @typescript-eslint/unbound-method */
  res.writeHead = writeHead as ServerResponse['writeHead'];
  res.write = write as ServerResponse['write'];
  res.end = end as ServerResponse['end'];
}

/** The state of one captured response. */
class ResponseCapture {
  readonly chunks: Buffer[] = [];
  size = 0;
  notReplayable: CapturedResponse['notReplayable'];
  reported = false;

  constructor(
    readonly execution: Execution,
    readonly writeHead: Method,
    readonly write: Method,
    readonly end: Method,
  ) {}

  report(res: ServerResponse, body: Uint8Array | null): Promise<void> {
    this.reported = true;
    const captured: CapturedResponse = {
      status: res.statusCode,
      headers: headerEntries(res.getHeaders()),
      body,
    };
    if (this.notReplayable !== undefined) captured.notReplayable = this.notReplayable;
    return this.execution.complete(captured);
  }

  capture(res: ServerResponse, chunk: unknown, encoding: unknown): void {
    if (this.notReplayable === undefined && isStreamingContentType(res.getHeader('content-type'))) {
      this.notReplayable = 'stream';
      this.chunks.length = 0;
      // An event stream may never end: complete the key now, body not kept.
      void this.report(res, null);
    }
    if (this.notReplayable !== undefined) return;
    const buffer = toBuffer(chunk, encoding);
    if (buffer === undefined) return;
    this.size += buffer.byteLength;
    if (this.size > this.execution.maxResponseBytes) {
      this.notReplayable = 'oversize';
      this.chunks.length = 0;
      return;
    }
    // Copy: the handler may reuse its buffer after write() returns. A string was encoded afresh.
    this.chunks.push(typeof chunk === 'string' ? buffer : Buffer.from(buffer));
  }

  /** The captured body: the one chunk as is (the usual `end(body)`), or all of them joined. */
  body(): Buffer {
    const { chunks } = this;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size);
  }

  /** Puts the methods back; the state stays, for a patched method someone kept and calls late. */
  restore(res: ServerResponse): void {
    res.writeHead = this.writeHead as ServerResponse['writeHead'];
    res.write = this.write as ServerResponse['write'];
    res.end = this.end as ServerResponse['end'];
  }
}

// Headers passed to writeHead() bypass getHeaders(); set them so they can be seen and kept.
function writeHead(this: CapturingResponse, statusCode: number, ...rest: unknown[]): unknown {
  const state = this[kCapture]!;
  const headers = rest.find((arg) => typeof arg === 'object' && arg !== null) as
    OutgoingHttpHeaders | Array<string | string[]> | undefined;
  const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
  setWriteHeadHeaders(this, headers);
  return reason === undefined
    ? state.writeHead.call(this, statusCode)
    : state.writeHead.call(this, statusCode, reason);
}

function write(this: CapturingResponse, chunk: unknown, ...rest: unknown[]): unknown {
  const state = this[kCapture]!;
  state.capture(this, chunk, rest[0]);
  return state.write.call(this, chunk, ...rest);
}

function end(this: CapturingResponse, ...args: unknown[]): unknown {
  const state = this[kCapture]!;
  state.capture(this, args[0], args[1]);
  state.restore(this);
  if (state.reported) {
    state.end.apply(this, args);
  } else {
    const finish = (): void => void state.end.apply(this, args);
    state.report(this, state.notReplayable === undefined ? state.body() : null).then(finish, finish);
  }
  return this;
}
