// A response cut mid-body (the proxy's `resetResponse` fault) is a network failure: the client must
// retry it with the same key, whatever the status line said. Isolated here from the chaos scenarios so
// a regression names itself.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetch, getRetryInfo } from '@oncely/client';
import { withIdempotency } from '@oncely/client/axios';

describe('a 201 whose body is cut by a connection reset', () => {
  const keysSeen: string[] = [];
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    // The first attempt of each key gets the head and half the body, then a reset; later ones all of it.
    server = http.createServer((req, res) => {
      const key = String(req.headers['idempotency-key']);
      const first = !keysSeen.includes(key);
      keysSeen.push(key);
      const body = JSON.stringify({ ok: true, padding: 'x'.repeat(200) });
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': body.length });
      if (!first) return void res.end(body);
      res.write(body.slice(0, 100));
      setImmediate(() => req.socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetch (bufferResponse) retries it with the same key', async () => {
    keysSeen.length = 0;
    const oncelyFetch = createFetch({ bufferResponse: true, baseDelay: 10, retryBudget: false });
    const response = await oncelyFetch(`${url}/ops`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { ok: boolean }).ok).toBe(true);
    expect(getRetryInfo(response)?.attempts).toBe(2);
    expect(new Set(keysSeen).size).toBe(1);
  });

  // Bug in @oncely/client/axios (packages/client/src/axios-call.ts, judge()): axios rejects a body cut
  // mid-stream with an AxiosError that carries `response` (status 201, code ERR_BAD_RESPONSE, "stream
  // has been aborted"); judge() classifies it by that status, so a network failure is not retried.
  it('axios retries it with the same key', async () => {
    keysSeen.length = 0;
    const api = withIdempotency(axios.create({ baseURL: url }), { baseDelay: 10, retryBudget: false });
    // Summarised: an AxiosError holds sockets, which vitest cannot print.
    const outcome = await api.post<{ ok: boolean }>('/ops', {}).then(
      (response) => ({
        status: response.status,
        ok: response.data.ok,
        attempts: getRetryInfo(response)?.attempts,
      }),
      (error: { code?: string; message?: string }) => ({
        error: `${error.code}: ${error.message}`,
        attempts: getRetryInfo(error)?.attempts,
      }),
    );
    expect(outcome).toEqual({ status: 201, ok: true, attempts: 2 });
    expect(new Set(keysSeen).size).toBe(1);
  });
});
