// A node:cluster of server processes for the multi-instance tests: the primary forks WORKERS (default 3)
// workers that each run server.ts and listen on one shared port (the primary hands connections out
// round-robin, as under PM2 or `node:cluster` in production). Protocol on stdout, one line each:
//   listening <port> <pid> <pid> …   once every worker listens
//   exit <pid> <code|signal>         whenever a worker dies (workers are not replaced)
// SIGTERM on the primary SIGKILLs every worker, then exits: a hard restart of the whole host.
import cluster from 'node:cluster';

if (cluster.isPrimary) {
  const count = Number(process.env.WORKERS ?? '3');
  const ports = new Map<number, number>();
  cluster.on('listening', (worker, address) => {
    ports.set(worker.process.pid!, address.port);
    if (ports.size === count) {
      const port = [...ports.values()][0]!;
      process.stdout.write(`listening ${port} ${[...ports.keys()].join(' ')}\n`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    process.stdout.write(`exit ${worker.process.pid} ${signal ?? code}\n`);
    if (Object.keys(cluster.workers ?? {}).length === 0 && stopping) process.exit(0);
  });
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker?.process.kill('SIGKILL');
  });
  for (let i = 0; i < count; i++) cluster.fork();
} else {
  await import('./server.js');
}
