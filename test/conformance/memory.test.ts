import { provider } from 'sessionkit/providers/memory';
import { describeStore } from 'sessionkit/testing';

describeStore('memory', { open: (options) => provider.open('', options) });
