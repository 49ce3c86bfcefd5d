/**
 * The bench measures Oncely as users get it: the built packages (`dist`, ESM), not the TypeScript
 * sources through tsx (whose name-keeping wrappers add a property definition per closure). Builds
 * the packages first when a `dist` is missing or older than its sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const PACKAGES = ['core', 'client', 'server', 'redis', 'postgres', 'sqlite'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(name: string): boolean {
  const built = join(root, 'packages', name, 'dist', 'index.js');
  if (!existsSync(built)) return true;
  return newestMtime(join(root, 'packages', name, 'src')) > statSync(built).mtimeMs;
}

export function ensureBuilt(log: (line: string) => void): void {
  const stale = PACKAGES.filter(isStale);
  if (stale.length === 0) return;
  log(`bench: building the packages first (${stale.join(', ')} not built or out of date)`);
  execFileSync(process.execPath, [join(root, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs'), 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
