// Passkeys (SPEC §13) in Chromium with its virtual authenticator (DevTools protocol:
// WebAuthn.enable, WebAuthn.addVirtualAuthenticator with ctap2 and user verification): register
// on the security page, sign in with nothing typed, with the name typed, from the username
// field's autofill, and as the second factor after a password; turn password sign-in off. A
// device that cannot keep a discoverable passkey (no resident keys) makes a passkey that needs
// the name typed: the security page says so and registers it again. Without JavaScript the
// passkey buttons are absent, the password still works, and the code page of a user whose
// only factor is a passkey says that signing in with it needs JavaScript. axe on every page;
// screenshots en and de, 1280 and 375 px.
//
// Chromium answers a conditional (autofill) request of a virtual authenticator at once with
// a passkey it holds, as a person picking it from the autofill would. The walks that press
// the button run in a browser without passkey autofill (isConditionalMediationAvailable()
// false, as in browsers that lack it), so that nothing signs in before the click.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, newContext, shotBothWidths, server, cli, sql, Axe, shot, trace } = require('./lib');

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

/** A browser context; `autofill: false` is a browser without passkey autofill. */
async function context(js, { locale, autofill = true } = {}) {
  const ctx = await newContext(browser, js, locale);
  if (!autofill) {
    await ctx.addInitScript(() => {
      if (window.PublicKeyCredential) {
        window.PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
      }
    });
  }
  return ctx;
}

/**
 * A virtual platform authenticator (like a phone's screen lock) on the page's target;
 * `residentKeys: false` is a device that cannot keep a discoverable passkey.
 */
async function addAuthenticator(page, { residentKeys = true } = {}) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: residentKeys,
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

/** Copies the passkeys of one virtual authenticator into another (signature counters too). */
async function copyPasskeys(from, to) {
  for (const credential of await credentialsOf(from)) {
    await to.cdp
      .send('WebAuthn.removeCredential', { authenticatorId: to.authenticatorId, credentialId: credential.credentialId })
      .catch(() => {});
    await to.cdp.send('WebAuthn.addCredential', { authenticatorId: to.authenticatorId, credential });
  }
}

async function passwordSignIn(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('load'), page.locator('#auth-box form button[type=submit]').click()]);
}

async function signOut(page) {
  await Promise.all([page.waitForURL('**/login'), page.locator('header form[action="/logout"] button').click()]);
}

const passkeyButton = (page, kind = 'login') => page.locator(`[data-passkey="${kind}"] [data-passkey-start]`);

