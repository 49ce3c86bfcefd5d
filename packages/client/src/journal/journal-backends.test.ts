/**
 * The contract every journal backend keeps (types.ts): record is "insert unless present" and answers
 * with the pending entry, remove is guarded by the key, list returns what is pending. Run against the
 * memory and file backends here; the IndexedDB one runs it in Chromium (test/browser).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileJournal } from './file-journal.js';
import { type Journal, type JournalEntry, createMemoryJournal } from './index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function entry(id: string, key: string, extra: Partial<JournalEntry> = {}): JournalEntry {
  return {
    id,
    idempotencyKey: key,
    method: 'POST',
    url: 'https://api.example.com/payments',
    headers: { 'content-type': 'application/json' },
    body: { text: `{"id":"${id}"}` },
    createdAt: 1_700_000_000_000,
    ...extra,
  };
}

const backends: [string, () => Journal][] = [
  ['memory', createMemoryJournal],
  [
    'file',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'oncely-journal-'));
      dirs.push(dir);
      return createFileJournal(dir);
    },
  ],
];

describe.each(backends)('the %s journal keeps the contract', (_name, make) => {
  it('record adds a new entry and answers with it', async () => {
    const journal = make();
    const a = entry('a', 'key-a');
    expect(await journal.record(a)).toEqual(a);
    expect(await journal.list()).toEqual([a]);
  });

  it('record of a pending id answers with the pending entry and changes nothing', async () => {
    const journal = make();
    const a = entry('a', 'key-a');
    await journal.record(a);
    expect(await journal.record(entry('a', 'key-b', { body: null }))).toEqual(a);
    expect(await journal.list()).toEqual([a]);
  });

  it('concurrent records of one id agree on one entry', async () => {
    const journal = make();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => journal.record(entry('same', `key-${i}`))),
    );
    expect(new Set(answers.map((answer) => answer.idempotencyKey)).size).toBe(1);
    expect(await journal.list()).toHaveLength(1);
  });

  it('remove deletes only the entry with that key', async () => {
    const journal = make();
    await journal.record(entry('a', 'key-a'));
    await journal.record(entry('b', 'key-b'));
    await journal.remove('a', 'stale-key');
    await journal.remove('missing', 'key-x');
    expect((await journal.list()).map((e) => e.id).sort()).toEqual(['a', 'b']);
    await journal.remove('a', 'key-a');
    expect((await journal.list()).map((e) => e.id)).toEqual(['b']);
    await journal.record(entry('a', 'key-a2'));
    expect((await journal.list()).find((e) => e.id === 'a')!.idempotencyKey).toBe('key-a2');
  });

  it('keeps ids of any shape and bodies as they were', async () => {
    const journal = make();
    const odd = entry('../../etc/passwd ☃ \u0000', 'k', { body: { base64: 'AP8K' }, headers: {} });
    await journal.record(odd);
    expect(await journal.list()).toEqual([odd]);
  });
});
