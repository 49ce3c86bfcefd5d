#!/usr/bin/env node
// Checks the packages as a user gets them: packs every publishable package (non-private packages/*)
// with pnpm, as `pnpm publish` would, lints the tarballs (publint, are-the-types-wrong), installs
// them into a fresh app outside the workspace, with third-party packages from the registry, and runs
// an ESM, a CommonJS and a TypeScript smoke test there (moduleResolution nodenext, bundler and node10).
// Needs a build first (`pnpm build`). Exits non-zero on any packaging mistake.
// `--pack-only <dir>`: only pack (and check the tarballs' contents) into <dir>, to install them by hand.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, '.ci', 'package-smoke');
const tool = (name) => join(root, 'node_modules', '.bin', name);
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** A failed check: its message is the whole report. */
class CheckFailed extends Error {}

/** Runs a command and resolves with its output; a failure rejects with the output (it fails CI). */
async function run(command, args, cwd) {
  try {
    const { stdout } = await promisify(execFile)(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    throw new CheckFailed(
      `${command} ${args.join(' ')} (in ${cwd}) failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`,
    );
  }
}

/** Like Promise.all, but settles every step before failing, so none still runs while the app is removed. */
async function all(steps) {
  const failed = (await Promise.allSettled(steps)).find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: readJson(join(root, 'packages', dir, 'package.json')),
  }))
  .filter(({ manifest }) => manifest.private !== true);

const packOnly = process.argv[2] === '--pack-only';
if (packOnly && process.argv[3] === undefined) {
  console.error('Usage: node .ci/check-packages.mjs [--pack-only <directory>]');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'oncely-packages-'));
const tarballs = packOnly ? resolve(process.argv[3]) : join(work, 'tarballs');
const app = join(work, 'app');
const started = Date.now();

