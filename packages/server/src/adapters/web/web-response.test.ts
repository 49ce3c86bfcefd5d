import { getRequestListener } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { cachedBodyOf } from './web-response.js';

const GlobalResponse = globalThis.Response;

describe('cachedBodyOf', () => {
  it('answers undefined for a runtime Response', () => {
    expect(cachedBodyOf(new GlobalResponse('text'))).toBeUndefined();
    expect(cachedBodyOf(new GlobalResponse(new Uint8Array([1])))).toBeUndefined();
  });

  describe("@hono/node-server's lightweight Response", () => {
    // Installs node-server's lightweight Request and Response as the globals, as `serve()` does.
    getRequestListener(() => new Response(null));
    const LightResponse = globalThis.Response;

    it('gives a string body as its UTF-8 bytes, without building the real Response', () => {
      const response = new LightResponse('héllo', { status: 201 });
      expect(cachedBodyOf(response)).toEqual({ bytes: new TextEncoder().encode('héllo'), owned: true });
      // Still lightweight: its body can be read once more.
      expect(cachedBodyOf(response)).toBeDefined();
    });

    it("gives a byte body as is (the handler's own array)", () => {
      const bytes = new Uint8Array([1, 2, 3]);
      expect(cachedBodyOf(new LightResponse(bytes))).toEqual({ bytes, owned: false });
    });

    it('answers undefined for a stream body, or once the real Response was built', async () => {
      expect(cachedBodyOf(new LightResponse(new ReadableStream()))).toBeUndefined();
      const built = new LightResponse('text');
      expect(built.bodyUsed).toBe(false);
      expect(cachedBodyOf(built)).toBeUndefined();
      expect(await built.text()).toBe('text');
    });
  });
});
