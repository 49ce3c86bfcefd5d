// The API reference's entry points and their names, from the `exports` of each publishable package:
// a new package or subpath is documented without touching the TypeDoc options. Also a TypeDoc plugin
// that names each module by the specifier users import it by (not by its path under packages/).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Converter, ReflectionKind } from 'typedoc';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Source file → specifier, e.g. packages/client/src/axios.ts → @oncely/client/axios. */
export const entryPoints = new Map();
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  if (manifest.private === true) continue;
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    const source = typeof target === 'object' ? target['@oncely/source'] : undefined;
    if (source !== undefined)
      entryPoints.set(join(root, 'packages', dir, source), manifest.name + subpath.slice(1));
  }
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
    const specifier = file === undefined ? undefined : entryPoints.get(resolve(file));
    if (specifier !== undefined) reflection.name = specifier;
  });
}
