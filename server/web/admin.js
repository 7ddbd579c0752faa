// Administration: regions, schools, staff accounts and the audit log.

import { api, ApiError, append, badge, card, clear, hasText, empty, errorBox, field, fmtTime, h, loading, rerender, roleName, setPage, state, t, table } from './core.js';

// ---------------------------------------------------------------- admin

/** Reloads the audit log card (after every admin action); set while the page shows it. */
let refreshAudit = () => {};

/** Runs an admin action, then brings the audit log up to date. */
async function audited(action) {
  const out = await action();
  refreshAudit();
  return out;
}

export async function adminPage(alive) {
  setPage(t('nav_admin'), loading());
  refreshAudit = () => {};
  const platform = state.me.can.manage_schools;
  const [regions, schools] = await Promise.all([
    api('GET', '/api/regions').then((r) => r.regions).catch(() => null),
    api('GET', '/api/schools?per_page=500').then((r) => r.schools).catch(() => null),
  ]);
  if (!alive()) return;
  const sections = [];
  const regionName = new Map((regions || []).map((r) => [r.id, r.name]));
  if (regions) {
    const rows = regions.map((r) => h('tr', { testid: 'region-row' },
      h('td', { 'data-user': '' }, r.name), h('td', null, t('kind_' + r.kind)), h('td', { 'data-user': '' }, r.parent_id ? regionName.get(r.parent_id) || `#${r.parent_id}` : '—'),
      platform ? h('td', null, editDelete(`/api/regions/${r.id}`, r.name, 'region')) : null));
    sections.push(card(t('regions'),
      regions.length ? table([t('name'), t('region_kind'), t('parent_region'), platform ? t('actions') : null].filter(Boolean), rows, { testid: 'regions-table' }) : empty(t('regions_empty')),
      platform ? regionForm(regions) : null));
  }
  if (schools) sections.push(schoolsCard(alive, regions || [], regionName, platform));
  if (state.me.can.manage_users) sections.push(await usersCard(alive, schools || []));
  if (state.me.can.view_audit) sections.push(await auditCard(alive));
  if (!alive()) return;
  setPage(t('nav_admin'), h('h1', null, t('nav_admin')), sections);
}

/** "Not empty" refusals, in the reader's language: what is still inside. */
function notEmptyText(e) {
  const c = (e && e.contents) || {};
  const parts = [];
  const listed = (key, entry) => {
    if (!entry || !entry.count) return;
    const names = (entry.names || []).join('、');
    parts.push(t(`inside_${key}`, { n: entry.count, names: entry.count > (entry.names || []).length ? `${names}…` : names }));
  };
  listed('regions', c.regions);
  listed('schools', c.schools);
  listed('classes', c.classes);
  const people = Object.entries(c.people || {}).map(([r, n]) => `${roleName(r)} ${n}`);
  if (people.length) parts.push(t('inside_people', { list: people.join('、') }));
  return `${t('err_not_empty')}${parts.join('；')}`;
}

function adminError(e) {
  if (e instanceof ApiError && e.code === 'not_empty') return h('div', { class: 'alert alert-error', role: 'alert', testid: 'not-empty' }, notEmptyText(e));
  return errorBox(e);
}

/** Rename and delete buttons for a region or school row. */
function editDelete(path, name, kind) {
  const out = h('div', { class: 'row-result' });
  const rename = async () => {
    const next = prompt(t('rename_prompt', { name }), name);
    if (next === null || !next.trim() || next.trim() === name) return;
    try {
      await audited(() => api('PATCH', path, { name: next.trim() }));
      rerender();
    } catch (e) {
      clear(out, adminError(e));
    }
  };
  const del = async () => {
    if (!confirm(t('delete_named_confirm', { name }))) return;
    try {
      await audited(() => api('DELETE', path));
      rerender();
    } catch (e) {
      clear(out, adminError(e));
    }
  };
  return h('div', { class: 'row-actions' },
    h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: `${kind}-rename`, onclick: rename }, t('rename')),
    h('button', { class: 'btn btn-small btn-danger', type: 'button', testid: `${kind}-delete`, onclick: del }, t('delete')),
    out);
}

