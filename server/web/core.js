// Shared basics of the web UI: translations, element building, the JSON API client, page layout and the top bar.


export const LANG = document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let DICT = {};

/** Installs the translations of the page's language (once, at start-up). */
export function setDictionary(dict) {
  DICT = dict;
}
export const state = { me: null, csrf: '', labs: null, cleanups: [], seq: 0 };
const main = document.getElementById('main');

// ---------------------------------------------------------------- basics

export function t(key, vars) {
  let s = Object.prototype.hasOwnProperty.call(DICT, key) ? DICT[key] : key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/** Whether the dictionary has a text for `key`. */
export function hasText(key) {
  return Object.prototype.hasOwnProperty.call(DICT, key);
}

/** Text in the page's language from a {"zh-CN","en"} object (or a plain string). */
export function loc(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v !== 'object') return String(v);
  return v[LANG] ?? v['zh-CN'] ?? v.en ?? Object.values(v)[0] ?? '';
}

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'multiple', 'required', 'open']);

/** Builds an element. Strings among the children become text nodes. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  const late = [];
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'testid') el.dataset.testid = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (PROPS.has(k)) late.push([k, v]);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  for (const [k, v] of late) el[k] = v;
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function fmtScore(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return String(Math.round(Number(n) * 10) / 10);
}

export function fmtTime(sec, withSeconds) {
  if (!sec) return '—';
  return new Date(sec * 1000).toLocaleString(LANG, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
    second: withSeconds ? '2-digit' : undefined,
  });
}

/** A Unix time as the value of an <input type=datetime-local> (local time). */
export function toLocalInput(sec) {
  const d = new Date(sec * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fromLocalInput(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/** The name of a program language as students know it. */
export const langLabel = (l) => ({ rhai: 'Rhai', wasm: 'WebAssembly (WAT)', wat: 'WebAssembly (WAT)', 'wasm-base64': 'WebAssembly (.wasm)' }[l] || l);

export const now = () => Math.floor(Date.now() / 1000);

export function roleName(role) {
  return t('role_' + role);
}

function statusName(status) {
  return t('status_' + status);
}

// ---------------------------------------------------------------- the API

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.rows = Array.isArray(error.rows) ? error.rows : [];
    this.reason = error.reason || '';
    this.field = error.field || '';
    this.max = error.max ?? null;
    this.retryAfter = Number(error.retry_after) || 0;
    this.detail = error.detail && typeof error.detail === 'object' ? error.detail : null;
    /** The whole `error` object: `field`, `existing`, `submissions`, `opens_at`… */
    this.details = error;
  }
}

export async function api(method, path, body, opts = {}) {
  const headers = { Accept: opts.blob ? '*/*' : 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = state.csrf;
  let payload;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers['Content-Type'] = opts.contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, { code: 'network', message: String(e && e.message ? e.message : e) });
  }
  if (!res.ok) {
    let err = { code: `http_${res.status}`, message: res.statusText };
    try {
      const j = await res.json();
      if (j && j.error) err = j.error;
    } catch (_) { /* not JSON */ }
    const e = new ApiError(res.status, err);
    if (res.status === 401 && !opts.noRedirect) {
      location.href = '/login';
    } else if (e.code === 'password_change_required' && state.me) {
      state.me.must_change_password = true;
      setTimeout(rerender, 0);
    }
    throw e;
  }
  if (res.status === 204) return null;
  if (opts.blob) return res.blob();
  const type = res.headers.get('content-type') || '';
  return type.includes('json') ? res.json() : res.text();
}

/**
 * An error in the page's language only. The server's `message` is English
 * for developers and never shown: every code has an `err_CODE` text, field
 * errors (`invalid`) say which field and why, and an unknown code gets a
 * generic text with the code to quote to the helpdesk.
 */
export function errText(e) {
  if (!(e instanceof ApiError)) {
    console.error(e);
    return t('err_unknown');
  }
  return errorText(e);
}

