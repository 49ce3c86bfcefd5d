#!/usr/bin/env node
// Checks the packages as a user gets them: packs every publishable package (non-private packages/*)
// with pnpm, as `pnpm publish` would, lints the tarballs (publint, are-the-types-wrong), installs
// them into a fresh app outside the workspace, with third-party packages from the registry, and runs
// an ESM, a CommonJS and a TypeScript smoke test there (moduleResolution nodenext, bundler and node10).
// Needs a build first (`pnpm build`). Exits non-zero on the first packaging mistake.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, '.ci', 'package-smoke');
const tool = (name) => join(root, 'node_modules', '.bin', name);
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** A failed check: its message is the whole report. */
class CheckFailed extends Error {}

/** Runs a command and returns its output; a failure throws with the output (it fails CI). */
function run(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    throw new CheckFailed(
      `${command} ${args.join(' ')} (in ${cwd}) failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`,
    );
  }
}

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: readJson(join(root, 'packages', dir, 'package.json')),
  }))
  .filter(({ manifest }) => manifest.private !== true);

// `--pack-only <dir>`: pack (and check the tarballs) into <dir> and stop, to install them by hand.
const packOnly = process.argv[2] === '--pack-only';
if (packOnly && process.argv[3] === undefined) {
  console.error('Usage: node .ci/check-packages.mjs [--pack-only <directory>]');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'oncely-packages-'));
const tarballs = packOnly ? resolve(process.argv[3]) : join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(app);
const started = Date.now();
const problems = [];
const fail = (message) => problems.push(message);
const stopOnProblems = () => {
  if (problems.length > 0) throw new CheckFailed(problems.join('\n'));
};

try {
  for (const pkg of packages) {
    run(tool('pnpm'), ['pack', '--pack-destination', tarballs], pkg.dir);
    const prefix = `${pkg.manifest.name.replace('@', '').replace('/', '-')}-${pkg.manifest.version}`;
    pkg.tarball = join(tarballs, `${prefix}.tgz`);
    checkTarball(pkg);
    stopOnProblems();
    if (packOnly) {
      console.log(pkg.tarball);
      continue;
    }
    run(tool('publint'), ['run', '--strict', pkg.tarball], root);
    run(tool('attw'), [pkg.tarball, '--profile', 'strict', '--format', 'table-flipped', '--no-color'], root);
    console.log(
      `packed ${pkg.manifest.name}: publint and are-the-types-wrong (node10, node16, bundler) pass`,
    );
  }
  if (!packOnly) smokeTest();
} catch (error) {
  console.error(`\nPACKAGE CHECK FAILED: ${error instanceof CheckFailed ? error.message : error.stack}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Installs the tarballs into the fresh app and runs the ESM, CommonJS, TypeScript and bin checks. */
function smokeTest() {
  writeFileSync(join(app, 'package.json'), JSON.stringify(appManifest(), null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
  for (const file of readdirSync(fixtures)) cpSync(join(fixtures, file), join(app, file));
  writeTypeEntries();

  console.log(run('node', ['esm.mjs'], app).trimEnd());
  console.log(run('node', ['cjs.cjs'], app).trimEnd());
  for (const resolution of ['nodenext', 'bundler', 'node10']) {
    run(tool('tsc'), ['-p', `tsconfig.${resolution}.json`], app);
    console.log(`TypeScript, moduleResolution ${resolution}: every entry point and the usage type-check`);
  }
  for (const pkg of packages) {
    for (const bin of Object.keys(pkg.manifest.bin ?? {})) {
      const help = run(join(app, 'node_modules', '.bin', bin), ['--help'], app);
      if (!help.includes('Usage')) fail(`${bin} --help printed no usage`);
      else console.log(`bin ${bin} --help runs from the installed package`);
    }
  }
  stopOnProblems();
  console.log(`packages OK: ${packages.length} tarballs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** What is in the tarball: no sources or workspace-only conditions, a licence, every target present. */
function checkTarball(pkg) {
  const name = pkg.manifest.name;
  const files = new Set(
    run('tar', ['tzf', pkg.tarball], root)
      .split('\n')
      .filter(Boolean)
      .map((file) => file.replace(/^package\//, '')),
  );
  const text = run('tar', ['xzf', pkg.tarball, '-O', 'package/package.json'], root);
  const packed = JSON.parse(text);
  for (const required of ['LICENSE', 'README.md']) if (!files.has(required)) fail(`${name}: no ${required}`);
  if ([...files].some((file) => file.startsWith('src/'))) fail(`${name}: ships src/`);
  if (text.includes('@oncely/source'))
    fail(`${name}: the packed package.json keeps the @oncely/source condition`);
  if (text.includes('workspace:')) fail(`${name}: the packed package.json keeps a workspace: version`);
  const targets = [packed.main, packed.module, packed.types, ...Object.values(packed.bin ?? {})];
  collectTargets(packed.exports, targets);
  collectTargets(packed.typesVersions, targets);
  for (const target of targets) {
    if (typeof target === 'string' && !files.has(target.replace(/^\.\//, ''))) {
      fail(`${name}: package.json points at ${target}, which is not in the tarball`);
    }
  }
}

function collectTargets(value, into) {
  if (typeof value === 'string') into.push(value);
  else if (value !== null && typeof value === 'object')
    for (const v of Object.values(value)) collectTargets(v, into);
}

/**
 * The fresh app: the tarballs, and every peer dependency they name at the version the workspace pins
 * (with its @types package when the workspace has one). vitest is left out on purpose: the smoke test
 * then shows which entry points cannot load without it.
 */
function appManifest() {
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
  return { name: 'oncely-package-smoke', private: true, type: 'module', dependencies };
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
