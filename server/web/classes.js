// Classes and their rosters: creating classes, importing students, resetting passwords, printing 账号卡.

import { classAssignmentsTab } from './assign.js';
import { ApiError, XLSX_TYPE, api, append, card, clear, empty, errorBox, field, h, hasText, loading, okBox, setPage, state, t, table, tabList, tabPanel } from './core.js';
import { gradebookTab } from './gradebook.js';

// ---------------------------------------------------------------- classes

export async function classesPage(alive) {
  setPage(t('nav_classes'), loading());
  const { classes } = await api('GET', '/api/classes');
  if (!alive()) return;
  const rows = classes.map((c) => h('tr', { testid: 'class-row' },
    h('td', null, h('a', { href: `#/classes/${c.id}`, testid: 'class-link', 'data-user': '' }, c.name)),
    h('td', { 'data-user': '' }, c.teacher_name || '—'),
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
          users.map((u) => h('option', { value: u.id, 'data-user': '' }, `${u.display_name} (${u.username})`)));
      } catch (e) {
        clear(teacherSel, h('option', { value: '' }, t('choose')));
      }
    };
    if (role === 'platform_admin') {
      schoolSel = h('select', { testid: 'class-school', onchange: loadTeachers });
      try {
        const { schools } = await api('GET', '/api/schools');
        append(schoolSel, [h('option', { value: '' }, t('choose')), schools.map((s) => h('option', { value: s.id, 'data-user': '' }, s.name))]);
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

export async function classPage(alive, id, tab) {
  tab = tab || 'roster';
  setPage(t('nav_classes'), loading());
  const cls = await api('GET', `/api/classes/${id}`);
  if (!alive()) return;
  // The head count shows in the header and on the roster tab, and follows every add, import and delete.
  const headCount = h('span', { testid: 'class-student-count' });
  const tabCount = h('span', { class: 'tab-count', testid: 'tab-roster-count' });
  const setCount = (n) => {
    clear(headCount, t('students_n', { n }));
    clear(tabCount, ` (${n})`);
  };
  setCount(cls.roster ? cls.roster.length : cls.students || 0);
  const tabs = tabList(t('class_tabs'), [['roster', [t('tab_roster'), tabCount]], ['assignments', t('tab_assignments')], ['gradebook', t('tab_gradebook')]]
    .map(([k, label]) => [k, label, `#/classes/${id}/${k}`]), tab);
  const body = tabPanel(tab, loading());
  setPage(cls.name,
    h('p', { class: 'crumbs' }, h('a', { href: '#/classes' }, t('nav_classes')), ' › '),
    h('h1', { testid: 'class-title', 'data-user': '' }, cls.name),
    h('p', { class: 'muted' }, `${t('teacher')}: `, h('span', { 'data-user': '' }, cls.teacher_name || '—'), ' · ', headCount),
    tabs, body);
  if (tab === 'roster') await rosterTab(alive, cls, body, setCount);
  else if (tab === 'assignments') await classAssignmentsTab(alive, cls, body);
  else await gradebookTab(alive, cls, body);
}

// ---- roster

async function rosterTab(alive, cls, body, setCount) {
  const rosterBox = h('div');
  // New one-time passwords (import, add, reset) show at the top, where they cannot be missed.
  const accountsBox = h('div', { testid: 'accounts-box', 'aria-live': 'polite' });
  const showAccounts = (accounts) => {
    clear(accountsBox, accounts.length ? card(t('new_accounts_title'), createdAccounts(cls, accounts)) : null);
    if (accounts.length) accountsBox.scrollIntoView({ block: 'start', behavior: 'smooth' });
  };
  const showRoster = (roster) => {
    setCount(roster.length);
    if (!roster.length) return clear(rosterBox, empty(t('roster_empty'), 'roster-empty'));
    const sorted = [...roster].sort((a, b) => String(a.student_number).localeCompare(String(b.student_number), undefined, { numeric: true }));
    clear(rosterBox, table([t('student_number'), t('display_name'), t('username'), t('actions')],
      sorted.map((s) => rosterRow(cls, s, refresh, showAccounts)), { testid: 'roster-table' }));
  };
  const refresh = async () => {
    const c = await api('GET', `/api/classes/${cls.id}`);
    if (alive()) showRoster(c.roster || []);
  };
  showRoster(cls.roster || []);
  // Everyone at once: new one-time passwords and their 账号卡 (the
  // "half the class forgot" lesson).
  const resetAllOut = h('div');
  const resetAll = h('button', {
    class: 'btn btn-ghost', type: 'button', testid: 'reset-all',
    onclick: async () => {
      if (!confirm(t('reset_all_confirm'))) return;
      clear(resetAllOut);
      try {
        const res = await api('POST', `/api/classes/${cls.id}/reset-passwords`);
        showAccounts(res.reset || []);
      } catch (e) {
        clear(resetAllOut, errorBox(e));
      }
    },
  }, t('reset_all'));
  clear(body, accountsBox, card(t('roster_title'), rosterBox, h('div', { class: 'actions' }, resetAll), resetAllOut),
    addStudentCard(cls, refresh, showAccounts), importCard(cls, refresh, showAccounts));
}

/** One student typed in by hand: the import's rules, the same one-time password box. */
function addStudentCard(cls, refresh, showAccounts) {
  const number = h('input', { type: 'text', required: true, maxlength: 32, autocomplete: 'off', testid: 'add-number' });
  const name = h('input', { type: 'text', required: true, maxlength: 32, autocomplete: 'off', testid: 'add-name' });
  const username = h('input', { type: 'text', maxlength: 64, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', testid: 'add-username' });
  const msg = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'add-submit' }, t('add_student'));
  const form = h('form', {
    class: 'form inline-form', testid: 'add-student',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(msg);
      btn.disabled = true;
      const body = { student_number: number.value.trim(), display_name: name.value.trim() };
      if (username.value.trim()) body.username = username.value.trim();
      try {
        const res = await api('POST', `/api/classes/${cls.id}/students`, body);
        form.reset();
        showAccounts([...(res.created || []), ...(res.reissued || [])]);
        await refresh();
      } catch (e) {
        clear(msg, rosterErrors(e, false));
      } finally {
        btn.disabled = false;
      }
    },
  },
  field(t('student_number'), number),
  field(t('display_name'), name),
  field(t('username_optional'), username, t('username_optional_help')),
  h('div', { class: 'actions' }, btn));
  return card(t('add_student_title'), form, msg);
}

function rosterRow(cls, s, refresh, showAccounts) {
  const out = h('div', { class: 'row-result' });
  const reset = async () => {
    if (!confirm(t('reset_confirm', { name: s.display_name }))) return;
    clear(out);
    try {
      const { password } = await api('POST', `/api/users/${s.id}/reset-password`);
      showAccounts([{ id: s.id, display_name: s.display_name, username: s.username, password, student_number: s.student_number }]);
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
    h('td', { testid: 'roster-name', 'data-user': '' }, s.display_name),
    h('td', null, h('code', null, s.username)),
    h('td', null, h('div', { class: 'row-actions' },
      h('a', { class: 'btn btn-small btn-ghost', href: `#/classes/${cls.id}/students/${s.id}` }, t('student_work')),
      h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'reset-one', onclick: reset }, t('reset_password')),
      h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'unlock', onclick: unlock }, t('unlock')),
      h('button', { class: 'btn btn-small btn-danger', type: 'button', testid: 'roster-delete', onclick: del }, t('delete')),
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

function importCard(cls, refresh, showAccounts) {
  const file = h('input', { type: 'file', accept: `.csv,.xlsx,text/csv,${XLSX_TYPE}`, testid: 'roster-file' });
  const result = h('div', { testid: 'roster-result', 'aria-live': 'polite' });
  // Off by default: gender is read from the file only for schools that monitor gender gaps.
  const gender = h('input', { type: 'checkbox', testid: 'roster-record-gender' });
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
        const res = await api('POST', `/api/classes/${cls.id}/roster${gender.checked ? '?record_gender=true' : ''}`, undefined, { raw: data.body, contentType: data.type });
        file.value = '';
        clear(result, (res.ignored_columns || []).length
          ? h('div', { class: 'alert alert-info', testid: 'ignored-columns' }, t('roster_ignored_columns', { cols: res.ignored_columns.join('、') }))
          : null);
        // A re-import of a lost file re-issues passwords: show those accounts too.
        showAccounts([...(res.created || []), ...(res.reissued || [])]);
        refresh().catch(() => {});
      } catch (e) {
        clear(result, rosterErrors(e, true));
      } finally {
        btn.disabled = false;
      }
    },
  },
  h('p', null, t('roster_help')),
  h('ul', { class: 'help-list' }, h('li', null, t('roster_help_columns')), h('li', null, t('roster_help_formats')), h('li', null, t('roster_help_all_or_nothing'))),
  field(t('roster_file'), file),
  h('label', { class: 'checkbox' }, gender, ' ', t('roster_record_gender')),
  h('p', { class: 'help' }, t('roster_record_gender_help')),
  h('div', { class: 'actions' }, btn, template));
  return card(t('roster_import_title'), form, result);
}

