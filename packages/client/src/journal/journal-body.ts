import type { JournaledBody } from './types.js';

/** A body made ready to be journaled and sent: the call sends exactly the bytes the journal keeps. */
export interface JournalableBody {
  readonly record: JournaledBody | null;
  /** Sent in place of the caller's body. */
  readonly send: string | Uint8Array<ArrayBuffer> | null;
  /** The content type the caller's body implied (a FormData boundary, a Blob's type, a form). */
  readonly contentType: string | undefined;
}

const NO_BODY: JournalableBody = Object.freeze({ record: null, send: null, contentType: undefined });

/**
 * Serialises what the caller passed as a body, or `undefined` when it cannot be kept: a stream or a
 * body factory can only be read once, or only by the process that made it.
 *
 * FormData is serialised here, once, and those bytes are what every attempt sends: a second
 * serialisation would pick a new multipart boundary and the resumed call would no longer match the
 * server's fingerprint of the first one.
 */
export async function journalableBody(body: unknown): Promise<JournalableBody | undefined> {
  if (body === null || body === undefined) return NO_BODY;
  if (typeof body === 'string') return { record: { text: body }, send: body, contentType: undefined };
  if (body instanceof URLSearchParams) {
    const text = body.toString();
    return { record: { text }, send: text, contentType: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (body instanceof ArrayBuffer) return bytes(new Uint8Array(body.slice(0)), undefined);
  if (ArrayBuffer.isView(body)) {
    const copy = new Uint8Array(body.byteLength);
    copy.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    return bytes(copy, undefined);
  }
  if (typeof Blob !== 'undefined' && body instanceof Blob) {
    return bytes(new Uint8Array(await body.arrayBuffer()), body.type === '' ? undefined : body.type);
  }
  if (typeof FormData !== 'undefined' && body instanceof FormData) {
    const serialised = new Response(body);
    return bytes(
      new Uint8Array(await serialised.arrayBuffer()),
      serialised.headers.get('content-type') ?? undefined,
    );
  }
  return undefined;
}

/** The body a journaled entry is sent with again. */
export function bodyFromJournal(body: JournaledBody | null): string | Uint8Array<ArrayBuffer> | null {
  if (body === null) return null;
  return 'text' in body ? body.text : fromBase64(body.base64);
}

function bytes(data: Uint8Array<ArrayBuffer>, contentType: string | undefined): JournalableBody {
  return { record: { base64: toBase64(data) }, send: data, contentType };
}

/** btoa/atob work in every runtime the client supports (Buffer does not exist in browsers). */
function toBase64(data: Uint8Array): string {
  let binary = '';
  // Chunked: String.fromCharCode takes its bytes as arguments, and argument lists are bounded.
  for (let i = 0; i < data.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const data = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) data[i] = binary.charCodeAt(i);
  return data;
}
