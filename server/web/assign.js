// A class's assignments as its teacher sees them: assigning labs, editing, extending, closing and deleting assignments, and the class's progress.

import { ApiError, api, badge, card, clear, empty, errorBox, field, fmtScore, fmtTime, fromLocalInput, h, hasText, LANG, langLabel, loc, now, okBox, rerender, state, t, table, toLocalInput, wide } from './core.js';

// ---- assignments of a class (teacher)

async function getLabs() {
  if (!state.labs) {
    const res = await api('GET', '/api/labs');
    state.labs = Array.isArray(res) ? res : res.labs || [];
  }
  return state.labs;
}

const labTitle = (lab) => loc(lab.title) || lab.id;

/** Whether an assignment is open, not open yet or closed, as a badge. */
export function phaseBadge(a) {
  if (a.opens_at && a.opens_at > now()) return h('span', { testid: 'assignment-phase', 'data-phase': 'not_open' }, badge(t('not_open_yet'), 'wait'));
  if (a.due_at < now()) return h('span', { testid: 'assignment-phase', 'data-phase': 'closed' }, badge(t('closed'), 'wait'));
  return h('span', { testid: 'assignment-phase', 'data-phase': 'open' }, badge(t('phase_open'), 'ok'));
}

export async function classAssignmentsTab(alive, cls, body) {
  const [{ assignments }, labs] = await Promise.all([api('GET', `/api/classes/${cls.id}/assignments`), getLabs()]);
  if (!alive()) return;
  const list = assignments.length
    ? table([t('lab'), t('opens_at'), t('due_at'), t('attempt_limit'), t('score_policy')],
      [...assignments].sort((a, b) => b.due_at - a.due_at).map((a) => h('tr', { testid: 'class-assignment-row', 'data-id': a.id },
        h('td', null, h('a', { href: `#/assignments/${a.id}`, testid: 'class-assignment-link' }, loc(a.title) || a.lab_id)),
        h('td', null, fmtTime(a.opens_at)),
        h('td', null, fmtTime(a.due_at), ' ', phaseBadge(a)),
        h('td', { class: 'num' }, String(a.attempt_limit)),
        h('td', null, t('policy_' + a.score_policy)))), { testid: 'class-assignments' })
    : empty(t('assignments_empty'), 'class-assignments-empty');
  clear(body, card(t('tab_assignments'), list), assignCard(alive, cls, labs, assignments));
}

function assignCard(alive, cls, labs, assignments) {
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
  const dupNote = h('div', { 'aria-live': 'polite' });
  labSel.addEventListener('change', () => {
    const lab = labs.find((l) => l.id === labSel.value);
    clear(labInfo, lab ? `${t('grade_band', { band: lab.grade_band })} · ${t('module')}: ${lab.module} · ${(lab.languages || []).map(langLabel).join(', ')}` : '');
    // Said before the click, not only after it: the class has this lab already.
    const same = assignments.find((a) => a.lab_id === labSel.value);
    clear(dupNote, same ? h('div', { class: 'alert alert-warn', testid: 'assign-lab-taken' },
      t('already_assigned_note', { title: loc(same.title), due: fmtTime(same.due_at) })) : null);
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
  const send = async (body) => {
    btn.disabled = true;
    try {
      await api('POST', `/api/classes/${cls.id}/assignments`, body);
      if (alive()) rerender();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'already_assigned') {
        // The same lab again is usually a slip: say which assignment exists, and assign only when confirmed.
        const existing = e.details.existing || {};
        clear(msg, h('div', { class: 'alert alert-warn', role: 'alert', testid: 'assign-duplicate' },
          h('p', null, t('already_assigned', { title: loc(existing.title), due: fmtTime(existing.due_at) })),
          h('div', { class: 'actions' },
            h('a', { class: 'btn btn-ghost', href: `#/assignments/${existing.id}`, testid: 'assign-duplicate-open' }, t('open_existing')),
            h('button', { class: 'btn', type: 'button', testid: 'assign-anyway', onclick: () => send({ ...body, allow_duplicate: true }) }, t('assign_anyway')))));
      } else {
        clear(msg, errorBox(e));
      }
    } finally {
      btn.disabled = false;
    }
  };
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
      await send(body);
    },
  },
  wide(field(t('lab'), labSel, labInfo)),
  wide(dupNote),
  field(t('opens_at'), opens, t('opens_help')),
  field(t('due_at'), due),
  field(t('attempt_limit'), attempts, t('attempt_limit_help')),
  field(t('score_policy'), policy, t('score_policy_help')),
  h('div', { class: 'actions' }, btn), msg));
}

