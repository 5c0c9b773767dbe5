// Reset links, sessions and bulk actions (SPEC §10, §11) as people use them: an administrator
// makes a reset link in the reset dialog (its second tab), the user opens it in a fresh
// browser, sets a password and lands signed in; the user's sessions page shows where they are
// signed in; the administrator requires a password change of selected users. Once with
// JavaScript (the dialog in place) and once without (pages of their own). axe on every new
// page; screenshots en and de, 1280 and 375 px.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, newContext, shotBothWidths, server, cli, sql, Axe, shot, dialogProblems } = require('./lib');

const ADMIN_PASSWORD = 'Garnet-Orchard-Lantern-58';
const USER_PASSWORD = 'Cobalt-Harvest-Pillow-17';
const CHOSEN = 'Saffron-Glacier-Violet-36';
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const context = (js, locale) => newContext(browser, js, locale);

const both = shotBothWidths;

async function signIn(page, srv, username, password) {
  await page.goto(`${srv.url}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL('**/panel/dashboard'), page.locator('#auth-box form button[type=submit]').click()]);
}

function rowOf(page, username) {
  return page
    .locator('table.data tbody tr')
    .filter({ has: page.getByRole('rowheader', { name: username, exact: true }) });
}

/** Opens the reset dialog of `username` and switches to its link tab. */
async function openLinkTab(page, js, username) {
  const lock = rowOf(page, username).getByRole('link', { name: `Reset the password of ${username}` });
  if (js) {
    await lock.click();
    await page.locator('dialog#reset-dialog').waitFor();
    await page.locator('#reset-dialog nav.tabs').getByRole('link', { name: 'Reset link' }).click();
    await page.locator('#link-expires').waitFor();
  } else {
    await Promise.all([page.waitForURL('**/reset_password'), lock.click()]);
    await Promise.all([
      page.waitForURL('**/reset_link'),
      page.locator('nav.tabs').getByRole('link', { name: 'Reset link' }).click(),
    ]);
  }
}

for (const js of [true, false]) {
  const label = js ? 'with JavaScript' : 'without JavaScript';
  const suffix = js ? 'js' : 'nojs';
  test(`an administrator's reset link, the user's sessions and bulk actions, ${label}`, async () => {
    const srv = server(suffix);
    const admin = `links_admin_${suffix}`;
    const user = `links_user_${suffix}`;
    const other = `links_other_${suffix}`;
    const axe = new Axe(`reset links ${label}`);
    cli(srv, ['user', 'create', admin, '--superuser', '--password-stdin', '--no-require-change'], `${ADMIN_PASSWORD}\n`);
    cli(srv, ['user', 'create', user, '--password-stdin', '--no-require-change'], `${USER_PASSWORD}\n`);
    cli(srv, ['user', 'create', other, '--password-stdin', '--no-require-change'], `${USER_PASSWORD}\n`);

    // 1. The administrator makes a link in the reset dialog.
    const adminCtx = await context(js);
    const page = await adminCtx.newPage();
    await signIn(page, srv, admin, ADMIN_PASSWORD);
    await page.goto(`${srv.url}/panel/panel_config?q=links_`);
    await openLinkTab(page, js, user);
    await axe.check(page, 'reset dialog, link tab', { js });
    if (js) {
      for (const p of await dialogProblems(page, '#reset-dialog')) assert.fail(`link tab: ${p}`);
    }
    await both(page, `links-tab-${suffix}-en`);
    // (A number out of 1–72 is stopped by the browser's own check; the server's answer to one
    // that gets through is tested in tests/it/web_links.rs.)
    await page.fill('#link-expires', '6');
    if (js) {
      await page.locator('form[action$="/reset_link"] button[type=submit]').click();
      await page.locator('#link-result').waitFor();
    } else {
      await Promise.all([page.waitForURL('**/panel/result/**'), page.locator('form[action$="/reset_link"] button[type=submit]').click()]);
    }
    const url = await page.locator('#link-result').inputValue();
    assert.match(url, /\/reset\/[A-Za-z0-9_-]{43}$/);
    assert.equal(await page.locator('svg.qr').count(), 1, 'the link as a QR code');
    assert.equal(await page.locator('[data-copy="link-result"]').isVisible(), js, 'Copy only with JavaScript');
    await axe.check(page, 'reset link shown once', { js });
    if (js) {
      for (const p of await dialogProblems(page, '#reset-dialog')) assert.fail(`link result: ${p}`);
      // The table behind the dialog already says a link is pending.
      assert.match(await rowOf(page, user).innerText(), /Reset link pending/);
    }
    await both(page, `links-result-${suffix}-en`);

    // 2. The user opens it in a fresh browser, sets a password and is signed in. (The link's
    // base is PASSGATE_PUBLIC_URL, http://localhost:PORT here: the user stays on that origin.)
    const userBase = new URL(url).origin;
    const userCtx = await context(js);
    const userPage = await userCtx.newPage();
    await userPage.goto(url);
    assert.match(await userPage.locator('h1').innerText(), /password/i);
    await axe.check(userPage, 'reset link page', { js });
    await both(userPage, `links-page-${suffix}-en`);
    await userPage.fill('#new_password', CHOSEN);
    await userPage.fill('#confirm_password', CHOSEN);
    await Promise.all([userPage.waitForURL('**/panel/dashboard'), userPage.locator('main form button[type=submit]').click()]);
    assert.match(await userPage.getByRole('navigation').innerText(), new RegExp(user));
    // Once only: the link now says it was used.
    const again = await userCtx.newPage();
    await again.goto(url);
    assert.match(await again.locator('main').innerText(), /already been used/);
    await axe.check(again, 'a used link', { js });
    await again.close();

    // 3. The user's sessions: this one, and a second browser that can be ended.
    const secondCtx = await context(js);
    const second = await secondCtx.newPage();
    await signIn(second, { url: userBase }, user, CHOSEN);
    await userPage.goto(`${userBase}/panel/sessions`);
    assert.equal(await userPage.locator('tbody tr').count(), 2);
    assert.equal(await userPage.getByText('This session', { exact: true }).count(), 1);
    await axe.check(userPage, 'sessions page', { js });
    await both(userPage, `links-sessions-${suffix}-en`);
    await Promise.all([
      userPage.waitForURL('**/panel/sessions?ended=others'),
      userPage.getByRole('button', { name: 'End all other sessions' }).click(),
    ]);
    assert.equal(await userPage.locator('tbody tr').count(), 1);
    await second.goto(`${userBase}/panel/dashboard`);
    assert.match(second.url(), /\/login/, 'the other browser is signed out');
    await secondCtx.close();

    // 4. Bulk: the administrator requires a password change of the two users.
    await page.goto(`${srv.url}/panel/panel_config?q=links_`);
    await rowOf(page, user).getByRole('checkbox').check();
    await rowOf(page, other).getByRole('checkbox').check();
    await page.selectOption('#bulk-action', 'require_change');
    await axe.check(page, 'users table with bulk actions', { js });
    await both(page, `links-bulk-${suffix}-en`);
    await Promise.all([page.waitForURL('**/panel/result/**'), page.locator('#bulk-form button[type=submit]').click()]);
    assert.match(await page.locator('main').innerText(), /Done for 2 user\(s\)/);
    await axe.check(page, 'bulk report', { js });
    await both(page, `links-bulk-report-${suffix}-en`);
    await userPage.goto(`${userBase}/panel/dashboard`);
    assert.match(userPage.url(), /\/panel\/change_password$/, 'held at the change page');

    // German (a user whose language is German): the link tab and the sessions page.
    const german = `links_de_${suffix}`;
    cli(srv, ['user', 'create', german, '--superuser', '--password-stdin', '--no-require-change'], `${ADMIN_PASSWORD}\n`);
    sql(srv, `UPDATE users SET lang = 'de' WHERE username = '${german}'`);
    const de = await context(js, 'de-DE');
    const dePage = await de.newPage();
    await signIn(dePage, srv, german, ADMIN_PASSWORD);
    await dePage.goto(`${srv.url}/panel/sessions`);
    assert.match(await dePage.locator('h1').innerText(), /Ihre Sitzungen/);
    await both(dePage, `links-sessions-${suffix}-de`);
    await dePage.goto(`${srv.url}/panel/users/${sql(srv, `SELECT user_id FROM users WHERE username = '${other}'`)}/reset_link`);
    assert.match(await dePage.locator('nav.tabs').innerText(), /Temporäres Passwort/);
    await both(dePage, `links-tab-${suffix}-de`);
    await de.close();
    await userCtx.close();
    await adminCtx.close();
    axe.assertNone();
  });
}
