// One submission: its score, grading report per case and the program.

import { api, badge, card, caseName, clear, codeSpans, fmtScore, fmtTime, h, langLabel, limitName, loadLabs, loading, loc, onCleanup, setPage, STAFF, state, statusBadge, t } from './core.js';
import { replaySlot } from './replay.js';

// ---------------------------------------------------------------- submissions

export function scoreHeader(sub, testid) {
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
export function renderReport(report, submissionId) {
  const cases = report.cases || [];
  const firstHidden = cases.find((c) => c.hidden);
  return h('div', { class: 'report', testid: 'report' }, cases.map((c) => {
    const checks = c.checks || [];
    const run = c.run;
    const err = run && run.error;
    return h('article', { class: `case ${c.passed ? 'passed' : 'failed'}`, testid: 'case', 'data-case': c.name, 'data-passed': String(Boolean(c.passed)) },
      h('header', null,
        h('span', { class: 'icon', 'aria-hidden': 'true' }, c.passed ? '✓' : '✗'),
        h('strong', { class: 'case-name' }, caseName(c.name, report.lab)),
        c.hidden ? badge(t('hidden_case'), 'wait') : null,
        h('span', { class: 'sr-only' }, c.passed ? t('passed') : t('not_passed')),
        h('span', { class: 'case-score', testid: 'case-score' }, `${fmtScore(c.score)} / ${fmtScore(c.max_score)}`)),
      c === firstHidden ? h('p', { class: 'muted small' }, t('hidden_case_help')) : null,
      (c.feedback || []).length ? h('ul', { class: 'feedback' }, c.feedback.map((f) => h('li', { testid: 'feedback' }, codeSpans(loc(f))))) : null,
      checks.length ? h('details', { class: 'check-details' }, h('summary', null, t('check_details', { n: checks.filter((k) => k.passed).length, total: checks.length })),
        h('ul', { class: 'checks' }, checks.map((k) => h('li', { class: k.passed ? 'ok' : 'bad' },
          h('span', { class: 'icon', 'aria-hidden': 'true' }, k.passed ? '✓' : '✗'), ' ',
          codeSpans(loc(k.feedback)),
          k.max_score ? h('span', { class: 'muted small' }, ` (${fmtScore(k.score)} / ${fmtScore(k.max_score)})`) : null,
          k.hint && !k.passed ? h('div', { class: 'hint', testid: 'hint' }, `${t('hint')}: `, codeSpans(loc(k.hint))) : null)))) : null,
      err ? h('div', { class: 'alert alert-error run-error' },
        h('strong', null, t('program_error')), ' ',
        err.line ? `${t('line_n', { n: err.line })}${err.column ? `:${err.column}` : ''} ` : '',
        // The diagnostic in the reader's language; the engine's own text only for staff.
        loc(err.explanation) ? codeSpans(loc(err.explanation)) : t('error_kind_' + err.kind),
        err.suggestion ? h('p', null, codeSpans(loc(err.suggestion))) : null,
        STAFF.includes(state.me.role) && err.message ? h('details', null, h('summary', null, t('engine_message')), h('code', null, err.message)) : null) : null,
      run && run.limit ? h('p', { class: 'muted' }, `${t('limit_hit')}: ${limitName(run.limit)}`) : null,
      run && run.output ? h('details', null, h('summary', null, t('program_output')), h('pre', { class: 'output' }, run.output)) : null,
      submissionId && !c.hidden ? replaySlot(submissionId, c.name) : null);
  }));
}

export async function submissionPage(alive, id) {
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
  await loadLabs(); // case titles
  if (!alive()) return;
  const title = a ? loc(a.title) || a.lab_id : t('submission');
  const back = state.me.role === 'student'
    ? h('a', { href: `#/assignments/${sub.assignment_id}` }, title)
    : a ? h('a', { href: `#/classes/${a.class_id}/students/${sub.student_id}`, 'data-user': '' }, studentName || t('student_work')) : null;
  const body = h('div');
  const render = (s) => {
    clear(body,
      h('dl', { class: 'facts' },
        studentName ? h('div', null, h('dt', null, t('student')), h('dd', { testid: 'submission-student', 'data-user': '' }, studentName)) : null,
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
    h('pre', { class: 'program-text', 'data-user': '' }, lines.join('\n')));
}
