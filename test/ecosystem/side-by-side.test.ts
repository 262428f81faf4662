import { expect } from 'chai';
import express from 'express';
import expressSession from 'express-session';
import { createManager } from 'sessionkit';
import { Browser, listenOn } from './browser.ts';

describe('express-session and sessionkit in one process', function () {
  it('an Express app on express-session keeps working (req.sessionID assignable) after a sessionkit app served a request', async function () {
    const manager = await createManager({ gcInterval: 0 });
    const withSessionkit = express();
    withSessionkit.use(manager.middleware());
    withSessionkit.get('/', (req, res) => {
      req.session.views = 1;
      res.json({ sessionID: req.sessionID });
    });
    const withExpressSession = express();
    withExpressSession.use(expressSession({ secret: 'a secret of at least thirty-two chars', resave: false, saveUninitialized: false }));
    withExpressSession.get('/', (req, res) => {
      const session = req.session as unknown as { views?: number };
      session.views = (session.views ?? 0) + 1;
      res.json({ sessionID: req.sessionID, views: session.views });
    });
    const [first, second] = [await listenOn(withSessionkit), await listenOn(withExpressSession)];
    try {
      const sessionkitBrowser = new Browser(first.base);
      expect((await sessionkitBrowser.json('/')).sessionID).to.equal(sessionkitBrowser.cookie('sid'));
      const peer = new Browser(second.base);
      const one = await peer.json('/');
      expect(one.views).to.equal(1);
      expect(decodeURIComponent(peer.cookie('connect.sid')!)).to.match(new RegExp(`^s:${one.sessionID}\\.`));
      expect(await peer.json('/')).to.deep.equal({ sessionID: one.sessionID, views: 2 });
      expect((await sessionkitBrowser.json('/')).sessionID, 'and the sessionkit app still answers req.sessionID').to.equal(sessionkitBrowser.cookie('sid'));
    } finally {
      await first.close();
      await second.close();
      await manager.close();
    }
  });
});
