/**
 * What each peer library does and skips, read from its published code (versions in the Machine table).
 * Behaviour, not figures: the figures all come from the run.
 */
export const PEER_NOTES = `| | Oncely | express-idempotency | @node-idempotency/core |
| --- | --- | --- | --- |
| How it is mounted here | \`idempotency({ store, scope })\` before \`express.json()\` (its README) | \`app.post(path, idempotency(), handler)\` after \`express.json()\`; the handler returns early on \`isHit(req)\` (its README) | No Express package exists on npm (\`@node-idempotency/express\` and \`/fastify\` are named in its README but not published): a small Express middleware of ours (src/server/node-idempotency-express.ts) calls \`onRequest\`/\`onResponse\` as its README and its NestJS interceptor do |
| Claim of a new key | one atomic store call (claim) | two calls, find then create; atomicity is left to the data adapter (the in-memory one throws on a duplicate create, which Express answers 500) | \`SET NX\` (Redis) or a check-and-set in one tick (memory): atomic |
| Lease, crash recovery | lease with fencing token; a retry may take over after the lease | none: an in-progress key stays so until deleted | none: an in-progress key blocks retries until its TTL (24 h by default) |
| Fingerprint | SHA-256 of method, path, canonical query and raw body bytes | deep-equal of url, method, query and parsed body, against a copy of the whole request (headers included) kept per key | blake2s of the JSON of the parsed body only (method and path are part of the cache key) |
| Key reused with another request | 422 problem | 417 through \`next(err)\` | 422 (our middleware, as its NestJS mapping) |
| Replay | stored status, allow-listed headers, byte-identical body, \`Idempotent-Replayed: true\`; handler not called | status, content-type and body; **the handler is called** and must check \`isHit\` itself | the parsed body re-serialised with \`res.json\`, status, \`Idempotent-Replayed\`; handler not called |
| Round trips of a replay | 1 | (in-memory only) | 2 (\`SET NX\`, then \`GET\`) |
| Expiry and bounds of the in-memory store | TTL and an LRU bound (\`maxEntries\`) | no TTL, no bound; lookups scan an array, so each request costs more as keys accumulate | TTL checked on read, no bound |
| Key validation | printable ASCII, 1–255 chars, bare or quoted | none | length only (≤ 256) |
| Failed handler (5xx, throw) | claim released, a retry runs again | non-2xx deleted | errors are stored and replayed by its NestJS interceptor (our middleware stores what \`res.json\` sends) |`;