// ---- one assignment (teacher): progress, edit, extend, close, delete

/** The cards the assignment page shows a manager of the class: progress first, then the changes they can make. */
export async function assignmentTools(alive, a) {
  const progress = await api('GET', `/api/assignments/${a.id}/progress`);
  if (!alive()) return [];
  return [progressCard(progress), editCard(a, progress)];
}

function progressCard(p) {
  const max = Math.max(1, ...p.histogram.map((b) => b.count));
  // Through the CSSOM: the page's Content-Security-Policy ignores style attributes.
  const bar = (percent) => {
    const el = h('span', { class: 'histogram-bar' });
    el.style.width = `${percent}%`;
    return el;
  };
  const fact = (label, value, testid) => h('div', null, h('dt', null, label), h('dd', { testid }, value));
  return card(t('progress'),
    h('dl', { class: 'facts', testid: 'progress' },
      fact(t('progress_submitted'), t('progress_submitted_n', { n: String(p.submitted), total: String(p.students) }), 'progress-submitted'),
      fact(t('progress_average'), fmtScore(p.average), 'progress-average'),
      fact(t('progress_best'), fmtScore(p.best), 'progress-best')),
    h('h3', null, t('progress_distribution', { n: String(p.scored) })),
    // Bars with their label and count as text: readable without colour, and by screen readers.
    h('div', { class: 'histogram', testid: 'progress-histogram', role: 'list' },
      p.histogram.map((b) => h('div', { class: 'histogram-row', role: 'listitem', testid: 'progress-bin', 'data-label': b.label, 'data-count': b.count },
        h('span', { class: 'histogram-label' }, t('score_range', { range: b.label })),
        h('span', { class: 'histogram-track' }, bar((100 * b.count) / max)),
        h('span', { class: 'histogram-count num' }, t('people_n', { n: String(b.count) }))))),
    h('h3', null, t('progress_not_yet', { n: String(p.not_submitted.length) })),
    p.not_submitted.length
      ? h('ul', { class: 'name-list', testid: 'progress-not-submitted' }, p.not_submitted.map((s) => h('li', null, s.display_name, s.student_number ? h('span', { class: 'muted' }, ` ${s.student_number}`) : null)))
      : h('p', { class: 'muted', testid: 'progress-all-submitted' }, t('progress_all_submitted')));
}

const DAY = 24 * 3600;

