// Competitions (赛事): the events list, one event (organisers run it, coaches
// register teams, contestants see their team), and one round (contestants
// submit, everyone sees the leaderboard, organisers draw the final ranking).
// The server decides who sees what (`me` on an event; `view` on a board);
// these pages only draw it.

import { ApiError, XLSX_TYPE, api, badge, card, clear, empty, errText, errorBox, field, fmtScore, fmtTime, fromLocalInput, h, langLabel, loadLabs, loading, loc, now, okBox, onCleanup, rerender, setPage, state, statusBadge, t, table, toLocalInput } from './core.js';
import { bundleBox } from './bundle.js';
import { codeEditor, maxKb, tooBig } from './editor.js';
import { instructions as labInstructions } from './assignments.js';
import { appealButton, appealsCard, chooseButton, clarificationsCard, resultsCard, similarityCard } from './judging.js';
import { onsiteCard } from './onsite.js';
import { renderReport, scoreHeader, showDiagnostics } from './submissions.js';
import { creativeRoundCard, creativeRoundPage } from './creative.js';
import { quizRoundCard, quizRoundPage } from './quiz.js';

const TIERS = ['school', 'district', 'city', 'province'];
const KINDS = ['robot_sim', 'ai', 'ct_quiz', 'creative'];
const BOARD_POLL_MS = 5000;
const SUBMISSION_POLL_MS = 1500;
const PER_PAGE = 50;

const tierName = (tier) => t(`ev_tier_${tier}`);
const kindName = (kind) => t(`ev_kind_${kind}`);
const user = (text, tag = 'span') => h(tag, { 'data-user': '' }, text);

/** Where a round stands now, by the clock (for display; the server enforces the window). */
export function roundPhase(r, at = now()) {
  if (r.finalised_at) return 'final';
  if (at < r.opens_at) return 'not_open';
  if (at > r.closes_at) return 'closed';
  if (at >= r.freeze_at) return 'frozen';
  return 'open';
}

function phaseBadge(r) {
  const phase = roundPhase(r);
  const kind = { open: 'ok', frozen: 'busy', final: 'ok', closed: 'wait', not_open: 'wait' }[phase];
  return h('span', { testid: 'round-phase', 'data-phase': phase }, badge(t(`ev_phase_${phase}`), kind));
}

function teamStatusBadge(status) {
  return h('span', { testid: 'team-status', 'data-status': status }, badge(t(`ev_team_${status}`), { approved: 'ok', rejected: 'bad', pending: 'wait' }[status] || 'wait'));
}

/** What the caller is in the event, as badges. */
function myRoles(me) {
  const roles = [me.manages && 'organiser', me.judge && 'judge', me.coach && 'coach', me.team_id && 'contestant'].filter(Boolean);
  return roles.map((r) => [badge(t(`ev_me_${r}`), 'busy'), ' ']);
}

// ---------------------------------------------------------------- the list

export async function eventsPage(alive) {
  setPage(t('nav_events'), loading());
  const { events } = await api('GET', '/api/events');
  if (!alive()) return;
  const organiser = ['organiser', 'platform_admin'].includes(state.me.role);
  const item = (e) => h('li', { class: 'assignment-card', testid: 'event-item', 'data-event': e.id },
    h('a', { href: `#/events/${e.id}`, testid: 'event-link' }, h('span', { class: 'title', 'data-user': '' }, e.name)),
    h('div', { class: 'meta' },
      h('span', null, `${tierName(e.tier)} · ${kindName(e.kind)}`),
      h('span', null, t('ev_deadline_at', { time: fmtTime(e.registration_deadline) })),
      myRoles(e.me)));
  setPage(t('nav_events'),
    h('h1', null, t('nav_events')),
    events.length ? card(null, h('ul', { class: 'assignment-list', testid: 'events' }, events.map(item)))
      : card(null, empty(t('ev_none'), 'events-empty')),
    organiser ? await createEventCard(alive, events) : null);
}

/** Divisions typed one a line: "name, min grade, max grade" (e.g. 小学组, 3, 6). */
function parseDivisions(text) {
  const out = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const parts = line.split(/[,，;；\t]/).map((p) => p.trim());
    const [name, lo, hi] = parts;
    if (parts.length !== 3 || !name || !/^\d+$/.test(lo) || !/^\d+$/.test(hi)) return { error: line };
    out.push({ name, min_grade: Number(lo), max_grade: Number(hi) });
  }
  return { divisions: out };
}

