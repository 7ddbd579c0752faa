// One submission: its score, grading report per case and the program.

import { api, badge, card, caseName, clear, codeSpans, fmtScore, fmtTime, h, langLabel, limitName, loadLabs, loading, loc, onCleanup, setPage, state, statusBadge, t } from './core.js';
import { tokenize } from './editor.js';
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

/**
 * The grade report: every case with its feedback; hidden cases show only name, passed and score.
 * `evidenceReplay(case)`: the address of any case's replay (judges reading an appeal's full evidence).
 */
export function renderReport(report, submissionId, evidenceReplay) {
  const cases = report.cases || [];
  const firstHidden = cases.find((c) => c.hidden);
  return h('div', { class: 'report', testid: 'report' }, cases.map((c) => {
    const checks = c.checks || [];
    const run = c.run;
    const err = run && run.error;
    // The error box below says the same as its feedback sentence, better laid out.
    const said = err && err.explanation ? loc(err.explanation) : null;
    const feedback = (c.feedback || []).filter((f) => !said || !loc(f).includes(said));
    return h('article', { class: `case ${c.passed ? 'passed' : 'failed'}`, testid: 'case', 'data-case': c.name, 'data-passed': String(Boolean(c.passed)) },
      h('header', null,
        h('span', { class: 'icon', 'aria-hidden': 'true' }, c.passed ? '✓' : '✗'),
        h('strong', { class: 'case-name' }, caseName(c.name, report.lab)),
        c.hidden ? badge(t('hidden_case'), 'wait') : null,
        h('span', { class: 'sr-only' }, c.passed ? t('passed') : t('not_passed')),
        h('span', { class: 'case-score', testid: 'case-score' }, `${fmtScore(c.score)} / ${fmtScore(c.max_score)}`)),
      c === firstHidden ? h('p', { class: 'muted small' }, t('hidden_case_help')) : null,
      feedback.length ? h('ul', { class: 'feedback' }, feedback.map((f) => h('li', { testid: 'feedback' }, withCode(loc(f))))) : null,
      checks.length ? h('details', { class: 'check-details' }, h('summary', null, t('check_details', { n: checks.filter((k) => k.passed).length, total: checks.length })),
        h('ul', { class: 'checks' }, checks.map((k) => h('li', { class: k.passed ? 'ok' : 'bad' },
          h('span', { class: 'icon', 'aria-hidden': 'true' }, k.passed ? '✓' : '✗'), ' ',
          codeSpans(loc(k.feedback)),
          k.max_score ? h('span', { class: 'muted small' }, ` (${fmtScore(k.score)} / ${fmtScore(k.max_score)})`) : null,
          k.hint && !k.passed ? h('div', { class: 'hint', testid: 'hint' }, `${t('hint')}: `, loc(k.hint)) : null)))) : null,
      err ? errorView(err) : null,
      run && run.limit ? h('p', { class: 'muted', testid: 'limit-hit' }, `${t('limit_hit')}: ${limitName(run.limit)}`) : null,
      run && run.limit ? engineText(`${run.limit}: ${run.limit_message || ''}`) : null,
      run && (run.output || run.output_truncated) ? h('details', null, h('summary', null, t('program_output')),
        h('pre', { class: 'output' }, run.output || ''),
        run.output_truncated ? h('p', { class: 'muted small', testid: 'output-truncated' }, t('output_truncated')) : null) : null,
      evidenceReplay ? replaySlot(null, c.name, evidenceReplay(c.name)) : submissionId && !c.hidden ? replaySlot(submissionId, c.name) : null);
  }));
}

/** Text with `names` in backticks (as the diagnostics write them) shown as code. */
function withCode(text) {
  return String(text).split(/(`[^`\n]+`)/).map((part) => (/^`[^`]+`$/.test(part) ? h('code', null, part.slice(1, -1)) : part));
}