function editCard(a, progress) {
  const lab = a.lab || {};
  const msg = h('div', { 'aria-live': 'polite' });
  const title = h('input', { type: 'text', maxlength: 100, testid: 'edit-title', value: a.custom_title || '', placeholder: loc(a.lab_title) });
  const opens = h('input', { type: 'datetime-local', testid: 'edit-opens', value: toLocalInput(a.opens_at) });
  const due = h('input', { type: 'datetime-local', testid: 'edit-due', value: toLocalInput(a.due_at) });
  const attempts = h('input', { type: 'number', min: 1, max: 100, step: 1, testid: 'edit-attempts', value: String(a.attempt_limit) });
  const policy = h('select', { testid: 'edit-policy' },
    ['best', 'last'].map((p) => h('option', { value: p, selected: p === a.score_policy }, t('policy_' + p))));
  const all = lab.all_languages || a.languages || [];
  const langBoxes = all.map((l) => h('input', { type: 'checkbox', value: l, checked: (a.languages || []).includes(l), testid: `edit-lang-${l}` }));
  const inputs = { title, opens_at: opens, due_at: due, attempt_limit: attempts, score_policy: policy };
  const fail = (e) => {
    // A refused value: say which field in the teacher's language (not the server's English), and point at it.
    const fieldName = e instanceof ApiError && e.code === 'bad_request' ? e.details.field : '';
    clear(msg, fieldName && hasText(`invalid_${fieldName}`)
      ? h('div', { class: 'alert alert-error', role: 'alert', testid: 'edit-error', 'data-field': fieldName }, t(`invalid_${fieldName}`))
      : errorBox(e, 'edit-error'));
    const input = inputs[fieldName];
    if (input) input.focus();
  };
  const patch = async (body, done) => {
    clear(msg);
    try {
      await api('PATCH', `/api/assignments/${a.id}`, body);
      clear(msg, okBox(done, 'edit-ok'));
      setTimeout(rerender, 600);
    } catch (e) {
      fail(e);
    }
  };
  const save = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'edit-save' }, t('save_changes'));
  const form = h('form', {
    class: 'form grid-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      // Only what changed, so an edit never moves a date nobody touched.
      const body = {};
      if (title.value.trim() !== (a.custom_title || '')) body.title = title.value.trim();
      const opensAt = fromLocalInput(opens.value);
      const dueAt = fromLocalInput(due.value);
      if (!dueAt) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert' }, t('due_required')));
      if (opensAt && opens.value !== toLocalInput(a.opens_at)) body.opens_at = opensAt;
      if (due.value !== toLocalInput(a.due_at)) body.due_at = dueAt;
      if (Number(attempts.value) !== a.attempt_limit) body.attempt_limit = Number(attempts.value);
      if (policy.value !== a.score_policy) body.score_policy = policy.value;
      const langs = langBoxes.filter((b) => b.checked).map((b) => b.value);
      if (!langs.length) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert' }, t('languages_required')));
      if (langs.join(',') !== (a.languages || []).join(',')) body.languages = langs;
      if (!Object.keys(body).length) return clear(msg, h('div', { class: 'alert alert-info' }, t('nothing_changed')));
      await patch(body, t('changes_saved'));
    },
  },
  wide(field(t('assignment_title'), title, t('assignment_title_help'))),
  field(t('opens_at'), opens),
  field(t('due_at'), due),
  field(t('attempt_limit'), attempts, t('attempt_limit_help')),
  field(t('score_policy'), policy),
  all.length > 1 ? wide(h('fieldset', { class: 'field' }, h('legend', { class: 'field-label' }, t('languages_allowed')),
    langBoxes.map((b) => h('label', { class: 'check' }, b, ' ', langLabel(b.value))))) : null,
  h('div', { class: 'actions' }, save));

  // Extending counts from the due time, or from now when it has passed (reopening).
  const extend = (seconds, label) => h('button', {
    class: 'btn', type: 'button', testid: seconds === DAY ? 'extend-day' : 'extend-week',
    onclick: () => patch({ due_at: Math.max(a.due_at, now()) + seconds }, t('extended_to', { time: fmtTime(Math.max(a.due_at, now()) + seconds) })),
  }, label);
  const closeBtn = a.due_at > now() ? h('button', {
    class: 'btn', type: 'button', testid: 'close-now',
    onclick: () => {
      if (confirm(t('close_confirm'))) patch({ close: true }, t('closed_now'));
    },
  }, t('close_now')) : null;
  const remove = async (force) => {
    clear(msg);
    try {
      await api('DELETE', `/api/assignments/${a.id}${force ? '?force=true' : ''}`);
      location.hash = `#/classes/${a.class_id}/assignments`;
    } catch (e) {
      // Submitted meanwhile: say how much would be lost, and ask again.
      if (e instanceof ApiError && e.code === 'has_submissions' && confirm(t('delete_confirm_work', { n: String(e.details.submissions), students: String(e.details.students) }))) return remove(true);
      if (!(e instanceof ApiError && e.code === 'has_submissions')) fail(e);
    }
  };
  const deleteBtn = h('button', {
    class: 'btn btn-danger', type: 'button', testid: 'delete-assignment',
    onclick: () => {
      const n = progress.submissions;
      const text = n ? t('delete_confirm_work', { n: String(n), students: String(progress.submitted) }) : t('delete_assignment_confirm');
      if (confirm(text)) remove(n > 0);
    },
  }, t('delete_assignment'));
  return card(t('edit_assignment'),
    h('div', { class: 'actions extend-bar' }, h('span', { class: 'field-label' }, t('extend_due')), extend(DAY, t('extend_day')), extend(7 * DAY, t('extend_week')), closeBtn),
    form,
    h('div', { class: 'actions danger-zone' }, deleteBtn, h('span', { class: 'field-help' }, progress.submissions ? t('delete_help_work', { n: String(progress.submissions) }) : t('delete_help'))),
    msg);
}
