// Passkeys (SPEC §13) in Chromium with its virtual authenticator (DevTools protocol:
// WebAuthn.enable, WebAuthn.addVirtualAuthenticator with ctap2, a resident key and user
// verification): register on the security page, sign in without a password, turn password
// sign-in off, and use the passkey as the second factor after a password. Without JavaScript
// the passkey buttons are absent and the password still works. axe on every page; screenshots
// en and de, 1280 and 375 px.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, newContext, shotBothWidths, server, cli, Axe, shot } = require('./lib');

const PASSWORD = 'Maple-Orbit-Lantern-64';
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** The server's address as the relying party sees it (a host name, not 127.0.0.1). */
function origin(srv) {
  const url = new URL(srv.url);
  return `http://localhost:${url.port}`;
}

const context = (js, locale) => newContext(browser, js, locale);

/** A virtual platform authenticator (like a phone's screen lock) on the page's target. */
async function addAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function credentialsOf({ cdp, authenticatorId }) {
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  return credentials;
}

async function passwordSignIn(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('load'), page.locator('#auth-box form button[type=submit]').click()]);
}

test('a passkey registered on the security page signs in without a password, also as the second factor', async () => {
  const srv = server('js');
  const base = origin(srv);
  const axe = new Axe('the passkey walk');
  cli(srv, ['user', 'create', 'pat', '--no-require-change', '--password-stdin'], `${PASSWORD}\n`);

  const ctx = await context(true);
  const page = await ctx.newPage();
  const authenticator = await addAuthenticator(page);

  // 1. Sign in with the password; the sign-in page offers the passkey button (script on).
  await page.goto(`${base}/login`);
  await page.locator('[data-passkey="login"] [data-passkey-start]').waitFor();
  await axe.check(page, 'sign-in page with the passkey button');
  await shot(page, 'passkey-login-en');
  await passwordSignIn(page, base, 'pat', PASSWORD);
  await page.waitForURL('**/panel/dashboard');

  // 2. The security page: add a passkey named "Laptop".
  await page.goto(`${base}/panel/security`);
  await axe.check(page, 'security page without passkeys');
  await page.fill('#passkey-name', 'Laptop');
  await Promise.all([
    page.waitForURL('**/panel/security?done=added'),
    page.locator('[data-passkey="register"] [data-passkey-start]').click(),
  ]);
  assert.equal((await credentialsOf(authenticator)).length, 1, 'the authenticator holds one credential');
  await page.getByRole('cell', { name: 'Laptop' }).waitFor();
  await axe.check(page, 'security page with a passkey');
  await shot(page, 'passkey-security-en');
  await page.setViewportSize({ width: 375, height: 740 });
  await shot(page, 'passkey-security-en-375');
  await page.setViewportSize({ width: 1280, height: 800 });

  // 3. Sign out; sign in with the passkey alone (username typed, no password).
  await Promise.all([page.waitForURL('**/login'), page.locator('header form[action="/logout"] button').click()]);
  await page.fill('#username', 'pat');
  await Promise.all([
    page.waitForURL('**/panel/dashboard'),
    page.locator('[data-passkey="login"] [data-passkey-start]').click(),
  ]);
  assert.match(await page.locator('h1').innerText(), /pat/);

  // 4. The password alone now asks for the second factor; the passkey answers it.
  await Promise.all([page.waitForURL('**/login'), page.locator('header form[action="/logout"] button').click()]);
  await page.fill('#username', 'pat');
  await page.fill('#password', PASSWORD);
  await page.locator('#auth-box form button[type=submit]').click();
  await page.locator('[data-passkey="second-factor"] [data-passkey-start]').waitFor();
  await axe.check(page, 'code page offering the passkey');
  await shot(page, 'passkey-second-factor-en');
  await Promise.all([
    page.waitForURL('**/panel/dashboard'),
    page.locator('[data-passkey="second-factor"] [data-passkey-start]').click(),
  ]);

  // 5. Password sign-in off: the right password is refused with the reason.
  await page.goto(`${base}/panel/security`);
  await Promise.all([page.waitForLoadState('load'), page.locator('form[action="/panel/security/password_sign_in"] button[type=submit]').click()]);
  await Promise.all([page.waitForURL('**/login'), page.locator('header form[action="/logout"] button').click()]);
  await page.fill('#username', 'pat');
  await page.fill('#password', PASSWORD);
  await page.locator('#auth-box form button[type=submit]').click();
  await page.locator('#login-error').waitFor();
  assert.match(await page.locator('#login-error').innerText(), /passkey/i);
  // ...and the passkey still signs in.
  await page.fill('#username', 'pat');
  await Promise.all([
    page.waitForURL('**/panel/dashboard'),
    page.locator('[data-passkey="login"] [data-passkey-start]').click(),
  ]);

  // German screens.
  const de = await context(true, 'de-DE');
  const dePage = await de.newPage();
  await dePage.goto(`${base}/login`);
  await dePage.locator('[data-passkey="login"] [data-passkey-start]').waitFor();
  assert.match(await dePage.locator('[data-passkey="login"] [data-passkey-start]').innerText(), /Passkey/);
  await shot(dePage, 'passkey-login-de');
  await de.close();
  await ctx.close();
  axe.assertNone();
});

test('without JavaScript there is no passkey button and the password works as before', async () => {
  const srv = server('nojs');
  const base = origin(srv);
  const axe = new Axe('passkeys without JavaScript');
  cli(srv, ['user', 'create', 'quill', '--no-require-change', '--password-stdin'], `${PASSWORD}\n`);
  const ctx = await context(false);
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  assert.equal(await page.locator('[data-passkey="login"]').isVisible(), false, 'the passkey box stays hidden');
  await passwordSignIn(page, base, 'quill', PASSWORD);
  await page.waitForURL('**/panel/dashboard');
  await page.goto(`${base}/panel/security`);
  assert.equal(await page.locator('[data-passkey="register"]').isVisible(), false);
  assert.match(await page.locator('#passkeys').innerText(), /JavaScript/);
  await axe.check(page, 'security page without JavaScript', { js: false });
  await shot(page, 'passkey-security-nojs-en');
  await ctx.close();
  axe.assertNone();
});
