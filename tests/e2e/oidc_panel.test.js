// OpenID Connect clients registered in the panel (SPEC §16 with §15.1): a superuser fills the
// application form's OpenID Connect fieldset for the relying party of rp.js (a bad redirect
// URI first: refused beside the field), reads the client secret once with its copy button,
// and the relying party signs in with that secret. Then a new secret after the confirmation
// page, and the edits that end sign-ins (OpenID Connect off, a client made public), each shown
// on a confirmation page before it applies. Once with JavaScript and once without; axe on every page; screenshots en and de,
// 1280 and 375 px, and no sideways scrolling at 360 px.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, newContext, shotBothWidths, fits360, server, cli, sql, Axe } = require('./lib');
const { startRp } = require('./rp');

const PASSWORD = 'Cobalt-Juniper-Lantern-64';
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** passgate's issuer: PASSGATE_PUBLIC_URL, the server's address under the name localhost. */
const issuerOf = (srv) => srv.url.replace('127.0.0.1', 'localhost');

async function look(page, axe, name, js) {
  await shotBothWidths(page, name);
  await fits360(page, name);
  await axe.check(page, name, { js });
}

/** Submits the form a button belongs to and waits for the next document. */
async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

async function signIn(page, srv, name) {
  await page.goto(`${issuerOf(srv)}/login`);
  await page.fill('#username', name);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL('**/panel/dashboard'), page.locator('#auth-box form button[type=submit]').click()]);
}

/** The OpenID Connect fieldset of the application form, filled in. */
async function fillClient(page, { name, type, redirectUri, postLogoutUri }) {
  await page.fill('#name', name);
  await page.locator('#oidc-on').check();
  await page.locator(`#client_type-${type}`).check();
  await page.fill('#redirect_uris', redirectUri);
  await page.fill('#post_logout_redirect_uris', postLogoutUri || '');
}

/** The secret on its one-time page: its copy button (shown only with JavaScript). */
async function checkCopy(page, js, id) {
  const copy = page.locator(`button[data-copy="${id}"]`);
  if (js) {
    assert.ok(await copy.isVisible(), `the Copy button of #${id} is shown`);
    const value = await page.locator(`#${id}`).inputValue();
    await copy.click();
    await page.waitForFunction((sel) => document.querySelector(sel).textContent !== 'Copy', `button[data-copy="${id}"]`);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), value, 'the clipboard holds it');
  } else {
    assert.ok(await copy.isHidden(), 'without JavaScript the Copy button stays hidden');
  }
  assert.equal(await page.locator(`#${id}`).getAttribute('readonly'), '');
}

