export { describeStore, type StoreHarness, type StoreSuiteOptions } from './store-suite/index.ts';
export { describeManager, type ManagerSuiteOptions } from './manager-suite/index.ts';
export { fakeClock, realClock, type TestClock } from './clock.ts';
export { CookieClient, listen, closeServer, type Reply } from './http-client.ts';