/** Where an error is, in the page's language. */
function position(err) {
  if (!err.line) return '';
  return err.column ? t('line_col', { line: err.line, col: err.column }) : t('line_n', { n: err.line });
}

/** A program error as a learner reads it: where, what is wrong, what to try. */
function errorView(err) {
  return h('div', { class: 'alert alert-error run-error', testid: 'run-error', 'data-code': err.code || '', 'data-line': err.line ?? '', 'data-column': err.column ?? '' },
    h('p', { class: 'run-error-head' },
      h('strong', null, t('program_error')), ' ',
      err.line ? h('span', { class: 'err-pos', testid: 'error-pos' }, position(err)) : null),
    h('p', { class: 'run-error-what', testid: 'error-explanation' }, err.explanation ? withCode(loc(err.explanation)) : t(`error_generic_${err.kind}`)),
    err.suggestion ? h('p', { class: 'run-error-try', testid: 'error-suggestion' }, h('strong', null, t('error_try')), ' ', withCode(loc(err.suggestion))) : null,
    err.message ? engineText(err.message) : null);
}

/** The engine's own words, folded away and only for staff: learners never read them. */
function engineText(text) {
  if (!state.me || !state.me.can.staff) return null;
  return h('details', { class: 'engine-text', testid: 'engine-text' },
    h('summary', null, t('engine_text')),
    h('code', null, text));
}

/** The first error the report found in a visible case, with a line to point at (or null). */
export function firstError(report) {
  for (const c of (report && report.cases) || []) {
    const err = c.run && c.run.error;
    if (err && err.line) return err;
  }
  return null;
}

/** Marks the report's first error in the editor (line, column, explanation), or clears the mark. */
export function showDiagnostics(editor, report) {
  const err = firstError(report);
  if (!err) {
    editor.clearError();
    return null;
  }
  const what = err.explanation ? loc(err.explanation) : t(`error_generic_${err.kind}`);
  // Chinese sentences follow each other without a space.
  const gap = /[。！？）”]$/.test(what) ? '' : ' ';
  editor.markError(err.line, err.column, err.suggestion ? `${what}${gap}${loc(err.suggestion)}` : what);
  return err;
}

export async function submissionPage(alive, id) {
  setPage(t('submission'), loading());
  const sub = await api('GET', `/api/submissions/${id}`);
  let a = null;
  // A contest round's submission has no assignment (its page links back to the competitions).
  if (sub.assignment_id) {
    try {
      a = await api('GET', `/api/assignments/${sub.assignment_id}`);
    } catch (_) { /* title is optional */ }
  }
  let studentName = null;
  if (state.me.can.staff && a) {
    try {
      const cls = await api('GET', `/api/classes/${a.class_id}`);
      const s = (cls.roster || []).find((r) => String(r.id) === String(sub.student_id));
      if (s) studentName = `${s.display_name} (${s.student_number ?? s.username})`;
    } catch (_) { /* name is optional */ }
  }
  await loadLabs(); // case titles
  if (!alive()) return;
  const title = a ? loc(a.title) || a.lab_id : t('submission');
  const back = sub.round_id ? h('a', { href: '#/events', testid: 'back-to-events' }, t('nav_events'))
    : state.me.can.submit ? h('a', { href: `#/assignments/${sub.assignment_id}` }, title)
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
      card(t('program'), programView(s.program || '', s.language, (firstError(s.report) || {}).line)));
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

function programView(text, language, errorLine) {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const body = lines.join('\n');
  const lang = { rhai: 'rhai', wasm: 'wat', wat: 'wat' }[language];
  return h('div', { class: 'program', testid: 'program' },
    h('pre', { class: 'gutter', 'aria-hidden': 'true' }, lines.map((_, i) => h('span', { class: i + 1 === errorLine ? 'gl gl-error' : 'gl' }, String(i + 1)))),
    h('pre', { class: 'program-text', 'data-user': '' }, lang ? tokenize(body, lang).map(([cls, part]) => (cls ? h('span', { class: cls }, part) : part)) : body));
}
