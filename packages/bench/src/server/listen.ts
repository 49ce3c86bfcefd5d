import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  port: number;
  close: () => Promise<void>;
}

/** Waits until a node server listens, and wraps its shutdown with the store's. */
export async function listen(server: Server, closeStore: () => Promise<void>): Promise<RunningServer> {
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeStore();
    },
  };
}
