// Administration: regions, schools, staff accounts and the audit log.

import { ADMINS, api, ApiError, append, badge, card, clear, hasText, empty, errorBox, field, fmtTime, h, loading, rerender, roleName, setPage, state, t, table } from './core.js';

// ---------------------------------------------------------------- admin

export async function adminPage(alive) {
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
      h('td', { 'data-user': '' }, r.name), h('td', null, t('kind_' + r.kind)), h('td', { 'data-user': '' }, r.parent_id ? regionName.get(r.parent_id) || `#${r.parent_id}` : '—')));
    sections.push(card(t('regions'),
      regions.length ? table([t('name'), t('region_kind'), t('parent_region')], rows, { testid: 'regions-table' }) : empty(t('regions_empty')),
      platform ? regionForm(regions) : null));
  }
  if (schools) {
    const rows = schools.map((s) => h('tr', { testid: 'school-row' },
      h('td', { 'data-user': '' }, s.name), h('td', { 'data-user': '' }, regionName.get(s.region_id) || (s.region_id ? `#${s.region_id}` : '—'))));
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
  const parent = h('select', { testid: 'region-parent' }, h('option', { value: '' }, t('none')), regions.map((r) => h('option', { value: r.id, 'data-user': '' }, r.name)));
  return h('details', { class: 'create' }, h('summary', null, t('region_create')),
    simpleForm('region-form', [field(t('name'), name), field(t('region_kind'), kind), field(t('parent_region'), parent)], t('create'), async () => {
      const body = { name: name.value.trim(), kind: kind.value };
      if (parent.value) body.parent_id = Number(parent.value);
      await api('POST', '/api/regions', body);
      rerender();
    }));
}

function schoolForm(regions) {
  const name = h('input', { type: 'text', required: true, testid: 'school-name' });
  const region = h('select', { required: true, testid: 'school-region' }, h('option', { value: '' }, t('choose')), regions.map((r) => h('option', { value: r.id, 'data-user': '' }, r.name)));
  return h('details', { class: 'create' }, h('summary', null, t('school_create')),
    simpleForm('school-form', [field(t('name'), name), field(t('region'), region)], t('create'), async () => {
      await api('POST', '/api/schools', { name: name.value.trim(), region_id: Number(region.value) });
      rerender();
    }));
}

async function usersCard(alive, schools) {
  const platform = state.me.role === 'platform_admin';
  const schoolName = new Map(schools.map((s) => [s.id, s.name]));
  const roleFilter = h('select', { testid: 'users-role' }, h('option', { value: '' }, t('all_roles')),
    ['platform_admin', 'organiser', 'school_admin', 'teacher', 'student'].map((r) => h('option', { value: r }, roleName(r))));
  const schoolFilter = platform ? h('select', { testid: 'users-school' }, h('option', { value: '' }, t('all_schools')), schools.map((s) => h('option', { value: s.id, 'data-user': '' }, s.name))) : null;
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
  const school = platform ? h('select', { testid: 'user-school' }, h('option', { value: '' }, t('none')), schools.map((s) => h('option', { value: s.id, 'data-user': '' }, s.name))) : null;
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
    h('td', { 'data-user': '' }, u.display_name),
    h('td', null, roleName(u.role)),
    h('td', { 'data-user': '' }, u.school_id ? schoolName.get(u.school_id) || `#${u.school_id}` : '—'),
    h('td', null, u.must_change_password ? badge(t('must_change'), 'wait') : badge(t('active'), 'ok')),
    h('td', null, h('div', { class: 'row-actions' }, u.id !== state.me.id ? h('button', { class: 'btn btn-small btn-ghost', type: 'button', onclick: reset }, t('reset_password')) : null, out)));
}

// ---------------------------------------------------------------- audit log

const AUDIT_PAGE = 50;

/** A friendly name for an audit action code; the code itself when unknown. */
function auditActionName(code) {
  const key = 'audit_action_' + code;
  return hasText(key) ? t(key) : code;
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
