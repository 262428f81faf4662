import type { OpenOptions, Provider, Store } from 'sessionkit';
import { MemoryStore } from 'sessionkit/providers/memory';

/**
 * SpyStore wraps a MemoryStore, records every call by method name, and can be told to fail or
 * hang a method, so tests can count round trips and inject store faults.
 */
export class SpyStore implements Store {
  readonly calls: string[] = [];
  readonly inner: MemoryStore;
  failing = new Set<string>();
  /** stalled methods hang, as over a connection that stopped answering, until {@link resume}. */
  stalled = new Set<string>();
  #waiting: { go: () => void; fail: (error: Error) => void }[] = [];

  constructor(options: OpenOptions) {
    this.inner = new MemoryStore(options);
  }

  /** resume lets every hung call go on and run, or reject with `error` when given. */
  resume(error?: Error): void {
    this.stalled.clear();
    for (const { go, fail } of this.#waiting.splice(0)) {
      if (error) fail(error);
      else go();
    }
  }

  private async call<T>(name: string, run: () => Promise<T>): Promise<T> {
    this.calls.push(name);
    if (this.stalled.has(name)) await new Promise<void>((go, fail) => this.#waiting.push({ go, fail }));
    if (this.failing.has(name)) throw new Error(`injected ${name} failure`);
    return run();
  }

  get(sid: string) { return this.call('get', () => this.inner.get(sid)); }
  set(sid: string, record: string, expiresAt: number) { return this.call('set', () => this.inner.set(sid, record, expiresAt)); }
  destroy(sid: string) { return this.call('destroy', () => this.inner.destroy(sid)); }
  compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number) {
    return this.call('compareAndSet', () => this.inner.compareAndSet(sid, expected, record, expiresAt));
  }
  touch(sid: string, expiresAt: number) { return this.call('touch', () => this.inner.touch(sid, expiresAt)); }
  regenerate(oldSid: string, newSid: string) { return this.call('regenerate', () => this.inner.regenerate(oldSid, newSid)); }
  indexAdd(key: string, sid: string, expiresAt: number) { return this.call('indexAdd', () => this.inner.indexAdd(key, sid, expiresAt)); }
  indexRemove(key: string, sid: string) { return this.call('indexRemove', () => this.inner.indexRemove(key, sid)); }
  indexList(key: string) { return this.call('indexList', () => this.inner.indexList(key)); }
  count() { return this.call('count', () => this.inner.count()); }
  clear() { return this.call('clear', () => this.inner.clear()); }
  gc() { return this.call('gc', () => this.inner.gc()); }
  close() { return this.call('close', () => this.inner.close()); }
}

/** spyProvider returns a Provider whose open() hands out one SpyStore, available as `.store`. */
export function spyProvider(): Provider & { store?: SpyStore } {
  const provider: Provider & { store?: SpyStore } = {
    async open(_config, options) {
      provider.store = new SpyStore(options);
      return provider.store;
    },
  };
  return provider;
}
