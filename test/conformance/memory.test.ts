import { provider } from 'sessionkit/providers/memory';
import { describeManager, describeStore } from 'sessionkit/testing';

describeStore('memory', { open: (options) => provider.open('', options), requires: ['compareAndSet', 'indexAdd', 'indexRemove', 'indexList'] });
describeManager('memory', { options: () => ({ provider: 'memory' }) });
