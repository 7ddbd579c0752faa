// Assessments (测评): the list, setting one up, live progress, and sitting one —
// one question per screen or paged, a visible timer, a "saved" indicator,
// resume after a reload, font size, results with the key and explanations.

import { ApiError, LANG, api, badge, card, clear, codeSpans, empty, errText, errorBox, field, fmtTime, fromLocalInput, h, loading, loc, now, okBox, onCleanup, rerender, setPage, state, t, table, toLocalInput } from './core.js';

const POLL_MS = 5000;

const literacyName = (l) => (l && l.name ? loc(l.name) : t(`lit_${String(l && l.literacy).replace(/-/g, '_')}`));

/** Item text (stem, explanation) as DOM: paragraphs with code words set as code, and ``` blocks as code. */
export function richText(text) {
  const out = [];
  const src = String(text ?? '');
  const fence = /```[^\n]*\n([\s\S]*?)```/g;
  let last = 0;
  const paras = (chunk) => chunk.split(/\n{2,}/).map((p) => p.trim()).filter(Boolean).map((p) => h('p', null, codeSpans(p)));
  for (const m of src.matchAll(fence)) {
    out.push(...paras(src.slice(last, m.index)));
    out.push(h('pre', { class: 'code' }, h('code', null, m[1].replace(/\n$/, ''))));
    last = m.index + m[0].length;
  }
  out.push(...paras(src.slice(last)));
  return out;
}

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

function takerBadge(status) {
  const kind = { submitted: 'ok', in_progress: 'busy', not_started: 'wait' }[status] || 'wait';
  return badge(t(`as_status_${status}`), kind);
}

// ---------------------------------------------------------------- the list

export async function assessmentsPage(alive) {
  setPage(t('nav_assessments'), loading());
  const { assessments } = await api('GET', '/api/assessments');
  if (!alive()) return;
  const sitting = assessments.filter((a) => a.sits);
  const managing = assessments.filter((a) => a.manages);
  const takerItem = (a) => {
    const mine = a.mine || {};
    const status = mine.status || 'not_started';
    const windowNote = mine.window === 'not_open' ? t('as_opens', { time: fmtTime(a.opens_at) })
      : mine.window === 'closed' ? t('as_closed_at', { time: fmtTime(a.closes_at) }) : t('as_closes', { time: fmtTime(a.closes_at) });
    return h('li', { class: 'assignment-card', testid: 'assessment-item', 'data-status': status },
      h('a', { href: `#/assessments/${a.id}/take`, testid: 'assessment-take-link' }, h('span', { class: 'title', 'data-user': '' }, a.title)),
      h('div', { class: 'meta' }, takerBadge(status), h('span', null, windowNote),
        h('span', null, t('as_time_limit_n', { n: a.time_limit_minutes })),
        status === 'submitted' && mine.max_points ? h('span', { class: 'score-pill' }, t('as_points_of', { points: mine.points ?? 0, max: mine.max_points })) : null));
  };
  const managerRow = (a) => h('tr', { testid: 'assessment-row' },
    h('td', null, h('a', { href: `#/assessments/${a.id}`, 'data-user': '', testid: 'assessment-progress-link' }, a.title)),
    h('td', null, t(`as_population_${a.population}`)),
    h('td', null, t(`as_mode_${a.mode}`)),
    h('td', null, fmtTime(a.opens_at)),
    h('td', null, fmtTime(a.closes_at)));
  setPage(t('nav_assessments'),
    h('h1', null, t('nav_assessments')),
    sitting.length ? card(t('as_to_sit'), h('ul', { class: 'assignment-list', testid: 'assessments-to-sit' }, sitting.map(takerItem))) : null,
    managing.length ? card(t('as_managed'), table([t('as_title'), t('as_population'), t('as_mode'), t('as_opens_at'), t('as_closes_at')], managing.map(managerRow), { testid: 'assessments-managed' })) : null,
    !sitting.length && !managing.length ? card(null, empty(t('as_none'), 'assessments-empty')) : null,
    state.me.can.staff ? await createForm(alive, managing) : null,
    state.me.can.staff ? await calibrationsCard(alive) : null,
    state.me.can.staff ? await itemReviewCard(alive) : null);
}

// ---------------------------------------------------------------- calibration

/** The item bank's calibrations on this server's sittings (staff read them; the platform admin runs one). */
async function calibrationsCard(alive) {
  let calibrations;
  try {
    ({ calibrations } = await api('GET', '/api/calibrations'));
  } catch (_) {
    return null;
  }
  if (!alive()) return null;
  const admin = state.me.role === 'platform_admin';
  const msg = h('div', { 'aria-live': 'polite' });
  const literacies = (c) => h('ul', { class: 'plain' }, c.literacies.map((l) => h('li', { testid: 'calibration-literacy' },
    literacyName(l), ': ', t('cal_literacy_line', { model: l.model.toUpperCase(), takers: l.takers, items: l.items, reliability: l.reliability == null ? '—' : Number(l.reliability).toFixed(2) }),
    l.converged ? null : [' ', badge(t('cal_not_converged'), 'bad')])),
    (c.skipped || []).map((k) => h('li', { class: 'muted' }, literacyName(k), ': ', t('cal_skipped', { takers: k.takers }))));
  const rows = calibrations.map((c, i) => h('tr', { testid: 'calibration-row' },
    h('td', null, t(`as_population_${c.population}`)),
    h('td', null, `v${c.version}`, ' ', i === calibrations.findIndex((x) => x.population === c.population) ? badge(t('cal_in_use'), 'ok') : null),
    h('td', null, fmtTime(c.created_at)),
    h('td', { class: 'num' }, String(c.takers)),
    h('td', null, literacies(c))));
  let form = null;
  if (admin) {
    const population = h('select', { testid: 'cal-population' }, ['students', 'teachers'].map((p) => h('option', { value: p }, t(`as_population_${p}`))));
    const minTakers = h('input', { type: 'number', min: '20', max: '1000000', value: '100', testid: 'cal-min-takers' });
    const btn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'cal-run' }, t('cal_run'));
    form = h('form', { class: 'form', testid: 'calibration-form', onsubmit: async (ev) => {
      ev.preventDefault();
      btn.disabled = true;
      clear(msg, h('p', { class: 'muted' }, t('cal_running')));
      try {
        const c = await api('POST', '/api/calibrations', { population: population.value, min_takers: Number(minTakers.value) });
        clear(msg, okBox(t('cal_done', { version: c.version, takers: c.takers, items: c.items }), 'calibration-ok'));
        rerender();
      } catch (e) {
        const skipped = e instanceof ApiError && e.code === 'too_few_sittings' && Array.isArray(e.details.skipped)
          ? h('ul', null, e.details.skipped.map((k) => h('li', null, literacyName(k), ': ', t('cal_skipped', { takers: k.takers })))) : null;
        clear(msg, errorBox(e, 'calibration-error'), skipped);
      } finally {
        btn.disabled = false;
      }
    } },
    h('p', null, t('cal_help')),
    field(t('as_population'), population), field(t('cal_min_takers'), minTakers, t('cal_min_takers_help')),
    h('div', { class: 'actions' }, btn));
  }
  return card(t('cal_title'),
    calibrations.length ? table([t('as_population'), t('cal_version'), t('cal_created_at'), t('cal_takers'), t('cal_literacies')], rows, { testid: 'calibrations' })
      : empty(t('cal_none'), 'calibrations-empty'),
    form, msg);
}