async function createEventCard(alive, events) {
  const [regions, schools] = await Promise.all([
    api('GET', '/api/regions').then((r) => r.regions || []).catch(() => []),
    api('GET', '/api/schools?per_page=500').then((r) => r.schools || []).catch(() => []),
  ]);
  if (!alive()) return null;
  const msg = h('div', { role: 'status', 'aria-live': 'polite' });
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: '100', testid: 'ev-name' });
  const tier = h('select', { testid: 'ev-tier' }, TIERS.map((x) => h('option', { value: x, selected: x === 'city' }, tierName(x))));
  const kind = h('select', { testid: 'ev-kind' }, KINDS.map((x) => h('option', { value: x }, kindName(x))));
  const region = h('select', { testid: 'ev-region' });
  const school = h('select', { testid: 'ev-school' }, schools.map((s) => h('option', { value: String(s.id), 'data-user': '' }, s.name)));
  const parent = h('select', { testid: 'ev-parent' });
  const deadline = h('input', { type: 'datetime-local', value: toLocalInput(now() + 14 * 86400), testid: 'ev-deadline' });
  const divisions = h('textarea', { rows: '3', testid: 'ev-divisions', placeholder: t('ev_divisions_placeholder') });
  const regionField = field(t('ev_region'), region);
  const schoolField = field(t('ev_school'), school);
  // The organising body: a region of the tier's kind, or a school for a school-tier event;
  // the parent event must be of a higher tier.
  const sync = () => {
    const schoolTier = tier.value === 'school';
    regionField.hidden = schoolTier;
    schoolField.hidden = !schoolTier;
    const fitting = regions.filter((r) => r.kind === tier.value);
    clear(region, fitting.length ? fitting.map((r) => h('option', { value: String(r.id), 'data-user': '' }, r.name)) : h('option', { value: '' }, t('ev_no_region')));
    const rank = TIERS.indexOf(tier.value);
    clear(parent, h('option', { value: '' }, t('ev_no_parent')),
      events.filter((e) => TIERS.indexOf(e.tier) > rank && e.me.manages).map((e) => h('option', { value: String(e.id), 'data-user': '' }, e.name)));
  };
  tier.addEventListener('change', sync);
  sync();
  const form = h('form', { class: 'form grid-form', testid: 'event-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const parsed = parseDivisions(divisions.value);
    if (parsed.error !== undefined || !parsed.divisions.length) {
      clear(msg, h('div', { class: 'alert alert-error', role: 'alert', testid: 'event-form-error' }, t('ev_divisions_bad', { line: parsed.error ?? '' })));
      return;
    }
    const body = { name: name.value, tier: tier.value, kind: kind.value, registration_deadline: fromLocalInput(deadline.value), divisions: parsed.divisions };
    if (tier.value === 'school') body.school_id = Number(school.value);
    else body.region_id = region.value ? Number(region.value) : null;
    if (parent.value) body.parent_id = Number(parent.value);
    try {
      const e = await api('POST', '/api/events', body);
      location.hash = `#/events/${e.id}`;
    } catch (e) {
      clear(msg, errorBox(e, 'event-form-error'));
    }
  } },
  field(t('ev_name'), name), field(t('ev_tier'), tier), field(t('ev_kind'), kind), regionField, schoolField,
  field(t('ev_parent'), parent, t('ev_parent_help')), field(t('ev_deadline'), deadline),
  h('div', { class: 'wide' }, field(t('ev_divisions'), divisions, t('ev_divisions_help'))),
  msg,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'event-create' }, t('ev_create'))));
  return card(t('ev_new'), form);
}

// ---------------------------------------------------------------- one event

export async function eventPage(alive, id) {
  setPage(t('nav_events'), loading());
  const [ev, { teams }] = await Promise.all([api('GET', `/api/events/${id}`), api('GET', `/api/events/${id}/teams`)]);
  if (!alive()) return;
  const me = ev.me || {};
  const divName = new Map((ev.divisions || []).map((d) => [d.id, d.name]));
  const schools = me.manages || me.judge ? await api('GET', '/api/schools?per_page=500').then((r) => r.schools || []).catch(() => []) : [];
  if (!alive()) return;
  const schoolName = new Map(schools.map((s) => [s.id, s.name]));
  const ctx = { ev, me, teams, divName, schoolName, reload: rerender };
  const teacher = state.me.role === 'teacher';
  const mine = teams.filter((x) => x.coach_id === state.me.id || (x.members || []).some((m) => m.id === state.me.id));
  setPage(ev.name,
    h('p', { class: 'crumbs' }, h('a', { href: '#/events' }, t('nav_events')), ' › '),
    h('h1', { testid: 'event-title' }, user(ev.name)),
    h('dl', { class: 'facts', testid: 'event-facts' },
      h('div', null, h('dt', null, t('ev_tier')), h('dd', null, tierName(ev.tier))),
      h('div', null, h('dt', null, t('ev_kind')), h('dd', null, kindName(ev.kind))),
      h('div', null, h('dt', null, t('ev_deadline')), h('dd', null, fmtTime(ev.registration_deadline), ev.registration_deadline < now() ? [' ', badge(t('closed'), 'wait')] : null)),
      myRoles(me).length ? h('div', null, h('dt', null, t('ev_my_roles')), h('dd', null, myRoles(me))) : null),
    card(t('ev_divisions'), h('ul', { class: 'plain', testid: 'divisions' }, (ev.divisions || []).map((d) => h('li', null, user(d.name), ' · ', t('ev_grades', { min: d.min_grade, max: d.max_grade }))))),
    roundsCard(ev),
    me.manages ? newRoundCard(ctx) : null,
    me.manages || me.judge ? teamsCard(ctx) : null,
    me.manages ? importCard(ctx) : null,
    me.manages ? judgeCard(ctx) : null,
    me.manages && ev.parent_id ? advanceCard(ctx) : null,
    !me.manages && !me.judge && mine.length ? myTeamsCard(ctx, mine) : null,
    await appealsCard(alive, ev, (team) => (teams.find((x) => x.id === team) || {}).name),
    me.manages || me.judge ? similarityCard(ev) : null,
    teacher ? await registerCard(alive, ctx) : null);
}

