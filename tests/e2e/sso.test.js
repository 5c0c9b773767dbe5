// Single sign-on (SPEC §15) as a person meets it: from an app's URL, through nginx (the
// snippets of docs/proxies.md), to passgate's sign-in, the forced change, and back at the app
// with the identity headers; a second app opens without a password; sign-out ends both. Then
// the administrator's applications pages. Once with JavaScript and once without; axe on every
// new page; screenshots en and de, 1280 and 375 px, and no sideways scrolling at 360 px.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, newContext, shotBothWidths, fits360, server, cli, sql, Axe, trace } = require('./lib');

const PASSWORDS = {
  temporary: 'Hazel-Crater-Monsoon-47',
  chosen: 'Lagoon-Thimble-Saffron-82',
  admin: 'Basalt-Orchid-Meridian-35',
};

let browser;
before(async () => {
  // Every name below passgate.test is this machine (nginx on one port serves them all).
  browser = await launchBrowser(['--host-resolver-rules=MAP *.passgate.test 127.0.0.1']);
});
after(async () => {
  await browser?.close();
});

const port = () => process.env.E2E_SSO_PORT;
const at = (host, path = '/') => `http://${host}.passgate.test:${port()}${path}`;

/** What the echoing app received, as the browser shows its JSON. */
async function echoed(page) {
  const text = await page.locator('body').innerText();
  return JSON.parse(text);
}

function header(echo, name) {
  return echo.headers.filter(([k]) => k === name).map(([, v]) => v);
}

/** Screenshots (1280, 375), the 360 px check and axe, for one page. */
async function look(page, axe, name, js) {
  await shotBothWidths(page, name);
  await fits360(page, name);
  await axe.check(page, name, { js });
}

/** Submits the form a button belongs to and waits for the next document. */
async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

let seeded = false;
function seed(srv) {
  if (seeded) return;
  seeded = true;
  cli(srv, ['app', 'add', 'Wiki', '--host', 'wiki.passgate.test', '--public-path', '/public/']);
  cli(srv, ['app', 'add', 'Files', '--host', 'files.passgate.test']);
  cli(srv, ['app', 'add', 'Old archive', '--host', 'old.passgate.test', '--policy', 'deny']);
  cli(srv, ['user', 'create', 'sso_admin', '--superuser', '--password-stdin', '--no-require-change'], `${PASSWORDS.admin}\n`);
  cli(srv, ['user', 'create', 'sso_admin_de', '--superuser', '--password-stdin', '--no-require-change'], `${PASSWORDS.admin}\n`);
  // Signed-in pages speak the user's language.
  sql(srv, "UPDATE users SET lang = 'de' WHERE username = 'sso_admin_de'");
}

