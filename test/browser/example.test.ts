import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Manager } from 'sessionkit';
import { closeServer } from 'sessionkit/testing';
import { createApp } from '../../examples/express/app.ts';
import { inCI, skipBecause } from '../support/servers.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../artifacts/', import.meta.url);

interface Rgb {
  r: number;
  g: number;
  b: number;
}

function parseRgb(css: string): Rgb & { a: number } {
  const m = /^rgba?\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)(?:,\s*([\d.]+))?\)$/.exec(css.trim());
  assert.ok(m, `not an rgb() colour: ${css}`);
  return { r: Number(m[1]), g: Number(m[2]), b: Number(m[3]), a: m[4] === undefined ? 1 : Number(m[4]) };
}

/** flashColour returns the colour that marks a flash: its background, or its text colour when the background is transparent. */
async function flashColour(page: Page, selector: string): Promise<Rgb> {
  const { background, color } = await page.locator(selector).evaluate((el) => {
    const style = getComputedStyle(el);
    return { background: style.backgroundColor, color: style.color };
  });
  const bg = parseRgb(background);
  return bg.a > 0 ? bg : parseRgb(color);
}

const hues = {
  green: ({ r, g, b }: Rgb) => g > r && g > b,
  blue: ({ r, g, b }: Rgb) => b > r && b > g,
  amber: ({ r, g, b }: Rgb) => r >= g && g > b && r > b,
};

async function assertFlash(page: Page, level: string, text: string, hue: keyof typeof hues): Promise<void> {
  const flash = page.locator('.flash');
  assert.equal(await flash.count(), 1, `exactly one flash on ${page.url()}`);
  assert.equal((await flash.textContent())?.trim(), text);
  assert.equal(await page.locator(`.flash-${level}`).count(), 1);
  const colour = await flashColour(page, `.flash-${level}`);
  assert.ok(hues[hue](colour), `.flash-${level} should be ${hue}, got rgb(${colour.r}, ${colour.g}, ${colour.b})`);
}

// One visitor walks through the app in order, so each step starts where the previous one ended.
describe('example app in Chromium', function () {
  this.timeout(30_000);
  let browser: Browser;
  let page: Page;
  let server: Server;
  let manager: Manager;
  let base: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const reason = `Chromium is missing at ${CHROMIUM}`;
      if (inCI) throw new Error(`${reason}, and CI expects it (run .ci/chromium.sh)`);
      skipBecause(this, { reason, enable: 'bash .ci/chromium.sh' });
    }
    await mkdir(ARTIFACTS, { recursive: true });
    const created = await createApp();
    manager = created.manager;
    server = createServer(created.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 15_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
    });
    page = await browser.newPage();
    page.setDefaultTimeout(5_000);
  });

  after(async function () {
    await browser?.close();
    if (server) await closeServer(server);
    await manager?.close();
  });

  async function screenshot(name: string): Promise<void> {
    await page.screenshot({ path: new URL(`example-${name}.png`, ARTIFACTS).pathname, fullPage: true });
  }

  it('logging in lands on the members page with one green success flash, gone after a reload', async function () {
    await page.goto(`${base}/login`);
    await page.fill('input[name=username]', 'Ann');
    await page.fill('input[name=password]', 'secret');
    await Promise.all([page.waitForURL(`${base}/members`), page.click('main button[type=submit]')]);
    await screenshot('1-welcome');
    await assertFlash(page, 'success', 'Welcome, Ann!', 'green');
    assert.equal(await page.locator('#member').textContent(), 'Ann');

    await page.reload();
    assert.equal(await page.locator('.flash').count(), 0, 'a flash is shown once');
    assert.equal(await page.locator('#member').textContent(), 'Ann');
  });

  it('the session cookie is HttpOnly: page scripts cannot read it; without "remember me" it ends with the browser', async function () {
    const cookies = await page.context().cookies(base);
    const session = cookies.find((c) => c.name === 'sessionkit_example');
    assert.ok(session, 'the browser holds the session cookie');
    assert.equal(session.expires, -1, 'a browser-session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.ok(!(await page.evaluate(() => document.cookie)).includes('sessionkit_example'));
  });

  it('the members page stays reachable while logged in', async function () {
    await page.goto(`${base}/`);
    await page.click('a[href="/members"]');
    await page.waitForURL(`${base}/members`);
    assert.equal(await page.locator('h1').textContent(), 'Members only');
  });

  it('logging out shows one blue info flash on the home page', async function () {
    await Promise.all([page.waitForURL(`${base}/`), page.click('nav button[type=submit]')]);
    await screenshot('2-logged-out');
    await assertFlash(page, 'info', 'You have been logged out', 'blue');
    assert.match((await page.locator('main').textContent()) ?? '', /You are not logged in/);
  });

  it('after logout, Back does not bring the members page back from the browser cache', async function () {
    // The members page was answered to a request carrying a live session: no-store, so the
    // browser asks again, and the server now sends the anonymous visitor to the login page.
    await page.goBack();
    await page.waitForLoadState();
    assert.equal(await page.locator('#member').count(), 0, `member content shown after Back at ${page.url()}`);
    assert.doesNotMatch((await page.content()) ?? '', /Hello, |Log out Ann/);
    assert.equal(page.url(), `${base}/login`);
  });

  it('after logout the members page redirects to login with one amber warning flash', async function () {
    await page.goto(`${base}/members`);
    assert.equal(page.url(), `${base}/login`);
    await screenshot('3-please-log-in');
    await assertFlash(page, 'warning', 'Please log in first', 'amber');
  });

  it('"remember me" gives the cookie a 30-day expiry, and the login lasts past the idle timeout', async function () {
    const remembered = await browser.newPage();
    await remembered.goto(`${base}/login`);
    await remembered.fill('input[name=username]', 'Bob');
    await remembered.fill('input[name=password]', 'secret');
    await remembered.check('input[name=remember]');
    await Promise.all([remembered.waitForURL(`${base}/members`), remembered.click('main button[type=submit]')]);
    const cookie = (await remembered.context().cookies(base)).find((c) => c.name === 'sessionkit_example');
    assert.ok(cookie && cookie.expires > 0, 'a persistent cookie');
    const days = (cookie.expires * 1000 - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
    const id = cookie.value;
    const record = await manager.store.get(id);
    assert.ok(record && JSON.parse(record).l === 30 * 86_400_000, 'the stored session carries its own 30-day lifetime');
    await remembered.close();
  });

  it('a wrong password shows one red error flash', async function () {
    await page.fill('input[name=username]', 'Ann');
    await page.fill('input[name=password]', 'guess');
    await Promise.all([page.waitForURL(`${base}/login`), page.click('main button[type=submit]')]);
    await page.waitForSelector('.flash-error');
    await screenshot('4-wrong-password');
    const colour = await flashColour(page, '.flash-error');
    assert.ok(colour.r > colour.g && colour.r > colour.b, `.flash-error should be red, got rgb(${colour.r}, ${colour.g}, ${colour.b})`);
    assert.equal((await page.locator('.flash-error').textContent())?.trim(), 'Wrong username or password');
  });
});
