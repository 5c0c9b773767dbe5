// Helpers of the browser suite: the browser, the servers run.sh started, axe, screenshots,
// the CLI and the database.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Debian's chromium; launch() gives it a fresh user-data-dir. `extraArgs` add flags (the
 * single sign-on walk maps its host names with --host-resolver-rules). */
function launchBrowser(extraArgs = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with tests/e2e/run.sh`);
  return value;
}

/** One of the servers run.sh started ('js' or 'nojs'). */
function server(name) {
  const prefix = `E2E_${name.toUpperCase()}_`;
  return {
    name,
    url: env(`${prefix}URL`),
    dbUrl: env(`${prefix}DB_URL`),
    dbPath: env(`${prefix}DB_PATH`),
    adminPassword: env(`${prefix}ADMIN_PASSWORD`),
  };
}

const ARTIFACTS = process.env.E2E_ARTIFACTS || path.join(__dirname, 'artifacts');

/** `passgate ARGS…` against a server's database; returns stdout. */
function cli(srv, args, input) {
  return execFileSync(env('PASSGATE_BIN'), args, {
    env: { ...process.env, PASSGATE_DATABASE_URL: srv.dbUrl },
    input: input ?? '',
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/**
 * Keeps the last answers, console messages and script errors of a page, to print when a step
 * fails (CI keeps only the log: what the browser saw must be in it).
 */
function trace(page) {
  const lines = [];
  const keep = (line) => {
    lines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (lines.length > 40) lines.shift();
  };
  page.on('response', (r) => {
    const hx = r.request().headers()['hx-request'] === 'true' ? ' (htmx)' : '';
    const location = r.headers()['hx-location'] || r.headers()['location'] || '';
    keep(`${r.request().method()} ${r.url()}${hx} -> ${r.status()}${location ? ` ${location}` : ''}`);
  });
  page.on('requestfailed', (r) => keep(`${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`));
  const refused = [];
  page.on('console', (m) => {
    keep(`console.${m.type()}: ${m.text()}`);
    if (/Content Security Policy/.test(m.text())) refused.push(`${page.url()}: ${m.text().slice(0, 160)}`);
  });
  page.on('pageerror', (e) => keep(`page error: ${e.message}`));
  return {
    /** What the page's CSP refused (nothing, if the pages keep to it). */
    refused: () => [...refused],
    async dump(label) {
      let slot = '';
      try {
        slot = await page.evaluate(() => {
          const s = document.getElementById('dialog-slot');
          const d = s && s.querySelector('dialog');
          return `${location.href}; dialog: ${d ? `open=${d.open} modal=${d.matches(':modal')}` : 'none'}; ` +
            `slot: ${s ? s.innerText.replace(/\s+/g, ' ').slice(0, 1500) : 'none'}; ` +
            `fields: ${d ? Array.from(d.querySelectorAll('input, select')).map((i) => `${i.name}=${i.type === 'checkbox' ? i.checked : i.value}`).join(' ') : ''}`;
        });
      } catch (err) {
        slot = `(page not readable: ${err.message})`;
      }
      console.log(`--- trace of ${label}\n${lines.join('\n')}\n${slot}\n---`);
    },
  };
}

/** One SQL statement through the sqlite3 command line tool; returns its output. */
function sql(srv, statement) {
  return execFileSync('sqlite3', [srv.dbPath, statement], { encoding: 'utf8' }).trim();
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Collects axe-core violations page by page; `assertNone()` fails with all of them, so a
 * violation on one page does not stop the walk.
 */
class Axe {
  constructor(label) {
    this.label = label;
    this.found = [];
    this.checked = [];
  }

  /**
   * Runs axe on the page as it is. The page's CSP forbids inline scripts, so axe is not added
   * as a <script>: page.evaluate() runs through the DevTools protocol, which CSP does not
   * govern. With JavaScript disabled the page's timers never fire; axe needs setTimeout, so
   * it gets one made of microtasks (the page's own scripts still never run).
   */
  async check(page, what, { js = true } = {}) {
    if (!js) {
      await page.evaluate(() => {
        window.setTimeout = (fn, _ms, ...args) => {
          Promise.resolve().then(() => (typeof fn === 'function' ? fn(...args) : undefined));
          return 0;
        };
        window.clearTimeout = () => {};
      });
    }
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
      await page.evaluate(AXE_SOURCE);
    }
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
          target: n.target.join(' '),
          html: n.html,
          summary: n.failureSummary,
        })),
      }));
    });
    this.checked.push(what);
    for (const v of violations) this.found.push({ page: what, url: page.url(), ...v });
    return violations;
  }

  report() {
    return this.found
      .map((v) => {
        const nodes = v.nodes
          .map((n) => `      at ${n.target}\n        ${n.html}\n        ${(n.summary || '').replace(/\n/g, '\n        ')}`)
          .join('\n');
        return `  [${v.impact}] ${v.id} on "${v.page}" (${v.url}): ${v.help}\n    ${v.helpUrl}\n${nodes}`;
      })
      .join('\n');
  }

  assertNone() {
    assert.ok(this.checked.length > 0, 'axe ran on no page');
    if (this.found.length > 0) {
      assert.fail(
        `axe-core found ${this.found.length} violation(s) in ${this.label} ` +
          `(checked ${this.checked.length} pages and dialogs):\n${this.report()}`,
      );
    }
  }
}

/**
 * Expectations whose failure should not stop the walk (the steps after them do not depend
 * on them): each is recorded with the step it belongs to, and `assertNone()` fails with all.
 */
class Soft {
  constructor() {
    this.failed = [];
    this.step = '';
  }

  check(ok, message) {
    if (!ok) this.failed.push(`${this.step}: ${message}`);
  }

  equal(actual, expected, message) {
    this.check(actual === expected, `${message} (expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)})`);
  }

  assertNone() {
    if (this.failed.length > 0) {
      assert.fail(`${this.failed.length} expectation(s) failed:\n${this.failed.map((f) => `  - ${f}`).join('\n')}`);
    }
  }
}

/**
 * A PNG in the artifacts folder: the full page, or the window while a modal dialog is open
 * (its backdrop covers the window, so a full-page picture would show a half-covered page).
 */
async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  const modal = await page.evaluate(() => !!document.querySelector('dialog:modal')).catch(() => false);
  await page.screenshot({ path: file, fullPage: !modal });
  return file;
}

/**
 * What is wrong with an open dialog, as a person using a keyboard or a narrow window would
 * notice: focus left behind the dialog, content sticking out of its box, a bottom out of
 * reach. Returns a list of readable problems (empty when fine).
 */
async function dialogProblems(page, selector, { focus = true } = {}) {
  if (focus) {
    // htmx moves focus to an [autofocus] field once the swap has settled: give it time.
    await page
      .waitForFunction((sel) => document.querySelector(sel)?.contains(document.activeElement), selector, {
        timeout: 1500,
      })
      .catch(() => {});
  }
  return page.evaluate(
    ({ sel, focus }) => {
      const describe = (el) => {
        if (!el || el === document.body) return 'the page body';
        const id = el.id ? `#${el.id}` : '';
        const text = (el.innerText || el.value || '').trim().slice(0, 40);
        return `<${el.tagName.toLowerCase()}${id}>${text ? ` "${text}"` : ''}`;
      };
      const dialog = document.querySelector(sel);
      if (!dialog) return [`no ${sel} on the page`];
      const problems = [];
      if (focus && !dialog.contains(document.activeElement)) {
        problems.push(`focus stays outside the dialog when it opens (on ${describe(document.activeElement)})`);
      }
      const box = dialog.getBoundingClientRect();
      const out = [];
      for (const el of dialog.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        if (r.right > box.right + 1 || r.left < box.left - 1) {
          if (!out.some((o) => o.contains(el))) out.push(el);
        }
      }
      for (const el of out.slice(0, 3)) {
        const r = el.getBoundingClientRect();
        problems.push(
          `${describe(el)} sticks out of the dialog (x ${Math.round(r.left)}–${Math.round(r.right)}, ` +
            `the dialog x ${Math.round(box.left)}–${Math.round(box.right)})`,
        );
      }
      const style = getComputedStyle(dialog);
      const scrolls = ['auto', 'scroll'].includes(style.overflowY);
      if (box.bottom > window.innerHeight + 1 && style.position === 'fixed' && !scrolls) {
        problems.push(
          `the dialog ends at y ${Math.round(box.bottom)}, below the ${window.innerHeight}px window, ` +
            'and neither it nor the page can scroll to its bottom',
        );
      }
      return problems;
    },
    { sel: selector, focus },
  );
}