/** A search box and page buttons around a list the server pages: `load(q, page)` answers `{rows, total}`. */
function pagedList(testid, perPage, load, placeholder) {
  const search = h('input', { type: 'text', role: 'searchbox', maxlength: 64, placeholder, 'aria-label': t('search'), testid: `${testid}-search` });
  const listBox = h('div', null, loading());
  const info = h('span', { class: 'muted', testid: `${testid}-total` });
  let page = 1;
  let pages = 1;
  const prev = h('button', { class: 'btn btn-small', type: 'button', testid: `${testid}-prev`, onclick: () => { page -= 1; reload(); } }, t('page_prev'));
  const next = h('button', { class: 'btn btn-small', type: 'button', testid: `${testid}-next`, onclick: () => { page += 1; reload(); } }, t('page_next'));
  let seq = 0;
  async function reload() {
    const mine = ++seq;
    try {
      const { rows, total } = await load(search.value.trim(), page, perPage);
      if (mine !== seq) return;
      pages = Math.max(1, Math.ceil(total / perPage));
      if (page > pages) {
        page = pages;
        return reload();
      }
      clear(listBox, rows);
      clear(info, t('page_info', { page, pages, total }));
      prev.disabled = page <= 1;
      next.disabled = page >= pages;
    } catch (e) {
      if (mine === seq) clear(listBox, errorBox(e));
    }
  }
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { page = 1; reload(); }, 250);
  });
  return { search, listBox, pager: h('div', { class: 'pager' }, prev, info, next), reload, first: () => { page = 1; return reload(); } };
}

function schoolsCard(alive, regions, regionName, platform) {
  const list = pagedList('schools', 20, async (q, page, perPage) => {
    const p = new URLSearchParams({ page, per_page: perPage });
    if (q) p.set('q', q);
    const { schools, total } = await api('GET', `/api/schools?${p}`);
    const rows = schools.map((s) => h('tr', { testid: 'school-row' },
      h('td', { 'data-user': '' }, s.name), h('td', { 'data-user': '' }, regionName.get(s.region_id) || (s.region_id ? `#${s.region_id}` : '—')),
      h('td', null, platform ? localitySelect(s) : t(`locality_${s.locality || 'none'}`)),
      h('td', { class: 'num' }, String(s.classes ?? '—')), h('td', { class: 'num' }, String(s.people ?? '—')),
      platform ? h('td', null, editDelete(`/api/schools/${s.id}`, s.name, 'school')) : null));
    return {
      total,
      rows: schools.length ? table([t('name'), t('region'), t('locality'), t('classes_count'), t('people_count'), platform ? t('actions') : null].filter(Boolean), rows, { testid: 'schools-table' }) : empty(t('schools_empty')),
    };
  }, t('school_search_placeholder'));
  list.reload();
  return card(t('schools'), h('div', { class: 'filters' }, field(t('search'), list.search)), list.listBox, list.pager,
    platform ? schoolForm(regions) : null);
}

/** A school's urban/rural choice, saved as it changes (platform admin; the reports' urban–rural gap). */
function localitySelect(school) {
  const select = h('select', { testid: 'school-locality', 'aria-label': t('locality') },
    ['', 'urban', 'rural'].map((v) => h('option', { value: v, selected: (school.locality || '') === v }, t(`locality_${v || 'none'}`))));
  const msg = h('span', { 'aria-live': 'polite' });
  select.addEventListener('change', async () => {
    select.disabled = true;
    clear(msg);
    try {
      await audited(() => api('PATCH', `/api/schools/${school.id}`, { locality: select.value || null }));
      school.locality = select.value || null;
    } catch (e) {
      select.value = school.locality || '';
      clear(msg, errorBox(e, 'school-locality-error'));
    } finally {
      select.disabled = false;
    }
  });
  return h('span', null, select, msg);
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
      await audited(() => api('POST', '/api/regions', body));
      rerender();
    }));
}

function schoolForm(regions) {
  const name = h('input', { type: 'text', required: true, testid: 'school-name' });
  const region = h('select', { required: true, testid: 'school-region' }, h('option', { value: '' }, t('choose')), regions.map((r) => h('option', { value: r.id, 'data-user': '' }, r.name)));
  const locality = h('select', { testid: 'school-new-locality' }, ['', 'urban', 'rural'].map((v) => h('option', { value: v }, t(`locality_${v || 'none'}`))));
  return h('details', { class: 'create' }, h('summary', null, t('school_create')),
    simpleForm('school-form', [field(t('name'), name), field(t('region'), region), field(t('locality'), locality)], t('create'), async () => {
      await audited(() => api('POST', '/api/schools', { name: name.value.trim(), region_id: Number(region.value), locality: locality.value || null }));
      rerender();
    }));
}

