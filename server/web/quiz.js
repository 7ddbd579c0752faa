// Computational-thinking quiz rounds (计算思维测验): the organiser's new-round
// form with each division's items (picked from the bank or assembled from a
// blueprint), the forms and the teams' progress, and a team's answer sheet —
// answered together, saved as given, resumed after a reload, handed in once —
// with the review (keys and explanations) after the round closes. The items
// are drawn by the assessment pages' own controls (assessments.js). The
// server decides what is shown when (no key before the round closes); these
// panels only draw it.

import { ApiError, api, badge, card, clear, empty, errorBox, field, fmtTime, fromLocalInput, h, loc, now, okBox, onCleanup, setPage, t, table } from './core.js';
import { answerControl, clock, describe, richText } from './assessments.js';
import { clarificationsCard, resultsCard } from './judging.js';

const PROGRESS_POLL_MS = 5000;
const user = (text, tag = 'span') => h(tag, { 'data-user': '' }, text);
const litName = (id) => t(`lit_${String(id || '').replace(/-/g, '_')}`);
const typeName = (type) => t(`qz_type_${type}`);
const PENDING_KEY = (sheet) => `qiming_quiz_pending_${sheet}`;
/**
 * A stem's first paragraph, with its code set as code (a preview; the whole stem is for the sheet).
 * Marked as data: the bank's texts are authored (and importable), and may quote cell names or
 * English terms the page's own language check cannot judge.
 */
const preview = (stem) => h('div', { 'data-user': '' }, richText(loc(stem))[0] || null);

// ---------------------------------------------------------------- choosing items

/**
 * One division's form: the bank's items that suit it, as checkboxes in the
 * order chosen, or a blueprint to assemble the form from. `value()` is the
 * form as the server takes it.
 */
function formPicker(ev, division, chosen = []) {
  const order = [...chosen];
  const count = h('span', { class: 'muted small', testid: 'qz-count' });
  const list = h('div', { class: 'checks qz-bank', testid: 'qz-bank', 'data-division': division.id }, h('span', { class: 'muted' }, t('loading')));
  const drawCount = () => { count.textContent = t('qz_chosen_n', { n: order.length }); };
  api('GET', `/api/events/${ev.id}/quiz-bank?division_id=${division.id}`).then(({ items }) => {
    if (!items.length) return clear(list, empty(t('qz_bank_empty'), 'qz-bank-empty'));
    clear(list, items.map((it) => h('label', { class: 'check qz-item', 'data-literacy': it.literacy },
      h('input', { type: 'checkbox', value: it.id, checked: order.includes(it.id), testid: 'qz-pick', 'data-item': it.id, onchange: (e) => {
        const i = order.indexOf(it.id);
        if (e.target.checked && i < 0) order.push(it.id);
        if (!e.target.checked && i >= 0) order.splice(i, 1);
        drawCount();
      } }),
      ' ', h('code', null, it.id), ' ', badge(typeName(it.type), 'wait'), ' ', h('span', { class: 'muted small' }, `${litName(it.literacy)} · ${t('qz_difficulty', { b: it.difficulty })} · ${t('qz_points_n', { n: it.max_points })}`),
      h('div', { class: 'small qz-stem' }, preview(it.stem)))));
  }).catch((e) => clear(list, errorBox(e, 'qz-bank-error')));
  drawCount();
  const mode = h('select', { testid: 'qz-mode', 'data-division': division.id, onchange: () => {
    list.hidden = mode.value !== 'items';
    count.hidden = mode.value !== 'items';
    literacy.disabled = mode.value !== 'items';
    blueprint.hidden = mode.value !== 'blueprint';
  } }, h('option', { value: 'items' }, t('qz_mode_items')), h('option', { value: 'blueprint' }, t('qz_mode_blueprint')));
  const blueprint = h('textarea', { rows: '8', hidden: true, class: 'code', testid: 'qz-blueprint', spellcheck: 'false', 'aria-label': t('field_blueprint'),
    placeholder: `format_version = 1\npopulation = "student"\ngrade_band = "5-6"\nlength = 15` });
  // Only one literacy's items, when the list is long.
  const literacy = h('select', { testid: 'qz-literacy', onchange: () => {
    for (const l of list.querySelectorAll('.qz-item')) l.hidden = Boolean(literacy.value) && l.dataset.literacy !== literacy.value;
  } }, h('option', { value: '' }, t('qz_all_literacies')),
  ['computational-thinking', 'digital-learning', 'information-awareness', 'social-responsibility'].map((l) => h('option', { value: l }, litName(l))));
  const el = h('fieldset', { class: 'qz-form', testid: 'qz-form', 'data-division': division.id },
    h('legend', null, user(division.name), ' ', h('span', { class: 'muted small' }, t('ev_grades', { min: division.min_grade, max: division.max_grade }))),
    h('div', { class: 'filters' }, field(t('qz_how'), mode), field(t('qz_literacy'), literacy)), count, list, blueprint);
  const value = () => (mode.value === 'blueprint' ? { division_id: division.id, blueprint: blueprint.value } : { division_id: division.id, items: [...order] });
  return { el, value };
}

