import assert from 'node:assert/strict';
import { provider } from 'sessionkit/providers/redis';
import { FakeRedis } from '../support/fake-redis.ts';

/** bulk is a RESP bulk string. */
function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

/**
 * clusterNode answers as the only node of a cluster holding every slot, at `port`, a Redis 5 that
 * knows no HELLO; `state` gives the cluster_state its next CLUSTER INFO reports.
 */
function clusterNode(port: () => number, state: () => string): (args: string[]) => string {
  return (args) => {
    const [name, sub] = args.map((arg) => arg.toUpperCase());
    if (name === 'HELLO') return "-ERR unknown command 'HELLO'\r\n";
    if (name === 'CLUSTER' && sub === 'SLOTS') return `*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n${bulk('127.0.0.1')}:${port()}\r\n`;
    if (name === 'CLUSTER' && sub === 'INFO') return bulk(`cluster_state:${state()}\r\ncluster_slots_ok:16384\r\n`);
    if (name === 'INFO') return bulk('loading:0\r\n');
    if (name === 'GET') return '$-1\r\n';
    return '+OK\r\n';
  };
}

describe('redis open (scripted cluster node)', function () {
  let fake: FakeRedis;

  beforeEach(function () {
    fake = new FakeRedis();
  });
  afterEach(async function () {
    await fake.close();
  });

  it('opens a cluster whose first ready check finds cluster_state:fail once a later check finds it ok', async function () {
    let port = 0;
    let checks = 0;
    fake.answer = clusterNode(() => port, () => (checks++ === 0 ? 'fail' : 'ok'));
    port = await fake.listen();
    const started = Date.now();
    // ioredis reconnects after the failed check; the store must not wait for the first attempt's promise.
    const store = await provider.open(`redis+cluster://127.0.0.1:${port}/0?dial_timeout=2s`, { maxLifetime: 60_000 });
    try {
      assert.ok(checks >= 2, `CLUSTER INFO asked ${checks} times`);
      assert.ok(Date.now() - started < 2000, `opened after ${Date.now() - started} ms, within dial_timeout`);
      assert.equal(await store.get('0'.repeat(43)), undefined);
    } finally {
      await store.close?.();
    }
  });

  it('fails within dial_timeout, naming the address, while every check finds cluster_state:fail', async function () {
    let port = 0;
    fake.answer = clusterNode(() => port, () => 'fail');
    port = await fake.listen();
    const started = Date.now();
    await assert.rejects(provider.open(`redis+cluster://127.0.0.1:${port}/0?dial_timeout=500ms`, { maxLifetime: 60_000 }), (error: Error) => {
      assert.match(error.message, new RegExp(`cannot connect to cluster 127\\.0\\.0\\.1:${port}`));
      return true;
    });
    // open gives up after dial_timeout + 0.5 s; the rest is margin for a loaded machine.
    assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
  });
});