function roundsCard(ev) {
  const rounds = ev.rounds || [];
  const rows = rounds.map((r) => h('tr', { testid: 'round-row', 'data-round': r.id },
    h('td', null, h('a', { href: `#/events/${ev.id}/rounds/${r.id}`, testid: 'round-link', 'data-user': '' }, r.name)),
    h('td', null, fmtTime(r.opens_at)), h('td', null, fmtTime(r.closes_at)), h('td', null, phaseBadge(r))));
  return card(t('ev_rounds'), rows.length ? table([t('ev_round_name'), t('ev_opens_at'), t('ev_closes_at'), t('ev_state')], rows, { testid: 'rounds-table' })
    : empty(t('ev_no_rounds'), 'rounds-empty'));
}

function membersText(team) {
  return (team.members || []).map((m) => m.display_name).join('、');
}

/** Organisers and judges: every team; organisers approve or reject (with a reason). */
function teamsCard({ ev, me, teams, divName, schoolName, reload }) {
  const order = { pending: 0, approved: 1, rejected: 2 };
  const sorted = [...teams].sort((a, b) => order[a.status] - order[b.status] || a.id - b.id);
  const counts = { pending: 0, approved: 0, rejected: 0 };
  for (const x of teams) counts[x.status] = (counts[x.status] || 0) + 1;
  const row = (x) => {
    const out = h('div', { 'aria-live': 'polite' });
    const reason = h('input', { type: 'text', maxlength: '500', testid: 'reject-reason', 'aria-label': t('ev_reject_reason'), placeholder: t('ev_reject_reason') });
    const decide = async (decision) => {
      try {
        await api('POST', `/api/events/${ev.id}/teams/${x.id}/decision`, decision === 'reject' ? { decision, reason: reason.value } : { decision });
        reload();
      } catch (e) {
        clear(out, errorBox(e, 'decision-error'));
      }
    };
    const actions = me.manages ? h('div', { class: 'row-actions' },
      x.status !== 'approved' ? h('button', { class: 'btn btn-small btn-primary', type: 'button', testid: 'team-approve', onclick: () => decide('approve') }, t('ev_approve')) : null,
      x.status !== 'rejected' ? [reason, h('button', { class: 'btn btn-small btn-danger', type: 'button', testid: 'team-reject', onclick: () => decide('reject') }, t('ev_reject'))] : null,
      out) : null;
    return h('tr', { testid: 'team-row', 'data-team': x.id, 'data-status': x.status },
      h('td', null, user(x.name)),
      h('td', null, user(divName.get(x.division_id) || '')),
      h('td', null, user(schoolName.get(x.school_id) || '')),
      h('td', null, user(membersText(x))),
      h('td', null, teamStatusBadge(x.status), x.reason ? h('div', { class: 'small muted', testid: 'team-reason' }, user(x.reason)) : null,
        x.advanced_from ? h('div', { class: 'small muted' }, t('ev_advanced')) : null),
      me.manages ? h('td', null, actions) : null);
  };
  return card(t('ev_teams_n', { n: teams.length }),
    h('p', { class: 'muted', testid: 'team-counts' }, t('ev_team_counts', counts)),
    teams.length ? table([t('ev_team_name'), t('ev_division'), t('ev_school'), t('ev_members'), t('ev_state'), me.manages ? '' : null].filter((x) => x !== null), sorted.map(row), { testid: 'teams-table' })
      : empty(t('ev_no_teams'), 'teams-empty'));
}

function importCard({ ev, reload }) {
  const file = h('input', { type: 'file', accept: `.xlsx,.csv,${XLSX_TYPE},text/csv`, testid: 'teams-file' });
  const out = h('div', { 'aria-live': 'polite' });
  const go = async () => {
    const f = file.files && file.files[0];
    if (!f) return clear(out, h('div', { class: 'alert alert-error', role: 'alert' }, t('ev_import_choose')));
    const type = /\.csv$/i.test(f.name) ? 'text/csv' : XLSX_TYPE;
    try {
      const res = await api('POST', `/api/events/${ev.id}/teams/import`, undefined, { raw: await f.arrayBuffer(), contentType: type });
      clear(out, okBox(t('ev_imported_n', { n: (res.created || []).length }), 'import-ok'));
      setTimeout(reload, 1200);
    } catch (e) {
      const rows = e instanceof ApiError ? e.rows : [];
      clear(out, errorBox(e, 'import-error'),
        rows.length ? h('ul', { testid: 'import-error-rows' }, rows.map((r) => h('li', { testid: 'import-error-row' },
          t('ev_row_n', { n: r.row }), ' ', errText(new ApiError(400, { code: r.code }))))) : null);
    }
  };
  return card(t('ev_import'),
    h('p', { class: 'muted' }, t('ev_import_help')),
    h('div', { class: 'form inline-form' }, field(t('ev_import_file'), file),
      h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'button', testid: 'teams-import', onclick: go }, t('ev_import_go')))),
    out);
}

