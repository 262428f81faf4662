// A complete third-party provider: a Map with expiry checked on read. It is the example of the
// README's "Write your own provider" section and passes the sessionkit/testing suites.
import { register, type OpenOptions, type Provider, type Store } from 'sessionkit';

class MapStore implements Store {
  private readonly records = new Map<string, { record: string; expiresAt: number }>();
  constructor(private readonly now: () => number) {}

  private live(sid: string) {
    const entry = this.records.get(sid);
    return entry && entry.expiresAt > this.now() ? entry.record : undefined;
  }

  async get(sid: string) {
    return this.live(sid);
  }

  async set(sid: string, record: string, expiresAt: number) {
    this.records.set(sid, { record, expiresAt });
  }

  async destroy(sid: string) {
    this.records.delete(sid);
  }

  // Optional, but it is what keeps concurrent requests from losing each other's writes. The check
  // and the write must be one atomic step: here, no await between them.
  async compareAndSet(sid: string, expected: string | undefined, record: string, expiresAt: number) {
    if (this.live(sid) !== expected) return false;
    this.records.set(sid, { record, expiresAt });
    return true;
  }
}

export const provider: Provider = {
  async open(_config: string, options: OpenOptions) {
    return new MapStore(options.now ?? Date.now);
  },
};

register('example-map', provider);
