// Qiming web app: one page, a hash router, the JSON API (docs/api.md).
// Every piece of text that comes from the server or a user is put into the
// page with textContent (through h()), never as HTML.
'use strict';

(() => {
  const LANG = document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
  const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  const MAX_PROGRAM_BYTES = 64 * 1024;
  const STAFF = ['platform_admin', 'organiser', 'school_admin', 'teacher'];
  const MANAGERS = ['platform_admin', 'school_admin', 'teacher'];
  const ADMINS = ['platform_admin', 'school_admin'];

  let DICT = {};
  const state = { me: null, csrf: '', labs: null, cleanups: [], seq: 0 };
  const main = document.getElementById('main');

  // ---------------------------------------------------------------- basics

  function t(key, vars) {
    let s = Object.prototype.hasOwnProperty.call(DICT, key) ? DICT[key] : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  }

  /** Text in the page's language from a {"zh-CN","en"} object (or a plain string). */
  function loc(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    if (typeof v !== 'object') return String(v);
    return v[LANG] ?? v['zh-CN'] ?? v.en ?? Object.values(v)[0] ?? '';
  }

  const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'multiple', 'required', 'open']);

  /** Builds an element. Strings among the children become text nodes. */
  function h(tag, props, ...children) {
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

  function append(el, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(el, c);
      else if (c instanceof Node) el.appendChild(c);
      else el.appendChild(document.createTextNode(String(c)));
    }
  }

  function clear(el, ...children) {
    el.replaceChildren();
    append(el, children);
    return el;
  }

  function fmtScore(n) {
    if (n === null || n === undefined || Number.isNaN(n)) return '—';
    return String(Math.round(Number(n) * 10) / 10);
  }

  function fmtTime(sec, withSeconds) {
    if (!sec) return '—';
    return new Date(sec * 1000).toLocaleString(LANG, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
      second: withSeconds ? '2-digit' : undefined,
    });
  }

  /** A Unix time as the value of an <input type=datetime-local> (local time). */
  function toLocalInput(sec) {
    const d = new Date(sec * 1000);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }

  function fromLocalInput(value) {
    if (!value) return null;
    const ms = new Date(value).getTime();
    return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
  }

  const now = () => Math.floor(Date.now() / 1000);

  function roleName(role) {
    return t('role_' + role);
  }

  function statusName(status) {
    return t('status_' + status);
  }

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
    constructor(status, error) {
      super(error.message || `HTTP ${status}`);
      this.status = status;
      this.code = error.code || `http_${status}`;
      this.rows = Array.isArray(error.rows) ? error.rows : [];
      this.reason = error.reason || '';
      this.retryAfter = Number(error.retry_after) || 0;
    }
  }

  async function api(method, path, body, opts = {}) {
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
        setTimeout(route, 0);
      }
      throw e;
    }
    if (res.status === 204) return null;
    if (opts.blob) return res.blob();
    const type = res.headers.get('content-type') || '';
    return type.includes('json') ? res.json() : res.text();
  }

  function errText(e) {
    if (!(e instanceof ApiError)) return `${t('err_unknown')} (${e && e.message ? e.message : e})`;
    const key = 'err_' + e.code;
    const has = (k) => Object.prototype.hasOwnProperty.call(DICT, k);
    // Errors the server explains completely by code (and reason): the
    // user's language only, never the server's English text beside it.
    if (e.reason && has(`${key}_${e.reason}`)) return DICT[`${key}_${e.reason}`];
    if (e.retryAfter && has(`${key}_wait`)) return DICT[`${key}_wait`].replace('{s}', String(e.retryAfter));
    if (['bad_credentials', 'busy', 'request_timeout'].includes(e.code) && has(key)) return DICT[key];
    const friendly = has(key) ? DICT[key] : '';
    if (friendly && e.message && e.message !== friendly) return `${friendly} — ${e.message}`;
    return friendly || e.message || t('err_unknown');
  }

  function errorBox(e, testid = 'error') {
    return h('div', { class: 'alert alert-error', role: 'alert', testid }, errText(e));
  }

  function okBox(text, testid = 'ok') {
    return h('div', { class: 'alert alert-ok', role: 'status', testid }, text);
  }

  // ---------------------------------------------------------------- layout

  function setPage(title, ...children) {
    document.title = `${title} · ${t('app_name')}`;
    clear(main, ...children);
    main.focus({ preventScroll: true });
  }

  const loading = () => h('p', { class: 'loading', testid: 'loading' }, t('loading'));

  function card(title, ...children) {
    return h('section', { class: 'card' }, title ? h('h2', null, title) : null, ...children);
  }

  function field(label, control, help) {
    return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
      help ? h('span', { class: 'field-help' }, help) : null);
  }

  function table(headers, rows, opts = {}) {
    return h('div', { class: 'table-wrap' },
      h('table', { class: opts.class || 'data', testid: opts.testid },
        h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, rows)));
  }

  const wide = (el) => {
    el.classList.add('wide');
    return el;
  };

  const empty = (text, testid) => h('p', { class: 'empty', testid }, text);

  function badge(text, kind) {
    return h('span', { class: `badge badge-${kind}` }, text);
  }

  function statusBadge(status) {
    const kind = { done: 'ok', failed: 'bad', running: 'busy', queued: 'wait' }[status] || 'wait';
    return badge(statusName(status), kind);
  }

  function renderHeader() {
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

  // ---------------------------------------------------------------- router

  // [path, page, roles that may open it (all when absent)]
  const routes = [
    [/^\/?$/, homePage],
    [/^\/classes$/, classesPage, MANAGERS],
    [/^\/classes\/(\d+)(?:\/(roster|assignments|gradebook))?$/, classPage, MANAGERS],
    [/^\/classes\/(\d+)\/students\/(\d+)$/, studentWorkPage, MANAGERS],
    [/^\/assignments$/, myAssignmentsPage],
    [/^\/assignments\/(\d+)$/, assignmentPage],
    [/^\/submissions\/(\d+)$/, submissionPage],
    [/^\/admin$/, adminPage, ['platform_admin', 'organiser', 'school_admin']],
    [/^\/password$/, passwordPage],
  ];

  function onCleanup(fn) {
    state.cleanups.push(fn);
  }

  function route() {
    for (const fn of state.cleanups.splice(0)) {
      try { fn(); } catch (_) { /* ignore */ }
    }
    const seq = ++state.seq;
    const alive = () => seq === state.seq;
    renderHeader();
    let run;
    if (state.me.must_change_password) {
      run = () => passwordPage(alive, true);
    } else {
      const path = location.hash.replace(/^#/, '');
      for (const [re, fn, roles] of routes) {
        const m = path.match(re);
        if (m) {
          run = roles && !roles.includes(state.me.role) ? homePage : () => fn(alive, ...m.slice(1));
          break;
        }
      }
    }
    if (!run) {
      setPage(t('not_found'), h('h1', null, t('not_found')), h('p', null, h('a', { href: '#/' }, t('go_home'))));
      return;
    }
    Promise.resolve().then(run).catch((e) => {
      if (!alive() || (e instanceof ApiError && (e.status === 401 || e.code === 'password_change_required'))) return;
      setPage(t('error_title'), h('h1', null, t('error_title')), errorBox(e, 'page-error'),
        h('p', null, h('a', { href: '#/' }, t('go_home'))));
    });
  }

  function homePage() {
    const role = state.me.role;
    const target = role === 'student' ? '#/assignments' : MANAGERS.includes(role) && role !== 'platform_admin' ? '#/classes' : '#/admin';
    location.replace(target);
  }

  // ---------------------------------------------------------------- password

  async function passwordPage(alive, forced) {
    const cur = h('input', { type: 'password', autocomplete: 'current-password', required: true, testid: 'pw-current' });
    const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, testid: 'pw-new' });
    const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, testid: 'pw-confirm' });
    const msg = h('div', { 'aria-live': 'polite' });
    const btn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'pw-submit' }, t('pw_submit'));
    const form = h('form', {
      class: 'form narrow', testid: 'password-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        clear(msg);
        if (next.value !== again.value) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert', testid: 'error' }, t('pw_mismatch')));
        if (next.value === cur.value) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert', testid: 'error' }, t('pw_same')));
        btn.disabled = true;
        try {
          await api('POST', '/api/password', { current_password: cur.value, new_password: next.value });
          const me = await api('GET', '/api/me');
          state.me = me;
          state.csrf = me.csrf_token;
          if (forced) {
            location.hash = '#/';
            route();
          } else {
            form.reset();
            clear(msg, okBox(t('pw_changed'), 'pw-ok'));
          }
        } catch (e) {
          clear(msg, errorBox(e));
        } finally {
          btn.disabled = false;
        }
      },
    },
    field(t('pw_current'), cur),
    field(t('pw_new'), next, t('pw_new_help')),
    field(t('pw_confirm'), again),
    msg, h('div', { class: 'actions' }, btn));
    setPage(t('pw_title'),
      h('h1', null, t('pw_title')),
      forced ? h('div', { class: 'alert alert-info', testid: 'must-change' }, t('pw_forced')) : null,
      card(null, form));
    cur.focus();
  }

  // ---------------------------------------------------------------- classes

  async function classesPage(alive) {
    setPage(t('nav_classes'), loading());
    const { classes } = await api('GET', '/api/classes');
    if (!alive()) return;
    const rows = classes.map((c) => h('tr', { testid: 'class-row' },
      h('td', null, h('a', { href: `#/classes/${c.id}`, testid: 'class-link' }, c.name)),
      h('td', null, c.teacher_name || '—'),
      h('td', { class: 'num' }, String(c.students ?? '—'))));
    setPage(t('nav_classes'),
      h('h1', null, state.me.role === 'teacher' ? t('nav_my_classes') : t('nav_classes')),
      card(null, classes.length
        ? table([t('class_name'), t('teacher'), t('students_count')], rows, { testid: 'classes-table' })
        : empty(t('classes_empty'), 'classes-empty')),
      await createClassCard(alive));
  }

  async function createClassCard() {
    const role = state.me.role;
    const name = h('input', { type: 'text', required: true, maxlength: 100, testid: 'class-name', placeholder: t('class_name_placeholder') });
    const msg = h('div', { 'aria-live': 'polite' });
    const extra = [];
    let schoolSel = null;
    let teacherSel = null;
    if (role !== 'teacher') {
      teacherSel = h('select', { testid: 'class-teacher' });
      const loadTeachers = async () => {
        const q = schoolSel && schoolSel.value ? `&school_id=${encodeURIComponent(schoolSel.value)}` : '';
        try {
          const { users } = await api('GET', `/api/users?role=teacher${q}`);
          clear(teacherSel, h('option', { value: '' }, t('choose')),
            users.map((u) => h('option', { value: u.id }, `${u.display_name} (${u.username})`)));
        } catch (e) {
          clear(teacherSel, h('option', { value: '' }, t('choose')));
        }
      };
      if (role === 'platform_admin') {
        schoolSel = h('select', { testid: 'class-school', onchange: loadTeachers });
        try {
          const { schools } = await api('GET', '/api/schools');
          append(schoolSel, [h('option', { value: '' }, t('choose')), schools.map((s) => h('option', { value: s.id }, s.name))]);
        } catch (_) { /* keep empty */ }
        extra.push(field(t('school'), schoolSel));
      }
      extra.push(field(t('teacher'), teacherSel));
      loadTeachers();
    }
    const btn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'class-create' }, t('class_create'));
    return card(t('class_create'), h('form', {
      class: 'form inline-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        clear(msg);
        const body = { name: name.value.trim() };
        if (teacherSel && teacherSel.value) body.teacher_id = Number(teacherSel.value);
        if (schoolSel && schoolSel.value) body.school_id = Number(schoolSel.value);
        btn.disabled = true;
        try {
          const c = await api('POST', '/api/classes', body);
          location.hash = `#/classes/${c.id}`;
        } catch (e) {
          clear(msg, errorBox(e));
        } finally {
          btn.disabled = false;
        }
      },
    }, field(t('class_name'), name), extra, h('div', { class: 'actions' }, btn), msg));
  }

  async function classPage(alive, id, tab) {
    tab = tab || 'roster';
    setPage(t('nav_classes'), loading());
    const cls = await api('GET', `/api/classes/${id}`);
    if (!alive()) return;
    const tabs = h('nav', { class: 'tabs', role: 'tablist' },
      [['roster', t('tab_roster')], ['assignments', t('tab_assignments')], ['gradebook', t('tab_gradebook')]].map(([k, label]) =>
        h('a', { href: `#/classes/${id}/${k}`, role: 'tab', testid: `tab-${k}`, class: k === tab ? 'active' : null, 'aria-selected': k === tab ? 'true' : 'false' }, label)));
    const body = h('div', { class: 'tab-body' }, loading());
    setPage(cls.name,
      h('p', { class: 'crumbs' }, h('a', { href: '#/classes' }, t('nav_classes')), ' › '),
      h('h1', { testid: 'class-title' }, cls.name),
      h('p', { class: 'muted' }, `${t('teacher')}: ${cls.teacher_name || '—'} · ${t('students_count')}: ${(cls.roster || []).length || cls.students || 0}`),
      tabs, body);
    if (tab === 'roster') await rosterTab(alive, cls, body);
    else if (tab === 'assignments') await classAssignmentsTab(alive, cls, body);
    else await gradebookTab(alive, cls, body);
  }

  // ---- roster

  async function rosterTab(alive, cls, body) {
    const rosterBox = h('div');
    const showRoster = (roster) => {
      if (!roster.length) return clear(rosterBox, empty(t('roster_empty'), 'roster-empty'));
      const sorted = [...roster].sort((a, b) => String(a.student_number).localeCompare(String(b.student_number), undefined, { numeric: true }));
      clear(rosterBox, table([t('student_number'), t('display_name'), t('username'), t('actions')],
        sorted.map((s) => rosterRow(cls, s, refresh)), { testid: 'roster-table' }));
    };
    const refresh = async () => {
      const c = await api('GET', `/api/classes/${cls.id}`);
      if (alive()) showRoster(c.roster || []);
    };
    showRoster(cls.roster || []);
    // Everyone at once: new one-time passwords and their slips (the
    // "half the class forgot" lesson).
    const resetAllOut = h('div');
    const resetAll = h('button', {
      class: 'btn btn-ghost', type: 'button', testid: 'reset-all',
      onclick: async () => {
        if (!confirm(t('reset_all_confirm'))) return;
        try {
          const res = await api('POST', `/api/classes/${cls.id}/reset-passwords`);
          clear(resetAllOut, createdAccounts(cls, res.reset || []));
        } catch (e) {
          clear(resetAllOut, errorBox(e));
        }
      },
    }, t('reset_all'));
    clear(body, card(t('roster_title'), rosterBox, h('div', { class: 'actions' }, resetAll), resetAllOut), importCard(cls, refresh));
  }

  function rosterRow(cls, s, refresh) {
    const out = h('div', { class: 'row-result' });
    const reset = async () => {
      if (!confirm(t('reset_confirm', { name: s.display_name }))) return;
      clear(out);
      try {
        const { password } = await api('POST', `/api/users/${s.id}/reset-password`);
        const acct = { display_name: s.display_name, username: s.username, password, student_number: s.student_number };
        clear(out, h('span', { class: 'secret', testid: 'reset-password' }, `${t('new_password')}: `, h('code', null, password)), ' ',
          h('button', { class: 'btn btn-small', type: 'button', onclick: (ev) => printSlips(ev.currentTarget.parentElement, `${cls.name} ${t('slips')}`, [acct]) }, t('print_slip')));
      } catch (e) {
        clear(out, errorBox(e));
      }
    };
    // A child locked out by wrong passwords (theirs or a classmate's) gets
    // back in with their own password: no new password to hand out.
    const unlock = async () => {
      clear(out);
      try {
        await api('POST', `/api/users/${s.id}/unlock`);
        clear(out, h('span', { class: 'ok', testid: 'unlock-done' }, t('unlock_done')));
      } catch (e) {
        clear(out, errorBox(e));
      }
    };
    const del = async () => {
      if (!confirm(t('delete_confirm', { name: s.display_name }))) return;
      try {
        await api('DELETE', `/api/users/${s.id}`);
        await refresh();
      } catch (e) {
        clear(out, errorBox(e));
      }
    };
    return h('tr', { testid: 'roster-row' },
      h('td', null, s.student_number ?? ''),
      h('td', { testid: 'roster-name' }, s.display_name),
      h('td', null, h('code', null, s.username)),
      h('td', null, h('div', { class: 'row-actions' },
        h('a', { class: 'btn btn-small btn-ghost', href: `#/classes/${cls.id}/students/${s.id}` }, t('student_work')),
        h('button', { class: 'btn btn-small btn-ghost', type: 'button', onclick: reset }, t('reset_password')),
        h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'unlock', onclick: unlock }, t('unlock')),
        h('button', { class: 'btn btn-small btn-danger', type: 'button', onclick: del }, t('delete')),
        out)));
  }

  /** Reads a roster file; CSV is sent as UTF-8 (Excel in China often saves GBK). */
  async function readRosterFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const zip = bytes[0] === 0x50 && bytes[1] === 0x4b;
    if (/\.xlsx$/i.test(file.name) || zip) return { body: bytes, type: XLSX_TYPE };
    if (/\.xls$/i.test(file.name) || (bytes[0] === 0xd0 && bytes[1] === 0xcf)) return null;
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (_) {
      text = new TextDecoder('gb18030').decode(bytes);
    }
    return { body: new TextEncoder().encode(text.replace(/^\uFEFF/, '')), type: 'text/csv' };
  }

  function downloadText(filename, text, type) {
    const url = URL.createObjectURL(new Blob(['\uFEFF' + text], { type }));
    const a = h('a', { href: url, download: filename });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // Quotes what needs quoting, and neutralises formula injection: a cell
  // starting with = + - @ tab or CR is prefixed with ' so a spreadsheet shows it as text.
  const csvCell = (v) => {
    let s = String(v ?? '');
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };

  function importCard(cls, refresh) {
    const file = h('input', { type: 'file', accept: `.csv,.xlsx,text/csv,${XLSX_TYPE}`, testid: 'roster-file' });
    const result = h('div', { testid: 'roster-result', 'aria-live': 'polite' });
    const btn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'roster-import' }, t('roster_import'));
    const template = h('button', {
      class: 'btn btn-ghost', type: 'button', testid: 'roster-template',
      onclick: () => downloadText('roster-template.csv', `${t('csv_student_number')},${t('csv_display_name')}\r\n2024001,${t('sample_name_1')}\r\n2024002,${t('sample_name_2')}\r\n`, 'text/csv'),
    }, t('roster_template'));
    const form = h('form', {
      class: 'form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        clear(result);
        const f = file.files && file.files[0];
        if (!f) return clear(result, h('div', { class: 'alert alert-error', role: 'alert' }, t('roster_choose_file')));
        btn.disabled = true;
        try {
          const data = await readRosterFile(f);
          if (!data) {
            clear(result, h('div', { class: 'alert alert-error', role: 'alert' }, t('roster_old_xls')));
            return;
          }
          const res = await api('POST', `/api/classes/${cls.id}/roster`, undefined, { raw: data.body, contentType: data.type });
          file.value = '';
          // A re-import of a lost file re-issues passwords: show those accounts too.
          const ignored = (res.ignored_columns || []).length
            ? h('div', { class: 'alert alert-info', testid: 'ignored-columns' }, t('roster_ignored_columns', { cols: res.ignored_columns.join('、') }))
            : null;
          clear(result, ignored, createdAccounts(cls, [...(res.created || []), ...(res.reissued || [])]));
          refresh().catch(() => {});
        } catch (e) {
          clear(result, rosterErrors(e));
        } finally {
          btn.disabled = false;
        }
      },
    },
    h('p', null, t('roster_help')),
    h('ul', { class: 'help-list' }, h('li', null, t('roster_help_columns')), h('li', null, t('roster_help_formats')), h('li', null, t('roster_help_all_or_nothing'))),
    field(t('roster_file'), file),
    h('div', { class: 'actions' }, btn, template));
    return card(t('roster_import_title'), form, result);
  }

  function rosterErrors(e) {
    if (!(e instanceof ApiError) || !e.rows.length) return errorBox(e, 'roster-error');
    return h('div', { class: 'alert alert-error', role: 'alert', testid: 'roster-error' },
      h('p', null, h('strong', null, t('roster_invalid', { n: e.rows.length }))),
      table([t('row'), t('column'), t('problem')], e.rows.map((r) => h('tr', { testid: 'roster-error-row' },
        h('td', { class: 'num' }, String(r.row)), h('td', null, r.field ?? ''), h('td', null, r.message ?? ''))), { class: 'data compact' }));
  }

  function createdAccounts(cls, created) {
    const title = `${cls.name} ${t('slips')}`;
    const slipBox = h('div', { class: 'slip-box' });
    const students = created.map((s) => ({ display_name: s.display_name, username: s.username, password: s.password, student_number: s.student_number }));
    return h('div', { class: 'created', testid: 'roster-created' },
      okBox(t('roster_created', { n: created.length })),
      h('p', { class: 'warn' }, t('roster_passwords_once')),
      table([t('student_number'), t('display_name'), t('username'), t('initial_password')], created.map((s) => h('tr', { testid: 'created-row' },
        h('td', { testid: 'created-number' }, s.student_number ?? ''),
        h('td', { testid: 'created-name' }, s.display_name),
        h('td', null, h('code', { testid: 'created-username' }, s.username)),
        h('td', null, h('code', { testid: 'created-password' }, s.password)))), { testid: 'created-table' }),
      h('div', { class: 'actions' },
        h('button', { class: 'btn btn-primary', type: 'button', testid: 'print-slips', onclick: () => printSlips(slipBox, title, students) }, t('print_slips')),
        h('button', {
          class: 'btn btn-ghost', type: 'button', testid: 'download-accounts',
          onclick: () => downloadText(`${cls.name}-accounts.csv`,
            [[t('csv_student_number'), t('csv_display_name'), t('username'), t('initial_password')].map(csvCell).join(','),
              ...students.map((s) => [s.student_number, s.display_name, s.username, s.password].map(csvCell).join(','))].join('\r\n') + '\r\n',
            'text/csv'),
        }, t('download_accounts'))),
      slipBox);
  }

  /** Asks the server for the login-slip PDF and opens it (must run inside a click). */
  async function printSlips(box, title, students) {
    const win = window.open('', '_blank');
    clear(box, h('span', { class: 'muted' }, t('slips_making')));
    try {
      const blob = await api('POST', '/api/login-slips', { title, students }, { blob: true });
      const url = URL.createObjectURL(blob.type === 'application/pdf' ? blob : new Blob([blob], { type: 'application/pdf' }));
      if (win) win.location.href = url;
      clear(box, h('a', { href: url, target: '_blank', rel: 'noopener', download: 'login-slips.pdf', testid: 'slips-link', class: 'btn btn-ghost' }, t('slips_open')));
    } catch (e) {
      if (win) win.close();
      clear(box, errorBox(e, 'slips-error'));
    }
  }

  // ---- assignments of a class (teacher)

  async function getLabs() {
    if (!state.labs) {
      const res = await api('GET', '/api/labs');
      state.labs = Array.isArray(res) ? res : res.labs || [];
    }
    return state.labs;
  }

  const labTitle = (lab) => loc(lab.title) || lab.id;

  async function classAssignmentsTab(alive, cls, body) {
    const [{ assignments }, labs] = await Promise.all([api('GET', `/api/classes/${cls.id}/assignments`), getLabs()]);
    if (!alive()) return;
    const list = assignments.length
      ? table([t('lab'), t('opens_at'), t('due_at'), t('attempt_limit'), t('score_policy')],
        [...assignments].sort((a, b) => b.due_at - a.due_at).map((a) => h('tr', { testid: 'class-assignment-row' },
          h('td', null, h('a', { href: `#/assignments/${a.id}`, testid: 'class-assignment-link' }, loc(a.title) || a.lab_id)),
          h('td', null, fmtTime(a.opens_at)),
          h('td', null, fmtTime(a.due_at), a.due_at < now() ? [' ', badge(t('closed'), 'wait')] : null),
          h('td', { class: 'num' }, String(a.attempt_limit)),
          h('td', null, t('policy_' + a.score_policy)))), { testid: 'class-assignments' })
      : empty(t('assignments_empty'), 'class-assignments-empty');
    clear(body, card(t('tab_assignments'), list), assignCard(alive, cls, labs));
  }

  function assignCard(alive, cls, labs) {
    const bands = new Map();
    for (const lab of [...labs].sort((a, b) => String(a.grade_band).localeCompare(String(b.grade_band), undefined, { numeric: true }) || labTitle(a).localeCompare(labTitle(b), LANG))) {
      if (!bands.has(lab.grade_band)) bands.set(lab.grade_band, []);
      bands.get(lab.grade_band).push(lab);
    }
    const labSel = h('select', { required: true, testid: 'assign-lab' },
      h('option', { value: '' }, t('choose')),
      [...bands].map(([band, ls]) => h('optgroup', { label: t('grade_band', { band }) },
        ls.map((lab) => h('option', { value: lab.id }, `${labTitle(lab)}`)))));
    const labInfo = h('span', { testid: 'assign-lab-info' });
    labSel.addEventListener('change', () => {
      const lab = labs.find((l) => l.id === labSel.value);
      clear(labInfo, lab ? `${t('grade_band', { band: lab.grade_band })} · ${t('module')}: ${lab.module} · ${(lab.languages || []).map(langLabel).join(', ')}` : '');
    });
    const inWeek = new Date();
    inWeek.setDate(inWeek.getDate() + 7);
    inWeek.setHours(22, 0, 0, 0);
    const due = h('input', { type: 'datetime-local', required: true, testid: 'assign-due', value: toLocalInput(inWeek.getTime() / 1000) });
    const opens = h('input', { type: 'datetime-local', testid: 'assign-opens' });
    const attempts = h('input', { type: 'number', min: 1, max: 100, step: 1, required: true, value: '10', testid: 'assign-attempts' });
    const policy = h('select', { testid: 'assign-policy' },
      h('option', { value: 'best' }, t('policy_best')), h('option', { value: 'last' }, t('policy_last')));
    const msg = h('div', { 'aria-live': 'polite' });
    const btn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'assign-submit' }, t('assign'));
    return card(t('assign_title'), h('form', {
      class: 'form grid-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        clear(msg);
        const dueAt = fromLocalInput(due.value);
        const opensAt = fromLocalInput(opens.value);
        if (!dueAt) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert' }, t('due_required')));
        if (dueAt <= now()) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert' }, t('due_in_past')));
        if (opensAt && opensAt >= dueAt) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert' }, t('opens_after_due')));
        const body = { lab_id: labSel.value, due_at: dueAt, attempt_limit: Number(attempts.value), score_policy: policy.value };
        if (opensAt) body.opens_at = opensAt;
        btn.disabled = true;
        try {
          await api('POST', `/api/classes/${cls.id}/assignments`, body);
          if (alive()) route();
        } catch (e) {
          clear(msg, errorBox(e));
        } finally {
          btn.disabled = false;
        }
      },
    },
    wide(field(t('lab'), labSel, labInfo)),
    field(t('opens_at'), opens, t('opens_help')),
    field(t('due_at'), due),
    field(t('attempt_limit'), attempts, t('attempt_limit_help')),
    field(t('score_policy'), policy, t('score_policy_help')),
    h('div', { class: 'actions' }, btn), msg));
  }

  // ---- gradebook

  async function gradebookTab(alive, cls, body) {
    const gb = await api('GET', `/api/classes/${cls.id}/gradebook`);
    if (!alive()) return;
    const assignments = gb.assignments || [];
    const editor = h('div', { class: 'override-editor', hidden: true, testid: 'override-editor' });
    const downloads = h('div', { class: 'actions' },
      h('a', { class: 'btn btn-ghost', href: `/api/classes/${cls.id}/gradebook.csv`, download: '', testid: 'gradebook-csv' }, t('download_csv')),
      h('a', { class: 'btn btn-ghost', href: `/api/classes/${cls.id}/gradebook.xlsx`, download: '', testid: 'gradebook-xlsx' }, t('download_xlsx')));
    if (!assignments.length || !(gb.students || []).length) {
      clear(body, card(t('tab_gradebook'), empty(!assignments.length ? t('assignments_empty') : t('roster_empty'), 'gradebook-empty'), downloads));
      return;
    }
    const aid = (a) => a.id ?? a.assignment_id;
    const students = [...gb.students].sort((a, b) => String(a.student_number).localeCompare(String(b.student_number), undefined, { numeric: true }));
    const rows = students.map((s) => {
      const byA = new Map((s.grades || []).map((g) => [g.assignment_id, g]));
      return h('tr', { testid: 'gradebook-row', 'data-student': s.id },
        h('td', null, s.student_number ?? ''),
        h('th', { scope: 'row' }, h('a', { href: `#/classes/${cls.id}/students/${s.id}`, testid: 'gradebook-student-link' }, s.display_name)),
        assignments.map((a) => {
          const g = byA.get(aid(a)) || { assignment_id: aid(a), score: null, attempts: 0, override: null };
          const ov = overrideOf(g);
          const cellBtn = h('button', {
            type: 'button', class: `grade-cell${ov ? ' overridden' : ''}${g.score === null || g.score === undefined ? ' none' : ''}`,
            testid: 'grade-cell', 'data-assignment': aid(a), 'data-student': s.id, 'data-score': g.score ?? '',
            title: ov && ov.comment ? `${t('override')}: ${ov.comment}` : t('edit_grade'),
            onclick: () => openOverride(cls, a, s, g, editor, () => gradebookTab(alive, cls, body)),
          }, h('span', { class: 'score' }, fmtScore(g.score)),
          ov ? h('span', { class: 'mark', 'aria-label': t('override') }, '✎') : null,
          h('span', { class: 'attempts' }, t('attempts_n', { n: g.attempts ?? 0 })));
          return h('td', null, cellBtn);
        }));
    });
    clear(body, card(t('tab_gradebook'),
      h('p', { class: 'muted' }, t('gradebook_help')),
      table([t('student_number'), t('display_name'), ...assignments.map((a) => h('span', { class: 'gb-head' },
        h('a', { href: `#/assignments/${aid(a)}` }, loc(a.title) || a.lab_id),
        a.max_score !== undefined && a.max_score !== null ? h('span', { class: 'muted small' }, t('max_score_n', { n: fmtScore(a.max_score) })) : null))],
        rows, { testid: 'gradebook', class: 'data gradebook' }),
      editor, downloads));
  }

  function overrideOf(g) {
    const o = g.override;
    if (o === null || o === undefined || o === false) return null;
    if (typeof o === 'number') return { score: o, comment: '' };
    return o;
  }

  function openOverride(cls, a, s, g, editor, reload) {
    const ov = overrideOf(g);
    const score = h('input', { type: 'number', step: 'any', min: 0, required: true, testid: 'override-score', value: ov ? String(ov.score) : g.score ?? '' });
    const comment = h('input', { type: 'text', maxlength: 500, testid: 'override-comment', value: ov ? ov.comment || '' : '' });
    const msg = h('div', { 'aria-live': 'polite' });
    const aid = a.id ?? a.assignment_id;
    const save = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'override-save' }, t('save'));
    const remove = ov ? h('button', {
      class: 'btn btn-danger', type: 'button', testid: 'override-remove',
      onclick: async () => {
        try {
          await api('DELETE', `/api/assignments/${aid}/overrides/${s.id}`);
          reload();
        } catch (e) {
          clear(msg, errorBox(e));
        }
      },
    }, t('override_remove')) : null;
    clear(editor, h('form', {
      class: 'form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        clear(msg);
        const value = Number(score.value);
        if (score.value === '' || Number.isNaN(value) || value < 0) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert' }, t('score_invalid')));
        save.disabled = true;
        try {
          await api('PUT', `/api/assignments/${aid}/overrides/${s.id}`, { score: value, comment: comment.value.trim() });
          reload();
        } catch (e) {
          clear(msg, errorBox(e));
          save.disabled = false;
        }
      },
    },
    h('h3', null, `${s.display_name} · ${loc(a.title) || a.lab_id}`),
    h('p', { class: 'muted' }, `${t('auto_score')}: ${fmtScore(g.auto_score)} · ${t('attempts')}: ${g.attempts ?? 0}`),
    h('div', { class: 'grid-form' }, field(t('override_score'), score), field(t('comment'), comment)),
    h('div', { class: 'actions' }, save, remove,
      h('button', { class: 'btn btn-ghost', type: 'button', onclick: () => { editor.hidden = true; } }, t('cancel'))),
    msg));
    editor.hidden = false;
    editor.scrollIntoView({ block: 'nearest' });
    score.focus();
  }

  // ---- one student's work (teacher)

  async function studentWorkPage(alive, classId, studentId) {
    setPage(t('student_work'), loading());
    const [cls, { assignments }] = await Promise.all([api('GET', `/api/classes/${classId}`), api('GET', `/api/classes/${classId}/assignments`)]);
    const student = (cls.roster || []).find((s) => String(s.id) === String(studentId));
    const lists = await Promise.all(assignments.map((a) => api('GET', `/api/assignments/${a.id}/submissions`)
      .then((r) => r.submissions.filter((s) => String(s.student_id) === String(studentId)))
      .catch(() => [])));
    if (!alive()) return;
    const name = student ? student.display_name : `#${studentId}`;
    setPage(name,
      h('p', { class: 'crumbs' }, h('a', { href: '#/classes' }, t('nav_classes')), ' › ', h('a', { href: `#/classes/${classId}/gradebook` }, cls.name), ' › '),
      h('h1', { testid: 'student-title' }, name, student ? h('span', { class: 'muted small' }, ` ${student.student_number ?? ''} · ${student.username}`) : null),
      assignments.length ? assignments.map((a, i) => card(loc(a.title) || a.lab_id, submissionsTable(lists[i], 'student-submissions')))
        : card(null, empty(t('assignments_empty'))));
  }

  function submissionsTable(subs, testid, names) {
    if (!subs.length) return empty(t('submissions_empty'), `${testid}-empty`);
    const sorted = [...subs].sort((a, b) => b.submitted_at - a.submitted_at || b.id - a.id);
    const headers = [...(names ? [t('display_name')] : []), t('submitted_at'), t('language'), t('status'), t('score'), ''];
    return table(headers, sorted.map((s) => h('tr', { testid: 'submission-row', 'data-id': s.id },
      names ? h('td', null, names.get(String(s.student_id)) || s.student_name || `#${s.student_id}`) : null,
      h('td', null, fmtTime(s.submitted_at)),
      h('td', null, langLabel(s.language)),
      h('td', null, statusBadge(s.status)),
      h('td', { class: 'num' }, s.status === 'done' ? `${fmtScore(s.score)} / ${fmtScore(s.max_score)}` : '—'),
      h('td', null, h('a', { href: `#/submissions/${s.id}`, testid: 'submission-link' }, t('view'))))), { testid });
  }

  const langLabel = (l) => ({ rhai: 'Rhai', wasm: 'WebAssembly (WAT)', wat: 'WebAssembly (WAT)', 'wasm-base64': 'WebAssembly (.wasm)' }[l] || l);

  // ---------------------------------------------------------------- assignments

  async function myAssignmentsPage(alive) {
    setPage(t('nav_my_assignments'), loading());
    const { assignments } = await api('GET', '/api/assignments');
    if (!alive()) return;
    const open = assignments.filter((a) => a.due_at >= now()).sort((a, b) => a.due_at - b.due_at);
    const closed = assignments.filter((a) => a.due_at < now()).sort((a, b) => b.due_at - a.due_at);
    const item = (a) => h('li', { class: 'assignment-card', testid: 'assignment-item' },
      h('a', { href: `#/assignments/${a.id}`, testid: 'assignment-link', 'data-lab': a.lab_id }, h('span', { class: 'title' }, loc(a.title) || a.lab_id)),
      h('div', { class: 'meta' },
        h('span', null, `${t('due_at')}: ${fmtTime(a.due_at)}`),
        a.due_at < now() ? badge(t('closed'), 'wait') : a.opens_at && a.opens_at > now() ? badge(t('not_open_yet'), 'wait') : null,
        h('span', { testid: 'assignment-attempts' }, `${t('attempts')}: ${a.attempts_used ?? 0} / ${a.attempt_limit}`),
        h('span', { class: 'score-pill', testid: 'assignment-score' }, `${t('score')}: ${fmtScore(a.score)}`)));
    setPage(t('nav_my_assignments'),
      h('h1', null, t('nav_my_assignments')),
      assignments.length ? null : card(null, empty(t('my_assignments_empty'), 'my-assignments-empty')),
      open.length ? card(t('assignments_open'), h('ul', { class: 'assignment-list', testid: 'open-assignments' }, open.map(item))) : null,
      closed.length ? card(t('assignments_closed'), h('ul', { class: 'assignment-list', testid: 'closed-assignments' }, closed.map(item))) : null);
  }

  async function assignmentPage(alive, id) {
    setPage(t('assignment'), loading());
    const a = await api('GET', `/api/assignments/${id}`);
    if (!alive()) return;
    if (state.me.role === 'student') return studentAssignment(alive, a);
    return staffAssignment(alive, a);
  }

  /** Lab instructions (Markdown-ish): paragraphs, headings, lists, ``` blocks, `code` and **bold**, built as DOM. */
  function instructions(text) {
    const box = h('div', { class: 'instructions', testid: 'instructions' });
    const cjk = /[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]/;
    const inline = (s) => s.split(/(`[^`]+`|\*\*[^*]+\*\*)/).map((part) => {
      if (part.length > 2 && part.startsWith('`') && part.endsWith('`')) return h('code', null, part.slice(1, -1));
      if (part.length > 4 && part.startsWith('**') && part.endsWith('**')) return h('strong', null, part.slice(2, -2));
      return part;
    });
    // Hard-wrapped lines join with a space, except between Chinese characters.
    const joinLines = (lines) => lines.map((l) => l.trim()).reduce((acc, l) => {
      if (!acc) return l;
      return cjk.test(acc.slice(-1)) || cjk.test(l[0] || '') ? acc + l : `${acc} ${l}`;
    }, '');
    let para = [];
    let list = null;
    let listType = 'ul';
    let fence = null;
    const flushPara = () => {
      if (para.length) box.appendChild(h('p', null, inline(joinLines(para))));
      para = [];
    };
    const flushList = () => {
      if (list) box.appendChild(h(listType, null, list.map((li) => h('li', null, inline(li)))));
      list = null;
    };
    for (const line of String(text || '').replace(/\r\n?/g, '\n').split('\n')) {
      if (fence) {
        if (line.trim().startsWith('```')) {
          box.appendChild(h('pre', { class: 'code-block' }, fence.join('\n')));
          fence = null;
        } else {
          fence.push(line);
        }
        continue;
      }
      if (line.trim().startsWith('```')) {
        flushPara();
        flushList();
        fence = [];
        continue;
      }
      if (!line.trim()) {
        flushPara();
        flushList();
        continue;
      }
      const heading = line.match(/^(#{1,4})\s+(.*)$/);
      if (heading) {
        flushPara();
        flushList();
        box.appendChild(h(`h${Math.min(heading[1].length + 2, 6)}`, null, inline(heading[2])));
        continue;
      }
      const item = line.match(/^\s*(?:([-*•])|\d+[.)、])\s+(.*)$/);
      if (item) {
        flushPara();
        const type = item[1] ? 'ul' : 'ol';
        if (list && listType !== type) flushList();
        if (!list) {
          list = [];
          listType = type;
        }
        list.push(item[2]);
        continue;
      }
      if (list && /^\s{2,}\S/.test(line)) {
        list[list.length - 1] = joinLines([list[list.length - 1], line]);
        continue;
      }
      flushList();
      para.push(line);
    }
    if (fence) box.appendChild(h('pre', { class: 'code-block' }, fence.join('\n')));
    flushPara();
    flushList();
    return box;
  }

  function assignmentFacts(a) {
    return h('dl', { class: 'facts', testid: 'assignment-facts' },
      h('div', null, h('dt', null, t('class')), h('dd', null, a.class_name || '—')),
      h('div', null, h('dt', null, t('due_at')), h('dd', null, fmtTime(a.due_at), a.due_at < now() ? [' ', badge(t('closed'), 'wait')] : null)),
      a.attempts_used !== undefined ? h('div', null, h('dt', null, t('attempts')), h('dd', { testid: 'attempts-used' }, `${a.attempts_used} / ${a.attempt_limit}`))
        : h('div', null, h('dt', null, t('attempt_limit')), h('dd', null, String(a.attempt_limit))),
      h('div', null, h('dt', null, t('score_policy')), h('dd', null, t('policy_' + a.score_policy))),
      a.score !== undefined ? h('div', null, h('dt', null, t('score')), h('dd', { testid: 'assignment-best-score' }, fmtScore(a.score))) : null);
  }

  async function staffAssignment(alive, a) {
    const [{ submissions }, cls] = await Promise.all([
      api('GET', `/api/assignments/${a.id}/submissions`),
      api('GET', `/api/classes/${a.class_id}`).catch(() => ({ roster: [] })),
    ]);
    if (!alive()) return;
    const names = new Map((cls.roster || []).map((s) => [String(s.id), s.display_name]));
    const lab = a.lab || {};
    setPage(loc(a.title) || a.lab_id,
      h('p', { class: 'crumbs' }, h('a', { href: '#/classes' }, t('nav_classes')), ' › ', h('a', { href: `#/classes/${a.class_id}/assignments` }, a.class_name || cls.name || ''), ' › '),
      h('h1', { testid: 'assignment-title' }, loc(a.title) || a.lab_id),
      assignmentFacts(a),
      card(t('all_submissions'), submissionsTable(submissions, 'assignment-submissions', names)),
      h('details', { class: 'card' }, h('summary', null, h('strong', null, t('instructions'))), instructions(loc(lab.instructions))));
  }

  function studentAssignment(alive, a) {
    const lab = a.lab || {};
    const langs = (lab.languages && lab.languages.length ? lab.languages : ['rhai']);
    const starter = lab.starter || {};
    const starterFor = (l) => starter[l] ?? '';
    const draftKey = (l) => `qiming.draft.${state.me.id}.${a.id}.${l}`;
    const readDraft = (l) => {
      try { return localStorage.getItem(draftKey(l)); } catch (_) { return null; }
    };
    const langSel = h('select', { testid: 'language' }, langs.map((l) => h('option', { value: l }, langLabel(l))));
    // The last submitted program comes from the server, so it follows the
    // student to any computer; a local draft (newer typing) wins over it.
    const last = a.last_program && a.last_program.encoding === 'text' ? a.last_program : null;
    let lang = last && langs.includes(last.language) ? last.language : langs[0];
    langSel.value = lang;
    const lastFor = (l) => (last && last.language === l ? last.program : null);
    const editor = codeEditor(readDraft(lang) ?? lastFor(lang) ?? starterFor(lang), (value) => {
      try { localStorage.setItem(draftKey(lang), value); } catch (_) { /* private mode */ }
    });
    langSel.addEventListener('change', () => {
      lang = langSel.value;
      editor.setValue(readDraft(lang) ?? lastFor(lang) ?? starterFor(lang));
    });
    const loadLastBtn = last ? h('button', {
      class: 'btn btn-ghost', type: 'button', testid: 'load-last',
      onclick: () => {
        lang = last.language;
        langSel.value = lang;
        editor.setValue(last.program);
      },
    }, t('load_last_submitted')) : null;
    const resetBtn = h('button', {
      class: 'btn btn-ghost', type: 'button', testid: 'reset-starter',
      onclick: () => {
        if (!confirm(t('reset_starter_confirm'))) return;
        editor.setValue(starterFor(lang));
        try { localStorage.removeItem(draftKey(lang)); } catch (_) { /* ignore */ }
      },
    }, t('reset_starter'));
    const submitBtn = h('button', { class: 'btn btn-primary btn-big', type: 'button', testid: 'submit' }, t('submit'));
    const testBtn = h('button', { class: 'btn btn-big', type: 'button', testid: 'test-run', title: t('test_run_help') }, t('test_run'));
    const result = h('div', { class: 'result', testid: 'result', 'aria-live': 'polite' });
    const facts = h('div', null, assignmentFacts(a));
    const history = h('div', null, submissionsTable(a.submissions || [], 'my-submissions'));
    let es = null;
    onCleanup(() => es && es.close());

    const refresh = async () => {
      try {
        const fresh = await api('GET', `/api/assignments/${a.id}`);
        if (!alive()) return;
        Object.assign(a, fresh);
        clear(facts, assignmentFacts(a));
        clear(history, submissionsTable(a.submissions || [], 'my-submissions'));
        updateSubmit();
      } catch (_) { /* keep what we show */ }
    };
    const updateSubmit = () => {
      const used = a.attempts_used ?? 0;
      const over = used >= a.attempt_limit;
      const closed = a.due_at < now() || (a.opens_at && a.opens_at > now());
      submitBtn.disabled = Boolean(over || closed || es);
      submitBtn.title = over ? t('no_attempts_left') : closed ? t('not_open') : '';
    };

    const showLive = (sub) => {
      clear(result, h('div', { class: 'live', testid: 'live-status', 'data-status': sub.status },
        statusBadge(sub.status), ' ', sub.status === 'queued' ? t('live_queued') : sub.status === 'running' ? t('live_running') : ''));
    };

    const finish = async (sub) => {
      if (es) {
        es.close();
        es = null;
      }
      if (sub.status === 'failed') {
        clear(result, h('div', { class: 'alert alert-error', role: 'alert', testid: 'result-failed' }, t('live_failed')),
          h('p', null, h('a', { href: `#/submissions/${sub.id}` }, t('view_details'))));
      } else {
        let full = sub;
        try {
          full = await api('GET', `/api/submissions/${sub.id}`);
        } catch (_) { /* show what we have */ }
        if (!alive()) return;
        clear(result, scoreHeader(full, 'result-score'),
          full.report ? renderReport(full.report, null) : null,
          h('p', null, h('a', { href: `#/submissions/${full.id}`, class: 'btn btn-ghost', testid: 'view-submission' }, t('view_details_replay'))));
      }
      await refresh();
    };

    const follow = (sub) => {
      showLive(sub);
      if (sub.status === 'done' || sub.status === 'failed') return finish(sub);
      let finished = false;
      es = new EventSource(`/api/submissions/${sub.id}/events`);
      es.addEventListener('status', (ev) => {
        let s;
        try { s = JSON.parse(ev.data); } catch (_) { return; }
        if (finished || !alive()) return;
        if (s.status === 'done' || s.status === 'failed') {
          finished = true;
          finish(s);
        } else {
          showLive(s);
        }
      });
      es.onerror = async () => {
        // The stream ends after done/failed; if it broke earlier, ask once.
        if (finished || !es) return;
        try {
          const s = await api('GET', `/api/submissions/${sub.id}`);
          if (!finished && (s.status === 'done' || s.status === 'failed')) {
            finished = true;
            finish(s);
          }
        } catch (_) { /* EventSource retries by itself */ }
      };
    };

    // Test before submitting: the visible cases, graded now, no attempt spent.
    testBtn.addEventListener('click', async () => {
      const program = editor.value();
      clear(result);
      if (!program.trim()) return clear(result, h('div', { class: 'alert alert-error', role: 'alert' }, t('program_empty')));
      testBtn.disabled = true;
      clear(result, h('div', { class: 'live', testid: 'test-running' }, t('test_running')));
      try {
        const report = await api('POST', `/api/assignments/${a.id}/test`, { language: lang, program });
        if (!alive()) return;
        clear(result, h('div', { class: 'alert alert-info', testid: 'test-result' }, t('test_result_note', { n: String(report.hidden_cases || 0) })),
          renderReport(report, null));
      } catch (e) {
        clear(result, errorBox(e, 'test-error'));
      } finally {
        testBtn.disabled = false;
      }
    });

    submitBtn.addEventListener('click', async () => {
      const program = editor.value();
      clear(result);
      if (!program.trim()) return clear(result, h('div', { class: 'alert alert-error', role: 'alert' }, t('program_empty')));
      if (new TextEncoder().encode(program).length > MAX_PROGRAM_BYTES) return clear(result, h('div', { class: 'alert alert-error', role: 'alert' }, t('program_too_big')));
      submitBtn.disabled = true;
      try {
        const sub = await api('POST', `/api/assignments/${a.id}/submissions`, { language: lang, program });
        follow(sub);
        result.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
        refresh();
      } catch (e) {
        clear(result, errorBox(e, 'submit-error'));
      } finally {
        updateSubmit();
      }
    });
    updateSubmit();

    setPage(loc(a.title) || a.lab_id,
      h('p', { class: 'crumbs' }, h('a', { href: '#/assignments' }, t('nav_my_assignments')), ' › '),
      h('h1', { testid: 'assignment-title' }, loc(a.title) || a.lab_id),
      facts,
      h('div', { class: 'work' },
        h('div', { class: 'work-instructions' }, card(t('instructions'), instructions(loc(lab.instructions)))),
        h('div', { class: 'work-editor' },
          card(t('my_program'),
            h('div', { class: 'editor-bar' }, field(t('language'), langSel), resetBtn, loadLastBtn),
            editor.el,
            h('p', { class: 'field-help' }, t('editor_help')),
            h('div', { class: 'actions' }, testBtn, submitBtn))),
        h('div', { class: 'work-result' }, card(t('result'), result))),
      card(t('my_submissions'), history));

    const pending = (a.submissions || []).find((s) => s.status === 'queued' || s.status === 'running');
    if (pending) follow(pending);
  }

  /** A textarea with a line-number gutter; Tab inserts four spaces, Enter keeps the indent. */
  function codeEditor(initial, onChange) {
    const gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
    const ta = h('textarea', {
      class: 'code', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', autocorrect: 'off',
      wrap: 'off', testid: 'code-editor', 'aria-label': t('my_program'),
    });
    ta.value = initial || '';
    let lines = 0;
    const numbers = () => {
      const n = ta.value.split('\n').length;
      if (n !== lines) {
        lines = n;
        gutter.textContent = Array.from({ length: n }, (_, i) => i + 1).join('\n') + '\n';
      }
      gutter.scrollTop = ta.scrollTop;
    };
    const insert = (text) => {
      ta.focus();
      if (!document.execCommand || !document.execCommand('insertText', false, text)) {
        ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, 'end');
        ta.dispatchEvent(new Event('input'));
      }
    };
    ta.addEventListener('input', () => {
      numbers();
      onChange(ta.value);
    });
    ta.addEventListener('scroll', () => { gutter.scrollTop = ta.scrollTop; });
    ta.addEventListener('keydown', (ev) => {
      if (ev.isComposing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === 'Tab' && !ev.shiftKey) {
        ev.preventDefault();
        insert('    ');
      } else if (ev.key === 'Tab' && ev.shiftKey) {
        ev.preventDefault();
        const start = ta.value.lastIndexOf('\n', ta.selectionStart - 1) + 1;
        const m = ta.value.slice(start).match(/^ {1,4}/);
        if (m) {
          const caret = ta.selectionStart;
          ta.setSelectionRange(start, start + m[0].length);
          insert('');
          ta.setSelectionRange(Math.max(start, caret - m[0].length), Math.max(start, caret - m[0].length));
        }
      } else if (ev.key === 'Enter') {
        const start = ta.value.lastIndexOf('\n', ta.selectionStart - 1) + 1;
        const line = ta.value.slice(start, ta.selectionStart);
        const indent = line.match(/^[ \t]*/)[0] + (/[{(\[]\s*$/.test(line) ? '    ' : '');
        ev.preventDefault();
        insert('\n' + indent);
      } else if (ev.key === 'Escape') {
        ta.blur();
      }
    });
    numbers();
    return {
      el: h('div', { class: 'editor' }, gutter, ta),
      value: () => ta.value,
      setValue: (v) => {
        ta.value = v;
        numbers();
      },
    };
  }

  // ---------------------------------------------------------------- submissions

  function scoreHeader(sub, testid) {
    const full = sub.status === 'done' && sub.score !== null && sub.score !== undefined && Number(sub.score) >= Number(sub.max_score);
    return h('div', {
      class: `score-big${full ? ' full' : ''}`, testid, 'data-status': sub.status,
      'data-score': sub.score ?? '', 'data-max-score': sub.max_score ?? '',
    },
    h('span', { class: 'label' }, t('score')),
    h('span', { class: 'value' }, fmtScore(sub.score)),
    h('span', { class: 'max' }, ` / ${fmtScore(sub.max_score)}`),
    full ? h('span', { class: 'cheer' }, t('full_marks')) : null);
  }

  /** The grade report: every case with its feedback; hidden cases show only name, passed and score. */
  function renderReport(report, submissionId) {
    const cases = report.cases || [];
    const firstHidden = cases.find((c) => c.hidden);
    return h('div', { class: 'report', testid: 'report' }, cases.map((c) => {
      const checks = c.checks || [];
      const run = c.run;
      const err = run && run.error;
      return h('article', { class: `case ${c.passed ? 'passed' : 'failed'}`, testid: 'case', 'data-case': c.name, 'data-passed': String(Boolean(c.passed)) },
        h('header', null,
          h('span', { class: 'icon', 'aria-hidden': 'true' }, c.passed ? '✓' : '✗'),
          h('strong', { class: 'case-name' }, c.name),
          c.hidden ? badge(t('hidden_case'), 'wait') : null,
          h('span', { class: 'sr-only' }, c.passed ? t('passed') : t('not_passed')),
          h('span', { class: 'case-score', testid: 'case-score' }, `${fmtScore(c.score)} / ${fmtScore(c.max_score)}`)),
        c === firstHidden ? h('p', { class: 'muted small' }, t('hidden_case_help')) : null,
        (c.feedback || []).length ? h('ul', { class: 'feedback' }, c.feedback.map((f) => h('li', { testid: 'feedback' }, loc(f)))) : null,
        checks.length ? h('details', { class: 'check-details' }, h('summary', null, t('check_details', { n: checks.filter((k) => k.passed).length, total: checks.length })),
          h('ul', { class: 'checks' }, checks.map((k) => h('li', { class: k.passed ? 'ok' : 'bad' },
            h('span', { class: 'icon', 'aria-hidden': 'true' }, k.passed ? '✓' : '✗'), ' ',
            loc(k.feedback),
            k.max_score ? h('span', { class: 'muted small' }, ` (${fmtScore(k.score)} / ${fmtScore(k.max_score)})`) : null,
            k.hint && !k.passed ? h('div', { class: 'hint', testid: 'hint' }, `${t('hint')}: `, loc(k.hint)) : null)))) : null,
        err ? h('div', { class: 'alert alert-error run-error' },
          h('strong', null, t('program_error')), ' ',
          err.line ? `${t('line_n', { n: err.line })}${err.column ? `:${err.column}` : ''} ` : '',
          h('code', null, err.message || err.kind)) : null,
        run && run.limit ? h('p', { class: 'muted' }, `${t('limit_hit')}: ${run.limit}`) : null,
        run && run.output ? h('details', null, h('summary', null, t('program_output')), h('pre', { class: 'output' }, run.output)) : null,
        submissionId && !c.hidden ? replaySlot(submissionId, c.name) : null);
    }));
  }

  async function submissionPage(alive, id) {
    setPage(t('submission'), loading());
    const sub = await api('GET', `/api/submissions/${id}`);
    let a = null;
    try {
      a = await api('GET', `/api/assignments/${sub.assignment_id}`);
    } catch (_) { /* title is optional */ }
    let studentName = null;
    if (STAFF.includes(state.me.role) && a) {
      try {
        const cls = await api('GET', `/api/classes/${a.class_id}`);
        const s = (cls.roster || []).find((r) => String(r.id) === String(sub.student_id));
        if (s) studentName = `${s.display_name} (${s.student_number ?? s.username})`;
      } catch (_) { /* name is optional */ }
    }
    if (!alive()) return;
    const title = a ? loc(a.title) || a.lab_id : t('submission');
    const back = state.me.role === 'student'
      ? h('a', { href: `#/assignments/${sub.assignment_id}` }, title)
      : a ? h('a', { href: `#/classes/${a.class_id}/students/${sub.student_id}` }, studentName || t('student_work')) : null;
    const body = h('div');
    const render = (s) => {
      clear(body,
        h('dl', { class: 'facts' },
          studentName ? h('div', null, h('dt', null, t('student')), h('dd', { testid: 'submission-student' }, studentName)) : null,
          h('div', null, h('dt', null, t('status')), h('dd', { testid: 'submission-status', 'data-status': s.status }, statusBadge(s.status))),
          h('div', null, h('dt', null, t('submitted_at')), h('dd', null, fmtTime(s.submitted_at))),
          h('div', null, h('dt', null, t('graded_at')), h('dd', null, fmtTime(s.graded_at))),
          h('div', null, h('dt', null, t('language')), h('dd', null, langLabel(s.language)))),
        s.status === 'done' ? scoreHeader(s, 'submission-score') : null,
        s.status === 'failed' ? h('div', { class: 'alert alert-error', role: 'alert' }, t('live_failed')) : null,
        s.status === 'queued' || s.status === 'running' ? h('p', { class: 'live' }, statusBadge(s.status), ' ', t(s.status === 'queued' ? 'live_queued' : 'live_running')) : null,
        s.report ? card(t('results'), renderReport(s.report, s.id)) : null,
        card(t('program'), programView(s.program || '')));
    };
    setPage(title,
      h('p', { class: 'crumbs' }, back, back ? ' › ' : null),
      h('h1', null, title, h('span', { class: 'muted small' }, ` · ${t('submission')} #${sub.id}`)),
      body);
    render(sub);
    if (sub.status === 'queued' || sub.status === 'running') {
      const es = new EventSource(`/api/submissions/${sub.id}/events`);
      onCleanup(() => es.close());
      es.addEventListener('status', async (ev) => {
        let s;
        try { s = JSON.parse(ev.data); } catch (_) { return; }
        if (s.status === 'done' || s.status === 'failed') {
          es.close();
          try {
            const full = await api('GET', `/api/submissions/${sub.id}`);
            if (alive()) render(full);
          } catch (_) { /* keep */ }
        } else if (alive()) {
          render(Object.assign({}, sub, s));
        }
      });
    }
  }

  function programView(text) {
    const lines = text.split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    return h('div', { class: 'program', testid: 'program' },
      h('pre', { class: 'gutter', 'aria-hidden': 'true' }, lines.map((_, i) => i + 1).join('\n')),
      h('pre', { class: 'program-text' }, lines.join('\n')));
  }

  // ---------------------------------------------------------------- replay player

  const PALETTE = {
    white: '#ffffff', black: '#141414', red: '#dc2828', green: '#28aa46', blue: '#285adc', yellow: '#f5d228',
    orange: '#f58c1e', purple: '#8c3cb4', gray: '#808080', grey: '#808080', brown: '#8c5a32', cyan: '#28c8dc', pink: '#f596be',
  };

  function replaySlot(submissionId, caseName) {
    const slot = h('div', { class: 'replay', testid: 'replay', 'data-case': caseName }, h('p', { class: 'muted' }, t('replay_loading')));
    api('GET', `/api/submissions/${submissionId}/replays/${encodeURIComponent(caseName)}`)
      .then((data) => clear(slot, replayPlayer(data.world || {}, data.replay || {})))
      .catch((e) => clear(slot, h('p', { class: 'muted', testid: 'replay-missing' }, `${t('replay_missing')} (${errText(e)})`)));
    return slot;
  }

  function replayPlayer(world, replay) {
    const frames = replay.frames || [];
    const hz = replay.tick_hz || 60;
    const [aw, ah] = world.arena_size || [2, 2];
    const robotR = world.robot_radius || replay.robot_radius || 0.08;
    const events = replay.events || [];
    const last = Math.max(0, frames.length - 1);
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const cssW = 800;
    const scale = cssW / aw;
    const cssH = Math.round(ah * scale);
    const canvas = h('canvas', {
      class: 'replay-canvas', testid: 'replay-canvas', width: Math.round(cssW * dpr), height: Math.round(cssH * dpr),
      'data-frames': frames.length, role: 'img', 'aria-label': t('replay'),
    });
    const ctx = canvas.getContext('2d');
    let frame = 0;
    let playing = false;
    let speed = 1;
    let raf = 0;
    let lastTs = 0;
    let clock = 0;

    const slider = h('input', { type: 'range', min: 0, max: last, step: 1, value: '0', testid: 'replay-slider', 'aria-label': t('replay_time') });
    const timeLabel = h('span', { class: 'replay-time', testid: 'replay-time' });
    const playBtn = h('button', { class: 'btn btn-small', type: 'button', testid: 'replay-play' });
    const speedBtn = h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'replay-speed' });

    const shapePath = (s) => {
      ctx.beginPath();
      if (s.kind === 'circle') {
        ctx.arc(s.center[0], s.center[1], s.radius, 0, Math.PI * 2);
      } else if (s.kind === 'polygon') {
        (s.points || []).forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.closePath();
      } else if (s.kind === 'box') {
        const [cx, cy] = s.center;
        const [hx, hy] = s.half_extents;
        const c = Math.cos(s.angle || 0);
        const sn = Math.sin(s.angle || 0);
        [[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]].forEach(([x, y], i) => {
          const px = cx + x * c - y * sn;
          const py = cy + x * sn + y * c;
          if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
        });
        ctx.closePath();
      }
    };
    const strokeSeg = (s, color, alpha) => {
      ctx.save();
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = color;
      ctx.lineCap = 'round';
      ctx.lineWidth = 2 * (s.half_width || 0.01);
      ctx.beginPath();
      ctx.moveTo(s.a[0], s.a[1]);
      ctx.lineTo(s.b[0], s.b[1]);
      ctx.stroke();
      ctx.restore();
    };
    const centerOf = (s) => {
      if (s.center) return s.center;
      if (s.kind === 'stroke') return [(s.a[0] + s.b[0]) / 2, (s.a[1] + s.b[1]) / 2];
      const pts = s.points || [[0, 0]];
      return [pts.reduce((m, p) => m + p[0], 0) / pts.length, pts.reduce((m, p) => m + p[1], 0) / pts.length];
    };
    const label = (text, [x, y], color) => {
      ctx.save();
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.font = '13px system-ui, sans-serif';
      ctx.fillStyle = color;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(text, x * scale, cssH - y * scale);
      ctx.restore();
    };

    function draw() {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = world.floor && world.floor !== 'white' ? PALETTE[world.floor] || '#fbfaf6' : '#fbfaf6';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      // world coordinates: metres, y up
      ctx.setTransform(scale * dpr, 0, 0, -scale * dpr, 0, cssH * dpr);
      const px = 1 / scale;
      ctx.strokeStyle = '#e6e2d8';
      ctx.lineWidth = px;
      for (let x = 0; x <= aw + 1e-9; x += 0.5) { ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, ah); ctx.stroke(); }
      for (let y = 0; y <= ah + 1e-9; y += 0.5) { ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(aw, y); ctx.stroke(); }
      for (const p of world.paint || []) {
        const color = PALETTE[p.color] || p.color || '#999';
        if (p.kind === 'stroke') strokeSeg(p, color, 1);
        else {
          shapePath(p);
          ctx.fillStyle = color;
          ctx.fill();
        }
      }
      for (const l of world.lines || []) {
        const pts = l.points || [];
        if (!pts.length) continue;
        ctx.beginPath();
        pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        if (l.closed) ctx.closePath();
        ctx.strokeStyle = '#141414';
        ctx.lineWidth = l.width || 0.02;
        ctx.lineJoin = 'round';
        ctx.lineCap = 'round';
        ctx.stroke();
      }
      for (const z of world.zones || []) {
        ctx.save();
        ctx.setLineDash([4 * px, 3 * px]);
        if (z.kind === 'stroke') strokeSeg(z, '#2a9d8f', 0.25);
        else {
          shapePath(z);
          ctx.fillStyle = 'rgba(42,157,143,0.15)';
          ctx.fill();
          ctx.strokeStyle = '#2a9d8f';
          ctx.lineWidth = 1.5 * px;
          ctx.stroke();
        }
        ctx.restore();
      }
      for (const c of world.checkpoints || []) {
        ctx.save();
        ctx.setLineDash([4 * px, 3 * px]);
        ctx.beginPath();
        ctx.arc(c.center[0], c.center[1], c.radius, 0, Math.PI * 2);
        ctx.strokeStyle = '#e67e22';
        ctx.lineWidth = 2 * px;
        ctx.stroke();
        ctx.restore();
      }
      for (const s of world.solids || []) {
        shapePath(s);
        ctx.fillStyle = s.color && s.color !== 'gray' && s.color !== 'grey' ? PALETTE[s.color] || '#4a5568' : '#4a5568';
        ctx.fill();
      }
      ctx.strokeStyle = '#2d3748';
      ctx.lineWidth = 2 * px;
      ctx.strokeRect(0, 0, aw, ah);
      // the whole path, faint; then the part driven so far
      if (frames.length) {
        ctx.save();
        ctx.beginPath();
        frames.forEach((f, i) => (i ? ctx.lineTo(f.pose[0], f.pose[1]) : ctx.moveTo(f.pose[0], f.pose[1])));
        ctx.setLineDash([3 * px, 4 * px]);
        ctx.strokeStyle = 'rgba(37,99,235,0.3)';
        ctx.lineWidth = 1.5 * px;
        ctx.stroke();
        ctx.restore();
        ctx.beginPath();
        for (let i = 0; i <= frame; i++) {
          const [x, y] = frames[i].pose;
          if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        }
        ctx.strokeStyle = 'rgba(37,99,235,0.8)';
        ctx.lineWidth = 2.5 * px;
        ctx.lineJoin = 'round';
        ctx.stroke();
      }
      // contacts so far
      const tick = frame;
      ctx.strokeStyle = '#dc2626';
      ctx.lineWidth = 2.5 * px;
      for (const e of events) {
        if (e.type !== 'contact' || e.tick > tick) continue;
        const d = 5 * px;
        ctx.beginPath();
        ctx.moveTo(e.x - d, e.y - d); ctx.lineTo(e.x + d, e.y + d);
        ctx.moveTo(e.x - d, e.y + d); ctx.lineTo(e.x + d, e.y - d);
        ctx.stroke();
      }
      // robot
      if (frames.length) {
        const [x, y, th] = frames[frame].pose;
        ctx.beginPath();
        ctx.arc(x, y, robotR, 0, Math.PI * 2);
        ctx.fillStyle = '#f6ad55';
        ctx.fill();
        ctx.strokeStyle = '#9c4221';
        ctx.lineWidth = 2 * px;
        ctx.stroke();
        ctx.beginPath();
        ctx.moveTo(x, y);
        ctx.lineTo(x + Math.cos(th) * robotR, y + Math.sin(th) * robotR);
        ctx.strokeStyle = '#1a202c';
        ctx.lineWidth = 3 * px;
        ctx.stroke();
      }
      for (const z of world.zones || []) if (z.name) label(z.name, centerOf(z), '#1f6f66');
      for (const c of world.checkpoints || []) if (c.name) label(c.name, c.center, '#b35a00');
      slider.value = String(frame);
      timeLabel.textContent = `${(frame / hz).toFixed(2)} s / ${(last / hz).toFixed(2)} s`;
      playBtn.textContent = playing ? `■ ${t('pause')}` : `▶ ${t('play')}`;
      speedBtn.textContent = `×${speed}`;
      canvas.dataset.frame = String(frame);
    }

    function step(ts) {
      if (!playing) return;
      if (!canvas.isConnected) {
        playing = false;
        return;
      }
      if (lastTs) clock += ((ts - lastTs) / 1000) * speed;
      lastTs = ts;
      frame = Math.min(last, Math.floor(clock * hz));
      if (frame >= last) playing = false;
      draw();
      if (playing) raf = requestAnimationFrame(step);
    }

    playBtn.addEventListener('click', () => {
      if (playing) {
        playing = false;
        cancelAnimationFrame(raf);
      } else {
        if (frame >= last) frame = 0;
        clock = frame / hz;
        lastTs = 0;
        playing = true;
        raf = requestAnimationFrame(step);
      }
      draw();
    });
    speedBtn.addEventListener('click', () => {
      speed = speed === 1 ? 4 : 1;
      draw();
    });
    slider.addEventListener('input', () => {
      frame = Math.min(last, Math.max(0, Number(slider.value)));
      clock = frame / hz;
      lastTs = 0;
      draw();
    });
    onCleanup(() => {
      playing = false;
      cancelAnimationFrame(raf);
    });
    draw();
    return h('div', { class: 'player' }, canvas,
      h('div', { class: 'player-controls' }, playBtn, slider, speedBtn, timeLabel),
      frames.length ? null : h('p', { class: 'muted' }, t('replay_empty')));
  }

  // ---------------------------------------------------------------- admin

  async function adminPage(alive) {
    setPage(t('nav_admin'), loading());
    const role = state.me.role;
    const platform = role === 'platform_admin';
    const [regions, schools] = await Promise.all([
      api('GET', '/api/regions').then((r) => r.regions).catch(() => null),
      api('GET', '/api/schools').then((r) => r.schools).catch(() => null),
    ]);
    if (!alive()) return;
    const sections = [];
    const regionName = new Map((regions || []).map((r) => [r.id, r.name]));
    if (regions) {
      const rows = regions.map((r) => h('tr', { testid: 'region-row' },
        h('td', null, r.name), h('td', null, t('kind_' + r.kind)), h('td', null, r.parent_id ? regionName.get(r.parent_id) || `#${r.parent_id}` : '—')));
      sections.push(card(t('regions'),
        regions.length ? table([t('name'), t('region_kind'), t('parent_region')], rows, { testid: 'regions-table' }) : empty(t('regions_empty')),
        platform ? regionForm(regions) : null));
    }
    if (schools) {
      const rows = schools.map((s) => h('tr', { testid: 'school-row' },
        h('td', null, s.name), h('td', null, regionName.get(s.region_id) || (s.region_id ? `#${s.region_id}` : '—'))));
      sections.push(card(t('schools'),
        schools.length ? table([t('name'), t('region')], rows, { testid: 'schools-table' }) : empty(t('schools_empty')),
        platform ? schoolForm(regions || []) : null));
    }
    if (ADMINS.includes(role)) sections.push(await usersCard(alive, schools || []));
    if (ADMINS.includes(role)) sections.push(await auditCard(alive));
    if (!alive()) return;
    setPage(t('nav_admin'), h('h1', null, t('nav_admin')), sections);
  }

  function simpleForm(testid, fields, submitLabel, onSubmit) {
    const msg = h('div', { 'aria-live': 'polite' });
    const btn = h('button', { class: 'btn btn-primary', type: 'submit', testid: `${testid}-submit` }, submitLabel);
    const form = h('form', {
      class: 'form grid-form', testid,
      onsubmit: async (ev) => {
        ev.preventDefault();
        clear(msg);
        btn.disabled = true;
        try {
          const after = await onSubmit();
          if (after instanceof Node) clear(msg, after);
        } catch (e) {
          clear(msg, errorBox(e));
        } finally {
          btn.disabled = false;
        }
      },
    }, fields, h('div', { class: 'actions' }, btn), msg);
    return form;
  }

  function regionForm(regions) {
    const name = h('input', { type: 'text', required: true, testid: 'region-name' });
    const kind = h('select', { testid: 'region-kind' }, ['province', 'city', 'district'].map((k) => h('option', { value: k }, t('kind_' + k))));
    const parent = h('select', { testid: 'region-parent' }, h('option', { value: '' }, t('none')), regions.map((r) => h('option', { value: r.id }, r.name)));
    return h('details', { class: 'create' }, h('summary', null, t('region_create')),
      simpleForm('region-form', [field(t('name'), name), field(t('region_kind'), kind), field(t('parent_region'), parent)], t('create'), async () => {
        const body = { name: name.value.trim(), kind: kind.value };
        if (parent.value) body.parent_id = Number(parent.value);
        await api('POST', '/api/regions', body);
        route();
      }));
  }

  function schoolForm(regions) {
    const name = h('input', { type: 'text', required: true, testid: 'school-name' });
    const region = h('select', { required: true, testid: 'school-region' }, h('option', { value: '' }, t('choose')), regions.map((r) => h('option', { value: r.id }, r.name)));
    return h('details', { class: 'create' }, h('summary', null, t('school_create')),
      simpleForm('school-form', [field(t('name'), name), field(t('region'), region)], t('create'), async () => {
        await api('POST', '/api/schools', { name: name.value.trim(), region_id: Number(region.value) });
        route();
      }));
  }

  async function usersCard(alive, schools) {
    const platform = state.me.role === 'platform_admin';
    const schoolName = new Map(schools.map((s) => [s.id, s.name]));
    const roleFilter = h('select', { testid: 'users-role' }, h('option', { value: '' }, t('all_roles')),
      ['platform_admin', 'organiser', 'school_admin', 'teacher', 'student'].map((r) => h('option', { value: r }, roleName(r))));
    const schoolFilter = platform ? h('select', { testid: 'users-school' }, h('option', { value: '' }, t('all_schools')), schools.map((s) => h('option', { value: s.id }, s.name))) : null;
    const listBox = h('div', null, loading());
    const load = async () => {
      const q = new URLSearchParams();
      if (roleFilter.value) q.set('role', roleFilter.value);
      if (schoolFilter && schoolFilter.value) q.set('school_id', schoolFilter.value);
      try {
        const { users } = await api('GET', `/api/users${q.toString() ? `?${q}` : ''}`);
        if (!alive()) return;
        clear(listBox, users.length ? table([t('username'), t('display_name'), t('role'), t('school'), t('state'), t('actions')],
          users.map((u) => userRow(u, schoolName)), { testid: 'users-table' }) : empty(t('users_empty')));
      } catch (e) {
        clear(listBox, errorBox(e));
      }
    };
    roleFilter.addEventListener('change', load);
    if (schoolFilter) schoolFilter.addEventListener('change', load);
    await load();

    const username = h('input', { type: 'text', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', testid: 'user-username' });
    const displayName = h('input', { type: 'text', required: true, testid: 'user-display-name' });
    const roles = platform ? ['teacher', 'school_admin', 'organiser', 'platform_admin'] : ['teacher', 'school_admin'];
    const role = h('select', { testid: 'user-role' }, roles.map((r) => h('option', { value: r }, roleName(r))));
    const school = platform ? h('select', { testid: 'user-school' }, h('option', { value: '' }, t('none')), schools.map((s) => h('option', { value: s.id }, s.name))) : null;
    const form = simpleForm('user-form', [field(t('username'), username, t('username_help')), field(t('display_name'), displayName), field(t('role'), role), school ? field(t('school'), school) : null],
      t('user_create'), async () => {
        const body = { username: username.value.trim(), display_name: displayName.value.trim(), role: role.value };
        if (school && school.value) body.school_id = Number(school.value);
        else if (!platform && state.me.school_id) body.school_id = state.me.school_id;
        const res = await api('POST', '/api/users', body);
        username.value = '';
        displayName.value = '';
        load();
        return h('div', { class: 'alert alert-ok', role: 'status', testid: 'user-created' },
          t('user_created', { name: res.user.display_name, username: res.user.username }),
          res.password ? h('p', null, `${t('initial_password')}: `, h('code', { class: 'secret', testid: 'new-user-password' }, res.password), ' ', h('span', { class: 'muted' }, t('password_once'))) : null);
      });
    return card(t('users'), h('div', { class: 'filters' }, field(t('role'), roleFilter), schoolFilter ? field(t('school'), schoolFilter) : null), listBox,
      h('details', { class: 'create' }, h('summary', null, t('user_create')), form));
  }

  function userRow(u, schoolName) {
    const out = h('div', { class: 'row-result' });
    const reset = async () => {
      if (!confirm(t('reset_confirm', { name: u.display_name }))) return;
      try {
        const { password } = await api('POST', `/api/users/${u.id}/reset-password`);
        clear(out, h('span', { class: 'secret' }, `${t('new_password')}: `, h('code', null, password)));
      } catch (e) {
        clear(out, errorBox(e));
      }
    };
    return h('tr', { testid: 'user-row' },
      h('td', null, h('code', null, u.username)),
      h('td', null, u.display_name),
      h('td', null, roleName(u.role)),
      h('td', null, u.school_id ? schoolName.get(u.school_id) || `#${u.school_id}` : '—'),
      h('td', null, u.must_change_password ? badge(t('must_change'), 'wait') : badge(t('active'), 'ok')),
      h('td', null, h('div', { class: 'row-actions' }, u.id !== state.me.id ? h('button', { class: 'btn btn-small btn-ghost', type: 'button', onclick: reset }, t('reset_password')) : null, out)));
  }

  // ---------------------------------------------------------------- audit log

  const AUDIT_PAGE = 50;

  /** A friendly name for an audit action code; the code itself when unknown. */
  function auditActionName(code) {
    const key = 'audit_action_' + code;
    return Object.prototype.hasOwnProperty.call(DICT, key) ? DICT[key] : code;
  }

  function auditRow(e) {
    const when = e.at ? new Date(e.at * 1000) : null;
    const actor = e.actor
      ? h('code', null, e.actor)
      : e.actor_id !== null && e.actor_id !== undefined
        ? h('span', { class: 'muted' }, t('audit_deleted_user', { id: e.actor_id }))
        : h('span', { class: 'muted' }, t('audit_system'));
    return h('tr', { testid: 'audit-row' },
      h('td', { class: 'nowrap' }, when
        ? h('time', { datetime: when.toISOString() }, fmtTime(e.at, true))
        : '—'),
      h('td', null, actor),
      h('td', { title: e.action }, auditActionName(e.action)),
      h('td', { class: 'audit-detail' }, e.detail ? h('code', null, e.detail) : '—'));
  }

  /** The audit log, newest first, a page at a time. Null when the caller may not read it. */
  async function auditCard(alive) {
    let entries;
    try {
      ({ entries } = await api('GET', `/api/audit?limit=${AUDIT_PAGE}`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) return null;
      return card(t('audit_log'), errorBox(e, 'audit-error'));
    }
    if (!alive()) return null;
    if (!entries.length) return card(t('audit_log'), empty(t('audit_empty'), 'audit-empty'));
    const wrap = table([t('audit_time'), t('audit_actor'), t('audit_action'), t('audit_detail')],
      entries.map(auditRow), { testid: 'audit-table', class: 'data compact' });
    const tbody = wrap.querySelector('tbody');
    let oldest = Math.min(...entries.map((e) => e.id));
    const msg = h('div', { 'aria-live': 'polite' });
    const end = h('p', { class: 'muted', testid: 'audit-end', hidden: entries.length >= AUDIT_PAGE }, t('audit_end'));
    const more = h('button', {
      class: 'btn btn-small', type: 'button', testid: 'audit-older', hidden: entries.length < AUDIT_PAGE,
      onclick: async () => {
        clear(msg);
        more.disabled = true;
        try {
          const page = await api('GET', `/api/audit?limit=${AUDIT_PAGE}&before=${oldest}`);
          if (!alive()) return;
          append(tbody, page.entries.map(auditRow));
          if (page.entries.length) oldest = Math.min(oldest, ...page.entries.map((e) => e.id));
          if (page.entries.length < AUDIT_PAGE) {
            more.hidden = true;
            end.hidden = false;
          }
        } catch (e) {
          clear(msg, errorBox(e, 'audit-error'));
        } finally {
          more.disabled = false;
        }
      },
    }, t('audit_older'));
    return card(t('audit_log'), h('p', { class: 'muted' }, t('audit_help')), wrap,
      h('div', { class: 'actions audit-more' }, more, end), msg);
  }

  // ---------------------------------------------------------------- start

  async function boot() {
    try {
      const res = await fetch('/static/i18n.json', { credentials: 'same-origin' });
      DICT = (await res.json())[LANG] || {};
    } catch (_) {
      DICT = {};
    }
    try {
      const me = await api('GET', '/api/me');
      state.me = me;
      state.csrf = me.csrf_token;
    } catch (e) {
      if (e.status !== 401) setPage(t('error_title'), errorBox(e, 'page-error'));
      return;
    }
    window.addEventListener('hashchange', route);
    route();
  }

  boot();
})();
