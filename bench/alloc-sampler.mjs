// Preloaded into a bench server by alloc-sites.ts (NODE_OPTIONS=--import): on SIGUSR2 it starts
// V8's sampling heap profiler, keeping the samples of objects the collectors freed as well, so it
// counts what was allocated, not what is left; at exit it writes the profile to
// SESSIONKIT_ALLOC_PROFILE. An in-process inspector session answers synchronously, as exit needs.
import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';

const session = new inspector.Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  sampling = true;
});
process.on('exit', () => {
  if (!sampling) return;
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (!error) writeFileSync(process.env.SESSIONKIT_ALLOC_PROFILE, JSON.stringify(result.profile));
  });
});
