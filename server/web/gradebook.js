// The gradebook of a class, overrides and comments, and one student's work.

import { LANG, api, append, card, clear, empty, errText, field, fmtScore, fmtTime, h, langLabel, loading, loc, setPage, statusBadge, t, table } from './core.js';

// ---- gradebook

/** Sort and filter per class, kept while the tab reloads after a change. */
const views = new Map();

/** The words for a cell without a score of its own. */
const STATUS_KEYS = { missing: 'gb_missing', grading: 'gb_grading', failed: 'gb_failed', not_open: 'gb_not_open' };
const statusWord = (status) => t(STATUS_KEYS[status] || 'gb_missing');

/** Errors with a code of their own say everything in the user's language. */
const errOf = (e) => (e && typeof e.code === 'string' && e.code.startsWith('override_') ? t(`err_${e.code}`) : errText(e));

/**
 * The gradebook tab. `after` (optional) says which cell to focus and what to
 * announce once drawn, so saving or clearing an override keeps the teacher's place.
 */
export async function gradebookTab(alive, cls, body, after) {
  const gb = await api('GET', `/api/classes/${cls.id}/gradebook`);
  if (!alive()) return;
  const assignments = gb.assignments || [];
  const everyone = gb.students || [];
  const downloads = h('div', { class: 'actions' },
    h('a', { class: 'btn btn-ghost', href: `/api/classes/${cls.id}/gradebook.csv?lang=${LANG}`, download: '', testid: 'gradebook-csv' }, t('download_csv')),
    h('a', { class: 'btn btn-ghost', href: `/api/classes/${cls.id}/gradebook.xlsx?lang=${LANG}`, download: '', testid: 'gradebook-xlsx' }, t('download_xlsx')),
    h('span', { class: 'muted small' }, t('gb_download_note')));
  if (!assignments.length || !everyone.length) {
    clear(body, card(t('tab_gradebook'), empty(!assignments.length ? t('assignments_empty') : t('roster_empty'), 'gradebook-empty'), downloads));
    return;
  }
  if (!views.has(cls.id)) views.set(cls.id, { key: 'number', dir: 'ascending', filter: '', onlyMissing: false });
  const view = views.get(cls.id);
  const reload = (next) => gradebookTab(alive, cls, body, next);
  const status = h('div', { class: 'gb-status', role: 'status', 'aria-live': 'polite', testid: 'gradebook-status' }, after && after.note ? t(after.note) : '');
  const editor = h('div', { class: 'override-editor', hidden: true, testid: 'override-editor', role: 'region', 'aria-labelledby': 'override-editor-title' });
  const gradeOf = (s, a) => (s.grades || []).find((g) => g.assignment_id === a.id)
    || { assignment_id: a.id, score: null, auto_score: null, attempts: 0, status: 'missing', override: null };

  // ---- sorting: name, student number, average or any assignment; students without a score go last either way.
  const columns = [
    { key: 'name', label: t('display_name'), value: (s) => s.display_name, text: true },
    { key: 'number', label: t('student_number'), value: (s) => s.student_number ?? '', text: true, numeric: true },
    ...assignments.map((a) => ({ key: `a${a.id}`, label: loc(a.title) || a.lab_id, value: (s) => gradeOf(s, a).score, assignment: a })),
    { key: 'average', label: t('gb_col_average'), value: (s) => s.average },
  ];
  const collator = new Intl.Collator(LANG, { numeric: true, sensitivity: 'base' });
  const byNumber = (x, y) => collator.compare(String(x.student_number ?? ''), String(y.student_number ?? '')) || x.id - y.id;
  const compare = (col, dir) => (x, y) => {
    const [u, v] = [col.value(x), col.value(y)];
    const none = (w) => w === null || w === undefined || w === '';
    if (none(u) !== none(v)) return none(u) ? 1 : -1;
    const c = none(u) ? 0 : col.text ? collator.compare(String(u), String(v)) : u - v;
    return (dir === 'descending' ? -c : c) || byNumber(x, y);
  };

  // ---- the table: sticky header row and name column (CSS), a footer with the class's figures.
  const headCells = columns.map((col) => {
    const th = h('th', { scope: 'col', class: col.key === 'name' ? 'gb-name' : null, 'data-sort-key': col.key, testid: `gb-head-${col.key}` });
    const btn = h('button', {
      type: 'button', class: 'gb-sort', testid: col.assignment ? 'gb-sort-assignment' : `gb-sort-${col.key}`,
      onclick: () => {
        view.dir = view.key === col.key && view.dir === 'ascending' ? 'descending' : 'ascending';
        view.key = col.key;
        draw();
      },
    }, h('span', null, col.label), h('span', { class: 'gb-arrow', 'aria-hidden': 'true' }));
    append(th, [btn]);
    if (col.assignment) {
      th.appendChild(h('span', { class: 'gb-head-links muted small' },
        t('max_score_n', { n: fmtScore(col.assignment.max_score ?? 100) }), ' · ',
        h('a', { href: `#/assignments/${col.assignment.id}` }, t('view'))));
    }
    return th;
  });
  const tbody = h('tbody');
  const stat = (a) => a.stats || {};
  const tfoot = h('tfoot', null,
    h('tr', { testid: 'gb-foot-average' }, h('th', { scope: 'row', class: 'gb-name' }, t('gb_row_average')), h('td'),
      assignments.map((a) => h('td', { class: 'num', 'data-assignment': a.id }, fmtScore(stat(a).average))),
      h('td', { class: 'num', testid: 'gb-class-average' }, fmtScore(gb.average))),
    h('tr', { testid: 'gb-foot-median' }, h('th', { scope: 'row', class: 'gb-name' }, t('gb_row_median')), h('td'),
      assignments.map((a) => h('td', { class: 'num', 'data-assignment': a.id }, fmtScore(stat(a).median))), h('td')),
    h('tr', { testid: 'gb-foot-submitted' }, h('th', { scope: 'row', class: 'gb-name' }, t('gb_row_submitted')), h('td'),
      assignments.map((a) => h('td', { class: 'num', 'data-assignment': a.id, testid: 'gb-completion' },
        t('gb_submitted_n', { n: stat(a).submitted ?? 0, total: stat(a).students ?? everyone.length }))), h('td')));
  const tableEl = h('table', { class: 'data gradebook', testid: 'gradebook' },
    h('caption', { class: 'gb-caption' }, t('tab_gradebook'), ' · ', h('span', { 'data-user': '' }, cls.name)),
    h('thead', null, h('tr', null, headCells)), tbody, tfoot);

  const cellButton = (s, a) => {
    const g = gradeOf(s, a);
    const ov = overrideOf(g);
    const scored = g.score !== null && g.score !== undefined;
    const content = ov ? [
      h('span', { class: 'score' }, fmtScore(ov.score)),
      h('span', { class: 'gb-ov', role: 'img', 'aria-label': t('gb_override_label'), title: t('gb_override_label'), testid: 'override-mark' }, '✎'),
      h('span', { class: 'gb-computed', testid: 'computed-score' },
        `(${g.auto_score === null || g.auto_score === undefined ? statusWord(g.status) : t('gb_computed', { score: fmtScore(g.auto_score) })})`),
    ] : scored ? [h('span', { class: 'score' }, fmtScore(g.score))]
      : [h('span', { class: `gb-state gb-state-${g.status}`, testid: 'cell-state' }, statusWord(g.status))];
    const btn = h('button', {
      type: 'button', class: `grade-cell${ov ? ' overridden' : ''}${scored ? '' : ' none'}`,
      testid: 'grade-cell', 'data-assignment': a.id, 'data-student': s.id, 'data-score': g.score ?? '', 'data-status': g.status,
      'data-overridden': ov ? 'true' : 'false',
      title: ov && ov.comment ? `${t('override')}: ${ov.comment}` : t('edit_grade'),
      onclick: () => openOverride(cls, a, s, g, editor, btn, reload),
    }, h('span', { class: 'gb-line' }, content),
    // "0 attempts" under every 未交 would only be noise.
    g.attempts ? h('span', { class: 'attempts' }, t('attempts_n', { n: g.attempts })) : null);
    return btn;
  };

  const filterBox = h('input', {
    type: 'search', class: 'gb-filter', testid: 'gradebook-filter', value: view.filter, placeholder: t('gb_filter'), 'aria-label': t('gb_filter'),
    oninput: () => { view.filter = filterBox.value; draw(); },
  });
  const onlyMissing = h('input', {
    type: 'checkbox', testid: 'gradebook-only-missing', checked: view.onlyMissing,
    onchange: () => { view.onlyMissing = onlyMissing.checked; draw(); },
  });
  const count = h('span', { class: 'muted', testid: 'gradebook-count' });

  function draw() {
    const q = view.filter.trim().toLowerCase();
    const col = columns.find((c) => c.key === view.key) || columns[1];
    const shown = everyone
      .filter((s) => !q || s.display_name.toLowerCase().includes(q) || String(s.student_number ?? '').toLowerCase().includes(q))
      .filter((s) => !view.onlyMissing || (s.missing ?? 0) > 0)
      .sort(compare(col, view.dir));
    headCells.forEach((th, i) => {
      const active = columns[i].key === col.key;
      th.setAttribute('aria-sort', active ? view.dir : 'none');
      th.querySelector('.gb-arrow').textContent = active ? (view.dir === 'ascending' ? '▲' : '▼') : '';
    });
    clear(count, t('gb_shown_n', { n: shown.length, total: everyone.length }));
    clear(tbody, shown.length ? shown.map((s) => h('tr', { testid: 'gradebook-row', 'data-student': s.id },
      h('th', { scope: 'row', class: 'gb-name' },
        h('a', { href: `#/classes/${cls.id}/students/${s.id}`, testid: 'gradebook-student-link', 'data-user': '' }, s.display_name),
        (s.missing ?? 0) > 0 ? h('span', { class: 'gb-missing-count', testid: 'missing-count' }, t('gb_missing_n', { n: s.missing })) : null),
      h('td', { 'data-user': '' }, s.student_number ?? ''),
      assignments.map((a) => h('td', null, cellButton(s, a))),
      h('td', { class: 'num', testid: 'row-average' }, fmtScore(s.average))))
      : h('tr', null, h('td', { colspan: columns.length, class: 'empty', testid: 'gradebook-no-match' }, t('gb_no_match'))));
  }
  draw();

  clear(body, card(t('tab_gradebook'),
    h('p', { class: 'muted' }, t('gb_help')),
    h('div', { class: 'gb-toolbar' }, filterBox,
      h('label', { class: 'gb-check' }, onlyMissing, ' ', t('gb_only_missing')), count, status),
    h('div', { class: 'table-wrap gb-scroll' }, tableEl),
    editor, downloads));
  if (after && after.focus) {
    const target = tbody.querySelector(`[data-testid="grade-cell"][data-assignment="${after.focus.a}"][data-student="${after.focus.s}"]`);
    if (target) target.focus();
  }
}

