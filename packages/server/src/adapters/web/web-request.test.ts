import { describe, expect, it } from 'vitest';
import { isBodyTooLarge } from '../../engine/types.js';
import { toEngineRequest } from './web-request.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A POST whose body never ends: 64 KiB chunks, counted as they are pulled. */
function endlessRequest(headers: Record<string, string> = {}): { request: Request; pulled: () => number } {
  let pulled = 0;
  // highWaterMark 0: only a reader pulls.
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled += 64 * KiB;
        controller.enqueue(new Uint8Array(64 * KiB));
      },
    },
    { highWaterMark: 0 },
  );
  const request = new Request('http://localhost/pay', {
    method: 'POST',
    body,
    headers,
    duplex: 'half',
  } as RequestInit);
  return { request, pulled: () => pulled };
}

describe('web request body', () => {
  it('refuses a declared Content-Length over the limit without reading a byte', async () => {
    const { request, pulled } = endlessRequest({ 'content-length': String(64 * MiB) });
    expect(isBodyTooLarge(await toEngineRequest(request).readBody(MiB))).toBe(true);
    expect(pulled()).toBe(0);
    expect(request.bodyUsed).toBe(false);
  });

  it('stops reading a streamed body as soon as it crosses the limit', async () => {
    const { request, pulled } = endlessRequest();
    expect(isBodyTooLarge(await toEngineRequest(request).readBody(MiB))).toBe(true);
    expect(pulled()).toBeLessThanOrEqual(MiB + 3 * 64 * KiB);
  });

  it('reads a body within the limit and leaves it to the handler', async () => {
    const request = new Request('http://localhost/pay', { method: 'POST', body: 'x'.repeat(MiB) });
    const body = await toEngineRequest(request).readBody(MiB);
    expect((body as Uint8Array).byteLength).toBe(MiB);
    expect(await request.text()).toBe('x'.repeat(MiB));
  });
});
