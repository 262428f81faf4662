import { expect } from 'chai';
import fc from 'fast-check';
import { readCookie, serializeCookie, sign, unsign, VerifiedCookies } from '../../src/cookie.ts';

const secretA = 'a'.repeat(32);
const secretB = 'b'.repeat(32);
const id = '0123456789abcdef0123456789abcdef';

describe('cookie', function () {
  it('readCookie takes the first of duplicate cookies and treats an empty value as absent', function () {
    expect(readCookie('sid=a; sid=b', 'sid')).to.equal('a');
    expect(readCookie('x=1; sid=', 'sid')).to.equal(undefined);
    expect(readCookie('other=1', 'sid')).to.equal(undefined);
    expect(readCookie(undefined, 'sid')).to.equal(undefined);
    expect(readCookie('sid="abc"', 'sid')).to.equal('abc');
    expect(readCookie(['a=1', 'sid=z'], 'sid')).to.equal('z');
  });

  it('readCookie ignores a Cookie header above 16 KiB', function () {
    expect(readCookie('sid=abc; pad=' + 'x'.repeat(17 * 1024), 'sid')).to.equal(undefined);
  });

  it('readCookie never throws on arbitrary input', function () {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (header) => {
      const value = readCookie(header, 'sid');
      expect(value === undefined || typeof value === 'string').to.equal(true);
    }), { numRuns: 500 });
  });

  it('readCookie agrees with a split-based reading on any header of known names', function () {
    const reference = (header: string, name: string) => {
      for (const pair of header.split(';')) {
        const eq = pair.indexOf('=');
        if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
        let value = pair.slice(eq + 1).trim();
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
        return value === '' ? undefined : value;
      }
      return undefined;
    };
    const part = fc.constantFrom('sid', 'x', '=', ';', ' ', '"', 'a1', '; ', '==');
    fc.assert(fc.property(fc.array(part, { maxLength: 40 }).map((p) => p.join('')), (header) => {
      expect(readCookie(header, 'sid'), header).to.equal(reference(header, 'sid'));
    }), { numRuns: 2000 });
  });

  it('readCookie reads a header in one pass: a 16 KiB header of separators scans each character a bounded number of times', function () {
    const indexOf = String.prototype.indexOf;
    let scanned = 0;
    String.prototype.indexOf = function (this: string, search: string, from = 0) {
      const found = indexOf.call(this, search, from);
      scanned += (found === -1 ? this.length : found) - from;
      return found;
    };
    try {
      for (const header of [';'.repeat(16 * 1024 - 10), 'a;'.repeat(8 * 1024 - 5), 'x=1;'.repeat(4 * 1024 - 4)]) {
        scanned = 0;
        expect(readCookie(header, 'sid')).to.equal(undefined);
        expect(scanned, header.slice(0, 8)).to.be.at.most(3 * header.length);
      }
    } finally {
      String.prototype.indexOf = indexOf;
    }
  });

  it('unsign accepts a value signed by any secret of the rotation and flags the old ones as stale', function () {
    expect(unsign(sign(id, secretA), [secretA, secretB])).to.deep.equal({ value: id, stale: false });
    expect(unsign(sign(id, secretB), [secretA, secretB])).to.deep.equal({ value: id, stale: true });
    expect(unsign(sign(id, secretB), [secretA])).to.equal(undefined);
  });

  it('unsign rejects tampered, truncated, extended and unsigned values', function () {
    const good = sign(id, secretA);
    const variants = [good + 'x', 'x' + good, good + '.x', good.slice(0, -1), good.slice(0, -10), id, `${id}.`, '.', '', good.replace(id, id.replace('0', '1'))];
    for (const bad of variants) expect(unsign(bad, [secretA]), bad).to.equal(undefined);
  });

  it('VerifiedCookies answers like unsign, keeps only values that verified, and holds at most its size', function () {
    const verified = new VerifiedCookies([secretA, secretB], undefined, 2);
    const [a, b] = [sign(id, secretA), sign(id.replace('0', '1'), secretB)];
    expect(verified.unsign(a)).to.deep.equal({ value: id, stale: false, accepted: true });
    expect(verified.unsign(a)).to.deep.equal({ value: id, stale: false, accepted: true });
    expect(verified.unsign(b)).to.deep.equal({ value: id.replace('0', '1'), stale: true, accepted: true });
    for (const bad of [a + 'x', a.slice(0, -1), id, '']) expect(verified.unsign(bad), bad).to.equal(undefined);
    const fresh = new VerifiedCookies([secretB]);
    expect(fresh.unsign(a), 'a value verified by another rotation list').to.equal(undefined);
    const c = sign(id.replace('0', '2'), secretA);
    expect(verified.unsign(c)).to.deep.equal({ value: id.replace('0', '2'), stale: false, accepted: true });
    expect(verified.unsign(a), 'evicted, verified again').to.deep.equal({ value: id, stale: false, accepted: true });
  });

  it('VerifiedCookies asks `accepts` once per value and keeps its verdict, also a refusal', function () {
    const asked: string[] = [];
    const verified = new VerifiedCookies([secretA], (value) => (asked.push(value), value === id));
    const [good, other] = [sign(id, secretA), sign('not-an-id', secretA)];
    for (let i = 0; i < 3; i++) {
      expect(verified.unsign(good)).to.deep.equal({ value: id, stale: false, accepted: true });
      expect(verified.unsign(other)).to.deep.equal({ value: 'not-an-id', stale: false, accepted: false });
    }
    expect(asked).to.deep.equal([id, 'not-an-id']);
  });

  it('serializeCookie writes HttpOnly, SameSite and no Domain by default, and the clearing cookie keeps name, path and domain', function () {
    const attrs = { path: '/app', domain: undefined, secure: false, httpOnly: true, sameSite: 'lax' as const, maxAgeMs: 0 };
    expect(serializeCookie('sid', id, attrs)).to.equal(`sid=${id}; Path=/app; HttpOnly; SameSite=Lax`);
    const withDomain = { ...attrs, domain: 'example.com', secure: true, maxAgeMs: 90_000 };
    expect(serializeCookie('sid', id, withDomain)).to.equal(`sid=${id}; Path=/app; Domain=example.com; Max-Age=90; HttpOnly; Secure; SameSite=Lax`);
    expect(serializeCookie('sid', undefined, withDomain)).to.equal(
      'sid=; Path=/app; Domain=example.com; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    );
  });
});
