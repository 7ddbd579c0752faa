// A class's assignments as its teacher sees them: assigning labs, editing and closing assignments.

import { api, badge, card, clear, empty, errorBox, field, fmtTime, fromLocalInput, h, hasText, LANG, langLabel, loc, now, rerender, state, t, table, toLocalInput, wide } from './core.js';

// ---- assignments of a class (teacher)

async function getLabs() {
  if (!state.labs) {
    const res = await api('GET', '/api/labs');
    state.labs = Array.isArray(res) ? res : res.labs || [];
  }
  return state.labs;
}

const labTitle = (lab) => loc(lab.title) || lab.id;

export async function classAssignmentsTab(alive, cls, body) {
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
    clear(labInfo, lab ? `${t('grade_band', { band: lab.grade_band })} · ${t('module')}: ${hasText(`module_${lab.module}`) ? t(`module_${lab.module}`) : lab.module} · ${(lab.languages || []).map(langLabel).join(', ')}` : '');
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
        if (alive()) rerender();
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
