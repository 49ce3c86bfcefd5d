import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CapturedResponse, Execution } from '../../engine/types.js';
import { isStreamingContentType } from '../web/streaming.js';
import { headerEntries, setWriteHeadHeaders, toBuffer } from './response-parts.js';

/**
 * Watches what the handler writes to `res` and reports it to `execution` when it ends. Writes pass
 * through at once (streaming keeps working); only `end()` is held until the outcome is stored, so a
 * client that sees the end of the response can count on its replay. An event stream is reported as
 * not replayable at its first write and never buffered.
 */
export function captureResponse(res: ServerResponse, execution: Execution): void {
  // Patched below and put back in end(): always called with `this` set to `res`.
  /* eslint-disable @typescript-eslint/unbound-method */
  const originalWriteHead = res.writeHead;
  const originalWrite = res.write;
  const originalEnd = res.end;
  /* eslint-enable @typescript-eslint/unbound-method */
  const chunks: Buffer[] = [];
  let size = 0;
  let notReplayable: CapturedResponse['notReplayable'];
  let reported = false;

  const report = (body: Uint8Array | null): Promise<void> => {
    reported = true;
    const captured: CapturedResponse = {
      status: res.statusCode,
      headers: headerEntries(res.getHeaders()),
      body,
    };
    if (notReplayable !== undefined) captured.notReplayable = notReplayable;
    return execution.complete(captured);
  };

  const capture = (chunk: unknown, encoding: unknown): void => {
    if (notReplayable === undefined && isStreamingContentType(res.getHeader('content-type'))) {
      notReplayable = 'stream';
      chunks.length = 0;
      // An event stream may never end: complete the key now, body not kept.
      void report(null);
    }
    if (notReplayable !== undefined) return;
    const buffer = toBuffer(chunk, encoding);
    if (buffer === undefined) return;
    size += buffer.byteLength;
    if (size > execution.maxResponseBytes) {
      notReplayable = 'oversize';
      chunks.length = 0;
      return;
    }
    // Copy: the handler may reuse its buffer after write() returns.
    chunks.push(Buffer.from(buffer));
  };

  // Headers passed to writeHead() bypass getHeaders(); set them so they can be seen and kept.
  res.writeHead = function writeHead(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    const headers = rest.find((arg) => typeof arg === 'object' && arg !== null) as
      OutgoingHttpHeaders | Array<string | string[]> | undefined;
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    setWriteHeadHeaders(this, headers);
    const call = originalWriteHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
    return reason === undefined ? call.call(this, statusCode) : call.call(this, statusCode, reason);
  };

  res.write = function write(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    capture(chunk, rest[0]);
    return (originalWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];

  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    const [chunk, encoding] = args;
    capture(chunk, encoding);
    res.writeHead = originalWriteHead;
    res.write = originalWrite;
    res.end = originalEnd;
    const finish = (): void => {
      (originalEnd as (...args: unknown[]) => ServerResponse).apply(this, args);
    };
    if (reported) {
      finish();
    } else {
      report(notReplayable === undefined ? Buffer.concat(chunks) : null).then(finish, finish);
    }
    return this;
  } as ServerResponse['end'];
}
