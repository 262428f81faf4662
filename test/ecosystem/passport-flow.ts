import { expect } from 'chai';
import type { FlashView } from 'sessionkit';
import { Browser, type Page } from './browser.ts';
import { BAD_LOGIN, GOOD_LOGIN } from './users.ts';

/**
 * The steps every passport app of the ecosystem tests takes, on any framework. Each app serves
 * GET / ({ user, flash }), POST /login (redirects to /members, or back to /login on failure),
 * GET /members (401 when anonymous) and POST /logout (a leveled flash "Signed out.", redirect to /).
 */

/** SID is the session cookie's name (the manager's default). */
export const SID = 'sid';

export const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

const ID = /^[0-9a-f]{32}$/;

/** postLogin posts `form` to /login, expects the redirect to /members and a new session id, and returns the id before and after. */
export async function postLogin(browser: Browser, form: Record<string, string>): Promise<{ before: string | undefined; after: string; page: Page }> {
  const before = browser.cookie(SID);
  const page = await browser.request('/login', { form });
  expect(page.status, page.body).to.equal(302);
  expect(page.location).to.equal('/members');
  const after = browser.cookie(SID)!;
  expect(after, 'a new id after login (no fixation)').to.match(ID).and.not.equal(before);
  return { before, after, page };
}

/** expectAnonymous checks that a client presenting only `id` as its cookie is not logged in. */
export async function expectAnonymous(base: string, id: string): Promise<void> {
  const replay = new Browser(base);
  replay.jar.set(SID, id);
  expect((await replay.request('/members')).status, `the cookie ${id} does not log in`).to.equal(401);
}

/** expectWrongPasswordRefused posts a wrong password (with `extra` fields) and expects the redirect back to the form and no login. */
export async function expectWrongPasswordRefused(browser: Browser, extra: Record<string, string> = {}): Promise<void> {
  const page = await browser.request('/login', { form: { ...BAD_LOGIN, ...extra } });
  expect(page.status).to.equal(302);
  expect(page.location).to.equal('/login');
  expect((await browser.request('/members')).status).to.equal(401);
}

/**
 * expectLogoutEndsLogin logs alice in and out on an app without CSRF and checks the end state: a
 * new id, the members page refused, the logout flash shown once, and the logged-in cookie anonymous.
 */
export async function expectLogoutEndsLogin(base: string): Promise<void> {
  const browser = new Browser(base);
  const { after: loggedIn } = await postLogin(browser, GOOD_LOGIN);
  const out = await browser.request('/logout', { method: 'POST' });
  expect(out.status, out.body).to.equal(302);
  expect(browser.cookie(SID), 'logout regenerates the id').to.match(ID).and.not.equal(loggedIn);
  expect((await browser.request('/members')).status).to.equal(401);
  const home = await browser.json('/');
  expect(home.user).to.equal(null);
  expect((home.flash as FlashView).infoMsg).to.equal('Signed out.');
  expect(((await browser.json('/')).flash as FlashView).infoMsg, 'shown once').to.equal('');
  await expectAnonymous(base, loggedIn);
}

/** expectRememberCookie checks that a login response set one cookie, persistent for 30 days. */
export function expectRememberCookie(login: Page): void {
  expect(login.setCookies).to.have.length(1);
  expect(login.setCookies[0]).to.match(new RegExp(`^${SID}=[0-9a-f]{32}; Path=/; Max-Age=${THIRTY_DAYS_MS / 1000};`));
}
