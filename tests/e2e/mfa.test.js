// Two-factor sign-in (SPEC §9) walked as the seed's scenario: an administrator resets a user
// who must have a second factor; the user signs in with the temporary password, sets a new
// one, sets up an authenticator app (the code is computed here from the key the page shows,
// as an app would) and stores the recovery codes; the next sign-in asks for a code. Once with
// JavaScript (htmx swaps the steps in place) and once without (every step a page of its own).
// axe on every new page; screenshots en and de, 1280 and 375 px.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { launchBrowser, newContext, shotBothWidths, server, cli, sql, Axe, shot } = require('./lib');

const TEMPORARY = 'Harbor-Quill-Sparrow-41';
const CHOSEN = 'Lilac-Meteor-Canyon-93';
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** RFC 4648 base32 (the key as the page shows it, in groups of four). */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '')) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s), what an authenticator app computes. */
function totp(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const offset = mac[19] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);

/** Waits for the authenticator's next code (a step the device has not used yet). */
async function nextStepAfter(used) {
  while (stepNow() <= used) await new Promise((resolve) => setTimeout(resolve, 250));
  return stepNow();
}

const context = (js, locale) => newContext(browser, js, locale);

const both = shotBothWidths;

async function submit(page, js, locator) {
  if (js) {
    await locator.click();
  } else {
    await Promise.all([page.waitForEvent('load'), locator.click()]);
  }
}

for (const js of [true, false]) {
  const label = js ? 'with JavaScript' : 'without JavaScript';
  test(`the seed's walk with two-factor sign-in, ${label}`, async () => {
    const srv = server(js ? 'js' : 'nojs');
    const name = js ? 'tfa_js' : 'tfa_nojs';
    const axe = new Axe(`two-factor sign-in ${label}`);
    // The administrator's reset: a temporary password, a change required, a factor required.
    cli(srv, ['user', 'create', name, '--password-stdin'], `${TEMPORARY}\n`);
    sql(srv, `UPDATE users SET require_mfa = 1 WHERE username = '${name}'`);
    const suffix = js ? 'js' : 'nojs';

    const ctx = await context(js);
    const page = await ctx.newPage();
    await page.goto(`${srv.url}/login`);
    await page.fill('#username', name);
    await page.fill('#password', TEMPORARY);
    await submit(page, js, page.locator('#auth-box form button[type=submit]'));
    // 1. The forced change.
    await page.locator('#new_password').waitFor();
    await page.fill('#new_password', CHOSEN);
    await page.fill('#confirm_password', CHOSEN);
    await Promise.all([
      page.waitForURL('**/panel/security/totp/setup'),
      page.locator('#auth-box form button[type=submit], main form button[type=submit]').first().click(),
    ]);
    // 2. Held at set-up: nothing else answers.
    assert.match(await page.locator('h1').innerText(), /Set up two-factor sign-in/);
    assert.match(await page.getByRole('navigation').innerText(), new RegExp(name));
    await axe.check(page, 'two-factor set-up', { js });
    await both(page, `mfa-setup-${suffix}-en`);
    await page.goto(`${srv.url}/panel/dashboard`);
    assert.match(page.url(), /\/panel\/security\/totp\/setup$/);

    // 3. The key, shown once, as a QR code and as text (with htmx in place of the set-up box).
    if (js) {
      await page.locator('#auth-box form button[type=submit]').click();
      await page.locator('svg.qr').waitFor();
    } else {
      await Promise.all([page.waitForURL('**/panel/result/**'), page.locator('main form button[type=submit]').click()]);
    }
    assert.equal(await page.locator('svg.qr').count(), 1, 'a QR code is on the page');
    const key = base32Decode(await page.locator('.secret code').innerText());
    assert.equal(key.length, 20);
    await axe.check(page, 'two-factor enrolment', { js });
    await both(page, `mfa-enrol-${suffix}-en`);
    const enrolStep = stepNow();
    await page.fill('#device_name', 'Phone');
    await page.fill('#code', totp(key, enrolStep));
    if (js) {
      await page.locator('#auth-box form button[type=submit]').click();
      await page.locator('ul.codes').waitFor();
    } else {
      await Promise.all([page.waitForURL('**/panel/result/**'), page.locator('main form button[type=submit]').click()]);
    }

    // 4. Ten recovery codes, once.
    const codes = await page.locator('ul.codes code').allInnerTexts();
    assert.equal(codes.length, 10);
    assert.match(codes[0], /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    await axe.check(page, 'recovery codes', { js });
    await both(page, `mfa-codes-${suffix}-en`);
    const codesUrl = page.url();
    await Promise.all([page.waitForURL('**/panel/dashboard'), page.getByRole('link', { name: 'I have stored them' }).click()]);
    await page.goto(codesUrl);
    assert.equal(await page.locator('ul.codes code').count(), 0, 'the codes are not shown twice');
    await page.goto(`${srv.url}/panel/dashboard`);

    // 5. The next sign-in asks for the code (computed as the app would, for a new step).
    await Promise.all([page.waitForURL('**/login'), page.locator('header form[action="/logout"] button').click()]);
    await page.fill('#username', name);
    await page.fill('#password', CHOSEN);
    await submit(page, js, page.locator('#auth-box form button[type=submit]'));
    await page.locator('#code').waitFor();
    assert.match(await page.locator('#auth-box h1').innerText(), /Two-factor sign-in/);
    await axe.check(page, 'code page', { js });
    await both(page, `mfa-code-page-${suffix}-en`);
    await page.fill('#code', '000000');
    await submit(page, js, page.locator('#auth-box form button[type=submit]'));
    await page.locator('#code-error').waitFor();
    await axe.check(page, 'code page with a wrong code', { js });
    const next = await nextStepAfter(enrolStep);
    await page.fill('#code', totp(key, next));
    await Promise.all([page.waitForURL('**/panel/dashboard'), page.locator('#auth-box form button[type=submit]').click()]);

    // 6. The security page lists the app and the codes left.
    await page.goto(`${srv.url}/panel/security`);
    assert.match(await page.locator('#authenticators').innerText(), /Phone/);
    assert.match(await page.locator('#authenticators').innerText(), /Recovery codes left: 10/);
    await axe.check(page, 'security page', { js });
    await both(page, `mfa-security-${suffix}-en`);

    // German: the code page and the security page.
    const de = await context(js, 'de-DE');
    const dePage = await de.newPage();
    await dePage.goto(`${srv.url}/login`);
    await dePage.fill('#username', name);
    await dePage.fill('#password', CHOSEN);
    await submit(dePage, js, dePage.locator('#auth-box form button[type=submit]'));
    await dePage.locator('#code').waitFor();
    assert.match(await dePage.locator('#auth-box h1').innerText(), /zweitem Faktor/);
    await both(dePage, `mfa-code-page-${suffix}-de`);
    await de.close();
    await ctx.close();
    axe.assertNone();
  });
}