/** The organiser's form for a new quiz round of a ct_quiz event. */
export function quizRoundCard(ev) {
  const name = h('input', { type: 'text', required: true, maxlength: '100', testid: 'round-name' });
  const opens = h('input', { type: 'datetime-local', testid: 'round-opens' });
  const minutes = h('input', { type: 'number', min: '1', step: 'any', value: '40', testid: 'round-minutes' });
  const freeze = h('input', { type: 'number', min: '0', step: 'any', value: '0', testid: 'round-freeze' });
  const pickers = (ev.divisions || []).map((d) => formPicker(ev, d));
  const msg = h('div', { role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'form', testid: 'qz-round-form', onsubmit: async (e) => {
    e.preventDefault();
    const start = fromLocalInput(opens.value) ?? now();
    const body = { name: name.value, opens_at: start, closes_at: start + Math.round(Number(minutes.value) * 60), freeze_seconds: Math.round(Number(freeze.value) * 60),
      forms: pickers.map((p) => p.value()) };
    try {
      const r = await api('POST', `/api/events/${ev.id}/quiz-rounds`, body);
      location.hash = `#/events/${ev.id}/rounds/${r.id}`;
    } catch (err) {
      clear(msg, errorBox(err, 'round-form-error'));
    }
  } },
  h('div', { class: 'grid-form' }, field(t('ev_round_name'), name), field(t('ev_opens_at'), opens, t('ev_opens_help')), field(t('qz_minutes'), minutes, t('qz_minutes_help')),
    field(t('ev_freeze_minutes'), freeze, t('qz_freeze_help'))),
  h('p', { class: 'muted' }, t('qz_items_help')),
  pickers.map((p) => p.el),
  msg,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'round-create' }, t('ev_create_round'))));
  return card(t('qz_new_round'), form);
}

// ---------------------------------------------------------------- organisers and judges