async function usersCard(alive, schools) {
  const platform = state.me.role === 'platform_admin';
  const schoolName = new Map(schools.map((s) => [s.id, s.name]));
  const roleFilter = h('select', { testid: 'users-role' }, h('option', { value: '' }, t('all_roles')),
    ['platform_admin', 'organiser', 'school_admin', 'teacher', 'student'].map((r) => h('option', { value: r }, roleName(r))));
  const schoolFilter = platform ? h('select', { testid: 'users-school' }, h('option', { value: '' }, t('all_schools')), schools.map((s) => h('option', { value: s.id, 'data-user': '' }, s.name))) : null;
  const list = pagedList('users', 20, async (q, page, perPage) => {
    const p = new URLSearchParams({ page, per_page: perPage });
    if (q) p.set('q', q);
    if (roleFilter.value) p.set('role', roleFilter.value);
    if (schoolFilter && schoolFilter.value) p.set('school_id', schoolFilter.value);
    const { users, total } = await api('GET', `/api/users?${p}`);
    return {
      total,
      rows: users.length ? table([t('username'), t('display_name'), t('role'), t('school'), t('state'), t('actions')],
        users.map((u) => userRow(u, schoolName, schools, () => list.reload())), { testid: 'users-table' }) : empty(t('users_empty'), 'users-empty'),
    };
  }, t('search_placeholder'));
  roleFilter.addEventListener('change', list.first);
  if (schoolFilter) schoolFilter.addEventListener('change', list.first);
  await list.reload();

  const username = h('input', { type: 'text', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', testid: 'user-username' });
  const displayName = h('input', { type: 'text', required: true, testid: 'user-display-name' });
  // Only the roles the server lets this admin give (it refuses the others too).
  const roles = state.me.may_assign_roles || [];
  const role = h('select', { testid: 'user-role' }, roles.map((r) => h('option', { value: r }, roleName(r))));
  const school = platform ? h('select', { testid: 'user-school' }, h('option', { value: '' }, t('none')), schools.map((s) => h('option', { value: s.id, 'data-user': '' }, s.name))) : null;
  const form = simpleForm('user-form', [field(t('username'), username, t('username_help')), field(t('display_name'), displayName), field(t('role'), role), school ? field(t('school'), school) : null],
    t('user_create'), async () => {
      const body = { username: username.value.trim(), display_name: displayName.value.trim(), role: role.value };
      if (school && school.value) body.school_id = Number(school.value);
      else if (!platform && state.me.school_id) body.school_id = state.me.school_id;
      const res = await audited(() => api('POST', '/api/users', body));
      username.value = '';
      displayName.value = '';
      list.reload();
      return h('div', { class: 'alert alert-ok', role: 'status', testid: 'user-created' },
        t('user_created', { name: res.user.display_name, username: res.user.username }),
        res.password ? h('p', null, `${t('initial_password')}: `, h('code', { class: 'secret', testid: 'new-user-password' }, res.password), ' ', h('span', { class: 'muted' }, t('password_once'))) : null);
    });
  return card(t('users'),
    h('div', { class: 'filters' }, field(t('search'), list.search), field(t('role'), roleFilter), schoolFilter ? field(t('school'), schoolFilter) : null),
    list.listBox, list.pager,
    roles.length ? h('details', { class: 'create' }, h('summary', null, t('user_create')), form) : null);
}

function userRow(u, schoolName, schools, reload) {
  const out = h('div', { class: 'row-result' });
  const act = (fn) => async () => {
    clear(out);
    try {
      await audited(fn);
      if (fn !== reset) reload();
    } catch (e) {
      clear(out, adminError(e));
    }
  };
  const reset = async () => {
    if (!confirm(t('reset_confirm', { name: u.display_name }))) return;
    const { password } = await api('POST', `/api/users/${u.id}/reset-password`);
    clear(out, h('span', { class: 'secret' }, `${t('new_password')}: `, h('code', null, password)));
  };
  const toggle = async () => {
    if (!u.deactivated && !confirm(t('deactivate_confirm', { name: u.display_name }))) return;
    await api('POST', `/api/users/${u.id}/${u.deactivated ? 'reactivate' : 'deactivate'}`);
  };
  const del = async () => {
    if (!confirm(t('delete_user_confirm', { name: u.display_name }))) return;
    await api('DELETE', `/api/users/${u.id}`);
  };
  const edit = () => clear(out, editUserForm(u, schools, out, reload));
  const self = u.id === state.me.id;
  const stateBadge = u.deactivated ? badge(t('deactivated'), 'bad') : u.must_change_password ? badge(t('must_change'), 'wait') : badge(t('active'), 'ok');
  return h('tr', { testid: 'user-row', class: u.deactivated ? 'inactive' : null },
    h('td', null, h('code', null, u.username)),
    h('td', { testid: 'user-name', 'data-user': '' }, u.display_name),
    h('td', null, roleName(u.role)),
    h('td', { 'data-user': '' }, u.school_id ? schoolName.get(u.school_id) || `#${u.school_id}` : '—'),
    h('td', { testid: 'user-state' }, stateBadge),
    h('td', null, self ? null : h('div', { class: 'row-actions' },
      h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'user-edit', onclick: edit }, t('edit')),
      h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'user-reset', onclick: act(reset) }, t('reset_password')),
      h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: u.deactivated ? 'user-reactivate' : 'user-deactivate', onclick: act(toggle) }, u.deactivated ? t('reactivate') : t('deactivate')),
      h('button', { class: 'btn btn-small btn-danger', type: 'button', testid: 'user-delete', onclick: act(del) }, t('delete')),
      out)));
}