/** A bad row in the teacher's language: by its code (`roster_err_<code>`), else the server's text. */
function rowMessage(r) {
  const key = `roster_err_${r.code}`;
  return r.code && hasText(key) ? t(key, { ...(r.params || {}), row: r.row }) : r.message ?? '';
}

function fieldName(f) {
  const key = { student_number: 'student_number', display_name: 'display_name', username: 'username', file: 'roster_file' }[f];
  return key ? t(key) : f ?? '';
}

function rosterErrors(e, withRows) {
  if (!(e instanceof ApiError) || !e.rows.length) return errorBox(e, 'roster-error');
  const headers = withRows ? [t('row'), t('column'), t('problem')] : [t('column'), t('problem')];
  return h('div', { class: 'alert alert-error', role: 'alert', testid: 'roster-error' },
    h('p', null, h('strong', null, withRows ? t('roster_invalid', { n: e.rows.length }) : t('add_student_invalid'))),
    table(headers, e.rows.map((r) => h('tr', { testid: 'roster-error-row' },
      withRows ? h('td', { class: 'num' }, String(r.row)) : null, h('td', null, fieldName(r.field)), h('td', { testid: 'roster-error-text' }, rowMessage(r)))), { class: 'data compact' }));
}

function createdAccounts(cls, created) {
  const slipBox = h('div', { class: 'slip-box' });
  const students = created.map((s) => ({ display_name: s.display_name, username: s.username, password: s.password, student_number: s.student_number }));
  return h('div', { class: 'created', testid: 'roster-created' },
    h('div', { class: 'alert alert-warn created-once', role: 'alert', testid: 'passwords-once' },
      h('strong', null, t('passwords_once_title')), ' ', t('roster_passwords_once')),
    okBox(t('roster_created', { n: created.length })),
    table([t('student_number'), t('display_name'), t('username'), t('initial_password')], created.map((s) => h('tr', { testid: 'created-row' },
      h('td', { testid: 'created-number' }, s.student_number ?? ''),
      h('td', { testid: 'created-name', 'data-user': '' }, s.display_name),
      h('td', null, h('code', { testid: 'created-username' }, s.username)),
      h('td', null, h('code', { testid: 'created-password' }, s.password)))), { testid: 'created-table' }),
    h('div', { class: 'actions' },
      h('button', { class: 'btn btn-primary', type: 'button', testid: 'print-slips', onclick: () => printSlips(slipBox, cls.name, students) }, t('print_slips')),
      h('button', {
        class: 'btn btn-ghost', type: 'button', testid: 'download-accounts',
        onclick: () => downloadText(`${cls.name}-accounts.csv`,
          [[t('csv_student_number'), t('csv_display_name'), t('username'), t('initial_password')].map(csvCell).join(','),
            ...students.map((s) => [s.student_number, s.display_name, s.username, s.password].map(csvCell).join(','))].join('\r\n') + '\r\n',
          'text/csv'),
      }, t('download_accounts'))),
    slipBox);
}

