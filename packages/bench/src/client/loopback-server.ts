/**
 * The client suite's server child: plain node:http on 127.0.0.1:0, no faults, a fixed 201 JSON answer
 * to every request once its body is read. As cheap as a server gets, so client overhead shows.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChildMessage, ParentMessage } from '../ipc.js';

const answer = Buffer.from(
  JSON.stringify({ id: 'pay_000000000001', object: 'payment', status: 'succeeded' }),
);

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': answer.byteLength });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', port } satisfies ChildMessage);
});
process.on('disconnect', () => process.exit(0));
process.on('message', (message: ParentMessage) => {
  if (message.type === 'close') process.exit(0);
});