function overrideOf(g) {
  const o = g.override;
  if (o === null || o === undefined || o === false) return null;
  if (typeof o === 'number') return { score: o, comment: '' };
  return o;
}

/** The override editor for one cell; Esc or Cancel closes it and gives the focus back to the cell. */
function openOverride(cls, a, s, g, editor, cellBtn, reload) {
  const ov = overrideOf(g);
  const score = h('input', { type: 'number', step: 'any', min: 0, max: 100, required: true, testid: 'override-score', value: ov ? String(ov.score) : g.score ?? '' });
  const comment = h('textarea', { rows: 2, maxlength: 500, testid: 'override-comment', value: ov ? ov.comment || '' : '' });
  const msg = h('div', { 'aria-live': 'polite' });
  const here = { a: a.id, s: s.id };
  const close = () => {
    editor.hidden = true;
    clear(editor);
    cellBtn.focus();
  };
  const fail = (text) => clear(msg, h('div', { class: 'alert alert-error', role: 'alert', testid: 'override-error' }, text));
  const save = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'override-save' }, t('save'));
  const remove = ov ? h('button', {
    class: 'btn btn-danger', type: 'button', testid: 'override-remove',
    onclick: async () => {
      remove.disabled = true;
      try {
        await api('DELETE', `/api/assignments/${a.id}/overrides/${s.id}`);
        reload({ focus: here, note: 'gb_cleared' });
      } catch (e) {
        fail(errOf(e));
        remove.disabled = false;
      }
    },
  }, t('override_remove')) : null;
  const title = h('h3', { id: 'override-editor-title' }, h('span', { 'data-user': '' }, s.display_name), ` · ${loc(a.title) || a.lab_id}`);
  clear(editor, h('form', {
    class: 'form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(msg);
      const value = Number(score.value);
      if (score.value === '' || Number.isNaN(value) || value < 0 || value > 100) return fail(t('err_override_score'));
      if (!comment.value.trim()) return fail(t('err_override_comment'));
      save.disabled = true;
      try {
        await api('PUT', `/api/assignments/${a.id}/overrides/${s.id}`, { score: value, comment: comment.value.trim() });
        reload({ focus: here, note: 'gb_saved' });
      } catch (e) {
        fail(errOf(e));
        save.disabled = false;
      }
    },
  },
  title,
  h('p', { class: 'muted', testid: 'override-facts' },
    `${t('auto_score')}: ${g.auto_score === null || g.auto_score === undefined ? statusWord(g.status) : fmtScore(g.auto_score)} · ${t('attempts')}: ${g.attempts ?? 0}`,
    ov && ov.at ? ` · ${t('override')}: ${fmtScore(ov.score)} (${t('gb_set_at', { time: fmtTime(ov.at) })})` : ''),
  h('div', { class: 'grid-form' }, field(t('override_score'), score, '0–100'), field(t('comment'), comment)),
  h('div', { class: 'actions' }, save, remove,
    h('button', { class: 'btn btn-ghost', type: 'button', testid: 'override-cancel', onclick: close }, t('cancel'))),
  msg));
  editor.onkeydown = (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      close();
    }
  };
  editor.hidden = false;
  editor.scrollIntoView({ block: 'nearest' });
  score.focus();
}

