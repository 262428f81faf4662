export { describeStore, type StoreSuiteOptions } from './store-suite.ts';
export { fakeClock, realClock, type TestClock } from './clock.ts';
