import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateId } from 'sessionkit';
import { provider, MemoryStore } from 'sessionkit/providers/memory';
import { describeManager, describeStore } from 'sessionkit/testing';

describeStore('memory', {
  open: (options) => provider.open('', options),
  requires: ['compareAndSet', 'touch', 'regenerate', 'count', 'clear', 'gc', 'indexAdd', 'indexRemove', 'indexList', 'close'],
  rejectsAfterClose: true,
});
describeManager('memory', { options: () => ({ provider: 'memory' }) });

const MINUTE = 60_000;

/** Op is one step of a random session history run against the store and a plain model. */
type Op =
  | { kind: 'set'; who: number; ttl: number }
  | { kind: 'touch'; who: number; ttl: number }
  | { kind: 'destroy'; who: number }
  | { kind: 'regenerate'; who: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'gc' };

const who = fc.integer({ min: 0, max: 4 });
const ttl = fc.integer({ min: 1, max: 60 * MINUTE });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), who, ttl }),
  fc.record({ kind: fc.constant('touch' as const), who, ttl }),
  fc.record({ kind: fc.constant('destroy' as const), who }),
  fc.record({ kind: fc.constant('regenerate' as const), who }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 20 * MINUTE }) }),
  fc.constant({ kind: 'gc' as const }),
);

describe('memory provider', function () {
  it('gc, count and get agree with a plain model through any history of writes, refreshes, moves and time', async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 120 }), async (ops) => {
        let now = Date.UTC(2030, 0, 1);
        const store = new MemoryStore({ maxLifetime: 30 * MINUTE, now: () => now });
        const model = new Map<string, { record: string; expiresAt: number }>();
        const ids = Array.from({ length: 5 }, () => generateId(32));
        const live = (sid: string) => {
          const entry = model.get(sid);
          return entry !== undefined && entry.expiresAt > now ? entry : undefined;
        };
        for (const [step, o] of ops.entries()) {
          if (o.kind === 'advance') now += o.ms;
          else if (o.kind === 'gc') await store.gc();
          else {
            const sid = ids[o.who]!;
            if (o.kind === 'set') {
              await store.set(sid, `r${step}`, now + o.ttl);
              model.set(sid, { record: `r${step}`, expiresAt: now + o.ttl });
            } else if (o.kind === 'touch') {
              await store.touch(sid, now + o.ttl);
              const entry = live(sid);
              if (entry) entry.expiresAt = now + o.ttl;
            } else if (o.kind === 'destroy') {
              await store.destroy(sid);
              model.delete(sid);
            } else {
              const next = generateId(32);
              await store.regenerate(sid, next);
              const entry = live(sid);
              model.delete(sid);
              if (entry) model.set(next, entry);
              ids[o.who] = next;
            }
          }
        }
        const expected = [...model.keys()].filter((sid) => live(sid));
        assert.equal(await store.count(), expected.length);
        for (const sid of ids) assert.equal(await store.get(sid), live(sid)?.record);
      }),
      { numRuns: 300 },
    );
  });

  it('indexList agrees with a plain model through any history of adds, removes, time and gc', async function () {
    type IndexOp = { kind: 'add'; key: number; who: number; ttl: number } | { kind: 'remove'; key: number; who: number } | { kind: 'advance'; ms: number } | { kind: 'gc' };
    const key = fc.integer({ min: 0, max: 2 });
    const indexOp: fc.Arbitrary<IndexOp> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), key, who, ttl: fc.integer({ min: -MINUTE, max: 60 * MINUTE }) }),
      fc.record({ kind: fc.constant('remove' as const), key, who }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 20 * MINUTE }) }),
      fc.constant({ kind: 'gc' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(indexOp, { maxLength: 120 }), async (ops) => {
        let now = Date.UTC(2030, 0, 1);
        const store = new MemoryStore({ maxLifetime: 30 * MINUTE, now: () => now });
        const model = new Map<string, number>();
        const ids = Array.from({ length: 5 }, () => generateId(32));
        const keys = ['user:a', 'user:b', 'moved:c'];
        for (const o of ops) {
          if (o.kind === 'advance') now += o.ms;
          else if (o.kind === 'gc') await store.gc();
          else if (o.kind === 'add') {
            await store.indexAdd(keys[o.key]!, ids[o.who]!, now + o.ttl);
            model.set(`${o.key}/${o.who}`, now + o.ttl);
          } else {
            await store.indexRemove(keys[o.key]!, ids[o.who]!);
            model.delete(`${o.key}/${o.who}`);
          }
          for (const [k, name] of keys.entries()) {
            const expected = ids.filter((_, w) => (model.get(`${k}/${w}`) ?? -Infinity) > now).sort();
            assert.deepEqual((await store.indexList(name)).sort(), expected, name);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps records of any characters, including lone surrogates, byte for byte', async function () {
    const store = new MemoryStore({ maxLifetime: MINUTE });
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), async (record) => {
        const sid = generateId(32);
        await store.set(sid, record, Date.now() + MINUTE);
        assert.equal(await store.get(sid), record);
      }),
      { numRuns: 300 },
    );
    const lone = generateId(32);
    await store.set(lone, '\ud800 lone \udfff', Date.now() + MINUTE);
    assert.equal(await store.get(lone), '\ud800 lone \udfff');
  });

  it('an expiry beyond 13 digits or below zero is clamped, not misread', async function () {
    const store = new MemoryStore({ maxLifetime: MINUTE });
    const [far, past] = [generateId(32), generateId(32)];
    await store.set(far, 'far', Number.MAX_SAFE_INTEGER);
    await store.set(past, 'past', -5);
    assert.equal(await store.get(far), 'far');
    assert.equal(await store.get(past), undefined);
    assert.equal(await store.count(), 1);
  });
});