// ---------------------------------------------------------------- item review

const REVIEW_DECISIONS = ['keep', 'revise', 'retire'];

/** The group comparison of a flag, in words: "女生 vs 男生", or "fit". */
function reviewGroup(f) {
  if (f.kind === 'fit') return t('ir_fit');
  return t('ir_vs', { focal: t(`ir_group_${f.details.focal}`), reference: t(`ir_group_${f.details.reference}`) });
}

/** A flag's statistic with what it means: ETS Δ and whom it favours, or infit/outfit. */
function reviewStatistic(f) {
  const n = (v, d = 2) => (v == null ? '—' : Number(v).toFixed(d));
  if (f.kind === 'fit') {
    return [t('ir_fit_line', { infit: n(f.details.infit), outfit: n(f.details.outfit) }),
      f.details.direction === 'over' || f.details.direction === 'under' ? [' ', t(`ir_fit_${f.details.direction}`)] : null];
  }
  const favours = f.details.favours === 'reference' ? f.details.reference : f.details.favours === 'focal' ? f.details.focal : null;
  return [t('ir_delta_line', { delta: n(f.statistic), n_reference: f.details.n_reference, n_focal: f.details.n_focal }),
    favours ? [' ', t('ir_favours', { group: t(`ir_group_${favours}`) })] : null];
}

/** Items flagged after a calibration (DIF between groups, misfit): staff read them; the platform admin keeps, revises or retires each. */
async function itemReviewCard(alive) {
  let calibrations;
  try {
    ({ calibrations } = await api('GET', '/api/calibrations'));
  } catch (_) {
    return null;
  }
  if (!alive() || !calibrations.length) return null;
  const admin = state.me.role === 'platform_admin';
  const body = h('div', { testid: 'item-review-body' });
  const picker = h('select', { testid: 'ir-calibration' }, calibrations.map((c) => h('option', { value: String(c.id) },
    `${t(`as_population_${c.population}`)} v${c.version} (${fmtTime(c.created_at)})`)));
  const load = async () => {
    clear(body, loading());
    let review;
    try {
      review = await api('GET', `/api/calibrations/${picker.value}/review`);
    } catch (e) {
      clear(body, errorBox(e, 'item-review-error'));
      return;
    }
    if (!alive()) return;
    const insufficient = review.not_flagged.filter((r) => r.category === 'insufficient').length;
    const row = (f) => {
      const msg = h('div', { 'aria-live': 'polite' });
      const note = h('input', { type: 'text', maxlength: '1000', placeholder: t('ir_note'), 'aria-label': t('ir_note'), testid: 'ir-note' });
      const buttons = REVIEW_DECISIONS.map((d) => h('button', { class: d === 'retire' ? 'btn btn-danger' : 'btn', type: 'button', testid: `ir-${d}`, onclick: async () => {
        buttons.forEach((b) => { b.disabled = true; });
        try {
          await api('POST', `/api/calibrations/${picker.value}/flags/${f.id}/review`, { decision: d, note: note.value });
          await load();
        } catch (e) {
          clear(msg, errorBox(e, 'ir-error'));
          buttons.forEach((b) => { b.disabled = false; });
        }
      } }, t(`ir_decide_${d}`)));
      const stateKind = { open: 'wait', kept: 'ok', revised: 'busy', retired: 'bad' }[f.state] || 'wait';
      return h('tr', { testid: 'ir-flag', 'data-item': f.item_id, 'data-state': f.state },
        h('td', null, h('code', null, f.item_id), f.item ? h('div', { class: 'muted', 'data-user': '' }, loc(f.item.stem)) : null),
        h('td', null, literacyName({ literacy: f.literacy })),
        h('td', null, reviewGroup(f)),
        h('td', null, badge(t(`ir_category_${f.category}`), f.category === 'C' || f.category === 'misfit' ? 'bad' : 'wait')),
        h('td', null, reviewStatistic(f)),
        h('td', null, badge(t(`ir_state_${f.state}`), stateKind),
          f.note ? h('div', { class: 'muted', 'data-user': '' }, f.note) : null,
          f.reviewed_at ? h('div', { class: 'muted' }, fmtTime(f.reviewed_at)) : null),
        admin ? h('td', null, note, h('div', { class: 'actions' }, buttons), msg) : null);
    };
    clear(body,
      review.flags.length
        ? table([t('ir_item'), t('ir_literacy'), t('ir_group'), t('ir_category'), t('ir_statistic'), t('ir_state'), admin ? '' : null].filter((x) => x !== null),
          review.flags.map(row), { testid: 'ir-flags' })
        : empty(t('ir_none'), 'ir-empty'),
      insufficient ? h('p', { class: 'muted', testid: 'ir-insufficient' }, t('ir_insufficient', { n: insufficient, min: review.rules.min_group })) : null);
  };
  picker.addEventListener('change', load);
  await load();
  return card(t('ir_title'), h('p', null, t('ir_help')), field(t('ir_calibration'), picker), body);
}

