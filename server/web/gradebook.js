// The gradebook of a class, overrides and comments, and one student's work.

import { api, card, clear, empty, errorBox, field, fmtScore, fmtTime, h, langLabel, loading, loc, setPage, statusBadge, t, table } from './core.js';

// ---- gradebook

export async function gradebookTab(alive, cls, body) {
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
      h('th', { scope: 'row', 'data-user': '' }, h('a', { href: `#/classes/${cls.id}/students/${s.id}`, testid: 'gradebook-student-link' }, s.display_name)),
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
  h('h3', null, h('span', { 'data-user': '' }, s.display_name), ` · ${loc(a.title) || a.lab_id}`),
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
