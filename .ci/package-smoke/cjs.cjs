// Runs in the fresh app, as CommonJS: requires every entry point and checks that it exports the same
// names as its ESM build (a dual package whose two builds differ breaks only some users).
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');

async function main() {
  const { entryPoints, loadEntry } = await import('./entries.mjs');
  const esm = JSON.parse(readFileSync('esm-exports.json', 'utf8'));
  let count = 0;
  for (const entry of entryPoints()) {
    const loaded = await loadEntry(entry, (specifier) => require(specifier));
    if (loaded === undefined) continue;
    assert.deepEqual(Object.keys(loaded).sort(), esm[entry.specifier], `exports of ${entry.specifier}`);
    count++;
  }
  const { retry } = require('@oncely/client');
  const key = await retry(async ({ idempotencyKey }) => idempotencyKey, { retries: 0 });
  assert.match(key, /^[0-9a-f-]{36}$/);
  console.log(`CJS: ${count} entry points required, the same names as ESM; retry() ran`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
