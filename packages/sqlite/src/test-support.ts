import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A database file in a fresh temporary directory, removed (with its WAL files) by `remove()`. */
export function tempDatabase(name: string): {
  filename: string;
  path: (file: string) => string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), `oncely-sqlite-${name}-`));
  return {
    filename: join(dir, 'oncely.db'),
    path: (file) => join(dir, file),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