function judgeCard({ ev }) {
  const username = h('input', { type: 'text', maxlength: '64', testid: 'judge-username', autocomplete: 'off' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'form inline-form', testid: 'judge-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('POST', `/api/events/${ev.id}/members`, { username: username.value, role: 'judge' });
      clear(out, okBox(t('ev_judge_added'), 'judge-added'));
      username.value = '';
    } catch (err) {
      clear(out, errorBox(err, 'judge-error'));
    }
  } }, field(t('ev_judge_username'), username, t('ev_judge_help')),
  h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'submit', testid: 'judge-add' }, t('ev_judge_add'))));
  return card(t('ev_judges'), form, out);
}

function newRoundCard({ ev }) {
  if (ev.kind === 'creative') return creativeRoundCard(ev);
  if (ev.kind === 'ct_quiz') return quizRoundCard(ev);
  if (ev.kind !== 'robot_sim') return card(t('ev_new_round'), h('p', { class: 'muted' }, t('err_rounds_robot_sim_only')));
  const labsBox = h('div', { class: 'checks', testid: 'round-labs' }, h('span', { class: 'muted' }, t('loading')));
  loadLabs().then((labs) => clear(labsBox, labs.map((l) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: l.id, testid: 'round-lab', 'data-lab': l.id }), ' ', loc(l.title) || l.id))));
  const name = h('input', { type: 'text', required: true, maxlength: '100', testid: 'round-name' });
  const opens = h('input', { type: 'datetime-local', testid: 'round-opens' });
  const minutes = h('input', { type: 'number', min: '0.5', step: 'any', value: '90', testid: 'round-minutes' });
  const freeze = h('input', { type: 'number', min: '0', step: 'any', value: '0', testid: 'round-freeze' });
  const limit = h('input', { type: 'number', min: '1', max: '1000', value: '20', testid: 'round-limit' });
  const msg = h('div', { role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'form grid-form', testid: 'round-form', onsubmit: async (e) => {
    e.preventDefault();
    // Empty: the round opens now (to the second, not the minute the field shows).
    const start = fromLocalInput(opens.value) ?? now();
    const labs = [...labsBox.querySelectorAll('input:checked')].map((i) => i.value);
    const body = {
      name: name.value, opens_at: start, closes_at: start + Math.round(Number(minutes.value) * 60),
      freeze_seconds: Math.round(Number(freeze.value) * 60), labs, submission_limit: Number(limit.value),
    };
    try {
      const r = await api('POST', `/api/events/${ev.id}/rounds`, body);
      location.hash = `#/events/${ev.id}/rounds/${r.id}`;
    } catch (err) {
      clear(msg, errorBox(err, 'round-form-error'));
    }
  } },
  field(t('ev_round_name'), name), field(t('ev_opens_at'), opens, t('ev_opens_help')), field(t('ev_round_minutes'), minutes),
  field(t('ev_freeze_minutes'), freeze, t('ev_freeze_help')), field(t('ev_submission_limit'), limit),
  h('div', { class: 'wide' }, field(t('ev_round_labs'), labsBox)),
  msg,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'round-create' }, t('ev_create_round'))));
  return card(t('ev_new_round'), form);
}

function advanceCard({ ev }) {
  const rounds = (ev.rounds || []).filter((r) => r.finalised_at);
  if (!rounds.length) return card(t('ev_advance'), h('p', { class: 'muted', testid: 'advance-wait' }, t('ev_advance_wait')));
  const round = h('select', { testid: 'advance-round' }, rounds.map((r) => h('option', { value: String(r.id), 'data-user': '' }, r.name)));
  const how = h('select', { testid: 'advance-how' }, h('option', { value: 'top' }, t('ev_advance_top')), h('option', { value: 'top_percent' }, t('ev_advance_percent')));
  const n = h('input', { type: 'number', min: '1', max: '100', step: 'any', value: '3', testid: 'advance-n' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'form inline-form', testid: 'advance-form', onsubmit: async (e) => {
    e.preventDefault();
    const body = { round_id: Number(round.value), [how.value]: Number(n.value) };
    try {
      const res = await api('POST', `/api/events/${ev.id}/advance`, body);
      clear(out, okBox(t('ev_advanced_n', { n: res.advanced.length, already: res.already, skipped: res.skipped.length }), 'advance-ok'),
        h('p', null, h('a', { href: `#/events/${res.parent_id}`, testid: 'parent-link' }, t('ev_to_parent'))));
    } catch (err) {
      clear(out, errorBox(err, 'advance-error'));
    }
  } }, field(t('ev_round'), round), field(t('ev_advance_how'), how), field(t('ev_advance_n'), n),
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'advance-go' }, t('ev_advance_go'))));
  return card(t('ev_advance'), h('p', { class: 'muted' }, t('ev_advance_help')), form, out);
}

