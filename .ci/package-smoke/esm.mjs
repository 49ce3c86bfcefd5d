// Runs in the fresh app, as ESM: imports every entry point of every installed @oncely package and
// sends real requests through the packed server and client.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { entryPoints, loadEntry } from './entries.mjs';

const names = {};
for (const entry of entryPoints()) {
  const loaded = await loadEntry(entry, (specifier) => import(specifier));
  if (loaded !== undefined) names[entry.specifier] = Object.keys(loaded).sort();
}
writeFileSync('esm-exports.json', JSON.stringify(names, null, 2));

const { default: express } = await import('express');
const { default: axios } = await import('axios');
const { MemoryStore, idempotency } = await import('@oncely/server/express');
const { createFetch, getRetryInfo, ProblemType, isOncelyError } = await import('@oncely/client');
const { withIdempotency } = await import('@oncely/client/axios');

const app = express();
app.use(idempotency({ store: new MemoryStore(), scope: () => 'smoke' }));
let runs = 0;
app.post('/orders', (_req, res) => {
  runs++;
  res.status(201).json({ run: runs });
});
const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
try {
  const baseURL = `http://127.0.0.1:${server.address().port}`;
  const fetchOnce = createFetch({ retries: 1 });
  const first = await fetchOnce(`${baseURL}/orders`, { method: 'POST', idempotencyKey: 'smoke-1' });
  const again = await fetchOnce(`${baseURL}/orders`, { method: 'POST', idempotencyKey: 'smoke-1' });
  assert.equal(first.status, 201);
  assert.deepEqual(await first.json(), { run: 1 });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(await again.json(), { run: 1 });
  assert.equal(getRetryInfo(again)?.idempotencyKey, 'smoke-1');

  const api = withIdempotency(axios.create({ baseURL }), { retries: 1 });
  const viaAxios = await api.post('/orders', { item: 'book' });
  assert.equal(viaAxios.status, 201);
  assert.deepEqual(viaAxios.data, { run: 2 });
  assert.equal(runs, 2);

  assert.equal(typeof ProblemType.keyReused, 'string');
  assert.equal(isOncelyError(new Error('plain')), false);
} finally {
  server.close();
}
console.log(`ESM: ${Object.keys(names).length} entry points imported; a POST ran once and replayed`);
