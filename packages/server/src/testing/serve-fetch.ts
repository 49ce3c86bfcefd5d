import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { listenLocal } from './listen.js';

/**
 * Serves a fetch handler through @hono/node-server on 127.0.0.1, port 0 (the Hono and fetch adapter
 * tests). Not part of '@oncely/server/testing': @hono/node-server is a development dependency.
 */
export function serveFetch(
  fetchHandler: (request: Request) => Response | Promise<Response>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: ServerType = serve({
    fetch: fetchHandler,
    port: 0,
    hostname: '127.0.0.1',
    autoCleanupIncoming: false,
  });
  server.close();
  return listenLocal(server as Server);
}
