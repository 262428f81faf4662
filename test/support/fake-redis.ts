import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ReplyReader } from '../../providers/redis/resp.ts';

/**
 * FakeRedis is a scripted RESP server: it records each command it receives, per connection, and
 * answers with what `answer` returns (RESP text), or stays silent on undefined.
 */
export class FakeRedis {
  readonly received: string[][] = [];
  readonly sockets: Socket[] = [];
  /** chunks counts the reads the server made, one per chunk that arrived. */
  chunks = 0;
  answer: (args: string[]) => string | undefined = () => '+OK\r\n';
  private readonly server: Server;

  constructor() {
    this.server = createServer((socket) => {
      this.sockets.push(socket);
      const reader = new ReplyReader();
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        this.chunks++;
        reader.feed(chunk, (command) => {
          this.received.push(command as string[]);
          const reply = this.answer(command as string[]);
          if (reply !== undefined) socket.write(reply);
        });
      });
    });
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  /** drop closes every connection from the server's side. */
  drop(): void {
    for (const socket of this.sockets.splice(0)) socket.destroy();
  }

  async close(): Promise<void> {
    this.drop();
    this.server.close();
    await once(this.server, 'close');
  }
}
