// Shared pieces of the browser tests: the JSON API, signing in, checks and
// the record of page errors that every flow adds to.

import { readFileSync } from 'node:fs';

export const BASE = (process.env.BASE_URL || '').replace(/\/+$/, '');
export const GRADING_TIMEOUT_MS = 60_000;
const started = Date.now();

export function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}

export function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** The JSON API with a bearer token (no cookie, so no CSRF header needed). */
export async function api(method, urlPath, token, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(BASE + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (_) { /* not JSON */ }
  if (!res.ok) throw new Error(`${method} ${urlPath} -> ${res.status} ${text.slice(0, 500)}`);
  return json;
}

/** A Unix time as an <input type=datetime-local> value in local time (the browser runs on this machine). */
export function localInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export const pageErrors = [];
export const consoleLines = [];
/** The page a failure screenshot is taken of. */
export const current = { page: null };

export function watch(page, who) {
  page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${who} console.${m.type()}: ${m.text()}`);
  });
  current.page = page;
  return page;
}

export async function signIn(page, username, password) {
  await page.goto(`${BASE}/login`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/app(\?|#|$)/);
  // Attached, not visible: on a phone the account controls fold into the menu.
  await page.getByTestId('whoami').waitFor({ state: 'attached' });
}

// ---------------------------------------------------------------- one language per page, phone width

const ALLOWED = JSON.parse(readFileSync(new URL('./one-language.json', import.meta.url), 'utf8'));

/**
 * Fails when the visible text of the page is not all in `lang`: on a zh-CN
 * page, Latin words outside the allow-list (brands, formats, units: see
 * one-language.json) and `allow`; on an en page, Han characters. User data
 * is skipped: elements marked `data-user` or `translate="no"`, code, pre,
 * text areas, and elements in another language on purpose (`lang="en"` on
 * the language switch). Labels that are read aloud (aria-label,
 * placeholder, alt) count as visible text.
 */
export async function assertOneLanguage(page, lang, { allow = [], where = '' } = {}) {
  // Longest first, so a class name is taken out whole before a word inside it.
  const words = [...(ALLOWED[lang] || []), ...allow].sort((a, b) => b.length - a.length);
  const found = await page.evaluate(({ lang, words }) => {
    const skip = (el) => el.closest('[data-user], [translate="no"], code, pre, textarea, script, style, noscript, template')
      || (el.closest('[lang]') && el.closest('[lang]').getAttribute('lang') !== lang);
    const visible = (el) => {
      const target = el.closest('select') || el;
      return target.checkVisibility ? target.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) : target.offsetParent !== null;
    };
    const texts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      const text = n.nodeValue.trim();
      if (!text || !el || skip(el)) continue;
      // Screen-reader-only text counts even though it is not painted.
      if (!visible(el) && !el.closest('.sr-only')) continue;
      texts.push({ text, tag: el.tagName.toLowerCase(), testid: el.closest('[data-testid]')?.dataset.testid || '' });
    }
    for (const el of document.querySelectorAll('[aria-label], [placeholder], img[alt]')) {
      if (skip(el) || !visible(el)) continue;
      for (const a of ['aria-label', 'placeholder', 'alt']) {
        const v = el.getAttribute(a);
        if (v && v.trim()) texts.push({ text: v.trim(), tag: `${el.tagName.toLowerCase()}@${a}`, testid: el.dataset.testid || '' });
      }
    }
    texts.push({ text: document.title, tag: 'title', testid: '' });
    const bad = [];
    for (const t of texts) {
      if (lang === 'en') {
        let rest = t.text;
        for (const w of words) rest = rest.split(w).join('');
        if (/[\u3400-\u9fff\uf900-\ufaff]/.test(rest)) bad.push(t);
      } else {
        const latin = (t.text.match(/[A-Za-z0-9][A-Za-z0-9_.\-/]*/g) || [])
          .map((w) => w.replace(/^[.\-/]+|[.\-/]+$/g, ''))
          .filter((w) => /[A-Za-z]/.test(w) && !words.includes(w));
        if (latin.length) bad.push({ ...t, words: latin });
      }
    }
    return bad;
  }, { lang, words });
  if (found.length) {
    const lines = found.slice(0, 12).map((b) => `<${b.tag}${b.testid ? ` data-testid=${b.testid}` : ''}> ${JSON.stringify(b.text.slice(0, 120))}${b.words ? ` (${b.words.join(', ')})` : ''}`);
    throw new Error(`the ${lang} page ${where || page.url()} mixes languages:\n  ${lines.join('\n  ')}`);
  }
}

/**
 * Fails when the page is wider than the window (a phone must not scroll
 * sideways; wide tables scroll inside their own wrapper). Names the
 * elements that stick out.
 */
export async function assertNoSideScroll(page, where = '') {
  const over = await page.evaluate(() => {
    const root = document.documentElement;
    if (root.scrollWidth <= root.clientWidth && document.body.scrollWidth <= root.clientWidth) return null;
    const width = root.clientWidth;
    const culprits = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && !el.parentElement.closest('.table-wrap, .program, .editor, pre')) {
        culprits.push(`${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''}${el.dataset.testid ? `[${el.dataset.testid}]` : ''} right=${Math.round(r.right)}`);
      }
    }
    return { scroll: root.scrollWidth, width, culprits: culprits.slice(0, 8) };
  });
  if (over) throw new Error(`${where || page.url()}: the page is ${over.scroll}px wide in a ${over.width}px window; too wide: ${over.culprits.join('; ')}`);
}

/** Waits until the current page has drawn (no loading placeholder left, a heading shown). */
export async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('#main .loading') && document.querySelector('#main h1, #main h2'), null, { timeout: 15_000 });
}