/** A coach's or contestant's own teams, with their status and a rejection's reason. */
function myTeamsCard({ divName }, mine) {
  const rows = mine.map((x) => h('tr', { testid: 'my-team-row', 'data-team': x.id, 'data-status': x.status },
    h('td', null, user(x.name)), h('td', null, user(divName.get(x.division_id) || '')), h('td', null, user(membersText(x))),
    h('td', null, teamStatusBadge(x.status), x.reason ? h('div', { class: 'small', testid: 'team-reason' }, t('ev_reason'), ' ', user(x.reason)) : null)));
  return card(t('ev_my_teams'), table([t('ev_team_name'), t('ev_division'), t('ev_members'), t('ev_state')], rows, { testid: 'my-teams' }));
}

/** A teacher registers a team of 1–4 of their students, themselves as coach. */
async function registerCard(alive, { ev, reload }) {
  if (ev.registration_deadline < now()) return card(t('ev_register'), h('p', { class: 'muted', testid: 'register-closed' }, t('err_registration_closed')));
  const { classes } = await api('GET', '/api/classes').catch(() => ({ classes: [] }));
  const rosters = await Promise.all((classes || []).map((c) => api('GET', `/api/classes/${c.id}`).catch(() => ({ roster: [] }))));
  if (!alive()) return null;
  const name = h('input', { type: 'text', required: true, maxlength: '50', testid: 'team-name' });
  const division = h('select', { testid: 'team-division' }, (ev.divisions || []).map((d) => h('option', { value: String(d.id), 'data-user': '' }, `${d.name} (${t('ev_grades', { min: d.min_grade, max: d.max_grade })})`)));
  const boxes = [];
  const groups = (classes || []).map((c, i) => {
    const roster = rosters[i].roster || [];
    if (!roster.length) return null;
    return h('fieldset', { class: 'checks' }, h('legend', { 'data-user': '' }, c.name), roster.map((s) => {
      const box = h('input', { type: 'checkbox', value: String(s.id), testid: 'team-student', 'data-name': s.display_name });
      boxes.push(box);
      return h('label', { class: 'check' }, box, ' ', user(s.display_name));
    }));
  }).filter(Boolean);
  const msg = h('div', { role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'form', testid: 'register-form', onsubmit: async (e) => {
    e.preventDefault();
    const students = boxes.filter((b) => b.checked).map((b) => Number(b.value));
    if (students.length < 1 || students.length > 4) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert', testid: 'register-error' }, t('err_team_size')));
    try {
      await api('POST', `/api/events/${ev.id}/teams`, { name: name.value, division_id: Number(division.value), students });
      reload();
    } catch (err) {
      clear(msg, errorBox(err, 'register-error'));
    }
  } }, field(t('ev_team_name'), name), field(t('ev_division'), division),
  field(t('ev_team_students'), groups.length ? groups : h('span', { class: 'muted' }, t('ev_no_students')), t('ev_team_students_help')),
  msg, h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'team-register' }, t('ev_register_go'))));
  return card(t('ev_register'), form);
}

// ---------------------------------------------------------------- one round