for (const js of [true, false]) {
  const label = js ? 'with JavaScript' : 'without JavaScript';
  const suffix = js ? 'js' : 'nojs';

  test(`a superuser registers an OpenID Connect client in the panel, ${label}`, async () => {
    const srv = server(suffix);
    const admin = `oidc_admin_${suffix}`;
    const adminDe = `oidc_admin_de_${suffix}`;
    for (const name of [admin, adminDe]) {
      cli(srv, ['user', 'create', name, '--superuser', '--password-stdin', '--no-require-change'], `${PASSWORD}\n`);
    }
    sql(srv, `UPDATE users SET lang = 'de' WHERE username = '${adminDe}'`);
    const axe = new Axe(`OpenID Connect clients in the panel ${label}`);
    const appName = `Panel wiki ${suffix}`;
    const ctx = await browser.newContext({
      javaScriptEnabled: js,
      locale: 'en-US',
      viewport: { width: 1280, height: 800 },
      permissions: js ? ['clipboard-read', 'clipboard-write'] : [],
    });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    let rp;
    let firstSecret;
    try {
      await signIn(page, srv, admin);
      rp = await startRp({
        issuer: issuerOf(srv),
        name: appName,
        register: async (redirectUri, postLogoutUri) => {
          await page.goto(`${issuerOf(srv)}/panel/apps/new`);
          await look(page, axe, `oidc-panel-new-${suffix}-en`, js);
          // A redirect URI that is neither https nor loopback: refused beside the field.
          await fillClient(page, { name: appName, type: 'confidential', redirectUri: 'http://wiki.example.org/cb', postLogoutUri });
          await submit(page, page.locator('main form button[type=submit]'));
          assert.match(await page.locator('#redirect_uris-error').innerText(), /http:\/\/wiki\.example\.org\/cb/);
          assert.equal(await page.locator('#redirect_uris').inputValue(), 'http://wiki.example.org/cb', 'what was typed is kept');
          assert.ok(await page.locator('#oidc-on').isChecked());
          await look(page, axe, `oidc-panel-refused-${suffix}-en`, js);
          await page.fill('#redirect_uris', redirectUri);
          await submit(page, page.locator('main form button[type=submit]'));
          // The secret, once, on a page reached by a 303.
          assert.match(new URL(page.url()).pathname, /^\/panel\/result\//);
          const clientSecret = await page.locator('#client-secret').inputValue();
          const clientId = await page.locator('#client-id').inputValue();
          assert.match(clientSecret, /^pgs_/);
          assert.ok(!page.url().includes(clientSecret), 'never in the URL');
          assert.match(await page.locator('main').innerText(), /\/\.well-known\/openid-configuration/);
          await checkCopy(page, js, 'client-secret');
          await look(page, axe, `oidc-panel-secret-${suffix}-en`, js);
          await page.reload();
          assert.equal(await page.locator('#client-secret').count(), 0, 'a reload does not show it again');
          firstSecret = clientSecret;
          return { clientId, clientSecret };
        },
      });

      // The relying party signs in with that secret (single sign-on: no page of passgate's).
      await Promise.all([page.waitForURL(`${rp.url}/`), page.goto(`${rp.url}/login`)]);
      assert.match(await page.locator('#who').innerText(), new RegExp(`Signed in as ${admin}`));

      // The application's page: the client id, the issuer; a new secret after a confirmation.
      await page.goto(`${issuerOf(srv)}/panel/apps`);
      await submit(page, page.getByRole('link', { name: `Edit ${appName}` }));
      assert.match(await page.locator('#client-title').innerText(), /OpenID Connect client/);
      await checkCopy(page, js, 'client-id');
      await look(page, axe, `oidc-panel-app-${suffix}-en`, js);
      await submit(page, page.getByRole('link', { name: 'New client secret' }));
      await look(page, axe, `oidc-panel-regenerate-${suffix}-en`, js);
      await submit(page, page.locator('main form button.danger'));
      const renewed = await page.locator('#client-secret').inputValue();
      assert.match(renewed, /^pgs_/);
      assert.notEqual(renewed, firstSecret);
      assert.match(await page.locator('main').innerText(), /the old one no longer works/);
      await page.reload();
      assert.equal(await page.locator('#client-secret').count(), 0, 'shown once');
      // Already shown: it leads back to the application, not to the users.
      const appId = sql(srv, `SELECT app_id FROM apps WHERE name = '${appName}'`);
      const back = page.locator('main .actions a');
      assert.equal(await back.getAttribute('href'), `/panel/apps/${appId}`);
      assert.match(await back.innerText(), /Back to the application/);
      await look(page, axe, `oidc-panel-already-shown-${suffix}-en`, js);
      assert.match(sql(srv, "SELECT count(*) FROM audit_log WHERE action = 'app_client_secret_regenerated'"), /^[1-9]/);
      assert.equal(sql(srv, `SELECT count(*) FROM audit_log WHERE detail LIKE '%${renewed}%' OR detail LIKE '%${firstSecret}%'`), '0');

      // Turning OpenID Connect off: a confirmation page first; Cancel changes nothing.
      await page.goto(`${issuerOf(srv)}/panel/apps/${appId}`);
      await page.locator('#oidc-on').uncheck();
      await submit(page, page.locator('main form button[type=submit]'));
      const confirmText = await page.locator('main').innerText();
      assert.match(confirmText, /OpenID Connect will be turned off/);
      assert.match(confirmText, /1 user signed in to it through passgate loses their tokens/);
      assert.equal(sql(srv, `SELECT count(*) FROM oidc_clients WHERE app_id = ${appId}`), '1', 'nothing applied yet');
      await look(page, axe, `oidc-panel-confirm-off-${suffix}-en`, js);
      await submit(page, page.getByRole('link', { name: 'Cancel' }));
      assert.equal(new URL(page.url()).pathname, `/panel/apps/${appId}`);
      assert.ok(await page.locator('#oidc-on').isChecked(), 'still a client');
      // Confirmed: saved once (303), the relying party's sign-in ended.
      await page.locator('#oidc-on').uncheck();
      await submit(page, page.locator('main form button[type=submit]'));
      await submit(page, page.locator('main form button.danger'));
      assert.equal(new URL(page.url()).pathname, '/panel/apps');
      assert.match(await page.locator('main [role=status]').first().innerText(), /The application was saved/);
      assert.equal(sql(srv, `SELECT count(*) FROM oidc_clients WHERE app_id = ${appId}`), '0');
      assert.equal(sql(srv, `SELECT count(*) FROM oidc_grants WHERE app_id = ${appId}`), '0', 'its sign-ins ended');
      await page.reload();
      assert.equal(sql(srv, "SELECT count(*) FROM audit_log WHERE action = 'app_updated' AND detail LIKE '%ended=client%'"), '1', 'a reload repeats nothing');
      await ctx.close();

      // German: a public client (no secret: its page shows the client id) and a confidential one.
      const de = await newContext(browser, js, 'de-DE');
      const dePage = await de.newPage();
      await signIn(dePage, srv, adminDe);
      await dePage.goto(`${issuerOf(srv)}/panel/apps/new`);
      await look(dePage, axe, `oidc-panel-new-${suffix}-de`, js);
      await fillClient(dePage, { name: `Desktop ${suffix}`, type: 'public', redirectUri: 'http://127.0.0.1/callback' });
      await submit(dePage, dePage.locator('main form button[type=submit]'));
      assert.match(new URL(dePage.url()).pathname, /^\/panel\/apps\/\d+$/);
      assert.equal(await dePage.locator('#client-secret').count(), 0);
      assert.match(await dePage.locator('#client-title').innerText(), /OpenID-Connect-Client/);
      await look(dePage, axe, `oidc-panel-app-${suffix}-de`, js);
      await dePage.goto(`${issuerOf(srv)}/panel/apps/new`);
      await fillClient(dePage, { name: `Dateien ${suffix}`, type: 'confidential', redirectUri: 'https://files.example.org/cb' });
      await dePage.locator('#alg-ES256').check();
      await submit(dePage, dePage.locator('main form button[type=submit]'));
      assert.match(await dePage.locator('main').innerText(), /Client-Geheimnis/);
      await look(dePage, axe, `oidc-panel-secret-${suffix}-de`, js);
      await dePage.goto(`${issuerOf(srv)}/panel/apps`);
      await submit(dePage, dePage.getByRole('link', { name: `Dateien ${suffix} bearbeiten` }));
      await submit(dePage, dePage.getByRole('link', { name: 'Neues Client-Geheimnis' }));
      await look(dePage, axe, `oidc-panel-regenerate-${suffix}-de`, js);
      // Made public: the confirmation says the secret stops working.
      const filesId = sql(srv, `SELECT app_id FROM apps WHERE name = 'Dateien ${suffix}'`);
      await dePage.goto(`${issuerOf(srv)}/panel/apps/${filesId}`);
      await dePage.locator('#client_type-public').check();
      await submit(dePage, dePage.locator('main form button[type=submit]'));
      assert.match(await dePage.locator('main').innerText(), /Client-Geheimnis funktioniert sofort nicht mehr/);
      await look(dePage, axe, `oidc-panel-confirm-public-${suffix}-de`, js);
      await submit(dePage, dePage.locator('main form button.danger'));
      assert.equal(new URL(dePage.url()).pathname, '/panel/apps');
      assert.equal(sql(srv, `SELECT count(*) FROM oidc_clients c JOIN apps a ON a.app_id = c.app_id WHERE a.name = 'Dateien ${suffix}' AND c.secret_hash IS NULL`), '1');
      await de.close();
    } finally {
      await rp?.close();
    }
    axe.assertNone();
  });
}