test('a passkey signs in with nothing typed, with the name typed, from the autofill and as the second factor', async () => {
  const srv = server('js');
  const base = origin(srv);
  const axe = new Axe('the passkey walk');
  cli(srv, ['user', 'create', 'pat', '--no-require-change', '--password-stdin'], `${PASSWORD}\n`);

  const ctx = await context(true, { autofill: false });
  const page = await ctx.newPage();
  const log = trace(page);
  const authenticator = await addAuthenticator(page);
  try {
    // 1. The sign-in page offers the passkey button, and passkeys in the username's autofill.
    await page.goto(`${base}/login`);
    await passkeyButton(page).waitFor();
    assert.equal(await page.locator('#username').getAttribute('autocomplete'), 'username webauthn');
    await axe.check(page, 'sign-in page with the passkey button');
    await shotBothWidths(page, 'passkey-login-en');
    await passwordSignIn(page, base, 'pat', PASSWORD);
    await page.waitForURL('**/panel/dashboard');

    // 2. The security page: add a passkey named "Laptop". The device keeps it as a
    //    discoverable passkey whose user handle is not the name.
    await page.goto(`${base}/panel/security`);
    await axe.check(page, 'security page without passkeys');
    await page.fill('#passkey-name', 'Laptop');
    await Promise.all([page.waitForURL('**/panel/security?done=added'), passkeyButton(page, 'register').click()]);
    const [credential] = await credentialsOf(authenticator);
    assert.equal(credential.isResidentCredential, true, 'a discoverable passkey');
    assert.notEqual(Buffer.from(credential.userHandle, 'base64').toString(), 'pat');
    assert.equal(Buffer.from(credential.userHandle, 'base64').length, 16);
    await page.getByRole('cell', { name: 'Laptop' }).waitFor();
    assert.equal(await page.getByText('Needs your username').count(), 0);
    await axe.check(page, 'security page with a passkey');
    await shotBothWidths(page, 'passkey-security-en');

    // 3. Signed out, nothing typed: the passkey alone signs in.
    await signOut(page);
    assert.equal(await page.locator('#username').inputValue(), '');
    await Promise.all([page.waitForURL('**/panel/dashboard'), passkeyButton(page).click()]);
    assert.match(await page.locator('h1').innerText(), /pat/);

    // 4. The name typed, no password: the same passkey.
    await signOut(page);
    await page.fill('#username', 'pat');
    await Promise.all([page.waitForURL('**/panel/dashboard'), passkeyButton(page).click()]);

    // 5. The password alone now asks for the second factor; the passkey answers it.
    await signOut(page);
    await page.fill('#username', 'pat');
    await page.fill('#password', PASSWORD);
    await page.locator('#auth-box form button[type=submit]').click();
    await passkeyButton(page, 'second-factor').waitFor();
    await axe.check(page, 'code page offering the passkey');
    await shot(page, 'passkey-second-factor-en');
    await Promise.all([page.waitForURL('**/panel/dashboard'), passkeyButton(page, 'second-factor').click()]);

    // 6. Password sign-in off: the right password is refused with the reason.
    await page.goto(`${base}/panel/security`);
    await Promise.all([
      page.waitForLoadState('load'),
      page.locator('form[action="/panel/security/password_sign_in"] button[type=submit]').click(),
    ]);
    await signOut(page);
    await page.fill('#username', 'pat');
    await page.fill('#password', PASSWORD);
    await page.locator('#auth-box form button[type=submit]').click();
    await page.locator('#login-error').waitFor();
    assert.match(await page.locator('#login-error').innerText(), /passkey/i);

    // 7. A browser with passkey autofill: opening the sign-in page offers the passkey in the
    //    username field; picking it (Chromium's virtual device picks at once) signs in.
    const withAutofill = await context(true);
    const autofillPage = await withAutofill.newPage();
    const autofillLog = trace(autofillPage);
    // The same device, in the other browser: its passkey copied over, and back afterwards
    // (its signature counter moved on; the server refuses a counter that goes back).
    const sameDevice = await addAuthenticator(autofillPage);
    await copyPasskeys(authenticator, sameDevice);
    try {
      await autofillPage.goto(`${base}/login`);
      await autofillPage.waitForURL('**/panel/dashboard');
      assert.match(await autofillPage.locator('h1').innerText(), /pat/);
      await copyPasskeys(sameDevice, authenticator);
    } catch (err) {
      await autofillLog.dump('the autofill sign-in');
      throw err;
    } finally {
      await withAutofill.close();
    }

    // 8. The passkey is removed (the current password, as for any factor): the page says that
    //    password sign-in is on again, and the device's passkey is no longer accepted.
    await Promise.all([page.waitForURL('**/panel/dashboard'), passkeyButton(page).click()]);
    await page.goto(`${base}/panel/security`);
    const remove = page.locator('#passkeys details.inline-action').filter({ hasText: 'Remove' });
    await remove.locator('summary').click();
    await remove.locator('input[type=password]').fill(PASSWORD);
    await Promise.all([
      page.waitForURL('**/panel/security?done=removed_password_on'),
      remove.locator('button[type=submit]').click(),
    ]);
    assert.match(await page.locator('[role=status]').innerText(), /password sign-in is on again/);
    await shot(page, 'passkey-removed-password-on-en');
    await signOut(page);
    await passkeyButton(page).click();
    const error = page.locator('[data-passkey="login"] [data-passkey-error]');
    await error.waitFor();
    assert.match(await error.innerText(), /not registered here/);
    await shotBothWidths(page, 'passkey-login-refused-en');
  } catch (err) {
    await log.dump('the passkey walk');
    throw err;
  }

  // German screens.
  const de = await context(true, { locale: 'de-DE', autofill: false });
  const dePage = await de.newPage();
  await dePage.goto(`${base}/login`);
  await passkeyButton(dePage).waitFor();
  assert.match(await passkeyButton(dePage).innerText(), /Passkey/);
  await shotBothWidths(dePage, 'passkey-login-de');
  await de.close();
  await ctx.close();
  axe.assertNone();
});