/** The text for an error object `{code, reason, field, max, retry_after}` (also used for roster rows). */
export function errorText({ code, reason, field, max, retryAfter, detail }) {
  const has = (k) => Object.prototype.hasOwnProperty.call(DICT, k);
  const vars = { field: field && has(`field_${field}`) ? t(`field_${field}`) : t('field_unknown'), max: max ?? '', s: retryAfter ?? '' };
  // A refusal that explains itself in both languages (a bad .zip bundle): the page's one.
  vars.detail = detail && typeof detail === 'object' ? (detail[LANG] || '') : '';
  if (code === 'invalid') return has(`err_invalid_${reason}`) ? t(`err_invalid_${reason}`, vars) : t('err_invalid', vars);
  const key = `err_${code}`;
  if (reason && retryAfter && has(`${key}_${reason}_wait`)) return t(`${key}_${reason}_wait`, vars);
  if (reason && has(`${key}_${reason}`)) return t(`${key}_${reason}`, vars);
  if (retryAfter && has(`${key}_wait`)) return t(`${key}_wait`, vars);
  if (has(key)) return t(key, vars);
  return t('err_unknown_code', { code });
}

export function errorBox(e, testid = 'error') {
  return h('div', { class: 'alert alert-error', role: 'alert', testid }, errText(e));
}

export function okBox(text, testid = 'ok') {
  return h('div', { class: 'alert alert-ok', role: 'status', testid }, text);
}

// ---------------------------------------------------------------- page life

let rerenderPage = () => {};

/** Registers the router, so modules can redraw the current page. */
export function onRerender(fn) {
  rerenderPage = fn;
}

/** Draws the current page again (after a change that affects it). */
export function rerender() {
  rerenderPage();
}

/** Runs `fn` when the user leaves the current page (timers, streams). */
export function onCleanup(fn) {
  state.cleanups.push(fn);
}

// ---------------------------------------------------------------- layout

export function setPage(title, ...children) {
  document.title = `${title} · ${t('app_name')}`;
  clear(main, ...children);
  main.focus({ preventScroll: true });
}

export const loading = () => h('p', { class: 'loading', testid: 'loading' }, t('loading'));

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', null, title) : null, ...children);
}

export function field(label, control, help) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
    help ? h('span', { class: 'field-help' }, help) : null);
}

export function table(headers, rows, opts = {}) {
  // Every column has a label for screen readers, even a column of buttons;
  // the wrapper scrolls a wide table inside itself, never the page.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': opts.label || t('table') },
    h('table', { class: opts.class || 'data', testid: opts.testid },
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x === '' || x === null || x === undefined ? h('span', { class: 'sr-only' }, t('col_actions')) : x)))),
      h('tbody', null, rows)));
}

/** The curriculum's labs (titles, languages, case titles), loaded once. */
export async function loadLabs() {
  if (!state.labs) {
    try {
      const res = await api('GET', '/api/labs');
      state.labs = Array.isArray(res) ? res : res.labs || [];
    } catch (_) {
      return []; // titles then fall back to generic names
    }
  }
  return state.labs;
}

export const wide = (el) => {
  el.classList.add('wide');
  return el;
};

export const empty = (text, testid) => h('p', { class: 'empty', testid }, text);

export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

export function statusBadge(status) {
  const kind = { done: 'ok', failed: 'bad', running: 'busy', queued: 'wait' }[status] || 'wait';
  return badge(statusName(status), kind);
}

/**
 * A tab bar as a proper tablist: links (each tab is a page of its own) with
 * role=tab and aria-selected; only the selected tab is in the Tab order and
 * the arrow keys, Home and End move between tabs (and open them).
 * `items`: [[key, label, href]].
 */
let tabKeyed = false;

export function tabList(label, items, current, testidPrefix = 'tab-') {
  if (tabKeyed) {
    // Opened from the keyboard: the redrawn page keeps the focus on the tab.
    tabKeyed = false;
    setTimeout(() => bar.querySelector('[aria-selected=true]')?.focus(), 0);
  }
  const bar = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': label },
    items.map(([key, text, href]) => h('a', {
      href, role: 'tab', id: `tab-${key}`, testid: `${testidPrefix}${key}`,
      class: key === current ? 'active' : null,
      'aria-selected': key === current ? 'true' : 'false',
      tabindex: key === current ? '0' : '-1',
    }, text)));
  bar.addEventListener('keydown', (ev) => {
    const tabs = [...bar.querySelectorAll('[role=tab]')];
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    const next = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    const to = tabs[(next + tabs.length) % tabs.length];
    to.focus();
    tabKeyed = true;
    to.click();
  });
  return bar;
}

/** The panel of a tablist: labelled by its selected tab. */
export function tabPanel(current, ...children) {
  return h('div', { class: 'tab-body', role: 'tabpanel', 'aria-labelledby': `tab-${current}` }, ...children);
}