// ---- one student's work (teacher)

export async function studentWorkPage(alive, classId, studentId) {
  setPage(t('student_work'), loading());
  const [cls, { assignments }] = await Promise.all([api('GET', `/api/classes/${classId}`), api('GET', `/api/classes/${classId}/assignments`)]);
  const student = (cls.roster || []).find((s) => String(s.id) === String(studentId));
  const lists = await Promise.all(assignments.map((a) => api('GET', `/api/assignments/${a.id}/submissions`)
    .then((r) => r.submissions.filter((s) => String(s.student_id) === String(studentId)))
    .catch(() => [])));
  if (!alive()) return;
  const name = student ? student.display_name : `#${studentId}`;
  setPage(name,
    h('p', { class: 'crumbs' }, h('a', { href: '#/classes' }, t('nav_classes')), ' › ', h('a', { href: `#/classes/${classId}/gradebook`, 'data-user': '' }, cls.name), ' › '),
    h('h1', { testid: 'student-title', 'data-user': '' }, name, student ? h('span', { class: 'muted small' }, ` ${student.student_number ?? ''} · ${student.username}`) : null),
    assignments.length ? assignments.map((a, i) => card(loc(a.title) || a.lab_id, submissionsTable(lists[i], 'student-submissions')))
      : card(null, empty(t('assignments_empty'))));
}

export function submissionsTable(subs, testid, names) {
  if (!subs.length) return empty(t('submissions_empty'), `${testid}-empty`);
  const sorted = [...subs].sort((a, b) => b.submitted_at - a.submitted_at || b.id - a.id);
  const headers = [...(names ? [t('display_name')] : []), t('submitted_at'), t('language'), t('status'), t('score'), ''];
  return table(headers, sorted.map((s) => h('tr', { testid: 'submission-row', 'data-id': s.id },
    names ? h('td', { 'data-user': '' }, names.get(String(s.student_id)) || s.student_name || `#${s.student_id}`) : null,
    h('td', null, fmtTime(s.submitted_at)),
    h('td', null, langLabel(s.language)),
    h('td', null, statusBadge(s.status)),
    h('td', { class: 'num' }, s.status === 'done' ? `${fmtScore(s.score)} / ${fmtScore(s.max_score)}` : '—'),
    h('td', null, h('a', { href: `#/submissions/${s.id}`, testid: 'submission-link' }, t('view'))))), { testid });
}
