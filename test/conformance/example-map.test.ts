import { provider } from '../../examples/custom-provider/map-provider.ts';
import { describeManager, describeStore } from 'sessionkit/testing';

describeStore('example-map (README third-party provider)', { open: (options) => provider.open('', options) });
describeManager('example-map (README third-party provider)', { options: () => ({ provider: 'example-map' }) });
