import type { Provider } from 'sessionkit';
import { describeManager, describeStore } from 'sessionkit/testing';
import { provider } from '../../examples/custom-provider/map-provider.ts';

describeStore('example-map (README third-party provider)', { open: (options) => provider.open('', options) });
describeManager('example-map (README third-party provider)', { options: () => ({ provider: 'example-map' }) });

/**
 * withoutCompareAndSet is the README's map store with its one optional method taken away: the
 * smallest store the contract allows, which gives up compareAndSet and says so with atomic: false.
 */
const withoutCompareAndSet: Provider = {
  async open(config, options) {
    const store = await provider.open(config, options);
    return { get: (sid) => store.get(sid), set: (sid, record, expiresAt) => store.set(sid, record, expiresAt), destroy: (sid) => store.destroy(sid) };
  },
};

describeStore('example-map without compareAndSet', { open: (options) => withoutCompareAndSet.open('', options) });
describeManager('example-map without compareAndSet', { atomic: false, options: () => ({ provider: withoutCompareAndSet }) });
