// Shared basics of the web UI: translations, element building, the JSON API client, page layout and the top bar.


export const LANG = document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const MAX_PROGRAM_BYTES = 64 * 1024;
export const STAFF = ['platform_admin', 'organiser', 'school_admin', 'teacher'];
export const MANAGERS = ['platform_admin', 'school_admin', 'teacher'];
export const ADMINS = ['platform_admin', 'school_admin'];

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
    this.retryAfter = Number(error.retry_after) || 0;
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

export function errText(e) {
  if (!(e instanceof ApiError)) return `${t('err_unknown')} (${e && e.message ? e.message : e})`;
  const key = 'err_' + e.code;
  const has = (k) => Object.prototype.hasOwnProperty.call(DICT, k);
  // Errors the server explains completely by code (and reason): the
  // user's language only, never the server's English text beside it.
  if (e.reason && has(`${key}_${e.reason}`)) return DICT[`${key}_${e.reason}`];
  if (e.retryAfter && has(`${key}_wait`)) return DICT[`${key}_wait`].replace('{s}', String(e.retryAfter));
  if (['bad_credentials', 'busy', 'request_timeout', 'account_deactivated'].includes(e.code) && has(key)) return DICT[key];
  const friendly = has(key) ? DICT[key] : '';
  if (friendly && e.message && e.message !== friendly) return `${friendly} — ${e.message}`;
  return friendly || e.message || t('err_unknown');
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
  return h('div', { class: 'table-wrap' },
    h('table', { class: opts.class || 'data', testid: opts.testid },
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows)));
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

export function renderHeader() {
  const me = state.me;
  const nav = document.getElementById('nav');
  const user = document.getElementById('user');
  const items = [];
  if (me && !me.must_change_password) {
    if (me.role === 'student') items.push(['#/assignments', t('nav_my_assignments'), 'nav-assignments']);
    if (MANAGERS.includes(me.role)) items.push(['#/classes', me.role === 'teacher' ? t('nav_my_classes') : t('nav_classes'), 'nav-classes']);
    if (me.role !== 'student' && me.role !== 'teacher') items.push(['#/admin', t('nav_admin'), 'nav-admin']);
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
      h('strong', null, me.display_name || me.username), ' ', badge(roleName(me.role), 'role')),
    h('span', { class: 'lang-switch' }, langLink('zh-CN', t('lang_zh')), langLink('en', t('lang_en'))),
    h('button', { class: 'btn btn-ghost', type: 'button', testid: 'logout', onclick: logout }, t('logout')));
}

async function logout() {
  try {
    await api('POST', '/api/logout', undefined, { noRedirect: true });
  } catch (_) { /* signed out anyway */ }
  location.href = '/login';
}
