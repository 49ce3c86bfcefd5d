/**
 * A server child: builds one app from the spec in argv[2], listens on 127.0.0.1:0, reports its port
 * over IPC and answers `stats` (handler executions and CPU time so far). It dies with its parent: IPC disconnect
 * (parent exited, crashed or was killed) ends it too.
 */
import type { Framework, ServerSpec } from '../scenarios.js';
import { startExpress } from './express-app.js';
import { startFastify } from './fastify-app.js';
import { startHono } from './hono-app.js';
import type { RunningServer } from './listen.js';
import { effects } from './payment.js';
import type { ChildMessage, ParentMessage } from '../ipc.js';

const starters: Record<Framework, (spec: ServerSpec) => Promise<RunningServer>> = {
  express: startExpress,
  fastify: startFastify,
  hono: startHono,
};

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;
  process.on('disconnect', () => process.exit(0));
  let running: RunningServer;
  try {
    running = await starters[spec.framework](spec);
  } catch (error) {
    send({ type: 'failed', reason: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') {
      const { user, system } = process.cpuUsage();
      send({ type: 'stats', effects: effects.count, cpuMicros: user + system });
    }
    if (message.type === 'close') {
      const exit = (): never => process.exit(0);
      running.close().then(exit, exit);
    }
  });
  send({ type: 'ready', port: running.port });
}

void main();
