import { expect } from 'chai';
import { checkValue, decode, encode, freshState, MAX_DEPTH } from '../../src/codec.ts';
import { SessionError } from 'sessionkit';

describe('codec', function () {
  it('encode then decode gives back data, flashes, keyed flashes, the lifetime and the bound user', function () {
    const state = freshState(1000);
    state.data.name = 'Zoë';
    state.data.nested = { a: [1, 2, { b: null }] };
    state.flashes.push({ level: 'info', text: 'hi', id: 'x1' });
    state.keyedFlashes.form = { field: 'email' };
    state.user = 'u1';
    state.lifetime = 30 * 86_400_000;
    const back = decode(encode(state, 1 << 20));
    expect(back).to.deep.equal(state);
  });

  it('encode writes the record format stores already hold, field for field, in a fixed order', function () {
    const state = freshState(1_765_000_000_000);
    state.touched = 1_765_000_000_123;
    expect(encode(state, 1 << 20)).to.equal('{"v":1,"c":1765000000000,"t":1765000000123,"d":{}}');
    state.data.name = 'Zoë "q"';
    state.data.n = 1.5;
    state.user = 'u"1';
    state.indexedUntil = 1_765_000_900_000;
    state.lifetime = 86_400_000;
    state.flashes.push({ level: 'info', text: 'hi', id: 'x1' });
    state.keyedFlashes.form = { field: 'email' };
    const envelope = { v: 1, c: state.created, t: state.touched, d: state.data, u: state.user, x: state.indexedUntil, l: state.lifetime, f: [['info', 'hi', 'x1']], k: state.keyedFlashes };
    expect(encode(state, 1 << 20)).to.equal(JSON.stringify(envelope));
    expect(decode(encode(state, 1 << 20))).to.deep.equal(state);
  });

  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`decode refuses a record with a ${key} key anywhere, without polluting prototypes`, function () {
      const record = `{"v":1,"c":1,"t":1,"d":{"x":{"${key}":{"polluted":true}}}}`;
      expect(() => decode(record)).to.throw(SessionError).with.property('code', 'ERR_SESSION_CORRUPT_RECORD');
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });
  }

  it('decode refuses a forbidden key spelled with \\u escapes, and reads those names fine in values', function () {
    for (const key of ['\\u005f_proto__', '__pro\\u0074o__', 'constructo\\u0072']) {
      const record = `{"v":1,"c":1,"t":1,"d":{"x":{"${key}":{"polluted":true}}}}`;
      expect(() => decode(record), key).to.throw(SessionError).with.property('code', 'ERR_SESSION_CORRUPT_RECORD');
    }
    const state = freshState(1);
    state.data.note = 'constructor and prototype and __proto__ as text, \\u0041 too';
    expect(decode(encode(state, 1 << 20))).to.deep.equal(state);
  });

  it('decode refuses invalid JSON, truncated records and wrong shapes', function () {
    for (const bad of ['', 'not json', '{"v":1,"c":1', '{}', '[]', '{"v":2,"c":1,"t":1,"d":{}}', '{"v":1,"c":"1","t":1,"d":{}}', '{"v":1,"c":1,"t":1,"d":[]}', '{"v":1,"c":1,"t":1,"d":{},"f":[["loud","x","y"]]}']) {
      expect(() => decode(bad), bad).to.throw(SessionError).with.property('code', 'ERR_SESSION_CORRUPT_RECORD');
    }
  });

  it('checkValue refuses values that would not come back exactly, naming the path', function () {
    const bad: unknown[] = [new Date(), new Map(), new Set(), Buffer.from('x'), 1n, undefined, NaN, Infinity, -0, () => 1, Symbol('s')];
    for (const value of bad) {
      expect(() => checkValue({ deep: [value] }, 'k'), String(value)).to.throw(SessionError, /value at k\.deep\[0\]/);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => checkValue(cyclic, 'k')).to.throw(SessionError, /cycle/);
  });

  it('checkValue refuses values nested deeper than MAX_DEPTH with a SessionError, never a stack overflow', function () {
    const nest = (depth: number) => {
      let value: unknown = 'leaf';
      for (let i = 0; i < depth; i++) value = i % 2 ? { a: value } : [value];
      return value;
    };
    expect(() => checkValue(nest(MAX_DEPTH), 'k')).to.not.throw();
    for (const depth of [MAX_DEPTH + 1, 5000]) {
      expect(() => checkValue(nest(depth), 'k'), String(depth)).to.throw(SessionError, /nested deeper than 64 levels/).with.property('code', 'ERR_SESSION_INVALID_VALUE');
    }
  });

  it('decode refuses a record nested deeper than MAX_DEPTH as corrupt, brackets inside strings not counted', function () {
    const record = (inner: string) => `{"v":1,"c":1,"t":1,"d":{"x":${inner}}}`;
    expect(() => decode(record('['.repeat(3000) + ']'.repeat(3000)))).to.throw(SessionError, /nested deeper/).with.property('code', 'ERR_SESSION_CORRUPT_RECORD');
    expect(() => decode(record('['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1)))).to.throw(SessionError, /nested deeper/);
    expect(decode(record('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH))).data.x).to.be.an('array');
    const brackets = JSON.stringify('[{'.repeat(500) + '\\"[');
    expect(decode(record(brackets)).data.x).to.be.a('string');
  });

  it('checkValue refuses sparse arrays and arrays with named properties, which JSON would change', function () {
    // eslint-disable-next-line no-sparse-arrays
    expect(() => checkValue([, 1], 'k')).to.throw(SessionError, /value at k is a sparse array \(nothing at \[0\]\)/);
    expect(() => checkValue(new Array(3), 'k')).to.throw(SessionError, /sparse array/);
    const named = Object.assign([1, 2], { extra: true });
    expect(() => checkValue({ list: named }, 'k')).to.throw(SessionError, /value at k\.list is an array with named properties/);
    expect(() => checkValue([null, 1, [2]], 'k')).to.not.throw();
  });

  it('encode refuses a record above the size limit before anything is stored', function () {
    const state = freshState(1);
    state.data.big = 'é'.repeat(600);
    expect(() => encode(state, 1000)).to.throw(SessionError, /above the limit of 1000/).with.property('code', 'ERR_SESSION_TOO_LARGE');
  });
});
