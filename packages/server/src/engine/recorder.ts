import { isStreamingContentType } from './streaming.js';
import type { CapturedResponse, NotReplayableReason, ResponseHeaders } from './types.js';

/**
 * The first response as it is written: the one place that decides what is kept for replay. Event
 * streams (by content type) and bodies over `maxResponseBytes` are not kept; everything else is kept
 * byte for byte. An empty body is a body of zero bytes. Which headers are kept is decided when the
 * record is stored (see `decideResponse`).
 */
export class ResponseRecorder {
  readonly #maxBytes: number;
  #status = 0;
  #headers: ResponseHeaders = [];
  #chunks: Uint8Array[] = [];
  #size = 0;
  #notReplayable: NotReplayableReason | undefined;
  #headed = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Whether the head (status and headers) was recorded: it is committed. */
  get headed(): boolean {
    return this.#headed;
  }

  get status(): number {
    return this.#status;
  }

  /** Why the body is not kept; `undefined` while it is. */
  get notReplayable(): NotReplayableReason | undefined {
    return this.#notReplayable;
  }

  /** Records the head; only the first call counts. Returns whether this call recorded it. */
  head(status: number, headers: ResponseHeaders): boolean {
    if (this.#headed) return false;
    this.#headed = true;
    this.#status = status;
    this.#headers = headers;
    // An event stream may never end: it is never buffered.
    if (isStreamingContentType(contentTypeOf(headers))) this.#drop('stream');
    return true;
  }

  /** Records body bytes; `owned` chunks (made for this call) are kept without a copy. */
  write(chunk: Uint8Array, owned: boolean): void {
    if (this.#notReplayable !== undefined || chunk.byteLength === 0) return;
    this.#size += chunk.byteLength;
    if (this.#size > this.#maxBytes) {
      this.#drop('oversize');
      return;
    }
    // Copy: the writer may reuse its buffer once write() returns. Through Uint8Array's own slice: a
    // Buffer's `slice()` is a view of the same bytes.
    this.#chunks.push(owned ? chunk : Uint8Array.prototype.slice.call(chunk));
  }

  /** Stops keeping the body: `shouldStore` keeps this response without it. */
  decline(): void {
    if (this.#notReplayable === undefined) this.#drop('declined');
  }

  /** Marks the body as cut short, unless it was already not kept for another reason. */
  cut(): void {
    if (this.#notReplayable === undefined) this.#drop('incomplete');
  }

  /** The response as recorded so far. */
  captured(): CapturedResponse {
    const notReplayable = this.#notReplayable;
    const captured: CapturedResponse = {
      status: this.#status,
      headers: this.#headers,
      body: notReplayable === undefined ? this.#body() : null,
    };
    if (notReplayable !== undefined) captured.notReplayable = notReplayable;
    return captured;
  }

  /** The kept body, one chunk as is (the usual single `end(body)`), or all of them joined. */
  #body(): Uint8Array {
    const chunks = this.#chunks;
    if (chunks.length === 1) return chunks[0]!;
    const body = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return body;
  }

  #drop(reason: NotReplayableReason): void {
    this.#notReplayable = reason;
    this.#chunks = [];
  }
}

function contentTypeOf(headers: ResponseHeaders): unknown {
  for (const [name, value] of headers) {
    if (name.length === 12 && name.toLowerCase() === 'content-type') return value;
  }
  return undefined;
}
