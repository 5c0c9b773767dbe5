// The administrator's overview (SPEC §18) as an administrator uses it: the dashboard's cards,
// the 30-day chart drawn on the server and its table, the coverage and the applications;
// each card followed to the users table it names; the table's state filter with and without
// JavaScript. On a server of its own (run.sh starts `overview`), seeded with users in each
// state and a month of audit entries. axe on every page; screenshots en and de, 1280 and
// 375 px; the chart checked for being readable at 360 px.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launchBrowser, newContext, shotBothWidths, server, cli, sql, Axe } = require('./lib');

const PASSWORD = 'Harbor-Quill-Meadow-64';
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** `YYYY-MM-DD HH:MM:SS` of now minus `days` days and `seconds` seconds, in UTC. */
function utc(days, seconds = 0) {
  const at = new Date(Date.now() - days * 86_400_000 - seconds * 1000);
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

let seeded = false;
function seed(srv) {
  if (seeded) return;
  seeded = true;
  cli(srv, ['user', 'create', 'ov_admin', '--superuser', '--no-require-change', '--password-stdin'], `${PASSWORD}\n`);
  cli(srv, ['user', 'create', 'ov_admin_de', '--superuser', '--no-require-change', '--password-stdin'], `${PASSWORD}\n`);
  sql(srv, "UPDATE users SET lang = 'de' WHERE username = 'ov_admin_de'");
  const names = ['ov_pending', 'ov_soon', 'ov_expired', 'ov_locked', 'ov_link', 'ov_needs_mfa', 'ov_off', 'ov_seen'];
  for (const name of names) {
    cli(srv, ['user', 'create', name, '--no-require-change', '--password-stdin'], `${PASSWORD}\n`);
  }
  sql(srv, "UPDATE users SET require_password_change = 1 WHERE username = 'ov_pending'");
  sql(srv, `UPDATE users SET require_password_change = 1, password_expires = '${utc(-0.25)}' WHERE username = 'ov_soon'`);
  sql(srv, `UPDATE users SET require_password_change = 1, password_expires = '${utc(2)}' WHERE username = 'ov_expired'`);
  sql(srv, "UPDATE users SET require_mfa = 1 WHERE username = 'ov_needs_mfa'");
  sql(srv, "UPDATE users SET enabled = 0 WHERE username = 'ov_off'");
  sql(srv, `UPDATE users SET last_login = '${utc(1)}' WHERE username IN ('ov_seen', 'ov_admin', 'ov_admin_de')`);
  cli(srv, ['user', 'reset-link', 'ov_link']);
  // A month of sign-ins, failures and resets (the database keeps the per-day counts).
  const rows = [];
  for (let day = 0; day < 30; day++) {
    if (day === 4) continue; // a day without any event
    const ok = 20 + ((day * 37) % 45);
    const failed = day === 1 ? 18 : (day * 7) % 5;
    const resets = day % 6 === 0 ? 3 : day % 3 === 0 ? 1 : 0;
    for (let i = 0; i < ok; i++) rows.push(`('${utc(day, i * 60 + 30)}', 'login', '')`);
    for (let i = 0; i < failed; i++) rows.push(`('${utc(day, i * 60 + 45)}', 'login_failed', 'incorrect credentials')`);
    for (let i = 0; i < resets; i++) rows.push(`('${utc(day, i * 60 + 50)}', 'password_reset', '')`);
  }
  for (let i = 0; i < rows.length; i += 200) {
    sql(srv, `INSERT INTO audit_log (created, action, detail, actor_name, target_id, target_name) SELECT c, a, d, 'seed', u.user_id, u.username FROM (SELECT column1 AS c, column2 AS a, column3 AS d FROM (VALUES ${rows.slice(i, i + 200).join(', ')})) JOIN users u ON u.username = 'ov_seen'`);
  }
  // An application with recent sign-ins.
  cli(srv, ['app', 'add', 'Team Wiki', '--host', 'wiki.example.org']);
  sql(srv, `INSERT INTO audit_log (created, action, detail, actor_name, target_id, target_name, app_id) SELECT '${utc(1)}', 'sso_session_issued', '', 'seed', u.user_id, u.username, a.app_id FROM users u, apps a WHERE u.username IN ('ov_seen', 'ov_pending')`);
}

/** Five wrong passwords lock `name` (SPEC §3a): through the real sign-in form. */
async function lockOut(srv, name) {
  for (let i = 0; i < 5; i++) {
    await fetch(`${srv.url}/login`, { redirect: 'manual' }).then(async (r) => {
      const cookie = r.headers.get('set-cookie')?.split(';')[0] ?? '';
      const html = await r.text();
      const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)[1];
      const body = new URLSearchParams({ username: name, password: 'Wrong-Guess-Number-1', csrf_token: csrf });
      await fetch(`${srv.url}/login`, { method: 'POST', body, headers: { cookie }, redirect: 'manual' });
    });
  }
}

async function signIn(page, srv, username) {
  await page.goto(`${srv.url}/login`);
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL('**/panel/dashboard'), page.locator('#auth-box form button[type=submit]').click()]);
}

/** The number on the card that links to `?status=status`. */
async function cardNumber(page, status) {
  const text = await page.locator(`ul.stats a[href$="?status=${status}"] .stat-number`).innerText();
  return Number(text.replace(/[.,]/g, ''));
}

async function tableRows(page) {
  return page.locator('#users-table tbody tr').count();
}

