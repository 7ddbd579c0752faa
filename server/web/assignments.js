// Assignments as students see them: the list, the lesson and lab, test runs and submitting.

import { ApiError, LANG, api, badge, card, clear, codeSpans, empty, errorBox, field, fmtScore, fmtTime, h, langLabel, loadLabs, loading, loc, now, onCleanup, setPage, state, statusBadge, t } from './core.js';
import { assignmentTools, phaseBadge } from './assign.js';
import { bundleBox } from './bundle.js';
import { codeEditor, maxKb, tooBig } from './editor.js';
import { submissionsTable } from './gradebook.js';
import { arenaPicture } from './replay.js';
import { renderReport, scoreHeader, showDiagnostics } from './submissions.js';

// ---------------------------------------------------------------- assignments

export async function myAssignmentsPage(alive) {
  setPage(t('nav_my_assignments'), loading());
  const { assignments } = await api('GET', '/api/assignments');
  if (!alive()) return;
  const open = assignments.filter((a) => a.due_at >= now()).sort((a, b) => a.due_at - b.due_at);
  const closed = assignments.filter((a) => a.due_at < now()).sort((a, b) => b.due_at - a.due_at);
  const item = (a) => h('li', { class: 'assignment-card', testid: 'assignment-item' },
    h('a', { href: `#/assignments/${a.id}`, testid: 'assignment-link', 'data-lab': a.lab_id }, h('span', { class: 'title' }, loc(a.title) || a.lab_id)),
    h('div', { class: 'meta' },
      h('span', null, `${t('due_at')}: ${fmtTime(a.due_at)}`),
      studentStatus(a),
      h('span', { testid: 'assignment-attempts' }, `${t('attempts')}: ${a.attempts_used ?? 0} / ${a.attempt_limit}`),
      h('span', { class: 'score-pill', testid: 'assignment-score' }, `${t('score')}: ${fmtScore(a.score)}`)));
  setPage(t('nav_my_assignments'),
    h('h1', null, t('nav_my_assignments')),
    assignments.length ? null : card(null, empty(t('my_assignments_empty'), 'my-assignments-empty')),
    open.length ? card(t('assignments_open'), h('ul', { class: 'assignment-list', testid: 'open-assignments' }, open.map(item))) : null,
    closed.length ? card(t('assignments_closed'), h('ul', { class: 'assignment-list', testid: 'closed-assignments' }, closed.map(item))) : null);
}

/** Where the student stands on an assignment, as the server says (`status`): a badge, and when it opens. */
function studentStatus(a) {
  const status = a.status || 'open';
  const kind = { open: 'ok', submitted: 'ok', not_open: 'wait', attempts_used_up: 'bad', closed: 'wait' }[status] || 'wait';
  // The score has its own place beside the status; when it opens is said here.
  const detail = status === 'not_open' ? t('opens_at_time', { time: fmtTime(a.opens_at) }) : null;
  return h('span', { class: 'assignment-status', testid: 'assignment-status', 'data-status': status },
    badge(t('astatus_' + status), kind), detail ? [' ', h('span', { class: 'muted' }, detail)] : null);
}

/** Why the student cannot submit, and what to do about it (from the server's `reason`). */
function reasonBox(a) {
  if (a.can_submit !== false || !a.reason) return null;
  const text = {
    not_open: t('reason_not_open', { time: fmtTime(a.opens_at) }),
    attempts_used_up: t('reason_attempts_used_up', { n: String(a.attempt_limit) }),
    closed: t('reason_closed', { time: fmtTime(a.due_at) }),
  }[a.reason] || t('reason_other');
  return h('div', { class: 'alert alert-warn', role: 'status', testid: 'submit-reason', 'data-reason': a.reason }, text);
}

export async function assignmentPage(alive, id) {
  setPage(t('assignment'), loading());
  const [a] = await Promise.all([api('GET', `/api/assignments/${id}`), loadLabs()]);
  if (!alive()) return;
  if (state.me.can.submit) return studentAssignment(alive, a);
  return staffAssignment(alive, a);
}

