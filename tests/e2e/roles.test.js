// Roles (SPEC §14) as an administrator uses them: the roles page, a new role that requires a
// second factor, its members chosen with checkboxes and a search, the users table showing
// roles and filtered by one, the new-user form offering roles, deleting a role with its
// confirm step — and the member signed in meanwhile held at enrolment at their next click.
// Once with JavaScript (htmx swaps the member list and the table) and once without (plain
// GET forms and 303s). axe on every page; screenshots en and de, 1280, 375 and 360 px.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, newContext, shotBothWidths, shot, server, cli, sql, Axe } = require('./lib');

const ADMIN_PASSWORD = 'Garnet-Orchard-Lantern-58';
const USER_PASSWORD = 'Cobalt-Harvest-Pillow-17';
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** 1280 and 375 px (lib), and 360 px: no sideways scrolling at the narrowest SPEC width. */
async function shots(page, name) {
  await shotBothWidths(page, name);
  await page.setViewportSize({ width: 360, height: 740 });
  await shot(page, `${name}-360`);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.equal(wide, false, `${name}: no sideways scrolling at 360 px`);
}

async function signIn(page, srv, username, password) {
  await page.goto(`${srv.url}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL('**/panel/dashboard'), page.locator('#auth-box form button[type=submit]').click()]);
}

/** Searches the role page's members: htmx swaps the list (waited for), or a plain GET. */
async function searchMembers(page, js, text) {
  if (js) {
    await Promise.all([
      page.waitForResponse((r) => r.url().includes(`q=${text}`) && r.request().headers()['hx-request'] === 'true'),
      page.fill('#member-q', text),
    ]);
    await page.waitForFunction((t) => document.querySelector('#members-box input[name=q]')?.value === t, text);
  } else {
    await page.fill('#member-q', text);
    await Promise.all([page.waitForURL(/\?q=/), page.locator('form[role=search] button[type=submit]').click()]);
  }
}

function rowOf(page, username) {
  return page
    .locator('table.data tbody tr')
    .filter({ has: page.getByRole('rowheader', { name: username, exact: true }) });
}

for (const js of [true, false]) {
  const label = js ? 'with JavaScript' : 'without JavaScript';
  const suffix = js ? 'js' : 'nojs';
  test(`an administrator makes a role that requires a second factor and fills it, ${label}`, async () => {
    const srv = server(suffix);
    const admin = `roles_admin_${suffix}`;
    const anna = `roles_anna_${suffix}`;
    const ben = `roles_ben_${suffix}`;
    const axe = new Axe(`roles ${label}`);
    cli(srv, ['user', 'create', admin, '--superuser', '--password-stdin', '--no-require-change'], `${ADMIN_PASSWORD}\n`);
    for (const user of [anna, ben]) {
      cli(srv, ['user', 'create', user, '--password-stdin', '--no-require-change'], `${USER_PASSWORD}\n`);
    }
    const roleName = `finance ${suffix}`;

    // anna is signed in before anything happens.
    const annaCtx = await newContext(browser, js);
    const annaPage = await annaCtx.newPage();
    await signIn(annaPage, srv, anna, USER_PASSWORD);

    // 1. The roles page, then a new role.
    const ctx = await newContext(browser, js);
    const page = await ctx.newPage();
    await signIn(page, srv, admin, ADMIN_PASSWORD);
    await Promise.all([page.waitForURL('**/panel/roles'), page.getByRole('navigation').getByRole('link', { name: 'Roles' }).click()]);
    await axe.check(page, 'roles list', { js });
    await Promise.all([page.waitForURL('**/panel/roles/new'), page.getByRole('link', { name: 'New role' }).click()]);
    await axe.check(page, 'new role', { js });
    await shots(page, `roles-new-${suffix}-en`);
    // A comma is refused beside the field, and nothing is made.
    await page.fill('#role_name', 'a,b');
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.locator('#role_name-error').waitFor();
    assert.match(await page.locator('#role_name-error').innerText(), /without commas/);
    assert.equal(await page.locator('#role_name').getAttribute('aria-invalid'), 'true');
    await axe.check(page, 'new role with an error', { js });
    await page.fill('#role_name', ` Finance ${suffix.toUpperCase()} `);
    await page.check('#mfa_required');
    await Promise.all([page.waitForURL('**/panel/roles/*?created=1'), page.getByRole('button', { name: 'Create role' }).click()]);
    assert.equal(await page.locator('h1').innerText(), `Role: ${roleName}`);
    const roleUrl = page.url().split('?')[0];
    const roleId = roleUrl.split('/').pop();

    // 2. Members: the search narrows the list (htmx swaps it; without JS a GET), then save.
    await searchMembers(page, js, anna);
    assert.equal(await page.locator('#members-box label', { hasText: ben }).count(), 0, 'the search narrows the list');
    await page.locator('#members-box').getByLabel(anna, { exact: true }).check();
    await axe.check(page, 'role page with a search', { js });
    await Promise.all([page.waitForURL(/members_saved=1/), page.getByRole('button', { name: 'Save members' }).click()]);
    assert.match(await page.locator('#members-box').innerText(), /The members were saved/);
    assert.match(await page.locator('#members-title').innerText(), /Members \(1\)/);
    await page.goto(roleUrl);
    await searchMembers(page, js, ben);
    await page.locator('#members-box').getByLabel(ben, { exact: true }).check();
    await Promise.all([page.waitForURL(/members_saved=1/), page.getByRole('button', { name: 'Save members' }).click()]);
    assert.match(await page.locator('#members-title').innerText(), /Members \(2\)/);
    await axe.check(page, 'role page', { js });
    await shots(page, `roles-role-${suffix}-en`);

    // 3. anna, signed in all along, is held at enrolment at her next click.
    await annaPage.goto(`${srv.url}/panel/dashboard`);
    assert.match(annaPage.url(), /\/panel\/security\/totp\/setup$/, 'the role reaches a signed-in member at once');

    // 4. The users table: roles shown, filtered by the role, the 2FA badge says required.
    await page.goto(`${srv.url}/panel/panel_config?q=roles_`);
    assert.match(await rowOf(page, anna).innerText(), new RegExp(roleName));
    assert.match(await rowOf(page, anna).innerText(), /2FA required, not set up/);
    if (js) {
      await page.selectOption('#role-filter', roleId);
      await page.waitForURL(/role=/);
      await rowOf(page, admin).waitFor({ state: 'detached' });
    } else {
      await page.selectOption('#role-filter', roleId);
      await Promise.all([page.waitForURL(/role=/), page.locator('form[role=search] button[type=submit]').click()]);
    }
    assert.equal(await rowOf(page, admin).count(), 0, 'only the members are listed');
    assert.equal(await rowOf(page, ben).count(), 1);
    assert.match(page.url(), /q=roles_/, 'the search stays with the filter');
    await axe.check(page, 'users table filtered by a role', { js });
    await shots(page, `roles-users-${suffix}-en`);

    // 5. The new-user form offers the role.
    await page.goto(`${srv.url}/panel/users/new`);
    assert.equal(await page.getByLabel(new RegExp(`^${roleName}`)).count(), 1);
    await axe.check(page, 'new user with roles', { js });
    await shots(page, `roles-new-user-${suffix}-en`);

    // 6. Deleting the role, after a confirm step; anna goes free at once.
    await page.goto(`${srv.url}/panel/roles`);
    await shots(page, `roles-list-${suffix}-en`);
    await Promise.all([
      page.waitForURL('**/delete'),
      page.getByRole('link', { name: `Delete role: ${roleName}` }).click(),
    ]);
    assert.match(await page.locator('main').innerText(), /Its 2 member\(s\) lose it/);
    await axe.check(page, 'delete a role', { js });
    await shots(page, `roles-delete-${suffix}-en`);
    await Promise.all([page.waitForURL('**/panel/roles?deleted=1'), page.getByRole('button', { name: 'Delete the role' }).click()]);
    assert.match(await page.locator('main').innerText(), /The role was deleted/);
    await annaPage.goto(`${srv.url}/panel/dashboard`);
    assert.match(annaPage.url(), /\/panel\/dashboard$/, 'a deleted role lets its members go');

    // German (a user whose language is German): the list, a role's page, the users table.
    const german = `roles_de_${suffix}`;
    cli(srv, ['user', 'create', german, '--superuser', '--password-stdin', '--no-require-change'], `${ADMIN_PASSWORD}\n`);
    sql(srv, `UPDATE users SET lang = 'de' WHERE username = '${german}'`);
    cli(srv, ['role', 'create', `ärzte ${suffix}`, '--mfa-required']);
    cli(srv, ['role', 'add', `ärzte ${suffix}`, anna, ben]);
    const de = await newContext(browser, js, 'de-DE');
    const dePage = await de.newPage();
    await signIn(dePage, srv, german, ADMIN_PASSWORD);
    await dePage.goto(`${srv.url}/panel/roles`);
    assert.match(await dePage.locator('h1').innerText(), /Rollen/);
    await axe.check(dePage, 'roles list (de)', { js });
    await shots(dePage, `roles-list-${suffix}-de`);
    await dePage.getByRole('link', { name: `ärzte ${suffix}`, exact: true }).click();
    await dePage.waitForURL('**/panel/roles/*');
    assert.match(await dePage.locator('h2#members-title').innerText(), /Mitglieder \(2\)/);
    await axe.check(dePage, 'role page (de)', { js });
    await shots(dePage, `roles-role-${suffix}-de`);
    await dePage.goto(`${srv.url}/panel/panel_config?q=roles_`);
    assert.match(await rowOf(dePage, anna).innerText(), /2FA verlangt, nicht eingerichtet/);
    await shots(dePage, `roles-users-${suffix}-de`);
    await de.close();
    await annaCtx.close();
    await ctx.close();
    axe.assertNone();
  });
}