/** The form that sets up an assessment (the server decides who may, for which classes or schools). */
async function createForm(alive, managing) {
  const [classes, schools] = await Promise.all([
    state.me.can.manage_classes ? api('GET', '/api/classes').then((r) => r.classes || []).catch(() => []) : [],
    api('GET', '/api/schools?per_page=500').then((r) => r.schools || []).catch(() => []),
  ]);
  if (!alive()) return null;
  const msg = h('div', { role: 'status', 'aria-live': 'polite' });
  const sel = (name, options, value) => h('select', { name, testid: `as-${name}` }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
  const population = sel('population', [['students', t('as_population_students')], ['teachers', t('as_population_teachers')]], 'students');
  const mode = sel('mode', [['fixed', t('as_mode_fixed')], ['adaptive', t('as_mode_adaptive')]], 'fixed');
  const presentation = sel('presentation', [['single', t('as_presentation_single')], ['paged', t('as_presentation_paged')]], 'single');
  const title = h('input', { name: 'title', required: true, maxlength: '100', testid: 'as-title' });
  const opens = h('input', { type: 'datetime-local', name: 'opens_at', value: toLocalInput(now()), testid: 'as-opens' });
  const closes = h('input', { type: 'datetime-local', name: 'closes_at', value: toLocalInput(now() + 7 * 86400), testid: 'as-closes' });
  const minutes = h('input', { type: 'number', name: 'time_limit_minutes', min: '1', max: '600', value: '40', testid: 'as-minutes' });
  const items = h('textarea', { name: 'items', rows: '3', testid: 'as-items', placeholder: t('as_items_help') });
  const blueprint = h('textarea', { name: 'blueprint', rows: '4', testid: 'as-blueprint' });
  const maxItems = h('input', { type: 'number', name: 'max_items', min: '1', max: '100', value: '20', testid: 'as-max-items' });
  const seTarget = h('input', { type: 'number', name: 'se_target', min: '0.05', max: '2', step: '0.05', value: '0.3', testid: 'as-se' });
  // Last year's assessment of the same population, for the reports' growth rows (the server checks the year).
  const follows = sel('follows_id', [['', t('as_follows_none')], ...managing.map((a) => [String(a.id), `${a.title} (${fmtTime(a.opens_at)})`])], '');
  follows.querySelectorAll('option').forEach((o) => { if (o.value) o.setAttribute('data-user', ''); });
  const band = sel('grade_band', [['', t('as_band_any')], ['3-4', '3-4'], ['5-6', '5-6'], ['7-9', '7-9']], '');
  const classBoxes = classes.map((c) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: String(c.id), testid: 'as-class' }), ' ', h('span', { 'data-user': '' }, c.name)));
  const school = sel('target_school_id', schools.map((s) => [String(s.id), s.name]), '');
  school.querySelectorAll('option').forEach((o) => o.setAttribute('data-user', ''));
  const classesField = field(t('as_classes'), h('div', { class: 'checks' }, classBoxes.length ? classBoxes : h('span', { class: 'muted' }, t('as_no_classes'))));
  const schoolField = field(t('as_target_school'), school);
  const fixedFields = [field(t('as_items'), items, t('as_items_help')), field(t('as_blueprint'), blueprint, t('as_blueprint_help'))];
  const adaptiveFields = [field(t('as_max_items'), maxItems), field(t('as_se_target'), seTarget, t('as_se_target_help')), field(t('as_grade_band'), band)];
  const sync = () => {
    classesField.hidden = population.value !== 'students';
    schoolField.hidden = population.value !== 'teachers';
    for (const f of fixedFields) f.hidden = mode.value !== 'fixed';
    for (const f of adaptiveFields) f.hidden = mode.value !== 'adaptive';
  };
  population.addEventListener('change', sync);
  mode.addEventListener('change', sync);
  const form = h('form', { class: 'form', testid: 'assessment-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const body = {
      title: title.value, population: population.value, mode: mode.value, presentation: presentation.value,
      opens_at: fromLocalInput(opens.value) ?? undefined, closes_at: fromLocalInput(closes.value), time_limit_minutes: Number(minutes.value),
    };
    if (follows.value) body.follows_id = Number(follows.value);
    if (population.value === 'students') body.class_ids = classBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => Number(i.value));
    else if (school.value) body.target_school_id = Number(school.value);
    if (mode.value === 'fixed') {
      const ids = items.value.split(/[\s,，]+/).filter(Boolean);
      if (ids.length) body.items = ids;
      if (blueprint.value.trim()) body.blueprint = blueprint.value;
    } else {
      body.max_items = Number(maxItems.value);
      body.se_target = Number(seTarget.value);
      if (band.value) body.grade_band = band.value;
    }
    try {
      const a = await api('POST', '/api/assessments', body);
      location.hash = `#/assessments/${a.id}`;
    } catch (e) {
      const extra = e instanceof ApiError && e.code === 'blueprint_infeasible' && Array.isArray(e.details.problems)
        ? h('ul', null, e.details.problems.map((p) => h('li', null, loc(p.text)))) : null;
      clear(msg, errorBox(e, 'assessment-form-error'), extra);
    }
  } },
  field(t('as_title'), title), field(t('as_population'), population), field(t('as_mode'), mode), field(t('as_presentation'), presentation),
  field(t('as_opens_at'), opens), field(t('as_closes_at'), closes), field(t('as_time_limit'), minutes),
  classesField, schoolField, fixedFields, adaptiveFields, field(t('as_follows'), follows, t('as_follows_help')), msg,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'assessment-create' }, t('as_create'))));
  sync();
  return card(t('as_new'), form);
}

// ---------------------------------------------------------------- live progress

