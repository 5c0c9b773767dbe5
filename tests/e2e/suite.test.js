// The browser suite: the seed's validation steps 1–6 walked as a person would, once with
// JavaScript and once without; axe-core on every page and dialog; screenshots of each page
// and dialog in English and German. Run it with tests/e2e/run.sh (it starts the servers).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launchBrowser, server, cli, sql, Axe, Soft, dialogProblems, shot, markDocument, sameDocument, trace } = require('./lib');

const PASSWORDS = {
  admin: 'Tidal-Marble-Orchard-47',
  alice: 'Copper-Lantern-Meadow-82',
  carol: 'Velvet-Harbor-Thistle-19',
  carolNew: 'Granite-Willow-Beacon-63',
  dave: 'Saffron-Glacier-Pebble-58',
  erin: 'Juniper-Cobalt-Riddle-24',
  sam: 'Quartz-Meadow-Falcon-85',
  gallery: 'Amber-Falcon-Quarry-71',
  galleryNew: 'Orbit-Tundra-Lilac-36',
};

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// ---------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` from node (works with and without page JavaScript) until it is truthy. */
async function until(fn, what, timeout = 10_000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err; // e.g. a navigation destroyed the context: try again
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
}

/** Clicks something that loads a new document (a plain form or link, or an HX-Redirect). */
async function clickNav(page, locator) {
  await Promise.all([page.waitForEvent('load'), locator.click()]);
}

/**
 * Clicks something htmx handles in place; waits for its answer and for htmx to have done
 * with it (swapped, settled, and any request it led to — an HX-Location — answered too).
 */
async function clickHx(page, locator) {
  await Promise.all([
    page.waitForResponse((r) => r.request().headers()['hx-request'] === 'true'),
    locator.click(),
  ]);
  await htmxIdle(page);
}