export async function roundPage(alive, eventId, roundId) {
  setPage(t('ev_round'), loading());
  const base = `/api/events/${eventId}/rounds/${roundId}`;
  const [ev, round] = await Promise.all([api('GET', `/api/events/${eventId}`), api('GET', base), loadLabs()]);
  if (!alive()) return;
  const me = ev.me || {};
  const divName = new Map((ev.divisions || []).map((d) => [d.id, d.name]));
  if (ev.kind === 'creative') {
    const crumbs = h('p', { class: 'crumbs' }, h('a', { href: '#/events' }, t('nav_events')), ' › ', h('a', { href: `#/events/${ev.id}`, 'data-user': '' }, ev.name), ' › ');
    return creativeRoundPage(alive, ev, round, base, crumbs, leaderboard(alive, ev, round, base, divName));
  }
  if (ev.kind === 'ct_quiz') {
    const crumbs = h('p', { class: 'crumbs' }, h('a', { href: '#/events' }, t('nav_events')), ' › ', h('a', { href: `#/events/${ev.id}`, 'data-user': '' }, ev.name), ' › ');
    return quizRoundPage(alive, ev, round, base, crumbs, leaderboard(alive, ev, round, base, divName));
  }
  const labTitle = (id) => {
    const l = (round.lab_views || []).find((x) => x.id === id) || (state.labs || []).find((x) => x.id === id);
    return l ? loc(l.title) : id;
  };
  const facts = h('dl', { class: 'facts', testid: 'round-facts' });
  const drawFacts = () => clear(facts,
    h('div', null, h('dt', null, t('ev_state')), h('dd', null, phaseBadge(round))),
    h('div', null, h('dt', null, t('ev_opens_at')), h('dd', null, fmtTime(round.opens_at, true))),
    h('div', null, h('dt', null, t('ev_closes_at')), h('dd', null, fmtTime(round.closes_at, true))),
    round.freeze_at < round.closes_at ? h('div', null, h('dt', null, t('ev_freeze_at')), h('dd', null, fmtTime(round.freeze_at, true))) : null,
    h('div', null, h('dt', null, t('ev_submission_limit')), h('dd', null, round.attempts_used !== undefined
      ? h('span', { testid: 'round-attempts' }, `${round.attempts_used} / ${round.submission_limit}`) : String(round.submission_limit))),
    h('div', null, h('dt', null, t('ev_round_labs')), h('dd', null, round.labs.map(labTitle).join('、'))));
  drawFacts();
  const refreshRound = async () => {
    try {
      Object.assign(round, await api('GET', base));
      if (alive()) drawFacts();
    } catch (_) { /* keep what we show */ }
  };
  const board = leaderboard(alive, ev, round, base, divName);
  setPage(round.name,
    h('p', { class: 'crumbs' }, h('a', { href: '#/events' }, t('nav_events')), ' › ', h('a', { href: `#/events/${ev.id}`, 'data-user': '' }, ev.name), ' › '),
    h('h1', { testid: 'round-title' }, user(round.name)),
    facts,
    me.manages ? finaliseCard(ev, round, base, refreshRound) : null,
    await onsiteCard(alive, ev, round, base),
    await resultsCard(alive, ev, round, base),
    round.final_key ? h('p', { class: 'muted small', testid: 'final-key' }, t('ev_final_key'), ' ', h('code', { class: 'key' }, round.final_key)) : null,
    me.team_id ? contestantCard(alive, round, base, labTitle, refreshRound) : null,
    me.coach && !me.manages && !me.judge ? await coachCard(alive, ev, round, base, labTitle) : null,
    clarificationsCard(alive, ev, round, base),
    board.el,
    me.manages || me.judge ? await allSubmissionsCard(alive, base, labTitle) : null);
  board.start();
}

function finaliseCard(ev, round, base, refreshRound) {
  const out = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { class: 'btn btn-primary', type: 'button', testid: 'round-finalise', onclick: async () => {
    btn.disabled = true;
    try {
      const res = await api('POST', `${base}/finalise`);
      clear(out, okBox(t('ev_finalised', { n: res.regrades }), 'finalise-ok'), h('p', { class: 'small' }, t('ev_final_key'), ' ', h('code', { class: 'key', testid: 'finalise-key' }, res.final_key)));
      await refreshRound();
    } catch (e) {
      clear(out, errorBox(e, 'finalise-error'));
    } finally {
      btn.disabled = false;
    }
  } }, t('ev_finalise'));
  return card(t('ev_results'),
    h('p', { class: 'muted' }, round.finalised_at ? t('ev_finalised_at', { time: fmtTime(round.finalised_at) }) : t('ev_finalise_help')),
    round.finalised_at ? null : btn, out,
    ev.parent_id && round.finalised_at ? h('p', null, h('a', { href: `#/events/${ev.id}`, testid: 'to-advance' }, t('ev_to_advance'))) : null);
}