export async function assessmentProgressPage(alive, id) {
  setPage(t('as_progress'), loading());
  const a = await api('GET', `/api/assessments/${id}`);
  if (!alive()) return;
  if (!a.manages) {
    location.replace(`#/assessments/${id}/take`);
    return;
  }
  const body = h('div', { testid: 'progress-body' });
  const stamp = h('p', { class: 'muted small', role: 'status', 'aria-live': 'off', testid: 'progress-updated' });
  const draw = async () => {
    let p;
    try {
      p = await api('GET', `/api/assessments/${id}/progress`);
    } catch (e) {
      clear(body, errorBox(e));
      return;
    }
    if (!alive()) return;
    const counts = p.counts || {};
    const rows = (p.takers || []).map((x) => h('tr', { testid: 'progress-row', 'data-status': x.status },
      h('td', { 'data-user': '' }, x.display_name),
      h('td', { 'data-user': '' }, x.student_number ?? ''),
      h('td', { 'data-user': '' }, x.class_name ?? ''),
      h('td', null, takerBadge(x.status)),
      h('td', { class: 'num', testid: 'progress-answered' }, x.status === 'not_started' ? '—' : t('as_answered_of', { n: x.answered ?? 0, total: x.total ?? 0 })),
      h('td', { class: 'num' }, x.status === 'in_progress' ? clock(x.remaining_seconds) : '—'),
      h('td', { class: 'num', testid: 'progress-score' }, x.status !== 'submitted' ? '—'
        : x.grading ? t('as_grading') : t('as_points_of', { points: x.points ?? 0, max: x.max_points ?? 0 }))));
    clear(body,
      h('p', { testid: 'progress-counts' },
        t('as_counts', { not_started: counts.not_started ?? 0, in_progress: counts.in_progress ?? 0, submitted: counts.submitted ?? 0 })),
      rows.length ? table([t('display_name'), t('student_number'), t('as_class'), t('as_state'), t('as_answered'), t('as_time_left'), t('as_score')], rows, { testid: 'progress-table' })
        : empty(t('as_no_takers'), 'progress-empty'));
    stamp.textContent = t('as_updated', { time: fmtTime(p.at, true) });
  };
  const items = (a.items || []).map((it, i) => h('li', null, h('span', { class: 'muted' }, `${i + 1}. `), h('code', null, it.id), ' ', codeSpans(loc(it.stem))));
  setPage(a.title,
    h('p', { class: 'crumbs' }, h('a', { href: '#/assessments' }, t('nav_assessments'))),
    h('h1', { 'data-user': '' }, a.title),
    card(null, h('p', null, `${t(`as_population_${a.population}`)} · ${t(`as_mode_${a.mode}`)} · ${t('as_time_limit_n', { n: a.time_limit_minutes })}`),
      h('p', null, `${t('as_opens_at')}: ${fmtTime(a.opens_at)} · ${t('as_closes_at')}: ${fmtTime(a.closes_at)}`)),
    card(t('as_progress'), stamp, body),
    reportsCard(id),
    items.length ? card(a.mode === 'adaptive' ? t('as_pool_n', { n: items.length }) : t('as_form_n', { n: items.length }), h('details', null, h('summary', null, t('as_show_items')), h('ol', { class: 'plain' }, items))) : null);
  await draw();
  // Live: poll while the page is open.
  const timer = setInterval(draw, POLL_MS);
  onCleanup(() => clearInterval(timer));
}

// ---------------------------------------------------------------- reports

/**
 * The reports the caller may read for this assessment, as the server lists them
 * (student, class, school, district, city, annual), each as a web page link (JSON
 * shown by the browser), PDF and XLSX in the page's language. The server decides
 * who reads what; an empty list shows nothing.
 */
function reportsCard(id) {
  const box = h('div', { testid: 'reports-card' });
  (async () => {
    let list;
    try {
      list = await api('GET', `/api/assessments/${id}/reports`);
    } catch (e) {
      clear(box, errorBox(e, 'reports-error'));
      return;
    }
    const reports = list.reports || [];
    if (!reports.length) return;
    const url = (r, format) => `/api/assessments/${id}/reports/${r.level}/${r.target}?format=${format}&lang=${LANG}`;
    const rows = reports.map((r) => h('tr', { testid: 'report-row', 'data-level': r.level },
      h('td', null, t(`rep_level_${r.level}`)),
      h('td', { 'data-user': '' }, r.name),
      h('td', null, h('div', { class: 'actions' },
        h('a', { class: 'btn btn-ghost', href: url(r, 'pdf'), download: '', testid: 'report-pdf' }, t('rep_pdf')),
        h('a', { class: 'btn btn-ghost', href: url(r, 'xlsx'), download: '', testid: 'report-xlsx' }, t('download_xlsx'))))));
    clear(box, card(t('rep_reports'),
      table([t('rep_level'), t('rep_name'), t('rep_download')], rows, { testid: 'reports-table' }),
      h('p', { class: 'muted small' }, t('rep_privacy_note'))));
  })();
  return box;
}

// ---------------------------------------------------------------- sitting one

const FONT_KEY = 'qiming_test_font';
const PENDING_KEY = (sid) => `qiming_pending_${sid}`;

function pendingOf(sid) {
  try {
    return JSON.parse(localStorage.getItem(PENDING_KEY(sid)) || '{}');
  } catch (_) {
    return {};
  }
}

function setPending(sid, map) {
  try {
    if (Object.keys(map).length) localStorage.setItem(PENDING_KEY(sid), JSON.stringify(map));
    else localStorage.removeItem(PENDING_KEY(sid));
  } catch (_) { /* private mode: the server copy is what counts */ }
}

export async function takePage(alive, id) {
  setPage(t('as_take'), loading());
  const a = await api('GET', `/api/assessments/${id}`);
  if (!alive()) return;
  if (!a.sits) {
    location.replace(`#/assessments/${id}`);
    return;
  }
  const mine = a.mine || {};
  if (mine.status === 'not_started') return intro(alive, a);
  const view = await api('GET', `/api/assessments/${id}/sitting`);
  if (!alive()) return;
  return sittingView(alive, a, view);
}