/** Waits until no htmx request is open and no swap is settling on the page. */
async function htmxIdle(page) {
  await page.waitForFunction(
    () => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling'),
    undefined,
    { polling: 50 },
  );
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

async function newContext(js, locale = 'en-US') {
  const context = await browser.newContext({
    javaScriptEnabled: js,
    locale,
    viewport: { width: 1280, height: 800 },
    permissions: js ? ['clipboard-read', 'clipboard-write'] : [],
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(15_000);
  return context;
}

/** Fills and sends the sign-in form (the answer is left to the caller to wait for). */
async function submitLogin(page, srv, js, username, password) {
  await page.goto(`${srv.url}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  const button = page.locator('#auth-box form button[type=submit]');
  if (js) await clickHx(page, button);
  else await clickNav(page, button);
}

/** Signs in someone without a pending change; ends on the dashboard. */
async function signIn(page, srv, js, username, password) {
  await submitLogin(page, srv, js, username, password);
  await page.waitForURL('**/panel/dashboard');
}

function rowOf(page, username) {
  return page
    .locator('table.data tbody tr')
    .filter({ has: page.getByRole('rowheader', { name: username, exact: true }) });
}

function userId(srv, username) {
  const id = sql(srv, `SELECT user_id FROM users WHERE username = '${username}'`);
  assert.match(id, /^\d+$/, `no user ${username} in the database`);
  return Number(id);
}

/** The status of a same-origin request made from the page, or from the context without JS. */
async function apiGet(page, js, url) {
  if (js) {
    return page.evaluate(async (u) => {
      const r = await fetch(u, { headers: { Accept: 'application/json' } });
      return { status: r.status, body: await r.text() };
    }, url);
  }
  const r = await page.context().request.get(url, { headers: { Accept: 'application/json' } });
  return { status: r.status(), body: await r.text() };
}

/** A navigation's response status (for forced URLs). */
async function gotoStatus(page, url) {
  const response = await page.goto(url);
  return response.status();
}

/** The change-password form (forced or voluntary): a refused attempt, then the real one. */
async function changePassword(page, js, password, { current, axe, what, shotName, errorShot } = {}) {
  const send = page.locator('#auth-box form button[type=submit]');
  // 1. The confirmation does not match: the error sits beside the confirmation field.
  if (current !== undefined) await page.fill('#current_password', current);
  await page.fill('#new_password', password);
  await page.fill('#confirm_password', `${password}-typo`);
  if (js) await clickHx(page, send);
  else await clickNav(page, send);
  const confirmError = page.locator('#confirm_password-error');
  await confirmError.waitFor();
  assert.match(await confirmError.innerText(), /do not match/);
  assert.equal(await page.locator('#confirm_password').getAttribute('aria-invalid'), 'true');
  assert.match(
    (await page.locator('#confirm_password').getAttribute('aria-describedby')) || '',
    /\bconfirm_password-error\b/,
    'the error is tied to its field',
  );
  if (axe) await axe.check(page, `${what} with a field error`, { js });
  if (errorShot) await shot(page, errorShot);
  // 2. The real change.
  if (current !== undefined) await page.fill('#current_password', current);
  await page.fill('#new_password', password);
  await page.fill('#confirm_password', password);
  await clickNav(page, send);
  await page.waitForURL('**/panel/dashboard');
  if (shotName) await shot(page, shotName);
}

/**
 * What a person at 360 px would trip over: the page scrolling sideways. Returns a problem or
 * null. The viewport is set back to what it was.
 */
async function sideScroll(page, width = 360) {
  const before = page.viewportSize();
  await page.setViewportSize({ width, height: before.height });
  const found = await page.evaluate(() => {
    const doc = document.documentElement;
    if (doc.scrollWidth <= doc.clientWidth + 1) return null;
    const wide = [...document.body.querySelectorAll('*')]
      .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
      .slice(-3)
      .map((el) => `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''}>`);
    return `the page is ${doc.scrollWidth}px wide in a ${doc.clientWidth}px window (${wide.join(', ')})`;
  });
  await page.setViewportSize(before);
  return found;
}

/** A screenshot at 1280 px and one at 375 px; fails softly when the page scrolls sideways. */
async function shotBoth(page, name, soft) {
  await shot(page, name);
  const before = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 740 });
  await shot(page, `${name}-375`);
  await page.setViewportSize(before);
  for (const width of [375, 360]) {
    const problem = await sideScroll(page, width);
    if (soft) soft.check(!problem, `${name} at ${width} px: ${problem}`);
  }
}

/** The modal dialog as a keyboard user meets it: modal, focus kept inside, buttons side by side. */
async function modalProblems(page, selector) {
  const problems = [];
  const state = await page.evaluate((sel) => {
    const d = document.querySelector(sel);
    if (!d) return null;
    const primary = d.querySelector('.actions button, .actions .button');
    const close = d.querySelector('[data-close-dialog]');
    return {
      modal: d.matches(':modal'),
      backdrop: getComputedStyle(d, '::backdrop').backgroundColor,
      sideBySide: !!(primary && close && Math.abs(primary.getBoundingClientRect().top - close.getBoundingClientRect().top) < 4),
    };
  }, selector);
  if (!state) return [`no ${selector}`];
  if (!state.modal) problems.push('the dialog is not modal (showModal)');
  if (/rgba\(0, 0, 0, 0\)|transparent/.test(state.backdrop)) problems.push(`no visible backdrop (${state.backdrop})`);
  if (!state.sideBySide) problems.push('Close/Cancel does not sit beside the primary button');
  for (let i = 0; i < 25; i += 1) {
    await page.keyboard.press('Tab');
    const inside = await page.evaluate((sel) => document.querySelector(sel)?.contains(document.activeElement), selector);
    if (!inside) {
      problems.push(`Tab number ${i + 1} left the dialog`);
      break;
    }
  }
  await page.keyboard.press('Shift+Tab');
  if (!(await page.evaluate((sel) => document.querySelector(sel)?.contains(document.activeElement), selector))) {
    problems.push('Shift+Tab left the dialog');
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// The walk: the seed's steps 1–6, with or without JavaScript.

function walk(js) {
  return async (t) => {
    const srv = server(js ? 'js' : 'nojs');
    const mode = js ? 'js' : 'nojs';
    const axe = new Axe(`the walk ${js ? 'with' : 'without'} JavaScript`);
    const soft = new Soft();
    let watched;
    const step = (name, fn) =>
      t.test(name, async () => {
        soft.step = name;
        try {
          await fn();
        } catch (err) {
          await watched?.dump(`the administrator's page (${mode}), step "${name}"`);
          throw err;
        }
      });
    let n = 0;
    const snap = (page, name) => shotBoth(page, `${mode}-en-${String(++n).padStart(2, '0')}-${name}`, soft);
    const contexts = [];
    const context = async () => {
      const c = await newContext(js);
      contexts.push(c);
      return c;
    };
    const state = {};

    const admin = await (await context()).newPage();
    watched = trace(admin);

    await step('admin signs in with the printed password and must change it at once', async () => {
      await admin.goto(`${srv.url}/login`);
      await axe.check(admin, 'login', { js });
      await snap(admin, 'login');
      if (js) await markDocument(admin);
      await admin.fill('#username', 'admin');
      await admin.fill('#password', srv.adminPassword);
      const button = admin.locator('#auth-box form button[type=submit]');
      if (js) {
        await clickHx(admin, button);
        await admin.locator('#new_password').waitFor();
        assert.ok(await sameDocument(admin), 'the change form replaced the sign-in form in place, without loading a page');
        assert.ok(
          ['/login', '/panel/change_password'].includes(pathOf(admin)),
          `the address stays /login or is pushed to /panel/change_password, not ${admin.url()}`,
        );
      } else {
        await clickNav(admin, button);
        assert.equal(pathOf(admin), '/panel/change_password', 'without JavaScript the login redirects to the change form');
      }
      assert.match(await admin.locator('#change-reason').innerText(), /temporary password/);
      assert.equal(await admin.locator('#current_password').count(), 0, 'a forced change asks for no current password');
      await axe.check(admin, 'change password (forced)', { js });
      await snap(admin, 'change-password-forced');
      await changePassword(admin, js, PASSWORDS.admin, {
        axe,
        what: 'change password (forced)',
        errorShot: `${mode}-en-${String(++n).padStart(2, '0')}-change-password-error`,
      });
      assert.match(await admin.locator('h1').innerText(), /Welcome, admin/);
      await axe.check(admin, 'dashboard', { js });
      await snap(admin, 'dashboard');
    });

    await step('admin creates users: one with a required change, one USER_CONFIG non-superuser', async () => {
      await clickNav(admin, admin.getByRole('navigation').getByRole('link', { name: 'Users', exact: true }));
      assert.equal(pathOf(admin), '/panel/panel_config');
      await clickNav(admin, admin.getByRole('link', { name: 'New user' }));
      assert.equal(pathOf(admin), '/panel/users/new');
      assert.ok(await admin.locator('#require_password_change').isChecked(), '"require password change" is on by default');
      assert.equal(await admin.locator('label[for="password"]').innerText(), 'Initial password');
      await axe.check(admin, 'new user form', { js });
      await snap(admin, 'new-user-form');

      // alice: the server generates her password, shown once on the result page.
      await admin.fill('#username', 'alice');
      await clickNav(admin, admin.getByRole('button', { name: 'Create user' }));
      assert.match(await admin.locator('h1').innerText(), /User created/);
      const created = admin.locator('#created-password');
      assert.ok((await created.inputValue()).length >= 8, 'the generated password is shown');
      assert.equal(await created.getAttribute('readonly'), '', 'in a read-only field');
      const copy = admin.locator('button[data-copy="created-password"]');
      soft.equal(await copy.isVisible(), js, `the Copy button of the created password is ${js ? 'shown' : 'hidden'}`);
      await axe.check(admin, 'user created (password shown once)', { js });
      await snap(admin, 'user-created');
      assert.match(sql(srv, "SELECT require_password_change FROM users WHERE username = 'alice'"), /^1$/);

      // carol: USER_CONFIG, no superuser; Generate fills the field, then a chosen password.
      await admin.goto(`${srv.url}/panel/users/new`);
      await admin.fill('#username', 'carol');
      await clickNav(admin, admin.getByRole('button', { name: 'Generate' }));
      assert.equal(await admin.locator('#username').inputValue(), 'carol', 'Generate keeps what was typed');
      assert.equal((await admin.locator('#password').inputValue()).length, 16, 'Generate fills a 16-character password');
      await admin.fill('#password', PASSWORDS.carol);
      await admin.getByLabel('Require password change at first sign-in').uncheck();
      await admin.getByLabel('May manage their own users (USER_CONFIG)').check();
      assert.equal(await admin.getByLabel('Superuser', { exact: true }).isChecked(), false);
      await clickNav(admin, admin.getByRole('button', { name: 'Create user' }));
      assert.match(await admin.locator('h1').innerText(), /User created/);

      // dave, managed by carol; sam, a superuser managed by carol; erin, to be deleted.
      for (const [name, password, manager, superuser] of [
        ['dave', PASSWORDS.dave, 'carol', false],
        ['sam', PASSWORDS.sam, 'carol', true],
        ['erin', PASSWORDS.erin, '', false],
      ]) {
        await admin.goto(`${srv.url}/panel/users/new`);
        await admin.fill('#username', name);
        await admin.fill('#password', password);
        await admin.getByLabel('Require password change at first sign-in').uncheck();
        await admin.selectOption('#manager', manager);
        if (superuser) await admin.getByLabel('Superuser', { exact: true }).check();
        await clickNav(admin, admin.getByRole('button', { name: 'Create user' }));
        assert.match(await admin.locator('h1').innerText(), /User created/, `${name} created`);
      }
      state.ids = Object.fromEntries(['admin', 'alice', 'carol', 'dave', 'sam', 'erin'].map((u) => [u, userId(srv, u)]));
    });

    await step('admin edits a user and deletes one after a confirmation', async () => {
      await admin.goto(`${srv.url}/panel/panel_config`);
      await clickNav(admin, rowOf(admin, 'alice').getByRole('link', { name: 'Edit alice' }));
      assert.equal(pathOf(admin), '/panel/edit_user');
      assert.equal(await admin.locator('#username').inputValue(), 'alice');
      assert.equal(await admin.getByRole('link', { name: 'Reset password' }).count(), 1, 'a superuser editing someone else gets Reset password');
      await axe.check(admin, 'edit user form', { js });
      await snap(admin, 'edit-user-form');

      await admin.goto(`${srv.url}/panel/edit_user?id=${state.ids.admin}`);
      assert.equal(await admin.getByRole('link', { name: 'Reset password' }).count(), 0, 'no reset on one\'s own page');
      assert.equal(await admin.getByRole('main').getByRole('link', { name: 'Change password' }).count(), 1, 'one\'s own page offers Change password');

      await admin.goto(`${srv.url}/panel/edit_user?id=${state.ids.erin}`);
      await clickNav(admin, admin.getByRole('link', { name: 'Delete user' }));
      assert.equal(pathOf(admin), '/panel/delete_user');
      await axe.check(admin, 'delete confirmation', { js });
      await snap(admin, 'delete-confirmation');
      await clickNav(admin, admin.getByRole('button', { name: 'Yes, delete' }));
      assert.equal(pathOf(admin), '/panel/panel_config');
      assert.equal(await rowOf(admin, 'erin').count(), 0, 'erin is gone');
    });

    await step('step 2: admin resets a password from the users table (lock → dialog → generate → reset)', async () => {
      await admin.goto(`${srv.url}/panel/panel_config`);
      await axe.check(admin, 'users table', { js });
      await snap(admin, 'users-table');
      // Step 6 for the admin: the own row has the change-password dialog, not a lock.
      const own = rowOf(admin, 'admin');
      assert.equal(await own.getByRole('link', { name: 'Change password' }).count(), 1);
      assert.equal(await own.getByRole('link', { name: /Reset the password/ }).count(), 0);

      const lock = rowOf(admin, 'alice').getByRole('link', { name: 'Reset the password of alice' });
      assert.equal(await lock.locator('img').count(), 1, 'the lock icon');
      soft.equal((await lock.innerText()).trim(), 'Reset', 'the lock carries a visible label');
      if (js) {
        // Modal: Escape closes it and focus returns to the lock that opened it.
        await lock.focus();
        await clickHx(admin, lock);
        await admin.locator('#dialog-slot dialog#reset-dialog').waitFor();
        await until(() => admin.evaluate(() => document.querySelector('#reset-dialog')?.matches(':modal')), 'the dialog to open modal');
        for (const p of await modalProblems(admin, '#reset-dialog')) soft.check(false, `reset dialog: ${p}`);
        await admin.keyboard.press('Escape');
        await until(async () => (await admin.locator('#reset-dialog').count()) === 0, 'Escape to close the dialog');
        assert.equal(
          await admin.evaluate(() => document.activeElement?.id),
          `reset-link-${state.ids.alice}`,
          'focus returns to the lock that opened the dialog',
        );
        await markDocument(admin);
        await clickHx(admin, lock);
        await admin.locator('#dialog-slot dialog#reset-dialog').waitFor();
        assert.ok(await sameDocument(admin), 'the reset dialog opens without loading a page');
        assert.equal(pathOf(admin), '/panel/panel_config');
        for (const p of await dialogProblems(admin, '#reset-dialog')) soft.check(false, `reset dialog: ${p}`);
      } else {
        await clickNav(admin, lock);
        assert.equal(pathOf(admin), `/panel/users/${state.ids.alice}/reset_password`);
      }
      assert.match(await admin.locator('#reset-title').innerText(), /Reset the password of alice/);
      assert.equal(await admin.locator('#reset-length').inputValue(), '16', 'length 16 by default');
      assert.equal(await admin.locator('#reset-expires').inputValue(), '-1', 'no expiry by default');
      assert.ok(await admin.locator('#reset-require').isChecked(), '"require password change" is checked');
      assert.equal(await admin.locator('#reset-revoke').isChecked(), false, '"also revoke API keys" is not');
      await axe.check(admin, js ? 'reset dialog (open)' : 'reset page', { js });
      await snap(admin, js ? 'reset-dialog' : 'reset-page');

      const generate = admin.getByRole('button', { name: 'Generate' });
      if (js) await clickHx(admin, generate);
      else await clickNav(admin, generate);
      const generated = await until(
        async () => (await admin.locator('#reset-password').inputValue()) || null,
        'Generate to fill the password field',
      );
      assert.equal(generated.length, 16);
      state.alicePassword = generated; // known from here on, whatever the result shows
      await axe.check(admin, 'reset dialog (generated)', { js });
      await snap(admin, 'reset-generated');

      const reset = admin.locator('button[name="intent"][value="reset"]');
      if (js) await clickHx(admin, reset);
      else await clickNav(admin, reset);
      await admin.locator('#reset-title').filter({ hasText: 'Password of alice reset' }).waitFor();
      if (js) {
        assert.ok(await sameDocument(admin), 'the result is shown in the dialog');
        for (const p of await dialogProblems(admin, '#reset-dialog')) soft.check(false, `reset result dialog: ${p}`);
        // The table behind the dialog already tells the truth (out-of-band swap, no reload).
        await until(async () => /Password change pending/.test(await rowOf(admin, 'alice').innerText()), 'the row to show the pending change');
        assert.ok(await sameDocument(admin), 'the row changed without a reload');
      } else {
        assert.match(pathOf(admin), /^\/panel\/result\//, 'the result is a page of its own, reached by 303 (Post/Redirect/Get)');
      }
      await axe.check(admin, 'reset result', { js });
      await snap(admin, 'reset-result');
      assert.match(sql(srv, "SELECT require_password_change FROM users WHERE username = 'alice'"), /^1$/);
      // SPEC §6: "on submit it shows the new password once, with the expiry, and a copy button".
      const result = admin.locator('#reset-result');
      soft.equal(await result.count(), 1, 'after Generate → Reset password the result shows the new password with a Copy button (SPEC §6: "on submit it shows the new password once")');
      if ((await result.count()) === 1) {
        assert.equal(await result.inputValue(), generated, 'the password shown is the one set');
        assert.equal(await result.getAttribute('readonly'), '', 'in a read-only field');
        const copy = admin.locator('button[data-copy="reset-result"]');
        if (js) {
          assert.ok(await copy.isVisible(), 'with JavaScript the Copy button is shown');
          await copy.click();
          await until(async () => (await copy.innerText()) === 'Copied', 'the Copy button to say Copied');
          assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), generated, 'the clipboard holds the password');
        } else {
          soft.check(await copy.isHidden(), 'without JavaScript the Copy button of the reset result stays hidden');
        }
      }
      if (!js) {
        // A reload (and the back button) never resets again: one audit entry, the password holds.
        await admin.reload();
        assert.match(await admin.locator('main').innerText(), /Already shown/);
        assert.ok(!(await admin.content()).includes(generated), 'the password is not shown again');
        await axe.check(admin, 'result already shown', { js });
        await snap(admin, 'result-already-shown');
        await admin.goBack();
        assert.equal(
          sql(srv, `SELECT COUNT(*) FROM audit_log WHERE action = 'password_reset' AND target_name = 'alice'`),
          '1',
          'one reset, one audit entry',
        );
      }
    });

    await step('the users table shows the pending change', async () => {
      if (js) {
        await admin.locator('#reset-dialog').getByRole('link', { name: 'Close' }).click();
        // The dialog hides at once; its "close" event (which empties the slot and moves focus)
        // is a task queued after it: wait for the slot to empty, as after Escape above.
        await until(async () => (await admin.locator('#reset-dialog').count()) === 0, 'the dialog to close');
        assert.equal(
          await admin.evaluate(() => document.activeElement?.id),
          `reset-link-${state.ids.alice}`,
          'focus returns to the (swapped) lock of the row',
        );
      }
      await admin.goto(`${srv.url}/panel/panel_config`);
      assert.match(await rowOf(admin, 'alice').innerText(), /Password change pending/);
      await admin.reload();
      assert.equal(
        sql(srv, `SELECT COUNT(*) FROM audit_log WHERE action = 'password_reset' AND target_name = 'alice'`),
        '1',
        'reloading after the reset resets nothing again',
      );
    });

    await step('the users table searches by username', async () => {
      await admin.goto(`${srv.url}/panel/panel_config`);
      if (js) {
        await markDocument(admin);
        await Promise.all([
          admin.waitForResponse((r) => r.request().headers()['hx-request'] === 'true' && r.url().includes('q=ali')),
          admin.locator('#q').pressSequentially('ali'),
        ]);
        await until(async () => (await admin.locator('table.data tbody tr').count()) === 1, 'the table to narrow to alice');
        assert.ok(await sameDocument(admin), 'active search swaps the table in place');
      } else {
        await admin.fill('#q', 'ali');
        await clickNav(admin, admin.getByRole('button', { name: 'Search' }));
      }
      assert.equal(await admin.locator('table.data tbody tr').count(), 1);
      assert.equal(await rowOf(admin, 'alice').count(), 1);
      assert.equal(new URL(admin.url()).searchParams.get('q'), 'ali', 'the address keeps the search');
    });

    await step('a reset with a server-generated password shows it once', async () => {
      const url = `${srv.url}/panel/users/${state.ids.sam}/reset_password`;
      await admin.goto(`${srv.url}/panel/panel_config`);
      const lock = rowOf(admin, 'sam').getByRole('link', { name: 'Reset the password of sam' });
      if (js) {
        if (await admin.locator('dialog#reset-dialog').isVisible()) {
          await admin.locator('#reset-dialog').getByRole('link', { name: 'Close' }).click();
        }
        await clickHx(admin, lock);
      } else {
        await clickNav(admin, lock);
      }
      await admin.locator('#reset-password').waitFor();
      await admin.fill('#reset-expires', '48');
      const reset = admin.locator('button[name="intent"][value="reset"]');
      if (js) await clickHx(admin, reset);
      else await clickNav(admin, reset);
      const result = admin.locator('#reset-result');
      await result.waitFor();
      const password = await result.inputValue();
      assert.equal(password.length, 16, 'a generated password of the default length');
      assert.match(await admin.locator('dl.facts').innerText(), /Expires\s+\d{4}-\d\d-\d\d/, 'the expiry is shown');
      await axe.check(admin, 'reset result (server-generated password)', { js });
      await snap(admin, 'reset-result-generated');
      const copy = admin.getByRole('button', { name: 'Copy' });
      soft.equal(await copy.isVisible(), js, `the Copy button of the reset result is ${js ? 'shown' : 'hidden'}`);
      if (js) {
        for (const p of await dialogProblems(admin, '#reset-dialog')) soft.check(false, `reset result dialog: ${p}`);
      }
      // Shown once: neither the table nor the dialog shows it again.
      for (const again of [`${srv.url}/panel/panel_config`, url]) {
        await admin.goto(again);
        assert.ok(!(await admin.content()).includes(password), `${again} does not show the password again`);
      }
      const badge = await (await admin.goto(`${srv.url}/panel/panel_config`), rowOf(admin, 'sam').innerText());
      assert.match(badge, /Temporary password expires in (47 h|48 h|2 d)/);
    });

    await step('step 3: the user signs in with it, is held at the change form, then lands on the dashboard', async () => {
      assert.ok(state.alicePassword, 'needs the password of step 2');
      const alice = await (await context()).newPage();
      await alice.goto(`${srv.url}/login`);
      if (js) await markDocument(alice);
      await alice.fill('#username', 'alice');
      await alice.fill('#password', state.alicePassword);
      const button = alice.locator('#auth-box form button[type=submit]');
      if (js) {
        await clickHx(alice, button);
        await alice.locator('#new_password').waitFor();
        assert.ok(await sameDocument(alice), 'the change form is swapped in place');
      } else {
        await clickNav(alice, button);
        assert.equal(pathOf(alice), '/panel/change_password');
      }
      assert.match(await alice.locator('#change-reason').innerText(), /temporary password/);
      const nav = alice.getByRole('navigation');
      assert.equal(await nav.getByRole('link', { name: 'Dashboard' }).count(), 0, 'the navigation offers nothing but sign-out');
      assert.match(await nav.innerText(), /Signed in as\s+alice/, 'the forced change shows who is signed in');
      assert.equal(await nav.getByRole('button', { name: 'Sign out' }).count(), 1, 'and how to sign out');

      for (const p of ['/panel/dashboard', '/panel/panel_config', '/panel/audit', '/panel/users/new', `/panel/edit_user?id=${state.ids.admin}`]) {
        await alice.goto(`${srv.url}${p}`);
        assert.equal(pathOf(alice), '/panel/change_password', `${p} redirects back to the change form`);
      }
      for (const p of ['/api/v2/users', '/api/v2/users/@me']) {
        const { status, body } = await apiGet(alice, js, `${srv.url}${p}`);
        assert.equal(status, 403, `${p}: ${body}`);
        assert.equal(JSON.parse(body).error, 'PASSWORD_CHANGE_REQUIRED', `${p}: ${body}`);
      }
      await changePassword(alice, js, PASSWORDS.alice, {});
      assert.match(await alice.locator('h1').innerText(), /Welcome, alice/);
      const me = await apiGet(alice, js, `${srv.url}/api/v2/users/@me`);
      assert.equal(me.status, 200, `after the change the API answers: ${me.body}`);
      await admin.goto(`${srv.url}/panel/panel_config`);
      assert.doesNotMatch(await rowOf(admin, 'alice').innerText(), /pending/, 'the badge is gone');
    });

    await step('step 4: an expired temporary password is refused, and ends an open session', async () => {
      const out = cli(srv, ['user', 'reset-password', 'dave', '--expires-hours', '1']);
      const temp = /temporary password: (\S+) \(expires/.exec(out)?.[1];
      assert.ok(temp, `the CLI printed a temporary password: ${out}`);
      // A session opened with the temporary password, still on the change form.
      const open = await (await context()).newPage();
      await submitLogin(open, srv, js, 'dave', temp);
      await open.locator('#new_password').waitFor();
      // Time passes: the expiry moves into the past.
      sql(srv, "UPDATE users SET password_expires = '2000-01-01 00:00:00.0' WHERE username = 'dave'");
      await open.goto(`${srv.url}/panel/change_password`);
      assert.equal(pathOf(open), '/login', 'the open session ends when its temporary password expires');
      assert.match(await open.locator('#login-notice').innerText(), /temporary password expired/, 'the sign-in page says why');
      await axe.check(open, 'login (session ended)', { js });
      await snap(open, 'login-session-ended');

      const dave = await (await context()).newPage();
      await submitLogin(dave, srv, js, 'dave', temp);
      const error = dave.locator('#login-error');
      await error.waitFor();
      assert.match(await error.innerText(), /temporary password has expired/);
      assert.match(await error.innerText(), /administrator/);
      assert.equal(pathOf(dave), '/login');
      await axe.check(dave, 'login (temporary password expired)', { js });
      await snap(dave, 'login-expired');
      // A wrong password never reveals the expiry.
      await submitLogin(dave, srv, js, 'dave', 'Not-The-Right-One-99');
      await until(async () => /Incorrect username or password/.test(await dave.locator('#login-error').innerText()), 'the incorrect-credentials message');
      // The name stays (it is a well-formed username) and the cursor waits in the password field.
      assert.equal(await dave.locator('#username').inputValue(), 'dave', 'the username is kept');
      assert.equal(await dave.locator('#password').inputValue(), '');
      await until(async () => (await dave.locator('#password:focus').count()) === 1, 'the focus in the password field');
      await snap(dave, 'login-wrong-password');
      // What cannot be a username may be a password typed into the wrong field: not given back.
      await submitLogin(dave, srv, js, 'Quiet-Lantern-Harbor-83', 'Not-The-Right-One-99');
      await until(async () => (await dave.locator('#login-error').count()) === 1, 'the refusal');
      assert.equal(await dave.locator('#username').inputValue(), '', 'a password-like name is cleared');
      await until(async () => (await dave.locator('#username:focus').count()) === 1, 'the focus in the username field');

      await admin.goto(`${srv.url}/panel/panel_config`);
      assert.match(await rowOf(admin, 'dave').innerText(), /Temporary password expired/);
    });

    await step('step 5: a USER_CONFIG non-superuser gets no reset for a superuser, and a refusal if forced', async () => {
      const carol = await (await context()).newPage();
      await signIn(carol, srv, js, 'carol', PASSWORDS.carol);
      state.carol = carol;
      await clickNav(carol, carol.getByRole('navigation').getByRole('link', { name: 'Users', exact: true }));
      // She sees herself and the users she manages (SPEC §5): dave, and sam, a superuser.
      const samRow = rowOf(carol, 'sam');
      assert.equal(await samRow.count(), 1, 'carol sees sam, a superuser she manages');
      assert.equal(await samRow.getByRole('link', { name: /Reset the password/ }).count(), 0, 'no lock for a superuser, even a managed one');
      assert.equal(await samRow.locator('img').count(), 0, 'no lock icon at all');
      for (const row of await carol.locator('table.data tbody tr').filter({ hasText: 'admin' }).all()) {
        assert.equal(await row.getByRole('link', { name: /Reset the password/ }).count(), 0, 'no lock for admin');
      }
      assert.equal(await rowOf(carol, 'dave').getByRole('link', { name: 'Reset the password of dave' }).count(), 1, 'a lock for the user she manages');
      await axe.check(carol, 'users table (USER_CONFIG holder)', { js });
      await snap(carol, 'users-table-user-config');

      if (js) {
        // The dialog route asked by htmx: the refusal is a message dialog.
        await carol.evaluate((url) => window.htmx.ajax('GET', url, '#dialog-slot'), `/panel/users/${state.ids.sam}/reset_password`);
        const message = carol.locator('#dialog-slot dialog#message-dialog');
        await message.waitFor();
        assert.match(await message.innerText(), /Only superusers can reset a superuser's password\./);
        await axe.check(carol, 'refusal dialog', { js });
        await snap(carol, 'refusal-dialog');
      }
      for (const name of ['sam', 'admin']) {
        const url = `${srv.url}/panel/users/${state.ids[name]}/reset_password`;
        const status = await gotoStatus(carol, url);
        assert.equal(status, 403, `${url} is refused`);
        assert.match(await carol.locator('main').innerText(), /Only superusers can reset a superuser's password\./);
        assert.equal(await carol.locator('h1').count(), 1, 'a page of the panel, not a raw error');
        assert.match(await carol.getByRole('navigation').innerText(), /Signed in as\s+carol/, 'inside the normal layout');
        assert.equal(await carol.locator('#reset-password').count(), 0, 'no reset form');
      }
      await axe.check(carol, 'error page (403 refusal)', { js });
      await snap(carol, 'error-403');
      // The form posted anyway (as a crafted request would): refused, nothing changes.
      const before = sql(srv, "SELECT password || require_password_change || security_stamp FROM users WHERE username = 'sam'");
      await carol.goto(`${srv.url}/panel/dashboard`);
      const csrf = await carol.locator('input[name="csrf_token"]').first().inputValue();
      const posted = await carol.context().request.post(`${srv.url}/panel/users/${state.ids.sam}/reset_password`, {
        form: { csrf_token: csrf, intent: 'reset', password: '', length: '16', expires_hours: '-1', require_password_change: 'true' },
        headers: { Origin: srv.url },
      });
      assert.equal(posted.status(), 403, 'a forced POST of the reset form is refused');
      assert.match(await posted.text(), /Only superusers can reset a superuser/);
      const after = sql(srv, "SELECT password || require_password_change || security_stamp FROM users WHERE username = 'sam'");
      assert.equal(after, before, 'sam is unchanged');
    });

    await step('step 6: the own row shows the standard change-password dialog', async () => {
      const carol = state.carol;
      assert.ok(carol, 'needs carol signed in (step 5)');
      await carol.goto(`${srv.url}/panel/panel_config`);
      const own = rowOf(carol, 'carol');
      assert.equal(await own.getByRole('link', { name: /Reset the password/ }).count(), 0, 'no lock on the own row');
      const change = own.getByRole('link', { name: 'Change password' });
      if (js) {
        await markDocument(carol);
        await clickHx(carol, change);
        await carol.locator('#dialog-slot dialog#change-password-dialog').waitFor();
        assert.ok(await sameDocument(carol), 'the dialog opens in place');
        for (const p of await dialogProblems(carol, '#change-password-dialog')) soft.check(false, `change-password dialog: ${p}`);
        assert.equal(await carol.locator('#reset-dialog').count(), 0, 'not the reset dialog');
      } else {
        await clickNav(carol, change);
        assert.equal(pathOf(carol), '/panel/change_password');
      }
      for (const id of ['#current_password', '#new_password', '#confirm_password']) {
        assert.ok(await carol.locator(id).isVisible(), `${id} is there`);
      }
      assert.equal(await carol.locator('#change-reason').count(), 0, 'a voluntary change');
      await axe.check(carol, js ? 'change password dialog (own row)' : 'change password (voluntary)', { js });
      await snap(carol, js ? 'change-password-dialog' : 'change-password-voluntary');
      await changePassword(carol, js, PASSWORDS.carolNew, { current: PASSWORDS.carol });
      const again = await (await context()).newPage();
      await signIn(again, srv, js, 'carol', PASSWORDS.carolNew);
    });

    await step('admin reads the audit log; an unknown page is a page', async () => {
      await clickNav(admin, admin.getByRole('navigation').getByRole('link', { name: 'Audit log' }));
      assert.equal(pathOf(admin), '/panel/audit');
      const table = admin.locator('table.data tbody');
      assert.match(await table.innerText(), /alice/);
      const aliceReset = table.locator('tr').filter({ hasText: 'Password reset' }).filter({ hasText: 'alice' });
      assert.match(
        await aliceReset.first().innerText(),
        /Temporary password generated by the server; never expires; change required at next sign-in\./,
        'the audit detail is a sentence, and Generate is recorded as generated',
      );
      assert.doesNotMatch(await table.innerText(), /require_password_change=/, 'no raw details');
      await axe.check(admin, 'audit page', { js });
      await snap(admin, 'audit');
      await admin.fill('#audit-user', 'alice');
      await clickNav(admin, admin.getByRole('button', { name: 'Filter' }));
      const rows = await admin.locator('table.data tbody tr').allInnerTexts();
      assert.ok(rows.length > 0, 'entries about alice');
      for (const row of rows) assert.match(row, /alice/);

      const status = await gotoStatus(admin, `${srv.url}/panel/no_such_page`);
      assert.equal(status, 404);
      await axe.check(admin, 'error page (404)', { js });
      await snap(admin, 'error-404');
    });

    await step('expectations that did not stop the walk', () => {
      for (const r of watched.refused()) soft.check(false, `the CSP refused something on the administrator's page: ${r}`);
      soft.assertNone();
    });
    await step('axe-core: zero violations on every page and dialog', () => {
      axe.assertNone();
    });

    for (const c of contexts) await c.close();
  };
}

test('the walk with JavaScript', { timeout: 300_000 }, walk(true));
test('the walk without JavaScript', { timeout: 300_000 }, walk(false));

// ---------------------------------------------------------------------------------------
// The gallery: every page and dialog in one language, with axe, for the screenshots.

const LOCALES = path.join(__dirname, '..', '..', 'src', 'i18n', 'locales');

function translator(lang) {
  const table = JSON.parse(fs.readFileSync(path.join(LOCALES, `${lang}.json`), 'utf8'));
  return (key, vars = {}) => {
    const [ns, name] = key.split('.');
    const text = table[ns]?.[name];
    assert.ok(text, `${lang}.json has ${key}`);
    return Object.entries(vars).reduce((s, [k, v]) => s.replaceAll(`{${k}}`, v), text);
  };
}

function gallery(lang) {
  return async (t) => {
    const srv = server('js');
    const T = translator(lang);
    const axe = new Axe(`the ${lang} gallery`);
    const soft = new Soft();
    let watched;
    const step = (name, fn) =>
      t.test(name, async () => {
        soft.step = name;
        try {
          await fn();
        } catch (err) {
          await watched?.dump(`the administrator's page (${mode}), step "${name}"`);
          throw err;
        }
      });
    const looks = async (p, selector, what, opts) => {
      for (const problem of await dialogProblems(p, selector, opts)) soft.check(false, `${what}: ${problem}`);
    };
    let n = 0;
    const snap = (page, name) => shotBoth(page, `gallery-${lang}-${String(++n).padStart(2, '0')}-${name}`, soft);
    const locale = lang === 'de' ? 'de-DE' : 'en-US';
    const context = await newContext(true, locale);
    const page = await context.newPage();
    const boss = `boss_${lang}`;
    const forced = `forced_${lang}`;
    const target = `target_${lang}`;

    await step('setup: a superuser in this language', async () => {
      cli(srv, ['user', 'create', boss, '--superuser', '--no-require-change', '--password-stdin'], `${PASSWORDS.gallery}\n`);
      cli(srv, ['user', 'create', forced, '--password-stdin'], `${PASSWORDS.gallery}\n`);
      cli(srv, ['user', 'create', target, '--no-require-change', '--password-stdin'], `${PASSWORDS.gallery}\n`);
      await page.goto(`${srv.url}/login`);
      assert.equal(await page.getAttribute('html', 'lang'), lang, 'the login page follows Accept-Language');
      assert.equal(await page.locator('h1').innerText(), T('login.title'));
      await axe.check(page, 'login');
      await snap(page, 'login');
      await submitLogin(page, srv, true, boss, 'Wrong-Password-Here-11');
      await page.locator('#login-error').waitFor();
      assert.equal(await page.locator('#login-error').innerText(), T('login.incorrect'));
      await axe.check(page, 'login (wrong password)');
      await snap(page, 'login-error');
      await signIn(page, srv, true, boss, PASSWORDS.gallery);
      if (lang !== 'en') {
        // The user's own language setting switches the whole panel.
        for (const name of [boss, forced]) {
          await page.goto(`${srv.url}/panel/edit_user?id=${userId(srv, name)}`);
          await page.selectOption('#lang', lang);
          await clickNav(page, page.locator('button[name="intent"][value="save"]'));
        }
      }
      await page.goto(`${srv.url}/panel/dashboard`);
      assert.equal(await page.getAttribute('html', 'lang'), lang, 'the panel is in the user\'s language');
    });

    await step('forced change in place', async () => {
      const other = await newContext(true, locale);
      const p = await other.newPage();
      await submitLogin(p, srv, true, forced, PASSWORDS.gallery);
      await p.locator('#new_password').waitFor();
      assert.equal(await p.locator('#change-reason').innerText(), T('login.passwordChangeRequired'));
      const nav = p.getByRole('navigation');
      soft.check((await nav.innerText()).includes(forced), 'the in-place forced change shows who is signed in');
      soft.equal(await nav.getByRole('button', { name: T('base.logout') }).count(), 1, 'the in-place forced change offers Sign out');
      await axe.check(p, 'change password (forced)');
      await snap(p, 'change-password-forced');
      await p.fill('#new_password', 'x');
      await p.fill('#confirm_password', 'y');
      await clickHx(p, p.locator('#auth-box form button[type=submit]'));
      await p.locator('#confirm_password-error').waitFor();
      await axe.check(p, 'change password (forced, field errors)');
      await snap(p, 'change-password-errors');
      await other.close();
    });

    await step('panel pages', async () => {
      await page.goto(`${srv.url}/panel/dashboard`);
      assert.match(await page.locator('h1').innerText(), new RegExp(T('dashboard.welcome')));
      await axe.check(page, 'dashboard');
      await snap(page, 'dashboard');

      await page.goto(`${srv.url}/panel/change_password`);
      assert.equal(await page.locator('h1').innerText(), T('login.changePasswordTitle'));
      await axe.check(page, 'change password (voluntary)');
      await snap(page, 'change-password-voluntary');

      await page.goto(`${srv.url}/panel/panel_config`);
      assert.equal(await page.locator('h1').innerText(), T('panelConfig.title'));
      await axe.check(page, 'users table');
      await snap(page, 'users-table');

      await clickHx(page, rowOf(page, boss).getByRole('link', { name: T('panelConfig.changeOwnPassword') }));
      await page.locator('#change-password-dialog').waitFor();
      await looks(page, '#change-password-dialog', 'change password dialog');
      for (const problem of await modalProblems(page, '#change-password-dialog')) soft.check(false, `change password dialog: ${problem}`);
      await axe.check(page, 'change password dialog');
      await snap(page, 'change-password-dialog');

      await page.goto(`${srv.url}/panel/panel_config`);
      await clickHx(page, rowOf(page, target).getByRole('link', { name: T('tempPassword.resetFor', { user: target }) }));
      await page.locator('#reset-dialog').waitFor();
      await looks(page, '#reset-dialog', 'reset dialog');
      for (const problem of await modalProblems(page, '#reset-dialog')) soft.check(false, `reset dialog: ${problem}`);
      await axe.check(page, 'reset dialog');
      await snap(page, 'reset-dialog');
      await page.fill('#reset-expires', '0');
      await clickHx(page, page.locator('button[name="intent"][value="reset"]'));
      await page.locator('#reset-expires-error').waitFor();
      await looks(page, '#reset-dialog', 'reset dialog with a field error', { focus: false });
      await axe.check(page, 'reset dialog (field error)');
      await snap(page, 'reset-dialog-error');
      await page.fill('#reset-expires', '24');
      await clickHx(page, page.getByRole('button', { name: T('tempPassword.generate') }));
      await until(async () => (await page.locator('#reset-password').inputValue()) !== '', 'a generated password');
      await snap(page, 'reset-generated');
      await page.fill('#reset-password', ''); // the server generates it on reset
      await clickHx(page, page.locator('button[name="intent"][value="reset"]'));
      await page.locator('#reset-result').waitFor();
      assert.ok(await page.getByRole('button', { name: T('tempPassword.copy') }).isVisible());
      await looks(page, '#reset-dialog', 'reset result dialog');
      await axe.check(page, 'reset result');
      await snap(page, 'reset-result');

      assert.match(await rowOf(page, target).innerText(), new RegExp(T('tempPassword.statusPending')), 'the row shows the reset at once');
      await page.goto(`${srv.url}/panel/panel_config`);
      await snap(page, 'users-table-badges');

      await page.goto(`${srv.url}/panel/users/new`);
      await axe.check(page, 'new user form');
      await snap(page, 'new-user-form');
      await page.fill('#username', `new_${lang}`);
      await clickNav(page, page.locator('button[name="intent"][value="save"]'));
      await page.locator('#created-password').waitFor();
      await axe.check(page, 'user created');
      await snap(page, 'user-created');
      await page.reload();
      assert.equal(await page.locator('#created-password').count(), 0, 'a reload does not show the password again');
      assert.match(await page.locator('main').innerText(), new RegExp(T('base.alreadyShownTitle')));
      await axe.check(page, 'result already shown');
      await snap(page, 'result-already-shown');

      const refused = await page.goto(`${srv.url}/panel/users/${userId(srv, boss)}/reset_password`);
      assert.equal(refused.status(), 400);
      assert.match(await page.locator('main').innerText(), new RegExp(T('error.refuseSelfReset').slice(0, 20)));
      await axe.check(page, 'refusal page');
      await snap(page, 'refusal-page');

      await page.goto(`${srv.url}/panel/edit_user?id=${userId(srv, target)}`);
      await axe.check(page, 'edit user form');
      await snap(page, 'edit-user-form');
      await page.goto(`${srv.url}/panel/edit_user?id=${userId(srv, boss)}`);
      await axe.check(page, 'edit own user');
      await snap(page, 'edit-own-user');
      await page.goto(`${srv.url}/panel/users/${userId(srv, target)}/reset_password`);
      await axe.check(page, 'reset page (its own URL)');
      await snap(page, 'reset-page-direct');

      await page.goto(`${srv.url}/panel/delete_user?id=${userId(srv, target)}`);
      await axe.check(page, 'delete confirmation');
      await snap(page, 'delete-confirmation');

      await page.goto(`${srv.url}/panel/audit`);
      await axe.check(page, 'audit page');
      await snap(page, 'audit');

      await page.goto(`${srv.url}/panel/no_such_page`);
      assert.match(await page.locator('main').innerText(), new RegExp(T('error.notFound')));
      await axe.check(page, 'error page (404)');
      await snap(page, 'error-404');
    });

    await step('the same pages without JavaScript', async () => {
      const plain = await newContext(false, locale);
      const p = await plain.newPage();
      let m = 0;
      const plainSnap = (name) => shotBoth(p, `gallery-${lang}-nojs-${String(++m).padStart(2, '0')}-${name}`, soft);
      await p.goto(`${srv.url}/login`);
      await p.fill('#username', boss);
      await p.fill('#password', PASSWORDS.gallery);
      await clickNav(p, p.locator('#auth-box form button[type=submit]'));
      assert.equal(pathOf(p), '/panel/dashboard');
      await plainSnap('dashboard');
      const pages = [
        ['users-table', '/panel/panel_config'],
        ['reset-page', `/panel/users/${userId(srv, target)}/reset_password`],
        ['new-user-form', '/panel/users/new'],
        ['edit-user-form', `/panel/edit_user?id=${userId(srv, target)}`],
        ['change-password', '/panel/change_password'],
        ['audit', '/panel/audit'],
      ];
      for (const [name, url] of pages) {
        await p.goto(`${srv.url}${url}`);
        await axe.check(p, `${name} (without JavaScript)`, { js: false });
        await plainSnap(name);
      }
      // The reset as a page of its own: Generate, reset, the result once, then already shown.
      await p.goto(`${srv.url}/panel/users/${userId(srv, target)}/reset_password`);
      await clickNav(p, p.getByRole('button', { name: T('tempPassword.generate') }));
      await plainSnap('reset-generated');
      await clickNav(p, p.locator('button[name="intent"][value="reset"]'));
      await p.locator('#reset-result').waitFor();
      await axe.check(p, 'reset result (without JavaScript)', { js: false });
      await plainSnap('reset-result');
      await p.reload();
      assert.equal(await p.locator('#reset-result').count(), 0);
      await plainSnap('reset-result-reloaded');
      await plain.close();
    });

    await step('the sign-in page says why a session ended', async () => {
      const other = await newContext(true, locale);
      const p = await other.newPage();
      for (const reason of ['expired', 'reset', 'signed_out']) {
        await p.goto(`${srv.url}/login?ended=${reason}`);
        assert.ok((await p.locator('#login-notice').innerText()).length > 10);
      }
      await axe.check(p, 'login (session ended)');
      await snap(p, 'login-session-ended');
      await other.close();
    });

    await step('the dialogs look right', () => {
      soft.assertNone();
    });
    await step('axe-core: zero violations on every page and dialog', () => {
      axe.assertNone();
    });
    await context.close();
  };
}

test('every page and dialog in English', { timeout: 300_000 }, gallery('en'));
test('every page and dialog in German', { timeout: 300_000 }, gallery('de'));