/** A contestant: pick a lab, write the program, submit for the team; the team's submissions, live. */
function contestantCard(alive, round, base, labTitle, refreshRound) {
  const labs = round.lab_views || [];
  let lab = labs[0] || {};
  const labSel = h('select', { testid: 'round-lab-select' }, labs.map((l) => h('option', { value: l.id }, loc(l.title) || l.id)));
  const langSel = h('select', { testid: 'language' });
  const draftKey = () => `qiming.draft.${state.me.id}.round${round.id}.${lab.id}.${langSel.value}`;
  const readDraft = () => {
    try { return localStorage.getItem(draftKey()); } catch (_) { return null; }
  };
  const editor = codeEditor('', (value) => {
    try { localStorage.setItem(draftKey(), value); } catch (_) { /* private mode */ }
  });
  const instructions = h('details', { class: 'lesson-more', testid: 'round-instructions' });
  // AI labs: the program and its model are handed in as one .zip (bundle.js), for the lab chosen.
  const bundleSlot = h('div');
  const showLab = () => {
    lab = labs.find((l) => l.id === labSel.value) || labs[0] || {};
    const langs = lab.languages && lab.languages.length ? lab.languages : ['rhai'];
    clear(langSel, langs.map((l) => h('option', { value: l }, langLabel(l))));
    editor.setValue(readDraft() ?? (lab.starter || {})[langSel.value] ?? '');
    clear(instructions, h('summary', null, t('instructions')), labInstructions(loc(lab.instructions)));
    clear(bundleSlot, lab.model ? bundleBox({ lab, result, submitPath: `${base}/submissions`, extra: { lab_id: lab.id }, onSubmitted: submitted }).el : null);
  };
  labSel.addEventListener('change', showLab);
  langSel.addEventListener('change', () => editor.setValue(readDraft() ?? (lab.starter || {})[langSel.value] ?? ''));
  const result = h('div', { class: 'result', testid: 'result', 'aria-live': 'polite' });
  const history = h('div', { testid: 'team-submissions' });
  const submitBtn = h('button', { class: 'btn btn-primary btn-big', type: 'button', testid: 'submit' }, t('submit'));
  let timer = null;
  onCleanup(() => clearTimeout(timer));
  let watching = null;
  const drawHistory = async () => {
    let subs;
    try {
      ({ submissions: subs } = await api('GET', `${base}/submissions`));
    } catch (_) {
      return;
    }
    if (!alive()) return;
    subs = subs.filter((s) => !s.final_of);
    // Before the close the team (its captain) may choose which graded submission counts for its lab.
    const choose = (sub) => (roundPhase(round) === 'open' || roundPhase(round) === 'frozen' ? chooseButton(base, sub, drawHistory) : sub.chosen ? chooseButton(base, sub) : null);
    clear(history, subs.length ? submissionsTable(subs, labTitle, 'round-submissions', choose) : empty(t('ev_no_submissions'), 'round-submissions-empty'));
    const w = watching && subs.find((s) => s.id === watching);
    if (w && (w.status === 'done' || w.status === 'failed')) {
      watching = null;
      let full = w;
      try { full = await api('GET', `/api/submissions/${w.id}`); } catch (_) { /* what we have */ }
      if (!alive()) return;
      clear(result, w.status === 'failed' ? h('div', { class: 'alert alert-error', role: 'alert', testid: 'result-failed' }, t('live_failed')) : scoreHeader(full, 'result-score'),
        full.report ? renderReport(full.report, null) : null,
        h('p', null, h('a', { href: `#/submissions/${w.id}`, class: 'btn btn-ghost', testid: 'view-submission' }, t('view_details_replay'))));
      if (full.report) showDiagnostics(editor, full.report);
      refreshRound();
    } else if (w) {
      clear(result, h('div', { class: 'live', testid: 'live-status', 'data-status': w.status }, statusBadge(w.status), ' ', w.status === 'queued' ? t('live_queued') : t('live_running')));
    }
    if (subs.some((s) => s.status === 'queued' || s.status === 'running')) timer = setTimeout(drawHistory, SUBMISSION_POLL_MS);
  };
  // A new submission for the team (typed, or a .zip from the bundle box): watched until graded.
  const submitted = async (sub) => {
    watching = sub.id;
    clear(result, h('div', { class: 'live', testid: 'live-status', 'data-status': 'queued' }, statusBadge('queued'), ' ', t('live_queued')));
    clearTimeout(timer);
    await drawHistory();
    refreshRound();
  };
  submitBtn.addEventListener('click', async () => {
    const program = editor.value();
    if (!program.trim()) return clear(result, h('div', { class: 'alert alert-error', role: 'alert' }, t('program_empty')));
    if (tooBig(program, lab)) return clear(result, h('div', { class: 'alert alert-error', role: 'alert' }, t('program_too_big', { kb: maxKb(lab) })));
    submitBtn.disabled = true;
    try {
      await submitted(await api('POST', `${base}/submissions`, { lab_id: lab.id, language: langSel.value, program }));
    } catch (e) {
      clear(result, errorBox(e, 'submit-error'));
    } finally {
      submitBtn.disabled = false;
    }
  });
  showLab();
  drawHistory();
  const open = roundPhase(round) === 'open' || roundPhase(round) === 'frozen';
  return h('div', { class: 'work lab-page', testid: 'contestant' },
    h('div', { class: 'work-editor' },
      card(t('my_program'),
        open ? null : h('div', { class: 'alert alert-warn', role: 'status', testid: 'round-not-open' }, t(roundPhase(round) === 'not_open' ? 'err_round_not_open' : 'err_round_closed')),
        h('div', { class: 'editor-bar' }, labs.length > 1 ? field(t('ev_lab'), labSel) : null, field(t('language'), langSel)),
        instructions,
        editor.el,
        h('p', { class: 'field-help' }, t('ev_submit_help')),
        h('div', { class: 'actions' }, submitBtn)),
      bundleSlot),
    h('div', { class: 'work-result' }, card(t('result'), result)),
    card(t('ev_team_submissions'), history));
}

/** A round's submissions; `extra(sub)`: a last column (choosing the one that counts, appealing). */
function submissionsTable(subs, labTitle, testid, extra) {
  const rows = subs.map((s) => h('tr', { testid: 'round-submission', 'data-status': s.status, 'data-id': s.id },
    h('td', null, h('a', { href: `#/submissions/${s.id}`, testid: 'submission-link' }, fmtTime(s.submitted_at, true))),
    h('td', null, labTitle(s.lab_id)),
    h('td', null, statusBadge(s.status), s.final_of ? [' ', badge(t('ev_final_regrade'), 'busy')] : null),
    h('td', { class: 'num', testid: 'submission-score' }, s.status === 'done' ? `${fmtScore(s.score)} / ${fmtScore(s.max_score)}` : '—'),
    extra ? h('td', null, extra(s)) : null));
  return table([t('submitted_at'), t('ev_lab'), t('ev_state'), t('score'), extra ? '' : null].filter((x) => x !== null), rows, { testid });
}