/** Inline Markdown: `code` and **bold**, built as DOM. */
const inline = (s) => String(s).split(/(`[^`]+`|\*\*[^*]+\*\*)/).map((part) => {
  if (part.length > 2 && part.startsWith('`') && part.endsWith('`')) return h('code', null, part.slice(1, -1));
  if (part.length > 4 && part.startsWith('**') && part.endsWith('**')) return h('strong', null, part.slice(2, -2));
  return part;
});

/** Lab instructions (Markdown-ish): paragraphs, headings, lists, ``` blocks, `code` and **bold**, built as DOM. */
export function instructions(text, testid = 'instructions') {
  const box = h('div', { class: 'instructions', testid });
  const cjk = /[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]/;
  const inline = (s) => s.split(/(`[^`]+`|\*\*[^*]+\*\*)/).map((part) => {
    if (part.length > 2 && part.startsWith('`') && part.endsWith('`')) return h('code', null, part.slice(1, -1));
    if (part.length > 4 && part.startsWith('**') && part.endsWith('**')) return h('strong', null, codeSpans(part.slice(2, -2)));
    return codeSpans(part);
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
    h('div', null, h('dt', null, t('class')), h('dd', { 'data-user': '' }, a.class_name || '—')),
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
  const tools = await assignmentTools(alive, a);
  if (!alive()) return;
  setPage(loc(a.title) || a.lab_id,
    h('p', { class: 'crumbs' }, h('a', { href: '#/classes' }, t('nav_classes')), ' › ', h('a', { href: `#/classes/${a.class_id}/assignments`, 'data-user': '' }, a.class_name || cls.name || ''), ' › '),
    h('h1', { testid: 'assignment-title' }, loc(a.title) || a.lab_id, ' ', phaseBadge(a)),
    assignmentFacts(a),
    ...tools,
    card(t('all_submissions'), submissionsTable(submissions, 'assignment-submissions', names)),
    h('details', { class: 'card' }, h('summary', null, h('strong', null, t('instructions'))), instructions(loc(lab.instructions))));
}

/** A robot function's argument or result: its range and unit, or the names it takes. */
function quantity(q) {
  if (!q) return '—';
  if (q.values) return q.unit === 'sensor' ? q.values.map((v) => `"${v}"`).join(' ') : q.values.join(', ');
  const num = (n) => (Math.abs(n) >= 1000 ? Number(n).toLocaleString(LANG) : String(n));
  const unit = t('unit_' + q.unit);
  if (q.min !== null && q.min !== undefined && q.max !== null && q.max !== undefined) return `${num(q.min)} … ${num(q.max)} ${unit}`;
  if (q.min !== null && q.min !== undefined) return `≥ ${num(q.min)} ${unit}`;
  return unit;
}

function robotFunctions(fns) {
  return h('dl', { class: 'robot-functions', testid: 'robot-functions' }, fns.map((f) => h('div', { class: 'robot-function', testid: 'robot-function', 'data-name': f.name },
    h('dt', null, h('code', null, f.call)),
    h('dd', null, codeSpans(loc(f.what))),
    f.args.length ? h('dd', { class: 'muted' }, `${t('robot_input')}: `, f.args.map((q, i) => [i ? '; ' : '', h('code', null, q.name), ' ', codeSpans(quantity(q))])) : null,
    f.returns ? h('dd', { class: 'muted' }, `${t('robot_output')}: `, codeSpans(quantity(f.returns))) : null)));
}

/** The lesson beside the editor: the task, the arena, goals, steps, the robot functions, and the rest of the lesson folded. */
function lessonPanel(a) {
  const lab = a.lab || {};
  const panel = a.panel || {};
  const lesson = panel.lesson;
  const outline = lesson ? loc(lesson.outline) : null;
  const fns = (panel.robot && panel.robot.functions) || [];
  const list = (tag, items, testid) => h(tag, { testid }, items.map((i) => h('li', null, inline(i))));
  return h('section', { class: 'card lesson-panel', testid: 'lesson-panel' },
    h('h2', null, t('lesson')),
    lesson ? h('p', { class: 'muted', testid: 'lesson-title' }, loc(lesson.title), ' · ', t('minutes_n', { n: String(lesson.minutes) })) : null,
    panel.arena ? h('figure', { class: 'arena', testid: 'arena' }, arenaPicture(panel.arena), h('figcaption', { class: 'muted' }, t('arena_caption'))) : null,
    h('h3', null, t('instructions')), instructions(loc(lab.instructions)),
    outline && outline.goals.length ? [h('h3', null, t('lesson_goals')), list('ul', outline.goals, 'lesson-goals')] : null,
    outline && outline.steps.length ? [h('h3', null, t('lesson_steps')), list('ol', outline.steps, 'lesson-steps')] : null,
    fns.length ? [h('h3', null, t('robot_functions')), robotFunctions(fns)] : null,
    outline ? outline.sections.map((sec) => h('details', { class: 'lesson-more', testid: 'lesson-section' }, h('summary', null, sec.heading), instructions(sec.text, 'lesson-section-text'))) : null);
}

function studentAssignment(alive, a) {
  const lab = a.lab || {};
  const allowed = (lab.languages && lab.languages.length ? lab.languages : ['rhai']);
  // The languages suited to the class's grade band first; the others behind "advanced".
  const offered = (a.panel && a.panel.offered_languages) || { default: allowed, advanced: [] };
  let basic = (offered.default || []).filter((l) => allowed.includes(l));
  if (!basic.length) basic = allowed;
  const advanced = (offered.advanced || []).filter((l) => allowed.includes(l) && !basic.includes(l));
  let showAdvanced = false;
  const langs = () => [...basic, ...(showAdvanced ? advanced : [])];
  const starter = lab.starter || {};
  const starterFor = (l) => starter[l] ?? '';
  const draftKey = (l) => `qiming.draft.${state.me.id}.${a.id}.${l}`;
  const readDraft = (l) => {
    try { return localStorage.getItem(draftKey(l)); } catch (_) { return null; }
  };
  // The last submitted program comes from the server, so it follows the
  // student to any computer; a local draft (newer typing) wins over it.
  const last = a.last_program && a.last_program.encoding === 'text' ? a.last_program : null;
  showAdvanced = Boolean(last && advanced.includes(last.language));
  let lang = last && langs().includes(last.language) ? last.language : langs()[0];
  const langSel = h('select', { testid: 'language' });
  const fillLangs = () => {
    clear(langSel, langs().map((l) => h('option', { value: l }, langLabel(l))));
    langSel.value = lang;
  };
  fillLangs();
  const lastFor = (l) => (last && last.language === l ? last.program : null);
  const editor = codeEditor(readDraft(lang) ?? lastFor(lang) ?? starterFor(lang), (value) => {
    try { localStorage.setItem(draftKey(lang), value); } catch (_) { /* private mode */ }
  });
  langSel.addEventListener('change', () => {
    lang = langSel.value;
    editor.setValue(readDraft(lang) ?? lastFor(lang) ?? starterFor(lang));
  });
  const advancedBox = h('input', { type: 'checkbox', testid: 'advanced-languages', checked: showAdvanced });
  advancedBox.addEventListener('change', () => {
    showAdvanced = advancedBox.checked;
    if (!langs().includes(lang)) {
      lang = langs()[0];
      editor.setValue(readDraft(lang) ?? lastFor(lang) ?? starterFor(lang));
    }
    fillLangs();
  });
  const advancedToggle = advanced.length ? h('label', { class: 'check', title: t('advanced_languages_help') }, advancedBox, ' ', t('advanced_languages')) : null;
  const loadLastBtn = last ? h('button', {
    class: 'btn btn-ghost', type: 'button', testid: 'load-last',
    onclick: () => {
      lang = last.language;
      if (!langs().includes(lang)) {
        showAdvanced = true;
        advancedBox.checked = true;
      }
      fillLangs();
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
  const reasonSlot = h('div', { 'aria-live': 'polite' });
  const statusSlot = h('span');
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
  // Whether the student may submit is the server's word (`can_submit`, `reason`), not this computer's clock.
  const updateSubmit = () => {
    const blocked = a.can_submit === false;
    submitBtn.disabled = Boolean(blocked || es);
    if (bundle) bundle.setBlocked(blocked || Boolean(es));
    submitBtn.title = blocked ? t('reason_short_' + a.reason) : '';
    clear(reasonSlot, reasonBox(a));
    clear(statusSlot, studentStatus(a));
  };
  // An assignment that opens within the hour: ask again when it does.
  if (a.reason === 'not_open' && a.opens_at - now() < 3600) {
    const timer = setTimeout(refresh, Math.max(1, a.opens_at - now() + 1) * 1000);
    onCleanup(() => clearTimeout(timer));
  }

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
      if (full.report) showDiagnostics(editor, full.report);
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
      showDiagnostics(editor, report);
    } catch (e) {
      clear(result, errorBox(e, 'test-error'));
    } finally {
      testBtn.disabled = false;
    }
  });

  // A new submission (typed, or a .zip from the bundle box): its result live, the page's facts refreshed.
  const submitted = (sub) => {
    follow(sub);
    result.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    refresh();
  };
  // AI labs: the program and its trained model are handed in together as a .zip.
  const bundle = lab.model ? bundleBox({
    lab, result, onSubmitted: submitted,
    submitPath: `/api/assignments/${a.id}/submissions`,
    testPath: `/api/assignments/${a.id}/test`,
  }) : null;

  submitBtn.addEventListener('click', async () => {
    const program = editor.value();
    clear(result);
    if (!program.trim()) return clear(result, h('div', { class: 'alert alert-error', role: 'alert' }, t('program_empty')));
    if (tooBig(program, lab)) return clear(result, h('div', { class: 'alert alert-error', role: 'alert', testid: 'program-too-big' }, t('program_too_big', { kb: maxKb(lab) })));
    submitBtn.disabled = true;
    try {
      submitted(await api('POST', `/api/assignments/${a.id}/submissions`, { language: lang, program }));
    } catch (e) {
      clear(result, errorBox(e, 'submit-error'));
      // Refused for a reason the page did not know yet (closed meanwhile): show it.
      if (e instanceof ApiError && e.code === 'cannot_submit') refresh();
    } finally {
      updateSubmit();
    }
  });
  updateSubmit();

  setPage(loc(a.title) || a.lab_id,
    h('p', { class: 'crumbs' }, h('a', { href: '#/assignments' }, t('nav_my_assignments')), ' › '),
    h('h1', { testid: 'assignment-title' }, loc(a.title) || a.lab_id, ' ', statusSlot),
    facts,
    reasonSlot,
    teacherOverride(a),
    h('div', { class: 'work lab-page' },
      h('div', { class: 'work-instructions' }, lessonPanel(a)),
      h('div', { class: 'work-editor' },
        card(t('my_program'),
          h('div', { class: 'editor-bar' }, field(t('language'), langSel), advancedToggle, resetBtn, loadLastBtn),
          editor.el,
          h('p', { class: 'field-help' }, t('editor_help')),
          h('div', { class: 'actions' }, testBtn, submitBtn)),
        bundle ? bundle.el : null),
      h('div', { class: 'work-result' }, card(t('result'), result))),
    card(t('my_submissions'), history));

  const pending = (a.submissions || []).find((s) => s.status === 'queued' || s.status === 'running');
  if (pending) follow(pending);
}

/** The score the teacher set and their comment, when they adjusted this student's score. */
function teacherOverride(a) {
  const o = a.override;
  if (!o) return null;
  return h('div', { class: 'alert alert-info teacher-override', role: 'note', testid: 'teacher-override' },
    h('p', { testid: 'teacher-final-score' }, h('strong', null, t('gb_final_score', { score: fmtScore(o.score), time: fmtTime(o.at) }))),
    o.comment ? h('p', null, t('gb_teacher_comment'), h('span', { class: 'teacher-comment', testid: 'teacher-comment', 'data-user': '' }, o.comment)) : null);
}

/** A textarea with a line-number gutter; Tab inserts four spaces, Enter keeps the indent. */