/**
 * Asks the server for the 账号卡 PDF and opens it (must run inside a click).
 * Fetched directly, not through api(): the answer names, in a header, the
 * characters no font could print, and the teacher is told which.
 */
async function printSlips(box, title, students) {
  const win = window.open('', '_blank');
  clear(box, h('span', { class: 'muted' }, t('slips_making')));
  try {
    const res = await fetch('/api/login-slips', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: '*/*', 'X-CSRF-Token': state.csrf },
      body: JSON.stringify({ title, students }),
    });
    if (!res.ok) {
      let err = { code: `http_${res.status}`, message: res.statusText };
      try {
        const j = await res.json();
        if (j && j.error) err = j.error;
      } catch (_) { /* not JSON */ }
      throw new ApiError(res.status, err);
    }
    const missing = (res.headers.get('x-qiming-missing-glyphs') || '').split(',').filter(Boolean)
      .map((u) => String.fromCodePoint(parseInt(u.replace(/^U\+/, ''), 16)));
    const url = URL.createObjectURL(new Blob([await res.blob()], { type: 'application/pdf' }));
    if (win) win.location.href = url;
    clear(box,
      h('a', { href: url, target: '_blank', rel: 'noopener', download: 'account-cards.pdf', testid: 'slips-link', class: 'btn btn-ghost' }, t('slips_open')),
      missing.length ? h('div', { class: 'alert alert-warn', role: 'alert', testid: 'slips-missing' }, t('slips_missing', { chars: missing.join(' ') })) : null);
  } catch (e) {
    if (win) win.close();
    clear(box, errorBox(e, 'slips-error'));
  }
}