function intro(alive, a) {
  const msg = h('div');
  const mine = a.mine || {};
  const start = h('button', { class: 'btn btn-primary btn-big', type: 'button', testid: 'start-sitting', disabled: mine.window !== 'open', onclick: async () => {
    start.disabled = true;
    try {
      const view = await api('POST', `/api/assessments/${a.id}/sitting`);
      if (alive()) sittingView(alive, a, view);
    } catch (e) {
      start.disabled = false;
      clear(msg, errorBox(e, 'start-error'));
    }
  } }, t('as_start'));
  setPage(a.title,
    h('p', { class: 'crumbs' }, h('a', { href: '#/assessments' }, t('nav_assessments'))),
    h('h1', { 'data-user': '' }, a.title),
    card(null,
      h('ul', { class: 'plain' },
        h('li', null, t('as_time_limit_n', { n: a.time_limit_minutes })),
        a.mode === 'adaptive' ? h('li', null, t('as_adaptive_note', { n: a.max_items })) : h('li', null, t('as_items_n', { n: a.item_count ?? 0 })),
        h('li', null, t('as_closes', { time: fmtTime(a.closes_at) })),
        mine.window === 'not_open' ? h('li', null, t('as_opens', { time: fmtTime(a.opens_at) })) : null),
      h('p', null, t('as_rules')),
      msg, h('div', { class: 'actions' }, start)));
}

/** A response as words: option texts, true/false, the number or text given. */
export function describe(item, r) {
  if (!r) return t('as_no_answer');
  const opt = (list, oid) => {
    const o = (item[list] || []).find((x) => x.id === oid);
    return o ? loc(o.text) : oid;
  };
  if (Array.isArray(r.choices)) return r.choices.map((c) => opt('options', c)).join('；');
  if (typeof r.value === 'boolean') return r.value ? t('as_true') : t('as_false');
  if (typeof r.number === 'number') return String(r.number) + (r.tolerance ? ` (±${r.tolerance})` : '');
  if (typeof r.text === 'string') return r.text;
  if (Array.isArray(r.order)) return r.order.map((c) => opt('options', c)).join(' → ');
  if (Array.isArray(r.pairs)) return r.pairs.map(([o, x]) => `${opt('options', o)} → ${opt('targets', x)}`).join('；');
  if (r.accepted) return (r.accepted[LANG] || r.accepted['zh-CN'] || []).join(' / ');
  return '';
}

/** The controls that answer one item; `save(response)` stores it. */
export function answerControl(item, response, save, disabled) {
  const name = `q-${item.id}`;
  const opts = item.options || [];
  switch (item.type) {
    case 'single':
    case 'multiple': {
      const multi = item.type === 'multiple';
      const chosen = new Set((response && response.choices) || []);
      const boxes = opts.map((o) => h('label', { class: 'choice' },
        h('input', { type: multi ? 'checkbox' : 'radio', name, value: o.id, checked: chosen.has(o.id), disabled, testid: 'choice',
          onchange: () => save({ choices: boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value) }) }),
        ' ', h('span', null, codeSpans(loc(o.text)))));
      return h('div', { class: 'choices', role: multi ? 'group' : 'radiogroup', 'aria-label': multi ? t('as_choose_all') : t('as_choose_one') },
        multi ? h('p', { class: 'muted small' }, t('as_choose_all')) : null, boxes);
    }
    case 'true_false':
      return h('div', { class: 'choices', role: 'radiogroup', 'aria-label': t('as_true_or_false') },
        [[true, t('as_true')], [false, t('as_false')]].map(([v, label]) => h('label', { class: 'choice' },
          h('input', { type: 'radio', name, value: String(v), checked: response && response.value === v, disabled, testid: 'choice', onchange: () => save({ value: v }) }),
          ' ', label)));
    case 'numeric': {
      const input = h('input', { type: 'number', step: 'any', inputmode: 'decimal', value: response && typeof response.number === 'number' ? String(response.number) : '', disabled, testid: 'answer-number',
        'aria-label': t('as_your_answer'), onchange: () => { const x = Number(input.value); save(input.value.trim() === '' || !Number.isFinite(x) ? null : { number: x }); } });
      return h('div', { class: 'answer-line' }, input, item.unit ? h('span', null, ' ', loc(item.unit)) : null);
    }
    case 'text': {
      let timer = null;
      const input = h('input', { type: 'text', maxlength: '200', value: (response && response.text) || '', disabled, testid: 'answer-text', 'aria-label': t('as_your_answer'),
        oninput: () => { clearTimeout(timer); timer = setTimeout(() => save(input.value.trim() ? { text: input.value } : null), 700); },
        onchange: () => { clearTimeout(timer); save(input.value.trim() ? { text: input.value } : null); } });
      return h('div', { class: 'answer-line' }, input);
    }
    case 'ordering': {
      let order = (response && response.order && response.order.length === opts.length) ? [...response.order] : opts.map((o) => o.id);
      const list = h('ol', { class: 'ordering', testid: 'ordering' });
      const draw = (focus) => {
        clear(list, order.map((oid, i) => {
          const o = opts.find((x) => x.id === oid);
          const move = (d) => {
            const j = i + d;
            if (j < 0 || j >= order.length) return;
            [order[i], order[j]] = [order[j], order[i]];
            draw(`${oid}:${d}`);
            save({ order: [...order] });
          };
          return h('li', null, h('span', null, codeSpans(loc(o ? o.text : oid))), ' ',
            h('button', { type: 'button', class: 'btn btn-small', disabled: disabled || i === 0, 'data-move': `${oid}:-1`, 'aria-label': t('as_move_up'), onclick: () => move(-1) }, '↑'),
            h('button', { type: 'button', class: 'btn btn-small', disabled: disabled || i === order.length - 1, 'data-move': `${oid}:1`, 'aria-label': t('as_move_down'), onclick: () => move(1) }, '↓'));
        }));
        if (focus) list.querySelector(`[data-move="${focus}"]:not([disabled])`)?.focus();
      };
      draw();
      return h('div', null, list, h('button', { type: 'button', class: 'btn btn-ghost btn-small', disabled, testid: 'keep-order', onclick: () => save({ order: [...order] }) }, t('as_keep_order')));
    }
    case 'matching': {
      const current = new Map(((response && response.pairs) || []).map(([o, x]) => [o, x]));
      const selects = opts.map((o) => h('select', { 'data-option': o.id, disabled, 'aria-label': loc(o.text), testid: 'match-select',
        onchange: () => save({ pairs: selects.filter((s) => s.value).map((s) => [s.dataset.option, s.value]) }) },
      h('option', { value: '' }, '—'), (item.targets || []).map((x) => h('option', { value: x.id, selected: current.get(o.id) === x.id }, loc(x.text)))));
      return h('div', { class: 'matching' }, opts.map((o, i) => h('div', { class: 'answer-line' }, h('span', null, codeSpans(loc(o.text))), ' → ', selects[i])));
    }
    default:
      return h('p', { class: 'alert alert-info', testid: 'unsupported' }, t('as_unsupported'));
  }
}