test('a passkey on a device without resident keys needs the name, says so, and is registered again', async () => {
  const srv = server('js');
  const base = origin(srv);
  const axe = new Axe('a passkey that needs the name');
  for (const locale of ['en-US', 'de-DE']) {
    const lang = locale.slice(0, 2);
    const name = `rory_${lang}`;
    cli(srv, ['user', 'create', name, '--no-require-change', '--password-stdin'], `${PASSWORD}\n`);
    sql(srv, `UPDATE users SET lang = '${lang}' WHERE username = '${name}'`);
    const ctx = await context(true, { locale, autofill: false });
    const page = await ctx.newPage();
    const log = trace(page);
    try {
      const old = await addAuthenticator(page, { residentKeys: false });
      await passwordSignIn(page, base, name, PASSWORD);
      await page.waitForURL('**/panel/dashboard');
      await page.goto(`${base}/panel/security`);
      await page.fill('#passkey-name', `Key ${lang}`);
      await Promise.all([
        page.waitForURL('**/panel/security?done=added_needs_name'),
        passkeyButton(page, 'register').click(),
      ]);
      const [credential] = await credentialsOf(old);
      assert.equal(credential.isResidentCredential, false);
      // The page says what happened, marks the passkey and offers to register it again.
      const mark = lang === 'en' ? 'Needs your username' : 'Braucht Ihren Benutzernamen';
      await page.getByText(mark, { exact: true }).waitFor();
      await page.locator('#passkeys-need-name').waitFor();
      const again = page.locator('details[data-replaces]');
      assert.equal(await again.isVisible(), true);
      await axe.check(page, `security page with a passkey that needs the name (${lang})`);
      await shotBothWidths(page, `passkey-security-needs-name-${lang}`);

      if (lang === 'en') {
        // Signed out: with nothing typed this device has nothing to offer; the message says
        // what may have happened. With the name typed, the passkey signs in.
        await signOut(page);
        await passkeyButton(page).click();
        const error = page.locator('[data-passkey="login"] [data-passkey-error]');
        await error.waitFor();
        assert.match(await error.innerText(), /Cancelled, or this device has no passkey for this account/);
        await page.fill('#username', name);
        await Promise.all([page.waitForURL('**/panel/dashboard'), passkeyButton(page).click()]);

        // Registered again on a device that keeps it (the current password first): it then
        // signs in with nothing typed.
        await old.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: old.authenticatorId });
        const device = await addAuthenticator(page);
        await page.goto(`${base}/panel/security`);
        await again.locator('summary').click();
        await shotBothWidths(page, 'passkey-register-again-en');
        await again.locator('input[type=password]').fill('Not-The-Password-1');
        await again.locator('[data-passkey-start]').click();
        await again.locator('[data-passkey-error]').waitFor();
        assert.match(await again.locator('[data-passkey-error]').innerText(), /current password/i);
        await again.locator('input[type=password]').fill(PASSWORD);
        await Promise.all([
          page.waitForURL('**/panel/security?done=registered_again'),
          again.locator('[data-passkey-start]').click(),
        ]);
        assert.equal(await page.getByText(mark, { exact: true }).count(), 0);
        await page.getByRole('cell', { name: 'Key en' }).waitFor();
        assert.equal((await credentialsOf(device))[0].isResidentCredential, true);
        await axe.check(page, 'security page after registering again');
        await signOut(page);
        await Promise.all([page.waitForURL('**/panel/dashboard'), passkeyButton(page).click()]);
      }
    } catch (err) {
      await log.dump(`a passkey that needs the name (${lang})`);
      throw err;
    } finally {
      await ctx.close();
    }
  }
  axe.assertNone();
});

test('without JavaScript there is no passkey button, the password works, and the code page says why', async () => {
  const srv = server('nojs');
  const base = origin(srv);
  const axe = new Axe('passkeys without JavaScript');
  cli(srv, ['user', 'create', 'quill', '--no-require-change', '--password-stdin'], `${PASSWORD}\n`);
  const ctx = await context(false);
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  assert.equal(await page.locator('[data-passkey="login"]').isVisible(), false, 'the passkey box stays hidden');
  await shotBothWidths(page, 'passkey-login-nojs-en');
  await passwordSignIn(page, base, 'quill', PASSWORD);
  await page.waitForURL('**/panel/dashboard');
  await page.goto(`${base}/panel/security`);
  assert.equal(await page.locator('[data-passkey="register"]').isVisible(), false);
  assert.match(await page.locator('#passkeys').innerText(), /JavaScript/);
  await axe.check(page, 'security page without JavaScript', { js: false });
  await shotBothWidths(page, 'passkey-security-nojs-en');

  // Quill adds a passkey in a browser with JavaScript; back without it, the password leads
  // to the code page, which says that signing in with the passkey needs JavaScript.
  const js = await context(true, { autofill: false });
  const jsPage = await js.newPage();
  await addAuthenticator(jsPage);
  await passwordSignIn(jsPage, base, 'quill', PASSWORD);
  await jsPage.waitForURL('**/panel/dashboard');
  await jsPage.goto(`${base}/panel/security`);
  await Promise.all([jsPage.waitForURL('**/panel/security?done=added'), passkeyButton(jsPage, 'register').click()]);
  await js.close();
  await page.goto(`${base}/login`);
  await passwordSignIn(page, base, 'quill', PASSWORD);
  await page.waitForURL('**/login/second_factor');
  const text = await page.locator('#auth-box').innerText();
  assert.match(text, /Signing in with your passkey needs JavaScript/);
  assert.doesNotMatch(text, /Adding a passkey/);
  await axe.check(page, 'code page of a passkey-only user without JavaScript', { js: false });
  await shotBothWidths(page, 'passkey-second-factor-nojs-en');
  await ctx.close();
  axe.assertNone();
});