/** Name; for staff, role (only those this admin may give) and school (platform admin). */
function editUserForm(u, schools, out, reload) {
  const name = h('input', { type: 'text', required: true, maxlength: 64, value: u.display_name, testid: 'edit-name' });
  const mayGive = state.me.may_assign_roles || [];
  const roles = u.role === 'student' ? [] : [...new Set([u.role, ...mayGive])];
  const role = roles.length > 1 ? h('select', { testid: 'edit-role' }, roles.map((r) => h('option', { value: r, selected: r === u.role }, roleName(r)))) : null;
  const platform = state.me.role === 'platform_admin';
  const school = platform && u.role !== 'student'
    ? h('select', { testid: 'edit-school' }, h('option', { value: '' }, t('none')), schools.map((s) => h('option', { value: s.id, selected: s.id === u.school_id }, s.name)))
    : null;
  return simpleForm('edit-user', [field(t('display_name'), name), role ? field(t('role'), role) : null, school ? field(t('school'), school) : null], t('save'), async () => {
    const body = { display_name: name.value.trim() };
    if (role) body.role = role.value;
    if (school) body.school_id = school.value ? Number(school.value) : null;
    try {
      await audited(() => api('PATCH', `/api/users/${u.id}`, body));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_empty') return adminError(e);
      throw e;
    }
    clear(out);
    reload();
    return null;
  });
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

/**
 * The audit log, newest first, a page at a time; it reloads after every
 * admin action on this page and with its refresh button. Null when the
 * caller may not read it.
 */
async function auditCard(alive) {
  const body = h('div', { testid: 'audit-body' });
  const refresh = h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'audit-refresh', onclick: () => load() }, t('audit_refresh'));
  let seq = 0;
  async function load() {
    const mine = ++seq;
    let entries;
    try {
      ({ entries } = await api('GET', `/api/audit?limit=${AUDIT_PAGE}`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) return false;
      clear(body, errorBox(e, 'audit-error'));
      return true;
    }
    if (!alive() || mine !== seq) return true;
    if (!entries.length) {
      clear(body, empty(t('audit_empty'), 'audit-empty'));
      return true;
    }
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
    clear(body, wrap, h('div', { class: 'actions audit-more' }, more, end), msg);
    return true;
  }
  if (!(await load())) return null;
  refreshAudit = () => { if (alive()) load(); };
  return card(t('audit_log'), h('div', { class: 'actions' }, h('p', { class: 'muted' }, t('audit_help')), refresh), body);
}
