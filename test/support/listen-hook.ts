// Preloaded (node --import) into a README block run by test/readme.test.ts: whatever port the block
// listens on (the README writes 3000), the server takes a free loopback port instead, so runs never
// collide, and the test is told which one over the IPC channel.
import { Server } from 'node:net';

const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
  this.once('listening', () => {
    const address = this.address();
    if (address !== null && typeof address === 'object') process.send?.({ listening: address.port });
  });
  return listen.call(this, { port: 0, host: '127.0.0.1' }, callback);
} as typeof Server.prototype.listen;
