import { expect } from 'chai';
import { createManager, SessionError, type Manager, type Store } from 'sessionkit';
import { parseIni } from 'sessionkit/config';
import { MemoryStore } from 'sessionkit/providers/memory';
import { resolveOptions } from '../../src/options.ts';
import { fakeRequest } from '../support/requests.ts';
import { spyProvider, type SpyStore } from '../support/spy-store.ts';

/** TIMEOUT_S is the storeTimeout of these tests: short, so a hung call ends the test quickly. */
const TIMEOUT_S = 0.05;

/** failure awaits `call`, which must reject, and returns the error. */
async function failure(call: () => Promise<unknown>): Promise<SessionError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the call resolved').to.be.instanceOf(SessionError);
  return error as SessionError;
}

describe('storeTimeout: a store that stops answering fails a request within a bound', function () {
  let manager: Manager;
  let spy: SpyStore;

  beforeEach(async function () {
    const provider = spyProvider();
    manager = await createManager({ provider, storeTimeout: TIMEOUT_S, gcInterval: 0, onError: () => undefined });
    spy = provider.store!;
  });
  afterEach(async function () {
    spy.resume();
    await manager.close();
  });

  /** stored creates a session holding n = 1 and returns its cookie. */
  async function stored(): Promise<string> {
    const session = await manager.load(fakeRequest());
    session.set('n', 1);
    await session.release();
    return `sid=${session.id}`;
  }

  it('a load whose get does not answer rejects with ERR_SESSION_STORE saying the call timed out', async function () {
    const cookie = await stored();
    spy.stalled.add('get');
    const error = await failure(() => manager.load(fakeRequest(cookie)));
    expect(error.code).to.equal('ERR_SESSION_STORE');
    expect(error.message).to.equal('session/custom: get timed out after 50 ms');
  });

  it('a save whose write does not answer rejects, and the write, once it lands, is kept: it is never retried', async function () {
    const cookie = await stored();
    const session = await manager.load(fakeRequest(cookie));
    session.increment('n');
    spy.stalled.add('compareAndSet');
    const error = await failure(() => session.release());
    expect(error.message).to.equal('session/custom: compareAndSet timed out after 50 ms');
    const writes = spy.calls.filter((name) => name === 'compareAndSet').length;
    spy.resume();
    await new Promise((resolve) => setImmediate(resolve));
    const after = await manager.load(fakeRequest(cookie));
    expect(after.get('n'), 'the late write was applied by the store').to.equal(2);
    expect(spy.calls.filter((name) => name === 'compareAndSet').length, 'no second write').to.equal(writes);
  });

  it('the store answers again after a timeout and the same manager serves the next request', async function () {
    const cookie = await stored();
    spy.stalled.add('get');
    await failure(() => manager.load(fakeRequest(cookie)));
    spy.resume();
    const session = await manager.load(fakeRequest(cookie));
    session.increment('n');
    await session.release();
    expect((await manager.load(fakeRequest(cookie))).get('n')).to.equal(2);
  });

  it('a hung call that rejects after its timeout is absorbed, never an unhandled rejection', async function () {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const cookie = await stored();
      spy.stalled.add('get');
      await failure(() => manager.load(fakeRequest(cookie)));
      spy.resume(new Error('connection reset'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('count, clear and gc are not bounded: they may take longer than storeTimeout', async function () {
    await stored();
    spy.stalled.add('count');
    const counting = manager.count();
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_S * 1000 * 3));
    spy.resume();
    expect(await counting).to.equal(1);
  });

  it('a regenerate whose move does not answer rejects within the bound of its calls', async function () {
    const cookie = await stored();
    const session = await manager.load(fakeRequest(cookie));
    spy.stalled.add('regenerate');
    const error = await failure(() => session.regenerate());
    expect(error.code).to.equal('ERR_SESSION_STORE');
    expect(error.message).to.match(/timed out after 50 ms$/);
  });
});

describe('storeTimeout: the option', function () {
  it('defaults to 2 seconds, accepts 0 (no bound) and the duration strings of the INI, and refuses a negative or unreadable value, naming it', function () {
    expect(resolveOptions({}).storeTimeoutMs).to.equal(2000);
    expect(resolveOptions({ storeTimeout: 0 }).storeTimeoutMs).to.equal(0);
    expect(resolveOptions({ storeTimeout: 0.25 }).storeTimeoutMs).to.equal(250);
    expect(resolveOptions({ storeTimeout: '500ms' }).storeTimeoutMs).to.equal(500);
    for (const storeTimeout of [-1, Number.NaN, Number.POSITIVE_INFINITY, 'soon', true as unknown as number]) {
      expect(() => resolveOptions({ storeTimeout }))
        .to.throw(SessionError, /^session: storeTimeout must be a non-negative number of seconds/)
        .with.property('code', 'ERR_SESSION_CONFIG');
    }
  });

  it('STORE_TIMEOUT in an INI file sets storeTimeout in seconds, Go durations included', function () {
    expect(parseIni('[session]\nSTORE_TIMEOUT = 500ms\n').storeTimeout).to.equal(0.5);
    expect(parseIni('[session]\nstore_timeout = 3\n').storeTimeout).to.equal(3);
  });

  it('storeTimeout 0 hands the opened store to the manager as it is', async function () {
    const provider = spyProvider();
    const manager = await createManager({ provider, storeTimeout: 0, gcInterval: 0 });
    expect(manager.store).to.equal(provider.store);
    await manager.close();
  });

  it('a store marked inProcess, as the memory store is, is handed over as it is: its calls cannot stall, so a bound would only cost them', async function () {
    const memory = await createManager({ provider: 'memory', gcInterval: 0 });
    expect(memory.store).to.be.instanceOf(MemoryStore);
    expect(memory.store.inProcess).to.equal(true);
    const local: Store = { get: async () => undefined, set: async () => {}, destroy: async () => {}, inProcess: true };
    const unwrapped = await createManager({ provider: { open: async () => local }, gcInterval: 0 });
    expect(unwrapped.store).to.equal(local);
    const remote: Store = { ...local, inProcess: false };
    const wrapped = await createManager({ provider: { open: async () => remote }, gcInterval: 0 });
    expect(wrapped.store, 'a store that does not say inProcess: true is bounded').to.not.equal(remote);
    await Promise.all([memory.close(), unwrapped.close(), wrapped.close()]);
  });

  it('the bounded store offers exactly the optional methods of the store it wraps, so fallbacks still apply', async function () {
    const bare: Store = { get: async () => undefined, set: async () => {}, destroy: async () => {} };
    const manager = await createManager({ provider: { open: async () => bare }, gcInterval: 0 });
    expect(Object.keys(manager.store).sort()).to.deep.equal(['destroy', 'get', 'set']);
    const full = spyProvider();
    const other = await createManager({ provider: full, gcInterval: 0 });
    const methods = ['get', 'set', 'destroy', 'compareAndSet', 'touch', 'regenerate', 'indexAdd', 'indexRemove', 'indexList', 'count', 'clear', 'gc', 'close'];
    expect(Object.keys(other.store).sort()).to.deep.equal([...methods].sort());
    await manager.close();
    await other.close();
  });
});