/** Each division's form: its items (organisers and judges see stems, never keys); editable until the round opens. */
function formsCard(ev, round, quiz, base, me) {
  const divName = new Map((ev.divisions || []).map((d) => [d.id, d]));
  const blocks = quiz.forms.map((f) => {
    const d = divName.get(f.division_id) || { name: String(f.division_id) };
    const rows = (f.item_list || []).map((it, i) => h('tr', { testid: 'qz-form-item', 'data-item': it.id },
      h('td', { class: 'num' }, String(i + 1)), h('td', null, h('code', null, it.id)), h('td', null, typeName(it.type)), h('td', null, litName(it.literacy)),
      h('td', { class: 'num' }, String(it.max_points ?? '')), h('td', { class: 'small' }, it.stem ? preview(it.stem) : '')));
    return h('div', { testid: 'qz-division-form', 'data-division': f.division_id },
      h('h3', null, user(d.name), ' ', h('span', { class: 'muted small' }, t('qz_form_size', { n: f.items, points: f.max_points }))),
      rows.length ? table(['#', t('qz_item'), t('qz_type'), t('qz_literacy'), t('qz_points'), t('qz_stem')], rows, { testid: 'qz-form-table' }) : null);
  });
  let edit = null;
  if (me.manages && now() < round.opens_at) {
    const pickers = (ev.divisions || []).map((d) => formPicker(ev, d, ((quiz.forms.find((f) => f.division_id === d.id) || {}).item_list || []).map((x) => x.id)));
    const out = h('div', { 'aria-live': 'polite' });
    edit = h('details', null, h('summary', null, t('qz_change_items')),
      h('form', { class: 'form', testid: 'qz-forms-edit', onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api('PUT', `${base}/quiz`, { forms: pickers.map((p) => p.value()) });
          clear(out, okBox(t('qz_items_saved'), 'qz-forms-saved'));
        } catch (err) {
          clear(out, errorBox(err, 'qz-forms-error'));
        }
      } }, pickers.map((p) => p.el), out,
      h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'qz-forms-save' }, t('qz_save_items')))));
  }
  return card(t('qz_forms'), blocks, edit);
}

/** Where every team's sheet stands, redrawn every few seconds. */
function progressCard(alive, ev, base) {
  const divName = new Map((ev.divisions || []).map((d) => [d.id, d.name]));
  const body = h('div', { testid: 'qz-progress' }, h('p', { class: 'muted' }, t('loading')));
  let timer = null;
  onCleanup(() => clearTimeout(timer));
  const draw = async () => {
    clearTimeout(timer);
    let p;
    try {
      p = await api('GET', `${base}/quiz/progress`);
    } catch (e) {
      clear(body, errorBox(e, 'qz-progress-error'));
      return;
    }
    if (!alive()) return;
    const status = (x) => h('span', { testid: 'qz-team-status', 'data-status': x.status },
      badge(t(x.closed_by === 'deadline' ? 'qz_closed_by_deadline' : `qz_status_${x.status}`), { submitted: 'ok', in_progress: 'busy', not_started: 'wait' }[x.status]));
    const rows = p.teams.map((x) => h('tr', { testid: 'qz-progress-row', 'data-team': x.team_id },
      h('td', null, user(x.team)), h('td', null, user(divName.get(x.division_id) || '')), h('td', null, status(x)),
      h('td', { class: 'num' }, t('qz_answered_of', { n: x.answered, total: x.total })),
      h('td', null, x.submitted_at ? fmtTime(x.submitted_at, true) : '—'),
      h('td', { class: 'num' }, x.points === null || x.points === undefined ? '—' : t('as_points_of', { points: x.points, max: x.max_points }))));
    clear(body,
      h('p', { testid: 'qz-totals' }, t('qz_totals', p.totals)),
      rows.length ? table([t('ev_team_name'), t('ev_division'), t('ev_state'), t('qz_answered'), t('qz_handed_in_at'), t('score')], rows, { testid: 'qz-progress-table' })
        : empty(t('ev_no_teams')));
    timer = setTimeout(draw, PROGRESS_POLL_MS);
  };
  draw();
  return card(t('qz_progress'), body);
}

function finaliseCard(round, base) {
  const out = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { class: 'btn btn-primary', type: 'button', testid: 'round-finalise', onclick: async () => {
    btn.disabled = true;
    try {
      const res = await api('POST', `${base}/finalise`);
      clear(out, okBox(t('qz_finalised', { n: res.closed_sheets ?? 0 }), 'finalise-ok'));
    } catch (e) {
      clear(out, errorBox(e, 'finalise-error'));
    } finally {
      btn.disabled = false;
    }
  } }, t('ev_finalise'));
  return card(t('ev_results'),
    h('p', { class: 'muted' }, round.finalised_at ? t('ev_finalised_at', { time: fmtTime(round.finalised_at) }) : t('qz_finalise_help')),
    round.finalised_at ? null : btn, out);
}

