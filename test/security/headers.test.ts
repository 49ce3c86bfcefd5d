// Hostile Idempotency-Key headers, over raw sockets (bytes fetch refuses to send) and fetch, fuzzed with
// fast-check. The answer is the handler (a valid key), a 400 key-invalid problem, or — for bytes Node's
// HTTP parser itself refuses — Node's own 400/431 and a closed connection. Never a crash, never a stack
// trace, never a store write for a refused key.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemType } from '@oncely/core';
import {
  NODE_PARSER_400,
  STACK_TRACE,
  parseRaw,
  postWithKeyLines,
  rawExchange,
  startApp,
} from './support.js';
import type { TestApp } from './support.js';
import { recordSecurity } from './results.js';

/** Bytes llhttp refuses in a header value: CTLs other than HTAB, and DEL (RFC 9110 §5.5). */
const isParserRefused = (byte: number) => (byte < 0x20 && byte !== 0x09) || byte === 0x7f;

/**
 * Independent oracle of the key rules (DESIGN "Keys"; draft-ietf-httpapi-idempotency-key-header §2.1):
 * after Node strips optional whitespace, a bare key is 1–255 printable ASCII without a comma; a quoted
 * one is an RFC 8941 sf-string whose content is such a key (commas allowed).
 */
function expectedValid(bytes: readonly number[]): boolean {
  let value = Buffer.from(bytes).toString('latin1');
  value = value.replace(/^[ \t]+|[ \t]+$/g, '');
  const printable = (text: string) =>
    text.length >= 1 && text.length <= 255 && /^[\x20-\x7e]*$/.test(text) && !/^ | $/.test(text);
  if (value.startsWith('"')) {
    const match = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(value);
    return match !== null && printable(match[1]!.replace(/\\(["\\])/g, '$1'));
  }
  return printable(value) && !value.includes(',');
}

describe('hostile Idempotency-Key headers', () => {
  let app: TestApp;
  const figures = { rawFuzzRuns: 0, fetchFuzzRuns: 0, parserRefused: 0, problems: 0, accepted: 0 };

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app.close();
    recordSecurity('headers', figures);
  });

  /** Sends `lines` raw and checks the answer class; returns it. */
  async function send(lines: Buffer[], expected: 'accepted' | 'problem' | 'parser') {
    const writes = app.store.writes;
    const runs = app.runs.ops ?? 0;
    const { raw, closed } = await rawExchange(app.port, postWithKeyLines(lines));
    const response = parseRaw(raw);
    expect(raw).not.toMatch(STACK_TRACE);
    if (expected === 'parser') {
      figures.parserRefused++;
      expect(raw).toBe(NODE_PARSER_400);
      expect(closed).toBe(true);
    } else if (expected === 'problem') {
      figures.problems++;
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((JSON.parse(response.body) as { type: string }).type).toBe(ProblemType.keyInvalid);
    } else {
      figures.accepted++;
      expect(response.status).toBe(201);
    }
    if (expected !== 'accepted') {
      expect(app.store.writes - writes, 'store writes for a refused key').toBe(0);
      expect((app.runs.ops ?? 0) - runs, 'handler runs for a refused key').toBe(0);
    }
    return response;
  }

  it('any bytes but CR/LF as the value: the handler, a 400 problem, or Node’s parser 400', async () => {
    const byte = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.constantFrom(0x22, 0x5c, 0x2c, 0x20, 0x09),
      fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0a && b !== 0x0d),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(byte, { maxLength: 300 }), async (bytes) => {
        figures.rawFuzzRuns++;
        const expected = bytes.some(isParserRefused)
          ? 'parser'
          : expectedValid(bytes)
            ? 'accepted'
            : 'problem';
        await send([Buffer.from(bytes)], expected);
      }),
      { numRuns: 1000, seed: 42 },
    );
  });

  it('printable strings through fetch: accepted exactly when the key rules say so', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
          fc.string({ maxLength: 20 }).map((s) => `"${s}"`),
        ),
        async (value) => {
          figures.fetchFuzzRuns++;
          const writes = app.store.writes;
          const response = await fetch(`${app.url}/ops`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': value },
            body: '{}',
          }).catch(() => undefined);
          // fetch itself refuses some values (e.g. CTLs); nothing reached the server then.
          if (response === undefined) return;
          const text = await response.text();
          expect(text).not.toMatch(STACK_TRACE);
          const valid = expectedValid([...Buffer.from(value, 'latin1')]);
          expect(response.status).toBe(valid ? 201 : 400);
          if (!valid) expect(app.store.writes).toBe(writes);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('the named hostile values', async () => {
    const bytes = (text: string) => Buffer.from(text, 'latin1');
    await send([bytes('')], 'problem'); // empty
    await send([bytes('   ')], 'problem'); // whitespace only
    await send([bytes('k'.repeat(10 * 1024))], 'problem'); // 10 kB
    await send([bytes('k'.repeat(256))], 'problem'); // one over the limit
    await send([bytes('clé-ünïcode')], 'problem'); // obs-text (latin1 bytes)
    await send([Buffer.from('clé-ünïcode', 'utf8')], 'problem'); // UTF-8 bytes
    await send([bytes('a\tb')], 'problem'); // HTAB inside
    await send([bytes('a,b')], 'problem'); // a comma: two keys folded into one line?
    await send([bytes('"unterminated')], 'problem');
    await send([bytes('"bad \\escape"')], 'problem');
    await send([bytes('a\x00b')], 'parser'); // NUL
    await send([bytes('a\x1bb')], 'parser'); // ESC
    await send([bytes('a\x7fb')], 'parser'); // DEL
    // Many Idempotency-Key headers: refused even when they agree.
    await send(
      Array.from({ length: 50 }, (_, i) => bytes(`key-${i}`)),
      'problem',
    );
    await send([bytes('same'), bytes('same')], 'problem');
    // Bigger than Node's header limit (16 KiB): Node answers 431 itself.
    const { raw, closed } = await rawExchange(app.port, postWithKeyLines([bytes('k'.repeat(20_000))]));
    expect(raw).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    expect(closed).toBe(true);
  });

  it('quoted and bare forms name the same key; a quoted key may hold a comma', async () => {
    const key = `form-${Date.now()}`;
    const first = await send([Buffer.from(key)], 'accepted');
    const quoted = await send([Buffer.from(`"${key}"`)], 'accepted');
    expect(quoted.headers['idempotent-replayed']).toBe('true');
    expect(quoted.body).toBe(first.body);
    const spaced = await send([Buffer.from(`  ${key}\t`)], 'accepted');
    expect(spaced.headers['idempotent-replayed']).toBe('true');
    const comma = await send([Buffer.from(`"${key},x"`)], 'accepted');
    expect(comma.headers['idempotent-replayed']).toBeUndefined();
  });

  it('is still serving after all of it', async () => {
    const response = await fetch(`${app.url}/ops`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: '{}',
    });
    expect(response.status).toBe(201);
  });
});
