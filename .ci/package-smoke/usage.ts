// Type-checked in the fresh app under every supported moduleResolution: what a user writes.
import { createFetch, getRetryInfo, isOncelyError, ProblemType, type RetryInfo } from '@oncely/client';
import { withIdempotency } from '@oncely/client/axios';
import { generateIdempotencyKey, parseRetryAfter } from '@oncely/core';
import { MemoryStore, type IdempotencyStore } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import { withIdempotency as withFetchIdempotency } from '@oncely/server/fetch';
import { RedisStore } from '@oncely/redis';
import { PostgresStore } from '@oncely/postgres';
import axios from 'axios';

export async function usage(): Promise<void> {
  const fetchOnce = createFetch({ retries: 3, deadline: 20_000 });
  const response = await fetchOnce('https://api.example.com/payments', { method: 'POST', body: '{}' });
  const info: RetryInfo | undefined = getRetryInfo(response);
  const key: string = generateIdempotencyKey('v7');
  const delay: number | undefined = parseRetryAfter(response.headers)?.delay;
  const api = withIdempotency(axios.create({ baseURL: 'https://api.example.com' }), { retries: 2 });
  try {
    await api.post('/payments', { amount: 1999 }, { headers: { 'Idempotency-Key': key } });
  } catch (error) {
    if (isOncelyError(error) && error.code === 'ERR_ONCELY_HTTP_ERROR') console.log(ProblemType.keyReused);
  }
  const store: IdempotencyStore = new MemoryStore();
  const middleware = idempotency({ store, scope: 'global' });
  const handler = withFetchIdempotency(async () => new Response('ok'), { store, scope: 'global' });
  console.log(info?.attempts, delay, typeof middleware, typeof handler, RedisStore.name, PostgresStore.name);
}
