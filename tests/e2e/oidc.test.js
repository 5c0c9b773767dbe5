// OpenID Connect (SPEC §16) walked from a relying party's side: a small app written in this
// suite (rp.js, no OIDC library) sends a user to passgate, who signs in with a temporary
// password, is made to change it mid-flow, and comes back to the app signed in (the app
// checks the ID token's signature and claims itself and reads userinfo). Then the app's
// sign-out goes through passgate's confirm page. Once with JavaScript and once without.
// axe on passgate's pages; screenshots en and de, 1280 and 375 px.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, newContext, shotBothWidths, server, cli, Axe } = require('./lib');
const { startRp } = require('./rp');

const TEMPORARY = 'Walnut-Comet-Meadow-52';
const CHOSEN = 'Garnet-Violin-Harbor-38';
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** passgate's issuer: PASSGATE_PUBLIC_URL, the server's address under the name localhost. */
const issuerOf = (srv) => srv.url.replace('127.0.0.1', 'localhost');

/** Registers the app's client through the command line; its id and secret (shown once). */
function registerClient(srv, appName, redirectUri, postLogoutUri) {
  const out = cli(srv, ['app', 'add', appName, '--redirect-uri', redirectUri, '--post-logout-redirect-uri', postLogoutUri]);
  const clientId = /client_id: (\S+)/.exec(out)?.[1];
  const clientSecret = /client_secret: (\S+)/.exec(out)?.[1];
  assert.ok(clientId && clientSecret, `app add printed a client: ${out}`);
  return { clientId, clientSecret };
}

async function submit(page, js, locator) {
  if (js) {
    await locator.click();
  } else {
    await Promise.all([page.waitForEvent('load'), locator.click()]);
  }
}

for (const js of [true, false]) {
  const label = js ? 'with JavaScript' : 'without JavaScript';
  test(`an app signs a user in through passgate, with a forced change mid-flow, ${label}`, async () => {
    const srv = server(js ? 'js' : 'nojs');
    const suffix = js ? 'js' : 'nojs';
    const name = `rp_${suffix}`;
    const appName = `Team wiki ${suffix}`;
    const axe = new Axe(`OpenID Connect ${label}`);
    cli(srv, ['user', 'create', name, '--password-stdin'], `${TEMPORARY}\n`);
    let client;
    const rp = await startRp({
      issuer: issuerOf(srv),
      name: appName,
      register: (redirectUri, postLogoutUri) => {
        client = registerClient(srv, appName, redirectUri, postLogoutUri);
        return client;
      },
    });
    try {
      const ctx = await newContext(browser, js);
      const page = await ctx.newPage();
      await page.goto(rp.url);
      // 1. The app sends the browser to passgate's sign-in, which names the app.
      await Promise.all([page.waitForURL('**/login?**'), page.locator('#sign-in').click()]);
      assert.match(await page.locator('#login-app').innerText(), new RegExp(appName));
      await axe.check(page, 'sign-in for an app', { js });
      await shotBothWidths(page, `oidc-login-${suffix}-en`);
      await page.fill('#username', name);
      await page.fill('#password', TEMPORARY);
      await submit(page, js, page.locator('#auth-box form button[type=submit]'));
      // 2. The forced change, before any code.
      await page.locator('#new_password').waitFor();
      await axe.check(page, 'forced change for an app', { js });
      await shotBothWidths(page, `oidc-change-${suffix}-en`);
      await page.fill('#new_password', CHOSEN);
      await page.fill('#confirm_password', CHOSEN);
      // 3. Back at the app, signed in: it verified the ID token and read userinfo.
      await Promise.all([
        page.waitForURL(`${rp.url}/`),
        page.locator('#auth-box form button[type=submit], main form button[type=submit]').first().click(),
      ]);
      assert.match(await page.locator('#who').innerText(), new RegExp(`Signed in as ${name}`));
      assert.equal(await page.locator('#amr').innerText(), 'pwd');
      // A second visit signs in without any page of passgate's (single sign-on).
      await Promise.all([page.waitForURL(`${rp.url}/`), page.goto(`${rp.url}/login`)]);
      assert.match(await page.locator('#who').innerText(), new RegExp(name));

      // The sessions page lists the app.
      await page.goto(`${issuerOf(srv)}/panel/sessions`);
      assert.match(await page.locator('#app-sign-ins').innerText(), new RegExp(appName));
      await axe.check(page, 'sessions page with an app', { js });
      await shotBothWidths(page, `oidc-sessions-${suffix}-en`);
      await page.goto(rp.url);

      // 4. The app's sign-out: passgate asks first, then signs the browser out.
      await Promise.all([page.waitForURL('**/oauth2/logout?**'), page.locator('#sign-out').click()]);
      assert.match(await page.locator('main').innerText(), new RegExp(appName));
      await axe.check(page, 'sign-out for an app', { js });
      await shotBothWidths(page, `oidc-logout-${suffix}-en`);
      await Promise.all([
        page.waitForURL(`${rp.url}/signed-out?**`),
        page.locator('main form button[type=submit]').click(),
      ]);
      assert.match(await page.locator('#who').innerText(), /state bye/);
      await page.goto(`${issuerOf(srv)}/panel/dashboard`);
      assert.match(page.url(), /\/login/, 'signed out of passgate too');

      // 5. A forged redirect URI: a page at passgate, never a redirect (en and de).
      const forged = new URL(`${issuerOf(srv)}/oauth2/authorize`);
      for (const [k, v] of Object.entries({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: 'https://evil.example/cb',
        scope: 'openid',
        state: 's',
      })) forged.searchParams.set(k, v);
      const answer = await page.goto(forged.toString());
      assert.equal(answer.status(), 400);
      assert.match(page.url(), /^http:\/\/localhost:/);
      await axe.check(page, 'unregistered redirect URI', { js });
      await shotBothWidths(page, `oidc-refused-${suffix}-en`);
      await ctx.close();
      const de = await newContext(browser, js, 'de-DE');
      const dePage = await de.newPage();
      await dePage.goto(forged.toString());
      assert.match(await dePage.locator('main').innerText(), /nicht registriert/);
      await shotBothWidths(dePage, `oidc-refused-${suffix}-de`);
      await dePage.goto(rp.url);
      await Promise.all([dePage.waitForURL('**/login?**'), dePage.locator('#sign-in').click()]);
      await shotBothWidths(dePage, `oidc-login-${suffix}-de`);
      await de.close();
    } finally {
      await rp.close();
    }
    axe.assertNone();
  });
}