/** A browser context with or without JavaScript, in `locale`, 1280 px wide, 15 s timeouts. */
async function newContext(browser, js, locale = 'en-US') {
  const ctx = await browser.newContext({ javaScriptEnabled: js, locale, viewport: { width: 1280, height: 800 } });
  ctx.setDefaultTimeout(15_000);
  ctx.setDefaultNavigationTimeout(15_000);
  return ctx;
}

/** Screenshots at 1280 and 375 px; fails if the narrow page scrolls sideways. */
async function shotBothWidths(page, name) {
  await shot(page, name);
  await page.setViewportSize({ width: 375, height: 740 });
  await shot(page, `${name}-375`);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.equal(wide, false, `${name}: no sideways scrolling at 375 px`);
}

/** Fails if the page scrolls sideways at 360 px (then goes back to 1280). */
async function fits360(page, what) {
  await page.setViewportSize({ width: 360, height: 740 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.equal(wide, false, `${what}: no sideways scrolling at 360 px`);
}

/** Marks the current document, to tell later whether the browser loaded a new one. */
async function markDocument(page) {
  await page.evaluate(() => {
    window.__e2eSameDocument = true;
  });
}

async function sameDocument(page) {
  return page.evaluate(() => window.__e2eSameDocument === true);
}

module.exports = {
  trace,
  newContext,
  shotBothWidths,
  fits360,
  launchBrowser,
  server,
  cli,
  sql,
  Axe,
  Soft,
  dialogProblems,
  shot,
  markDocument,
  sameDocument,
  ARTIFACTS,
};
