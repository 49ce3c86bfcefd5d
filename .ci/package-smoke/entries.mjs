// The entry points of the installed @oncely packages, read from their own package.json `exports`.
import { readFileSync, readdirSync } from 'node:fs';

/** Every `@oncely/x` and `@oncely/x/sub` specifier, with the optional peers of its package. */
export function entryPoints() {
  const entries = [];
  for (const dir of readdirSync('node_modules/@oncely')) {
    const pkg = JSON.parse(readFileSync(`node_modules/@oncely/${dir}/package.json`, 'utf8'));
    const optionalPeers = Object.keys(pkg.peerDependenciesMeta ?? {}).filter(
      (name) => pkg.peerDependenciesMeta[name].optional === true,
    );
    for (const subpath of Object.keys(pkg.exports ?? { '.': pkg.main })) {
      if (subpath.endsWith('.json')) continue;
      entries.push({ specifier: pkg.name + subpath.slice(1), optionalPeers });
    }
  }
  return entries;
}

/**
 * Loads one entry. An entry that needs an optional peer the app did not install is skipped, and said
 * so: that is the documented contract of an optional peer. Any other failure fails the smoke test.
 */
export async function loadEntry(entry, load) {
  try {
    return await load(entry.specifier);
  } catch (error) {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec(String(error?.message))?.[1];
    const peer = entry.optionalPeers.find((name) => missing === name || missing?.startsWith(`${name}/`));
    if (peer === undefined) throw error;
    console.log(`  ${entry.specifier}: skipped, it needs the optional peer ${peer}, not installed here`);
    return undefined;
  }
}
