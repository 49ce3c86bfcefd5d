import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isOncelyProblemType } from '@oncely/core';
import { describe, expect, it } from 'vitest';
import { collectProblemExamples } from './problem-examples.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const docs = join(root, 'docs');
/** The guides in docs/, the root README and every package README: what a user reads. */
const pages = [
  ...readdirSync(docs)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(docs, name)),
  join(root, 'README.md'),
  ...readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name, 'README.md'))
    .filter((file) => existsSync(file)),
].map((file) => ({
  file,
  name: relative(root, file).replace(/\.md$/, '').replaceAll('/', '-'),
  text: readFileSync(file, 'utf8'),
}));

/** Fenced code blocks of one language in a markdown text. */
function blocks(text: string, language: string): string[] {
  const found: string[] = [];
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
  for (const match of text.matchAll(fence)) found.push(match[1]!);
  return found;
}

describe('docs/ and the READMEs', () => {
  it('every TypeScript snippet type-checks against the real packages', async () => {
    const out = join(here, '.snippets');
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    let count = 0;
    for (const page of pages) {
      blocks(page.text, 'ts').forEach((code, i) => {
        count++;
        writeFileSync(join(out, `${page.name}-${i + 1}.ts`), `${code}\nexport {};\n`);
      });
    }
    expect(count).toBeGreaterThan(30);
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    const result = await promisify(execFile)(tsc, ['-p', join(here, 'tsconfig.snippets.json')], {
      cwd: root,
    }).then(
      () => '',
      (error: { stdout?: string; message?: string }) => error.stdout ?? error.message ?? 'tsc failed',
    );
    expect(result).toBe('');
  }, 120_000);

  it('every relative link points at a file that exists', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of page.text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        if (!existsSync(resolve(dirname(page.file), target!))) broken.push(`${page.name} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the error-response examples in server.md are what the server really answers', async () => {
    const documented = blocks(readFileSync(join(docs, 'server.md'), 'utf8'), 'json')
      .map((json) => JSON.parse(json) as { type?: string })
      .filter((body) => isOncelyProblemType(body.type));
    const real = await collectProblemExamples();
    expect(documented.map((body) => body.type).sort()).toEqual([...real.keys()].sort());
    for (const body of documented) {
      expect(body).toEqual(real.get(body.type!)!.body);
    }
  });
});