/** What is wrong with the chart at the current width: text too small or labels overlapping. */
async function chartProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    for (const svg of document.querySelectorAll('svg.chart')) {
      const box = svg.getBoundingClientRect();
      if (box.right > document.documentElement.clientWidth + 1) problems.push(`${svg.id || 'a chart'} is wider than the window`);
      const ticks = [...svg.querySelectorAll('text')].map((t) => t.getBoundingClientRect());
      for (const r of ticks) {
        if (r.height < 10) problems.push(`chart text is ${r.height.toFixed(1)} px high`);
      }
      const labels = [...svg.querySelectorAll('text.tick')].map((t) => t.getBoundingClientRect());
      for (let i = 1; i < labels.length; i++) {
        if (labels[i].left < labels[i - 1].right) problems.push('day labels overlap');
      }
    }
    return problems;
  });
}

for (const js of [true, false]) {
  for (const lang of ['en', 'de']) {
    test(`the overview ${js ? 'with' : 'without'} JavaScript, ${lang}`, { timeout: 180_000 }, async () => {
      const srv = server('overview');
      seed(srv);
      if (js && lang === 'en') await lockOut(srv, 'ov_locked');
      const axe = new Axe(`the overview (${lang}, ${js ? 'js' : 'nojs'})`);
      const context = await newContext(browser, js, lang === 'de' ? 'de-DE' : 'en-US');
      const page = await context.newPage();
      const problems = [];
      page.on('console', (m) => {
        if (/Content Security Policy/.test(m.text())) problems.push(m.text());
      });
      await signIn(page, srv, lang === 'de' ? 'ov_admin_de' : 'ov_admin');
      const tag = `overview-${lang}-${js ? 'js' : 'nojs'}`;

      // The dashboard: cards, chart with its title, the table of the same numbers.
      await page.locator('ul.stats').waitFor();
      assert.equal(await page.locator('ul.stats a.stat').count(), 9, 'nine cards');
      const chart = page.locator('svg.chart').first();
      assert.equal(await chart.getAttribute('role'), 'img');
      assert.match(await chart.locator('title').first().textContent(), lang === 'de' ? /Anmeldungen pro Tag/ : /Sign-ins per day/);
      assert.equal(await page.locator('.day-table tbody tr').count(), 30, 'a row for each of the 30 days');
      assert.match(await page.locator('section[aria-labelledby=overview-apps]').innerText(), /Team Wiki/);
      assert.equal(await cardNumber(page, 'expired'), 1);
      assert.equal(await cardNumber(page, 'locked'), 1);
      await axe.check(page, 'dashboard (overview)', { js });
      await shotBothWidths(page, `${tag}-dashboard`);
      await page.setViewportSize({ width: 360, height: 740 });
      assert.deepEqual(await chartProblems(page), [], 'the chart is readable at 360 px');
      await page.setViewportSize({ width: 1280, height: 800 });

      // Each card opens the users table with exactly its users.
      for (const status of ['pending', 'expiring', 'expired', 'locked', 'link', 'mfa_missing', 'disabled', 'never']) {
        await page.goto(`${srv.url}/panel/dashboard`);
        const expected = await cardNumber(page, status);
        await Promise.all([page.waitForURL(`**/panel/panel_config?status=${status}`), page.locator(`ul.stats a[href$="?status=${status}"]`).click()]);
        assert.equal(await tableRows(page), expected, `the ${status} card and its table`);
        assert.equal(await page.locator('#status-filter').inputValue(), status, 'the filter shows what is applied');
        if (status === 'locked') {
          // The locked user's row says so beside the other badges, and read aloud says why.
          const badge = page.locator('#users-table tbody .badge', { hasText: lang === 'de' ? 'Gesperrt' : 'Locked' });
          assert.equal(await badge.count(), 1, 'a locked badge');
          assert.ok(await badge.isVisible());
          assert.match(await badge.textContent(), lang === 'de' ? /zu viele fehlgeschlagene Anmeldungen/ : /too many failed sign-ins/);
          await axe.check(page, 'users table (locked)', { js });
          await shotBothWidths(page, `${tag}-users-locked`);
        }
      }
      await axe.check(page, 'users table (filtered)', { js });
      await shotBothWidths(page, `${tag}-users-filtered`);

      // The filter box: with JavaScript the table swaps in place and the URL follows; without,
      // the form's button sends it.
      await page.goto(`${srv.url}/panel/panel_config?q=ov_`);
      if (js) {
        await Promise.all([
          page.waitForResponse((r) => r.url().includes('status=expired') && r.request().headers()['hx-request'] === 'true'),
          page.selectOption('#status-filter', 'expired'),
        ]);
        await page.waitForFunction(() => location.search.includes('status=expired'));
      } else {
        await page.selectOption('#status-filter', 'expired');
        await Promise.all([page.waitForURL('**status=expired**'), page.locator('form.search button[type=submit]').click()]);
      }
      const url = new URL(page.url());
      assert.equal(url.searchParams.get('status'), 'expired');
      assert.equal(url.searchParams.get('q'), 'ov_', 'the search stays with the filter');
      assert.equal(await tableRows(page), 1);
      assert.equal(await page.locator('#users-table tbody th[scope=row]').innerText(), 'ov_expired');
      await axe.check(page, 'users table (filter chosen)', { js });

      assert.deepEqual(problems, [], 'nothing refused by the CSP');
      axe.assertNone();
      await context.close();
    });
  }
}