// ---------------------------------------------------------------- the team's sheet

/** The review after the round: each answer with its points, the key and the explanation. */
function reviewView(view) {
  const s = view.sheet;
  const items = view.items.map((it, i) => {
    const right = it.points === it.max_points && it.max_points > 0;
    return h('section', { class: 'question result', testid: 'qz-review-item', 'data-item': it.item.id, 'data-points': it.points },
      h('h3', null, t('as_question_n', { n: i + 1 }), ' ', badge(t('as_points_of', { points: it.points, max: it.max_points }), right ? 'ok' : it.points ? 'wait' : 'bad')),
      h('div', { class: 'stem' }, richText(loc(it.item.stem))),
      h('p', { testid: 'your-answer' }, h('strong', null, `${t('qz_team_answer')}: `), h('span', { 'data-user': '' }, describe(it.item, it.response))),
      h('p', { testid: 'correct-answer' }, h('strong', null, `${t('as_correct_answer')}: `), describe(it.item, it.correct)),
      it.explanation ? h('div', { class: 'explanation', testid: 'explanation' }, h('strong', null, `${t('as_explanation')}: `), richText(loc(it.explanation))) : null);
  });
  return [
    s ? h('p', { class: 'score-pill', testid: 'qz-total' }, t('as_points_of', { points: s.points ?? 0, max: s.max_points ?? 0 })) : h('p', { class: 'muted', testid: 'qz-no-sheet' }, t('qz_no_sheet')),
    s && s.closed_by === 'deadline' ? h('p', { class: 'muted small', testid: 'qz-closed-by-deadline' }, t('qz_closed_at_end')) : null,
    items,
  ];
}

/** Once the round has closed, a coach goes through each of their teams' sheets (read-only). */
async function coachSheetsCard(alive, ev, round, base) {
  if (now() <= round.closes_at) return null;
  let teams;
  try {
    ({ teams } = await api('GET', `/api/events/${ev.id}/teams`));
  } catch (_) {
    return null;
  }
  if (!alive()) return null;
  const mine = teams.filter((x) => x.status === 'approved');
  if (!mine.length) return null;
  const out = h('div', { testid: 'qz-coach-sheet', 'aria-live': 'polite' });
  const open = async (team) => {
    clear(out, h('p', { class: 'muted' }, t('loading')));
    try {
      const view = await api('GET', `${base}/quiz/sheet?team_id=${team.id}`);
      clear(out, h('h3', null, user(team.name)), reviewView(view));
    } catch (e) {
      clear(out, errorBox(e, 'qz-coach-sheet-error'));
    }
  };
  return card(t('qz_coach_sheets'),
    h('p', { class: 'muted' }, t('qz_coach_sheets_help')),
    h('div', { class: 'actions' }, mine.map((x) => h('button', { class: 'btn btn-small', type: 'button', testid: 'qz-coach-team', 'data-team': x.id, onclick: () => open(x) }, user(x.name, 'span')))),
    out);
}

