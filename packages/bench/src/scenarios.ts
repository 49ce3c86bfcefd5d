/** What a server child runs: one framework, one variant. Plain data: it crosses a process boundary. */

export const FRAMEWORKS = ['express', 'fastify', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export const STORE_KINDS = ['memory', 'redis', 'postgres', 'sqlite'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** Peer libraries measured in the same run (all on Express: none of them ships a Fastify or Hono adapter on npm). */
export const PEERS = ['express-idempotency', 'node-idempotency-memory', 'node-idempotency-redis'] as const;
export type PeerName = (typeof PEERS)[number];

export type Variant =
  { kind: 'bare' } | { kind: 'oncely'; store: StoreKind } | { kind: 'peer'; peer: PeerName };

/** Load shape: a fresh Idempotency-Key per request, or one key completed before the run. */
export const MODES = ['first', 'replay'] as const;
export type Mode = (typeof MODES)[number];

export interface ServiceUrls {
  redisUrl: string;
  databaseUrl: string;
  /** Directory of this run's SQLite files (one per server child), removed at the end. */
  sqliteDir: string;
}

/** Everything a server child needs; `namespace` keeps its Redis keys and table rows apart from others'. */
export interface ServerSpec extends ServiceUrls {
  framework: Framework;
  variant: Variant;
  namespace: string;
  /** Table for PostgresStore, created by the parent before any child starts. */
  table: string;
}

/** Which store a variant needs, if any: decides whether it is skipped when a service is down. */
export function serviceOf(variant: Variant): 'redis' | 'postgres' | undefined {
  if (variant.kind === 'oncely' && (variant.store === 'redis' || variant.store === 'postgres')) {
    return variant.store;
  }
  if (variant.kind === 'peer' && variant.peer === 'node-idempotency-redis') return 'redis';
  return undefined;
}

export function variantLabel(variant: Variant): string {
  switch (variant.kind) {
    case 'bare':
      return 'bare';
    case 'oncely':
      return `oncely ${storeLabel(variant.store)}`;
    case 'peer':
      return peerLabel(variant.peer);
  }
}

export function storeLabel(store: StoreKind): string {
  return { memory: 'MemoryStore', redis: 'RedisStore', postgres: 'PostgresStore', sqlite: 'SqliteStore' }[
    store
  ];
}

export function peerLabel(peer: PeerName): string {
  return {
    'express-idempotency': 'express-idempotency (memory)',
    'node-idempotency-memory': '@node-idempotency/core (memory)',
    'node-idempotency-redis': '@node-idempotency/core (redis)',
  }[peer];
}

export function frameworkLabel(framework: Framework): string {
  return { express: 'Express', fastify: 'Fastify', hono: 'Hono' }[framework];
}

/** The variants measured per framework. Peers exist for Express only. */
export function variantsFor(framework: Framework): Variant[] {
  const variants: Variant[] = [
    { kind: 'bare' },
    ...STORE_KINDS.map((store) => ({ kind: 'oncely', store }) as const),
  ];
  if (framework === 'express') variants.push(...PEERS.map((peer) => ({ kind: 'peer', peer }) as const));
  return variants;
}

export function scenarioId(framework: Framework, variant: Variant): string {
  return `${framework}/${variantLabel(variant)}`;
}