/**
 * Text with the program's words set as code: `backticks`, calls such as
 * distance("front") and quoted names such as "left" become <code>, so they
 * read as the words a student types (in any page language), not as English.
 */
export function codeSpans(text) {
  const out = [];
  const re = /`([^`]+)`|\b[A-Za-z_][A-Za-z0-9_]*\((?:[^()]|\([^()]*\))*\)|"[A-Za-z_][A-Za-z0-9_ ]*"/g;
  let last = 0;
  for (const m of String(text ?? '').matchAll(re)) {
    if (m.index > last) out.push(m.input.slice(last, m.index));
    out.push(h('code', null, m[1] ?? m[0]));
    last = m.index + m[0].length;
  }
  if (last < String(text ?? '').length) out.push(String(text).slice(last));
  return out;
}

/** Case names as students read them: practice-N / hidden-N, else the lab's title for the case. */
export function caseName(name, labId) {
  const m = /^(practice|hidden)-(\d+)$/.exec(name || '');
  if (m) return t(`case_${m[1]}`, { n: m[2] });
  const lab = (state.labs || []).find((l) => l.id === labId);
  const c = lab && (lab.cases || []).find((x) => x.name === name);
  return c && c.title ? loc(c.title) : placeName(name);
}

/** Zone and checkpoint names (finish, card-3, stripe2…) in the page's language. */
export function placeName(name) {
  const m = /^([a-z]+(?:-[a-z]+)*?)-?(\d*)$/.exec(name || '');
  if (!m || !hasText(`place_${m[1]}`)) return name || '';
  return m[2] ? t('place_numbered', { place: t(`place_${m[1]}`), n: m[2] }) : t(`place_${m[1]}`);
}

/** A limit name (cpu_time, fuel, output…) in the page's language. */
export function limitName(limit) {
  return hasText(`limit_${limit}`) ? t(`limit_${limit}`) : t('limit_other');
}

/** The top bar's menu button (phones): opens and closes the menu. */
function wireMenu() {
  const button = document.getElementById('menu-toggle');
  if (!button || button.dataset.wired) return;
  button.dataset.wired = '1';
  button.addEventListener('click', () => {
    const open = button.closest('.topbar').classList.toggle('open');
    button.setAttribute('aria-expanded', String(open));
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && button.getAttribute('aria-expanded') === 'true') {
      button.click();
      button.focus();
    }
  });
}

export function renderHeader() {
  wireMenu();
  const menu = document.getElementById('menu-toggle');
  if (menu) {
    // A new page closes the menu.
    menu.closest('.topbar').classList.remove('open');
    menu.setAttribute('aria-expanded', 'false');
  }
  const me = state.me;
  const nav = document.getElementById('nav');
  const user = document.getElementById('user');
  const items = [];
  if (me && !me.must_change_password) {
    if (me.can.submit) items.push(['#/assignments', t('nav_my_assignments'), 'nav-assignments']);
    if (me.can.manage_classes) items.push(['#/classes', me.role === 'teacher' ? t('nav_my_classes') : t('nav_classes'), 'nav-classes']);
    items.push(['#/assessments', t('nav_assessments'), 'nav-assessments']);
    if (me.can.admin) items.push(['#/admin', t('nav_admin'), 'nav-admin']);
    items.push(['#/password', t('nav_password'), 'nav-password']);
  }
  const here = location.hash || '#/';
  clear(nav, items.map(([href, text, testid]) => h('a', {
    href, testid, class: here === href || here.startsWith(href + '/') ? 'active' : null,
  }, text)));
  if (!me) return clear(user);
  const langLink = (code, label) => {
    const link = h('a', { href: `${location.pathname}?lang=${code}${location.hash}`, testid: `lang-${code}`, lang: code }, label);
    if (code === LANG) link.setAttribute('aria-current', 'true');
    return link;
  };
  clear(user,
    h('span', { class: 'who', testid: 'whoami' },
      h('strong', { 'data-user': '' }, me.display_name || me.username), ' ', badge(roleName(me.role), 'role')),
    h('span', { class: 'lang-switch' }, langLink('zh-CN', t('lang_zh')), langLink('en', t('lang_en'))),
    h('button', { class: 'btn btn-ghost', type: 'button', testid: 'logout', onclick: logout }, t('logout')));
}

async function logout() {
  try {
    await api('POST', '/api/logout', undefined, { noRedirect: true });
  } catch (_) { /* signed out anyway */ }
  location.href = '/login';
}