/** The team's answer sheet card: start, answer (saved as given), hand in; the review once the round has closed. */
async function sheetCard(alive, round, base) {
  const body = h('div', { testid: 'qz-sheet' });
  const el = card(t('qz_sheet'), body);
  let timer = null;
  let retry = null;
  onCleanup(() => { clearInterval(timer); clearTimeout(retry); });

  const show = (view) => {
    clearInterval(timer);
    if (!alive()) return;
    if (view.review) return clear(body, h('p', { class: 'muted' }, t('qz_review_help')), reviewView(view));
    if (view.status === 'not_started') {
      const open = now() >= round.opens_at && now() <= round.closes_at;
      const out = h('div', { 'aria-live': 'polite' });
      const go = h('button', { class: 'btn btn-primary', type: 'button', testid: 'qz-start', disabled: !open, onclick: async () => {
        go.disabled = true;
        try {
          show(await api('POST', `${base}/quiz/sheet`));
        } catch (e) {
          go.disabled = false;
          clear(out, errorBox(e, 'qz-start-error'));
        }
      } }, t('qz_start'));
      return clear(body, h('p', null, t('qz_rules', { n: view.total })), open ? null : h('p', { class: 'muted' }, t(now() < round.opens_at ? 'err_round_not_open' : 'err_round_closed')), out,
        h('div', { class: 'actions' }, go));
    }
    if (view.status === 'submitted') {
      return clear(body, okBox(t('qz_handed_in', { time: fmtTime(view.sheet.submitted_at, true) }), 'qz-handed-in'), h('p', { class: 'muted' }, t('qz_results_after', { time: fmtTime(round.closes_at, true) })));
    }
    answering(view);
  };

  /** The items with their controls; every change is saved at once, one save at a time, retried while offline. */
  const answering = (view) => {
    const sheetId = view.sheet.id;
    let deadline = Date.now() / 1000 + view.remaining_seconds;
    const responses = new Map(view.items.map((it) => [it.item.id, it.response]));
    let pending = {};
    try { pending = JSON.parse(localStorage.getItem(PENDING_KEY(sheetId)) || '{}') || {}; } catch (_) { pending = {}; }
    const keep = () => { try { localStorage.setItem(PENDING_KEY(sheetId), JSON.stringify(pending)); } catch (_) { /* private mode */ } };
    const timerEl = h('span', { class: 'timer', testid: 'timer', role: 'timer', 'aria-label': t('as_time_left') });
    const savedEl = h('span', { class: 'saved muted', role: 'status', 'aria-live': 'polite', testid: 'saved' });
    const countEl = h('span', { testid: 'answered-count' });
    const msg = h('div', { 'aria-live': 'polite' });
    const counted = () => {
      const n = [...responses.values()].filter((r) => r !== null && r !== undefined).length;
      countEl.textContent = t('as_answered_of', { n, total: view.total });
    };
    let chain = Promise.resolve();
    const send = async () => {
      for (const itemId of Object.keys(pending)) {
        const sent = pending[itemId];
        try {
          const res = await api('PUT', `${base}/quiz/sheet/answers/${encodeURIComponent(itemId)}`, { response: sent });
          if (pending[itemId] === sent) delete pending[itemId];
          keep();
          deadline = Date.now() / 1000 + res.remaining_seconds;
          savedEl.textContent = t('as_saved_at', { time: fmtTime(res.answered_at || now(), true) });
          savedEl.dataset.state = 'saved';
        } catch (e) {
          if (e instanceof ApiError && e.status === 0) {
            savedEl.textContent = t('as_not_saved_retrying');
            savedEl.dataset.state = 'retrying';
            clearTimeout(retry);
            retry = setTimeout(flush, 3000);
            return;
          }
          delete pending[itemId];
          keep();
          clear(msg, errorBox(e, 'qz-save-error'));
          // Handed in by a teammate, or the round is over: show where the sheet stands now.
          if (e instanceof ApiError && e.status === 409) reload();
          return;
        }
      }
    };
    const flush = () => (chain = chain.then(send, send));
    const save = (itemId) => (response) => {
      responses.set(itemId, response);
      pending[itemId] = response;
      keep();
      savedEl.textContent = t('as_saving');
      savedEl.dataset.state = 'saving';
      counted();
      flush();
    };
    const items = view.items.map((it, i) => h('section', { class: 'question', testid: 'qz-question', 'data-item': it.item.id },
      h('h3', null, t('as_question_n', { n: i + 1 }), ' ', h('span', { class: 'muted small' }, t('qz_points_n', { n: it.item.max_points }))),
      h('div', { class: 'stem' }, richText(loc(it.item.stem))),
      answerControl(it.item, pending[it.item.id] !== undefined ? pending[it.item.id] : it.response, save(it.item.id), false),
      it.answered_by ? h('p', { class: 'muted small', testid: 'qz-answered-by' }, t('qz_saved_by', { time: fmtTime(it.answered_at, true) })) : null));
    const hand = h('button', { class: 'btn btn-primary', type: 'button', testid: 'qz-submit', onclick: async () => {
      // eslint-disable-next-line no-alert
      if (!window.confirm(t('qz_confirm_hand_in'))) return;
      hand.disabled = true;
      await chain;
      try {
        show(await api('POST', `${base}/quiz/sheet/submit`));
      } catch (e) {
        hand.disabled = false;
        clear(msg, errorBox(e, 'qz-submit-error'));
      }
    } }, t('qz_hand_in'));
    const refresh = h('button', { class: 'btn btn-ghost btn-small', type: 'button', testid: 'qz-refresh', onclick: () => reload() }, t('qz_refresh'));
    const tick = () => {
      const left = deadline - Date.now() / 1000;
      timerEl.textContent = `${t('as_time_left')}: ${clock(left)}`;
      timerEl.classList.toggle('warn', left < 300);
      if (left <= 0) {
        clearInterval(timer);
        // The server closes the sheet at the round's end; show what it has.
        setTimeout(reload, 1500);
      }
    };
    clear(body,
      h('div', { class: 'take-bar' }, timerEl, ' ', countEl, ' ', savedEl, ' ', refresh),
      h('p', { class: 'muted small' }, t('qz_shared_help')),
      items, msg,
      h('div', { class: 'actions' }, hand));
    counted();
    tick();
    timer = setInterval(tick, 1000);
    if (Object.keys(pending).length) flush();
  };

  const reload = async () => {
    try {
      show(await api('GET', `${base}/quiz/sheet`));
    } catch (e) {
      if (alive()) clear(body, errorBox(e, 'qz-sheet-error'));
    }
  };
  await reload();
  return el;
}