/** How long to wait between looks at a program being graded. */
const GRADE_POLL_MS = 2000;

/**
 * A performance item: the lab's task, an editor prefilled with the starter (or the
 * last program handed in), the hand-in button, each program's grading status and
 * points as they arrive (polled while one is being graded), and the attempts left.
 * `onHandedIn(response)` marks the item answered on the sitting's screen.
 */
function performanceControl(alive, a, it, onHandedIn, onClosed) {
  const task = it.task || {};
  const languages = (task.languages || []).filter((l) => (task.starter || {})[l] !== undefined || l === 'rhai');
  let programs = it.programs || [];
  const last = programs[programs.length - 1];
  let language = last && languages.includes(last.language) ? last.language : languages[0] || 'rhai';
  const editor = h('textarea', { class: 'code', rows: '14', spellcheck: 'false', autocomplete: 'off', testid: 'program-editor', 'aria-label': t('as_your_program') });
  editor.value = last ? last.program : ((task.starter || {})[language] || '');
  const langSelect = languages.length > 1 ? h('select', { testid: 'program-language', 'aria-label': t('language'), onchange: () => {
    const fresh = editor.value === ((task.starter || {})[language] || '');
    language = langSelect.value;
    // Switching languages swaps in the starter, unless the taker has written something.
    if (fresh) editor.value = (task.starter || {})[language] || '';
  } }, languages.map((l) => h('option', { value: l, selected: l === language }, l))) : null;
  const list = h('ol', { class: 'plain programs', testid: 'program-list' });
  const attemptsEl = h('p', { class: 'muted small', testid: 'attempts-left' });
  const bestEl = h('p', { testid: 'best-points', role: 'status', 'aria-live': 'polite' });
  const msg = h('div');
  const max = it.item.max_points;
  const draw = () => {
    // Kept on the item, so the question drawn again (previous/next) shows the programs as they are now.
    it.programs = programs;
    const used = programs.filter((p) => p.status !== 'failed').length;
    const left = Math.max(0, (it.attempt_limit ?? 10) - used);
    attemptsEl.textContent = t('as_attempts_left', { n: left, max: it.attempt_limit ?? 10 });
    handIn.disabled = left === 0;
    const best = programs.map((p) => p.points).filter((x) => typeof x === 'number');
    const grading = programs.some((p) => p.status === 'queued' || p.status === 'running');
    bestEl.textContent = grading ? t('as_grading') : best.length ? t('as_best_points', { points: Math.max(...best), max }) : '';
    clear(list, programs.map((p, i) => {
      const cases = (p.report && p.report.cases) || [];
      const status = p.status === 'done' ? badge(t('as_points_of', { points: p.points ?? 0, max }), p.points === max ? 'ok' : p.points ? 'wait' : 'bad')
        : p.status === 'failed' ? badge(t('as_program_failed'), 'bad') : badge(t('as_grading'), 'wait');
      return h('li', { testid: 'program-row', 'data-status': p.status, 'data-points': p.points ?? '' },
        h('strong', null, t('as_program_n', { n: i + 1 })), ' ', status,
        cases.length ? h('span', { class: 'muted small' }, ' ', t('as_cases_passed', { n: cases.filter((c) => c.passed).length, total: cases.length })) : null);
    }));
  };
  let poll = null;
  const watch = () => {
    clearTimeout(poll);
    if (!programs.some((p) => p.status === 'queued' || p.status === 'running')) return;
    poll = setTimeout(async () => {
      if (!alive()) return;
      try {
        const v = await api('GET', `/api/assessments/${a.id}/sitting`);
        if (v.sitting.status === 'submitted') return onClosed(v);
        const mine = (v.items || []).find((x) => x.item.id === it.item.id);
        if (mine) programs = mine.programs || [];
        draw();
      } catch (_) { /* a dropped connection: try again */ }
      watch();
    }, GRADE_POLL_MS);
  };
  onCleanup(() => clearTimeout(poll));
  const handIn = h('button', { type: 'button', class: 'btn btn-primary', testid: 'hand-in', onclick: async () => {
    handIn.disabled = true;
    handIn.textContent = t('as_handing_in');
    clear(msg);
    try {
      const sub = await api('POST', `/api/assessments/${a.id}/sitting/programs/${encodeURIComponent(it.item.id)}`, { language, program: editor.value });
      programs = [...programs, { id: sub.id, language, program: editor.value, status: sub.status, points: null }];
      onHandedIn({ submission: sub.id });
      watch();
    } catch (e) {
      if (e instanceof ApiError && ['time_up', 'sitting_submitted'].includes(e.code)) {
        const v = await api('GET', `/api/assessments/${a.id}/sitting`).catch(() => null);
        if (v) return onClosed(v, e);
      }
      clear(msg, errorBox(e));
    } finally {
      handIn.textContent = t('as_hand_in');
      draw();
    }
  } }, t('as_hand_in'));
  draw();
  watch();
  return h('div', { class: 'performance', testid: 'performance-task' },
    h('h3', { 'data-lab': task.id }, t('as_task', { title: task.title ? loc(task.title) : task.id })),
    task.instructions ? h('div', { class: 'stem' }, richText(loc(task.instructions))) : null,
    h('p', { class: 'muted small' }, t('as_program_help')),
    langSelect ? h('label', { class: 'answer-line' }, `${t('language')}: `, langSelect) : null,
    editor,
    h('div', { class: 'actions' }, handIn, attemptsEl),
    msg, bestEl, list);
}