for (const js of [true, false]) {
  const label = js ? 'with JavaScript' : 'without JavaScript';
  const suffix = js ? 'js' : 'nojs';

  test(`from an app's URL through sign-in and the forced change back to the app, ${label}`, async () => {
    const srv = server('sso');
    seed(srv);
    const user = `walker_${suffix}`;
    // A temporary password that must be changed at the first sign-in.
    cli(srv, ['user', 'create', user, '--password-stdin'], `${PASSWORDS.temporary}\n`);
    const axe = new Axe(`single sign-on ${label}`);
    const ctx = await newContext(browser, js);
    const page = await ctx.newPage();
    const seen = trace(page);
    try {
      // 1. The app, without a session: nginx sends the browser to passgate, carrying the URL.
      const target = at('wiki', '/page?x=1');
      await page.goto(target);
      const login = new URL(page.url());
      assert.equal(login.host, `auth.passgate.test:${port()}`);
      assert.equal(login.pathname, '/login');
      assert.equal(login.searchParams.get('rd'), target);
      assert.match(await page.locator('#login-app').innerText(), /Sign in to continue to Wiki/);
      if (js) await look(page, axe, 'sso-login', js);

      // 2. The temporary password, then the forced change (in place with JavaScript).
      await page.fill('#username', user);
      await page.fill('#password', PASSWORDS.temporary);
      const signIn = page.locator('#auth-box form button[type=submit]');
      if (js) {
        await signIn.click();
        await page.locator('#new_password').waitFor();
      } else {
        await submit(page, signIn);
      }
      assert.match(page.url(), /\/panel\/change_password\?rd=/);
      await look(page, axe, `sso-change-${suffix}`, js);
      await page.fill('#new_password', PASSWORDS.chosen);
      await page.fill('#confirm_password', PASSWORDS.chosen);
      await Promise.all([
        page.waitForURL(target),
        page.locator('#auth-box form button[type=submit]').click(),
      ]);

      // 3. Back at the app, with the identity nginx passed on.
      let echo = await echoed(page);
      assert.deepEqual(header(echo, 'remote-user'), [user]);
      assert.deepEqual(header(echo, 'remote-name'), [user]);
      assert.equal(echo.path, '/page?x=1');

      // 4. A second app opens without a password.
      await page.goto(at('files', '/'));
      echo = await echoed(page);
      assert.deepEqual(header(echo, 'remote-user'), [user]);

      // 5. The sessions page lists the single sign-on session.
      await page.goto(at('auth', '/panel/sessions'));
      assert.match(await page.locator('main').innerText(), /Single sign-on: apps on passgate\.test/);
      await look(page, axe, `sso-sessions-${suffix}`, js);

      // 6. An app that lets nobody in: nginx answers 403; passgate's page says so.
      const refused = await page.goto(at('old'));
      assert.equal(refused.status(), 403);
      await page.goto(at('auth', `/denied?rd=${encodeURIComponent(at('old'))}`));
      assert.match(await page.locator('main').innerText(), /You do not have access to Old archive/);
      await look(page, axe, `sso-denied-${suffix}`, js);

      // 7. Sign-out from an app's link: a confirmation, then both apps ask again.
      await page.goto(at('auth', `/logout?rd=${encodeURIComponent(at('wiki', '/'))}`));
      await look(page, axe, `sso-logout-${suffix}`, js);
      await submit(page, page.locator('main form button[type=submit]'));
      const after = new URL(page.url());
      assert.equal(after.pathname, '/login');
      assert.equal(after.searchParams.get('rd'), at('wiki', '/'));
      for (const app of ['wiki', 'files']) {
        await page.goto(at(app, '/'));
        assert.equal(new URL(page.url()).pathname, '/login', `${app} asks for a sign-in again`);
      }
      assert.deepEqual(seen.refused(), [], 'nothing refused by the CSP');
      axe.assertNone();
    } catch (err) {
      await seen.dump(`single sign-on ${label}`);
      throw err;
    } finally {
      await ctx.close();
    }
  });

  test(`the administrator's applications pages, ${label}`, async () => {
    const srv = server('sso');
    seed(srv);
    const axe = new Axe(`applications ${label}`);
    for (const locale of ['en-US', 'de-DE']) {
      const de = locale === 'de-DE';
      const tag = `${suffix}${de ? '-de' : ''}`;
      const ctx = await newContext(browser, js, locale);
      const page = await ctx.newPage();
      const seen = trace(page);
      try {
        if (de) {
          // The sign-in page of an app, in German.
          await page.goto(at('wiki', '/'));
          assert.match(await page.locator('#login-app').innerText(), /um zu Wiki weiterzugehen/);
          await look(page, axe, `sso-login-${tag}`, js);
          await page.goto(at('auth', '/login'));
        } else {
          await page.goto(at('auth', '/login'));
        }
        await page.fill('#username', de ? 'sso_admin_de' : 'sso_admin');
        await page.fill('#password', PASSWORDS.admin);
        await submit(page, page.locator('#auth-box form button[type=submit]'));
        await page.goto(at('auth', '/panel/apps'));
        await look(page, axe, `apps-list-${tag}`, js);
        await page.goto(at('auth', '/panel/apps/new'));
        await look(page, axe, `apps-new-${tag}`, js);
        const name = `Grafana ${tag}`;
        await page.fill('#name', name);
        await page.fill('#hosts', `grafana-${tag}.passgate.test\nnot a host`);
        await page.locator('#policy-two_factor').check();
        await submit(page, page.locator('main form button[type=submit]'));
        // Refused beside the field, what was typed kept.
        assert.match(await page.locator('#hosts-error').innerText(), /not a host/);
        await look(page, axe, `apps-refused-${tag}`, js);
        await page.fill('#hosts', `grafana-${tag}.passgate.test`);
        await submit(page, page.locator('main form button[type=submit]'));
        assert.equal(new URL(page.url()).pathname, '/panel/apps');
        const row = page.locator('table.data tbody tr').filter({ hasText: name });
        await row.waitFor();
        await submit(page, row.getByRole('link', { name: de ? `${name} bearbeiten` : `Edit ${name}` }));
        await look(page, axe, `apps-edit-${tag}`, js);
        await page.goto(at('auth', '/panel/apps'));
        await submit(page, row.getByRole('link', { name: de ? `${name} löschen` : `Delete ${name}` }));
        await look(page, axe, `apps-delete-${tag}`, js);
        await submit(page, page.locator('main form button.danger'));
        assert.equal(await page.locator('table.data tbody tr').filter({ hasText: name }).count(), 0);
        assert.deepEqual(seen.refused(), [], 'nothing refused by the CSP');
      } catch (err) {
        await seen.dump(`applications ${label} ${locale}`);
        throw err;
      } finally {
        await ctx.close();
      }
    }
    axe.assertNone();
  });
}