// ---------------------------------------------------------------- the page

/** The page of a quiz round: what the caller is in the event decides the panels. */
export async function quizRoundPage(alive, ev, round, base, crumbs, board) {
  const quiz = (await api('GET', `${base}/quiz`)).quiz;
  if (!alive()) return;
  const me = ev.me || {};
  const phase = round.finalised_at ? 'final' : now() < round.opens_at ? 'not_open' : now() > round.closes_at ? 'closed' : now() >= round.freeze_at ? 'frozen' : 'open';
  const facts = h('dl', { class: 'facts', testid: 'qz-facts' },
    h('div', null, h('dt', null, t('cw_kind')), h('dd', null, t('ev_kind_ct_quiz'))),
    h('div', null, h('dt', null, t('ev_state')), h('dd', null, h('span', { testid: 'round-phase', 'data-phase': phase }, badge(t(`ev_phase_${phase}`), phase === 'open' ? 'ok' : 'wait')))),
    h('div', null, h('dt', null, t('ev_opens_at')), h('dd', null, fmtTime(round.opens_at, true))),
    h('div', null, h('dt', null, t('ev_closes_at')), h('dd', null, fmtTime(round.closes_at, true))),
    round.freeze_at < round.closes_at ? h('div', null, h('dt', null, t('ev_freeze_at')), h('dd', null, fmtTime(round.freeze_at, true))) : null,
    h('div', null, h('dt', null, t('qz_questions')), h('dd', { testid: 'qz-question-count' }, quiz.forms.map((f) => t('qz_form_size', { n: f.items, points: f.max_points })).join(' · '))));
  setPage(round.name, crumbs, h('h1', { testid: 'round-title' }, user(round.name)), facts,
    me.manages ? finaliseCard(round, base) : null,
    await resultsCard(alive, ev, round, base),
    me.team_id ? await sheetCard(alive, round, base) : null,
    me.coach && !me.team_id ? await coachSheetsCard(alive, ev, round, base) : null,
    me.manages || me.judge ? formsCard(ev, round, quiz, base, me) : null,
    me.manages || me.judge ? progressCard(alive, ev, base) : null,
    clarificationsCard(alive, ev, round, base),
    board.el);
  board.start();
}