try {
  await pack();
  if (packOnly) {
    for (const pkg of packages) console.log(pkg.tarball);
  } else {
    // Independent steps run side by side: CI's machine is small, but most of this is waiting.
    await all([lintTarballs(), installApp()]);
    await smokeTest();
    console.log(
      `packages OK: ${packages.length} tarballs in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
} catch (error) {
  console.error(`\nPACKAGE CHECK FAILED: ${error instanceof CheckFailed ? error.message : error.stack}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Packs every package in one pnpm run and checks what each tarball holds. */
async function pack() {
  const drift = packages.flatMap(manifestProblems);
  if (drift.length > 0) throw new CheckFailed(drift.join('\n'));
  const filters = packages.flatMap(({ manifest }) => ['--filter', manifest.name]);
  await run(tool('pnpm'), ['-r', ...filters, 'pack', '--pack-destination', tarballs], root);
  const problems = [];
  for (const pkg of packages) {
    const prefix = `${pkg.manifest.name.replace('@', '').replace('/', '-')}-${pkg.manifest.version}`;
    pkg.tarball = join(tarballs, `${prefix}.tgz`);
    problems.push(...(await tarballProblems(pkg)));
  }
  if (problems.length > 0) throw new CheckFailed(problems.join('\n'));
}

/** What is wrong in a tarball: sources or workspace-only conditions shipped, no licence, a missing target. */
async function tarballProblems(pkg) {
  const name = pkg.manifest.name;
  const listing = await run('tar', ['tzf', pkg.tarball], root);
  const files = new Set(
    listing
      .split('\n')
      .filter(Boolean)
      .map((file) => file.replace(/^package\//, '')),
  );
  const text = await run('tar', ['xzf', pkg.tarball, '-O', 'package/package.json'], root);
  const packed = JSON.parse(text);
  const problems = [];
  for (const required of ['LICENSE', 'README.md'])
    if (!files.has(required)) problems.push(`${name}: no ${required}`);
  if ([...files].some((file) => file.startsWith('src/'))) problems.push(`${name}: ships src/`);
  if (text.includes('@oncely/source')) problems.push(`${name}: the packed package.json keeps @oncely/source`);
  if (text.includes('workspace:'))
    problems.push(`${name}: the packed package.json keeps a workspace: version`);
  const targets = [packed.main, packed.module, packed.types, ...Object.values(packed.bin ?? {})];
  collectTargets(packed.exports, targets);
  collectTargets(packed.typesVersions, targets);
  for (const target of targets) {
    if (typeof target === 'string' && !files.has(target.replace(/^\.\//, ''))) {
      problems.push(`${name}: package.json points at ${target}, which is not in the tarball (built?)`);
    }
  }
  return problems;
}

/**
 * What the published manifest would miss: `publishConfig.exports` must be `exports` without the
 * workspace-only `@oncely/source` condition, and `typesVersions` must name every subpath (node10).
 */
function manifestProblems({ manifest }) {
  const strip = (value) =>
    value !== null && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([key]) => key !== '@oncely/source')
            .map(([key, inner]) => [key, strip(inner)]),
        )
      : value;
  const problems = [];
  const expected = JSON.stringify(strip(manifest.exports ?? {}));
  if (JSON.stringify(manifest.publishConfig?.exports ?? {}) !== expected) {
    problems.push(`${manifest.name}: publishConfig.exports is not exports without @oncely/source`);
  }
  const typed = manifest.typesVersions?.['*'] ?? {};
  for (const subpath of Object.keys(manifest.exports ?? {})) {
    if (subpath === '.' || subpath === './package.json') continue;
    if (!(subpath.slice(2) in typed)) problems.push(`${manifest.name}: typesVersions has no ${subpath}`);
  }
  return problems;
}

function collectTargets(value, into) {
  if (typeof value === 'string') into.push(value);
  else if (value !== null && typeof value === 'object')
    for (const v of Object.values(value)) collectTargets(v, into);
}

/** publint and are-the-types-wrong (every resolution: node10, node16 from ESM and CJS, bundler). */
async function lintTarballs() {
  await all(
    packages.map(async ({ manifest, tarball }) => {
      await run(tool('publint'), ['run', '--strict', tarball], root);
      await run(
        tool('attw'),
        [tarball, '--profile', 'strict', '--format', 'table-flipped', '--no-color'],
        root,
      );
      console.log(`${manifest.name}: publint and are-the-types-wrong (node10, node16, bundler) pass`);
    }),
  );
}

/**
 * The fresh app: the tarballs, and every peer dependency they name at the version the workspace pins
 * (with its @types package when the workspace has one). vitest is left out on purpose: the smoke test
 * then shows which entry points cannot load without it.
 */
async function installApp() {
  const pins = {};
  for (const dir of ['.', ...readdirSync(join(root, 'packages')).map((d) => `packages/${d}`)]) {
    const manifest = readJson(join(root, dir, 'package.json'));
    Object.assign(pins, manifest.dependencies, manifest.devDependencies);
  }
  const dependencies = { '@types/node': pins['@types/node'] };
  for (const pkg of packages) {
    dependencies[pkg.manifest.name] = `file:${pkg.tarball}`;
    for (const peer of Object.keys(pkg.manifest.peerDependencies ?? {})) {
      if (peer.startsWith('@oncely/') || peer === 'vitest') continue;
      dependencies[peer] = pins[peer];
      if (pins[`@types/${peer}`] !== undefined) dependencies[`@types/${peer}`] = pins[`@types/${peer}`];
    }
  }
  mkdirSync(app);
  const manifest = { name: 'oncely-package-smoke', private: true, type: 'module', dependencies };
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
  for (const file of readdirSync(fixtures)) cpSync(join(fixtures, file), join(app, file));
  writeTypeEntries();
}

/** ESM, then CommonJS (compared with ESM), then TypeScript under each resolution, then each bin. */
async function smokeTest() {
  console.log((await run('node', ['esm.mjs'], app)).trimEnd());
  console.log((await run('node', ['cjs.cjs'], app)).trimEnd());
  await all(
    ['nodenext', 'bundler', 'node10'].map(async (resolution) => {
      await run(tool('tsc'), ['-p', `tsconfig.${resolution}.json`], app);
      console.log(`TypeScript, moduleResolution ${resolution}: every entry point and the usage type-check`);
    }),
  );
  for (const pkg of packages) {
    for (const bin of Object.keys(pkg.manifest.bin ?? {})) {
      const help = await run(join(app, 'node_modules', '.bin', bin), ['--help'], app);
      if (!help.includes('Usage')) throw new CheckFailed(`${bin} --help printed no usage:\n${help}`);
      console.log(`bin ${bin} --help runs from the installed package`);
    }
  }
}

/** entries.ts (ESM) and entries-require.cts (CommonJS) import every entry point of every package. */
function writeTypeEntries() {
  const specifiers = packages.flatMap(({ manifest }) =>
    Object.keys(manifest.exports)
      .filter((subpath) => !subpath.endsWith('.json'))
      .map((subpath) => manifest.name + subpath.slice(1)),
  );
  const body = (style) =>
    specifiers
      .map((specifier, i) =>
        style === 'esm'
          ? `import * as entry${i} from '${specifier}';`
          : `import entry${i} = require('${specifier}');`,
      )
      .join('\n') + `\nexport const entries = [${specifiers.map((_, i) => `entry${i}`).join(', ')}];\n`;
  writeFileSync(join(app, 'entries.ts'), body('esm'));
  writeFileSync(join(app, 'entries-require.cts'), body('cjs'));
}