function sittingView(alive, a, view) {
  if (view.sitting.status === 'submitted') return resultsView(a, view);
  const sid = view.sitting.id;
  const adaptive = a.mode === 'adaptive';
  const paged = a.presentation === 'paged' && !adaptive;
  let items = view.items;
  let position = Math.min(view.sitting.position || 0, items.length - 1);
  const responses = new Map(items.map((it) => [it.item.id, it.response]));
  let deadline = Date.now() / 1000 + view.sitting.remaining_seconds;
  let finished = false;
  let timer = null;
  /** The results replace the sitting: the clock stops. */
  const showResults = (v, why) => {
    finished = true;
    clearInterval(timer);
    if (alive()) resultsView(a, v, why);
  };

  // ---- font size, kept across questions and visits
  let scale = Number(localStorage.getItem(FONT_KEY) || '1') || 1;
  const root = h('div', { class: 'take', testid: 'sitting', 'data-sitting': sid });
  const applyFont = () => { root.style.fontSize = `${Math.round(scale * 100)}%`; };
  const fontButton = (d, label, text) => h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': label, testid: `font-${d > 0 ? 'up' : 'down'}`, onclick: () => {
    scale = Math.min(1.6, Math.max(0.85, Math.round((scale + d) * 100) / 100));
    try { localStorage.setItem(FONT_KEY, String(scale)); } catch (_) { /* ignore */ }
    applyFont();
  } }, text);

  // ---- timer and the saved indicator
  const timerEl = h('span', { class: 'timer', testid: 'timer', role: 'timer', 'aria-label': t('as_time_left') });
  const savedEl = h('span', { class: 'saved muted', role: 'status', 'aria-live': 'polite', testid: 'saved' });
  const progressEl = h('span', { testid: 'answered-count' });
  const tick = () => {
    const left = deadline - Date.now() / 1000;
    timerEl.textContent = `${t('as_time_left')}: ${clock(left)}`;
    timerEl.classList.toggle('warn', left < 300);
    if (left <= 0 && !finished) {
      finished = true;
      // The server closes the sitting at its deadline; show what it scored.
      api('GET', `/api/assessments/${a.id}/sitting`).then((v) => showResults(v)).catch(() => {});
    }
  };
  const counted = () => {
    const n = [...responses.values()].filter((r) => r !== null && r !== undefined).length;
    progressEl.textContent = t('as_answered_of', { n, total: view.sitting.total });
  };

  // ---- saving: every change at once; unsent changes wait in localStorage and are retried
  const pending = pendingOf(sid);
  let retry = null;
  // One save at a time, in order, so the last change to an answer is the one the server keeps.
  let chain = Promise.resolve();
  const flush = () => (chain = chain.then(sendPending, sendPending));
  const sendPending = async () => {
    const ids = Object.keys(pending);
    for (const itemId of ids) {
      const sent = pending[itemId];
      try {
        const res = await api('PUT', `/api/assessments/${a.id}/sitting/answers/${encodeURIComponent(itemId)}`, { response: sent });
        if (pending[itemId] === sent) delete pending[itemId];
        setPending(sid, pending);
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
        if (pending[itemId] === sent) delete pending[itemId];
        setPending(sid, pending);
        if (e instanceof ApiError && ['time_up', 'sitting_submitted'].includes(e.code)) {
          const v = await api('GET', `/api/assessments/${a.id}/sitting`).catch(() => null);
          if (v) showResults(v, e);
          return;
        }
        savedEl.textContent = errText(e);
        savedEl.dataset.state = 'error';
      }
    }
  };
  const save = (itemId) => (response) => {
    responses.set(itemId, response);
    pending[itemId] = response;
    setPending(sid, pending);
    savedEl.textContent = t('as_saving');
    savedEl.dataset.state = 'saving';
    counted();
    flush();
  };
  // Answers given before a reload that never reached the server: the screen shows them and they are sent now.
  for (const [itemId, r] of Object.entries(pending)) responses.set(itemId, r);

  const question = (it, i) => h('section', { class: 'question card', testid: 'question', 'data-item': it.item.id, 'aria-labelledby': `q-title-${i}` },
    h('h2', { id: `q-title-${i}`, tabindex: '-1' }, t('as_question_n', { n: i + 1 }), ' ', h('span', { class: 'muted small' }, t('as_points_n', { n: it.item.max_points }))),
    h('div', { class: 'stem' }, richText(loc(it.item.stem))),
    it.item.type === 'performance'
      // Answered with programs: handed in at once (each is an attempt), not saved as a response.
      ? performanceControl(alive, a, it, (r) => { responses.set(it.item.id, r); it.response = r; counted(); }, (v, why) => showResults(v, why))
      : answerControl(it.item, responses.get(it.item.id), save(it.item.id), false));

  const body = h('div', { class: 'questions' });
  const nav = h('nav', { class: 'qnav', 'aria-label': t('as_questions') });
  const goTo = (i) => {
    position = i;
    api('PUT', `/api/assessments/${a.id}/sitting/position`, { position: i }).catch(() => {});
    draw();
    body.querySelector('h2')?.focus?.();
  };
  const msg = h('div');
  const submitBtn = h('button', { class: 'btn btn-primary', type: 'button', testid: 'submit-sitting', onclick: async () => {
    const n = [...responses.values()].filter((r) => r !== null && r !== undefined).length;
    if (!window.confirm(t('as_submit_confirm', { n, total: view.sitting.total }))) return;
    submitBtn.disabled = true;
    try {
      await flush();
      const v = await api('POST', `/api/assessments/${a.id}/sitting/submit`);
      showResults(v);
    } catch (e) {
      submitBtn.disabled = false;
      clear(msg, errorBox(e));
    }
  } }, t('as_submit'));
  const nextBtn = h('button', { class: 'btn btn-primary', type: 'button', testid: 'next-question', onclick: async () => {
    nextBtn.disabled = true;
    try {
      await flush();
      const v = await api('POST', `/api/assessments/${a.id}/sitting/next`);
      if (!alive()) return;
      if (v.sitting.status === 'submitted') return showResults(v);
      items = v.items;
      for (const it of items) if (!responses.has(it.item.id)) responses.set(it.item.id, it.response);
      view.sitting = v.sitting;
      position = items.length - 1;
      draw();
    } catch (e) {
      clear(msg, errorBox(e));
    } finally {
      nextBtn.disabled = false;
    }
  } }, t('as_next'));

  function draw() {
    clear(msg);
    counted();
    if (paged) {
      clear(body, items.map(question));
      clear(nav);
      return;
    }
    const it = items[position];
    clear(body, question(it, position));
    if (adaptive) {
      clear(nav, h('span', { class: 'muted' }, t('as_adaptive_step', { n: position + 1, max: view.sitting.total })));
      return;
    }
    clear(nav,
      h('button', { type: 'button', class: 'btn', testid: 'prev-question', disabled: position === 0, onclick: () => goTo(position - 1) }, t('as_prev')),
      h('span', { class: 'qdots' }, items.map((x, i) => h('button', {
        type: 'button', class: `qdot${i === position ? ' current' : ''}${responses.get(x.item.id) ? ' done' : ''}`, testid: 'qdot',
        'aria-label': t('as_go_to', { n: i + 1 }), 'aria-current': i === position ? 'step' : null, onclick: () => goTo(i),
      }, String(i + 1)))),
      h('button', { type: 'button', class: 'btn', testid: 'next-in-form', disabled: position === items.length - 1, onclick: () => goTo(position + 1) }, t('as_next')));
  }

  clear(root,
    h('div', { class: 'take-bar' }, timerEl, progressEl, savedEl,
      h('span', { class: 'font-size', role: 'group', 'aria-label': t('as_font_size') }, fontButton(-0.15, t('as_font_smaller'), 'A−'), fontButton(0.15, t('as_font_larger'), 'A+'))),
    body, nav, msg,
    h('div', { class: 'actions' }, adaptive ? nextBtn : null, adaptive ? null : submitBtn));
  applyFont();
  setPage(a.title, h('h1', { 'data-user': '' }, a.title), root);
  draw();
  tick();
  timer = setInterval(tick, 1000);
  onCleanup(() => { clearInterval(timer); clearTimeout(retry); });
  if (Object.keys(pending).length) flush();
}

