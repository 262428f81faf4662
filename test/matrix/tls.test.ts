import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import type { SessionError } from 'sessionkit';
import { provider } from 'sessionkit/providers/postgres';

/**
 * TLS certificate checks against an untrusted server (checklist row 53), for postgres: a loopback
 * endpoint answers PostgreSQL's SSLRequest and then does a TLS handshake with a self-signed
 * certificate, and goes no further. A verifying sslmode must fail on the certificate; trusting it
 * through sslrootcert, or choosing `require` (no checks, as in lib/pq), gets past TLS and then
 * waits out the connect timeout instead. The redis version runs against a real TLS redis-server in
 * test/providers/redis.test.ts.
 */

describe('postgres TLS against a server with an untrusted certificate', function () {
  this.timeout(20_000);
  let dir: string;
  let server: Server;
  let port: number;
  const sockets = new Set<Socket>();

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'sessionkit-matrix-tls-'));
    execFileSync('openssl', [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    ], { stdio: 'ignore' });
    const [key, cert] = [readFileSync(join(dir, 'key.pem')), readFileSync(join(dir, 'cert.pem'))];
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => {
        // The 8-byte SSLRequest: answer "S" and start TLS; never speak the protocol itself.
        socket.write('S');
        const secure = new TLSSocket(socket, { isServer: true, key, cert });
        secure.on('error', () => undefined);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async function () {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const openWith = async (options: string): Promise<SessionError> => {
    const config = `host=127.0.0.1 port=${port} user=postgres dbname=test connect_timeout=1 ${options}`;
    return provider.open(config, { maxLifetime: 60_000 }).then(
      async (store) => {
        await store.close?.();
        return assert.fail(`opened with ${options}`);
      },
      (error: SessionError) => error,
    );
  };

  it('verify-full and verify-ca refuse the self-signed certificate', async function () {
    for (const mode of ['verify-full', 'verify-ca']) {
      const error = await openWith(`sslmode=${mode}`);
      assert.equal(error.code, 'ERR_SESSION_STORE', error.message);
      assert.match(error.message, /certificate/i, mode);
    }
  });

  it('the same certificate passes once trusted through sslrootcert, and require skips the check as lib/pq does', async function () {
    for (const options of [`sslmode=verify-full sslrootcert=${join(dir, 'cert.pem')}`, 'sslmode=require']) {
      const error = await openWith(options);
      assert.equal(error.code, 'ERR_SESSION_STORE', error.message);
      assert.doesNotMatch(error.message, /certificate/i, `${options} got past TLS: ${error.message}`);
    }
  });
});