/** A coach: the submissions of the teams they coach, to choose the one that counts (before the close) and to appeal a grade. */
async function coachCard(alive, ev, round, base, labTitle) {
  const [{ submissions }, { teams }] = await Promise.all([
    api('GET', `${base}/submissions`).catch(() => ({ submissions: [] })),
    api('GET', `/api/events/${ev.id}/teams`).catch(() => ({ teams: [] })),
  ]);
  if (!alive()) return null;
  const open = roundPhase(round) === 'open' || roundPhase(round) === 'frozen';
  const mine = teams.filter((x) => x.coach_id === state.me.id && x.status === 'approved');
  const subs = submissions.filter((x) => !x.final_of);
  return card(t('ev_coached_submissions'), mine.map((team) => {
    const own = subs.filter((x) => x.team_id === team.id);
    return h('section', { testid: 'coached-team', 'data-team': team.id }, h('h3', null, user(team.name)),
      own.length ? submissionsTable(own, labTitle, 'coached-submissions', (sub) => [open ? chooseButton(base, sub, rerender) : sub.chosen ? chooseButton(base, sub) : null, appealButton(ev, sub)])
        : empty(t('ev_no_submissions')));
  }));
}

async function allSubmissionsCard(alive, base, labTitle) {
  const { submissions } = await api('GET', `${base}/submissions`).catch(() => ({ submissions: [] }));
  if (!alive()) return null;
  return card(t('ev_all_submissions_n', { n: submissions.length }),
    submissions.length ? h('details', null, h('summary', null, t('ev_show')), submissionsTable(submissions, labTitle, 'all-submissions')) : empty(t('ev_no_submissions')));
}

/** The board of one division, a page at a time, redrawn every few seconds (the server serves it from its cache). */
function leaderboard(alive, ev, round, base, divName) {
  const divisions = ev.divisions || [];
  let division = divisions.length ? divisions[0].id : null;
  let page = 1;
  const divSel = h('select', { testid: 'board-division' }, divisions.map((d) => h('option', { value: String(d.id), 'data-user': '' }, d.name)));
  const body = h('div', { testid: 'board-body' });
  const note = h('div', { 'aria-live': 'polite' });
  const stamp = h('p', { class: 'muted small', testid: 'board-updated' });
  let timer = null;
  onCleanup(() => clearTimeout(timer));
  const draw = async () => {
    clearTimeout(timer);
    let b;
    try {
      b = await api('GET', `${base}/leaderboard?division=${division ?? ''}&page=${page}&per_page=${PER_PAGE}`);
    } catch (e) {
      clear(body, errorBox(e, 'board-error'));
      return;
    }
    if (!alive()) return;
    const mine = ev.me && ev.me.team_id;
    const rows = b.entries.map((e) => h('tr', { testid: 'board-row', 'data-team': e.team_id, 'data-rank': e.rank, class: e.team_id === mine ? 'mine' : null },
      h('td', { class: 'num', testid: 'board-rank' }, String(e.rank)),
      h('td', null, user(e.team), e.team_id === mine ? [' ', badge(t('ev_my_team'), 'busy')] : null),
      h('td', { class: 'num', testid: 'board-score' }, fmtScore(e.score)),
      h('td', null, e.last_submitted_at ? fmtTime(e.last_submitted_at, true) : '—'),
      h('td', { class: 'num' }, String(e.attempts))));
    clear(note, h('div', { class: `alert ${b.view === 'frozen' ? 'alert-warn' : 'alert-info'}`, role: 'status', testid: 'board-view', 'data-view': b.view },
      t(`ev_view_${b.view}`, { time: fmtTime(b.freeze_at, true) })));
    const pages = Math.max(1, Math.ceil(b.total / b.per_page));
    clear(body,
      rows.length ? table([t('ev_rank'), t('ev_team_name'), t('score'), t('ev_last_submitted'), t('ev_attempts')], rows, { testid: 'board' })
        : empty(t('ev_board_empty'), 'board-empty'),
      pages > 1 ? h('div', { class: 'pager' },
        h('button', { class: 'btn btn-small', type: 'button', disabled: page <= 1, onclick: () => { page -= 1; draw(); } }, t('page_prev')),
        h('span', null, t('page_info', { page, pages, total: b.total })),
        h('button', { class: 'btn btn-small', type: 'button', disabled: page >= pages, onclick: () => { page += 1; draw(); } }, t('page_next'))) : null);
    stamp.textContent = t('ev_board_updated', { time: fmtTime(Math.floor(Date.now() / 1000), true) });
    // Redrawn while the page is open (the final board too: its re-grades land after it is drawn).
    timer = setTimeout(draw, BOARD_POLL_MS);
  };
  divSel.addEventListener('change', () => {
    division = Number(divSel.value);
    page = 1;
    draw();
  });
  const el = card(t('ev_leaderboard'),
    h('div', { class: 'filters' }, divisions.length > 1 ? field(t('ev_division'), divSel) : h('p', null, user(divName.get(division) || ''))),
    note, body, stamp);
  el.dataset.testid = 'leaderboard';
  return { el, start: draw };
}