function resultsView(a, view, why) {
  const r = view.results || {};
  const lits = (r.literacies || []).map((l) => h('tr', { testid: 'literacy-row', 'data-literacy': l.literacy },
    h('td', null, literacyName(l)), h('td', { class: 'num' }, t('as_points_of', { points: l.points, max: l.max_points })),
    h('td', { class: 'num' }, `${Math.round(l.theta * 100) / 100} ± ${Math.round(l.se * 100) / 100}`)));
  const items = (view.items || []).map((it, i) => {
    const right = it.points === it.max_points && it.max_points > 0;
    const perf = it.item.type === 'performance';
    // While a program is being graded the points are not known yet: say so, never 0.
    const pill = it.points === null || it.points === undefined ? badge(t('as_grading'), 'wait')
      : badge(t('as_points_of', { points: it.points, max: it.max_points ?? 0 }), right ? 'ok' : it.points ? 'wait' : 'bad');
    const yours = perf ? t('as_programs_handed_in', { n: (it.programs || []).length }) : describe(it.item, it.response);
    const key = perf ? t('as_levels', { levels: ((it.correct && it.correct.levels) || []).map((l) => `${Math.round(l * 100)}%`).join(' / ') }) : describe(it.item, it.correct);
    return h('section', { class: 'question card result', testid: 'result-item', 'data-item': it.item.id, 'data-points': it.points ?? '' },
      h('h2', null, t('as_question_n', { n: i + 1 }), ' ', pill),
      h('div', { class: 'stem' }, richText(loc(it.item.stem))),
      h('p', { testid: 'your-answer' }, h('strong', null, `${t('as_your_answer')}: `), h('span', { 'data-user': '' }, yours)),
      h('p', { testid: 'correct-answer' }, h('strong', null, `${t('as_correct_answer')}: `), key),
      it.explanation ? h('div', { class: 'explanation', testid: 'explanation' }, h('strong', null, `${t('as_explanation')}: `), richText(loc(it.explanation))) : null);
  });
  setPage(a.title,
    h('p', { class: 'crumbs' }, h('a', { href: '#/assessments' }, t('nav_assessments'))),
    h('h1', { 'data-user': '' }, a.title),
    why ? errorBox(why, 'results-reason') : null,
    r.submitted_by === 'deadline' ? okBox(t('as_closed_by_deadline'), 'closed-by-deadline') : null,
    card(t('as_results'),
      r.grading ? h('p', { class: 'score-pill', testid: 'total-score', 'data-grading': '' }, t('as_grading_results'))
        : h('p', { class: 'score-pill', testid: 'total-score' }, t('as_points_of', { points: r.points ?? 0, max: r.max_points ?? 0 })),
      lits.length ? table([t('as_literacy'), t('as_score'), t('as_ability')], lits, { testid: 'literacy-table' }) : null,
      h('p', { class: 'muted small' }, t('as_ability_help'))),
    reportsCard(a.id),
    items);
  if (r.grading) {
    // A program is still being graded: look again until the score is in.
    const again = setTimeout(async () => {
      const v = await api('GET', `/api/assessments/${a.id}/sitting`).catch(() => null);
      if (v && location.hash === `#/assessments/${a.id}/take`) resultsView(a, v);
    }, POLL_MS);
    onCleanup(() => clearTimeout(again));
  }
}
