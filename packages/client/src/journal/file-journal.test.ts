import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileJournal } from './file-journal.js';
import type { JournalEntry } from './types.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function directory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'oncely-file-journal-'));
  dirs.push(dir);
  return dir;
}

const entry = (id: string, key = `key-${id}`): JournalEntry => ({
  id,
  idempotencyKey: key,
  method: 'POST',
  url: 'http://127.0.0.1/x',
  headers: {},
  body: { text: id },
  createdAt: Date.now(),
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('createFileJournal', () => {
  it('survives its process: a new journal on the directory lists what the old one recorded', async () => {
    const dir = directory();
    const first = createFileJournal(dir);
    await first.record(entry('a'));
    await first.record(entry('b'));
    await first.remove('b', 'key-b');
    await first.close();
    const second = createFileJournal(dir);
    expect((await second.list()).map((e) => e.id)).toEqual(['a']);
    await second.close();
  });

  it('writes one JSON file per entry and leaves no temporary file behind', async () => {
    const dir = directory();
    const journal = createFileJournal(dir);
    await Promise.all(['a', 'b', 'c'].map((id) => journal.record(entry(id))));
    const names = readdirSync(dir).sort();
    expect(names.filter((name) => name !== 'journal.lock')).toHaveLength(3);
    expect(names.every((name) => name === 'journal.lock' || /^[0-9a-f]{32}\.json$/.test(name))).toBe(true);
    const one = names.find((name) => name.endsWith('.json'))!;
    expect(JSON.parse(readFileSync(join(dir, one), 'utf8'))).toHaveProperty('idempotencyKey');
    await journal.close();
    expect(readdirSync(dir)).not.toContain('journal.lock');
  });

  it('one writer: a second journal on the directory fails while the first holds it', async () => {
    const dir = directory();
    const first = createFileJournal(dir);
    await first.list();
    const second = createFileJournal(dir);
    await expect(second.record(entry('a'))).rejects.toThrow(
      `is in use by process ${process.pid} on ${hostname()}`,
    );
    await first.close();
    expect(await second.record(entry('a'))).toMatchObject({ id: 'a' });
    await second.close();
  });

  it('takes over the lock of a killed process and deletes its unfinished temporary files', async () => {
    const dir = directory();
    const pid = await deadPid();
    writeFileSync(join(dir, 'journal.lock'), JSON.stringify({ pid, hostname: hostname(), token: 'old' }));
    writeFileSync(join(dir, '0123.json.abc.tmp'), '{"torn');
    const journal = createFileJournal(dir);
    expect(await journal.list()).toEqual([]);
    expect(readdirSync(dir)).toEqual(['journal.lock']);
    expect(JSON.parse(readFileSync(join(dir, 'journal.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    await journal.close();
  });

  it('takes over a lock naming this pid that this process does not hold (a restarted container)', async () => {
    const dir = directory();
    writeFileSync(
      join(dir, 'journal.lock'),
      JSON.stringify({ pid: process.pid, hostname: hostname(), token: 'previous-life' }),
    );
    const journal = createFileJournal(dir);
    await expect(journal.list()).resolves.toEqual([]);
    await journal.close();
  });

  it('a corrupt entry file fails list() naming the file', async () => {
    const dir = directory();
    writeFileSync(join(dir, `${'a'.repeat(32)}.json`), 'not json');
    const journal = createFileJournal(dir);
    await expect(journal.list()).rejects.toThrow(`${'a'.repeat(32)}.json is not valid JSON`);
    await journal.close();
  });

  it('refuses a missing directory argument, and use after close', async () => {
    expect(() => createFileJournal('')).toThrow('Invalid option `directory`');
    const journal = createFileJournal(directory());
    await journal.close();
    await expect(journal.list()).rejects.toThrow('is closed');
  });
});
