import { expect } from 'chai';
import express from 'express';
import expressSession from 'express-session';
import { readLegacyId } from '../../src/express-session/legacy.ts';
import { Jar, serve } from './support.ts';

/** The old cookie as express-session writes it: `s:<id>.<cookie-signature HMAC>`, percent-encoded. */
describe('reading an express-session cookie', function () {
  let cookie: string;
  let sessionID: string;

  before(async function () {
    const app = express();
    app.use(expressSession({ secret: ['keyboard cat', 'an older one'], resave: false, saveUninitialized: true }));
    app.get('/', (req, res) => res.json({ sessionID: req.sessionID }));
    const running = await serve(app);
    try {
      const jar = new Jar(running.base);
      sessionID = (await jar.json('/')).sessionID as string;
      cookie = jar.cookies.get('connect.sid')!;
    } finally {
      await running.close();
    }
  });

  it('gives the id of a cookie express-session signed, with the secret anywhere in the list', function () {
    expect(cookie).to.match(/^s%3A/);
    expect(readLegacyId(cookie, ['keyboard cat'])).to.equal(sessionID);
    expect(readLegacyId(cookie, ['a newer one', 'keyboard cat'])).to.equal(sessionID);
    expect(readLegacyId(decodeURIComponent(cookie), ['keyboard cat'])).to.equal(sessionID);
  });

  it('refuses a cookie signed by another secret, or by a secret the signer listed second', function () {
    expect(readLegacyId(cookie, ['another secret'])).to.equal(undefined);
    expect(readLegacyId(cookie, ['an older one'])).to.equal(undefined);
  });

  it('refuses a changed, extended, truncated or unsigned value without throwing', function () {
    const plain = decodeURIComponent(cookie);
    const dot = plain.lastIndexOf('.');
    const flipped = plain.slice(0, -1) + (plain.endsWith('A') ? 'B' : 'A');
    for (const bad of [flipped, `${plain}x`, `${plain}.x`, plain.slice(0, -2), `x${plain}`, plain.slice(2), `s:${sessionID}`, `s:${sessionID}x${plain.slice(dot)}`, '%E0%A4%A', 's:', '', `s:${'a'.repeat(2000)}`]) {
      expect(readLegacyId(bad, ['keyboard cat']), bad).to.equal(undefined);
    }
  });
});
