// Creative works judged by people (创意作品评审): the organiser's new-round
// form with its rubric, a team's entry and files, a judge's assigned entries
// and score sheets, and the organiser's assignment, progress dashboard,
// further judges, conflicts and publication. The server decides who sees
// what (a judge only their entries, blind rounds without names); these
// panels only draw it.

import { api, badge, card, clear, empty, errorBox, field, fmtScore, fmtTime, fromLocalInput, h, loc, now, okBox, rerender, setPage, t, table } from './core.js';
import { resultsCard } from './judging.js';

const user = (text, tag = 'span') => h(tag, { 'data-user': '' }, text);

function fmtBytes(n) {
  if (n >= 1 << 20) return t('cw_mib', { n: Math.round((n / (1 << 20)) * 10) / 10 });
  return t('cw_kib', { n: Math.max(1, Math.round(n / 1024)) });
}

/** The rubric as a table: criterion, description, maximum, weight. */
function rubricTable(rubric) {
  return table([t('cw_criterion'), t('cw_description'), t('cw_max_points'), t('cw_weight')],
    rubric.map((c) => h('tr', { testid: 'rubric-row' }, h('td', null, user(loc(c.name))), h('td', null, user(loc(c.description))),
      h('td', null, String(c.max_points)), h('td', null, String(c.weight)))), { testid: 'rubric-table' });
}

/** Criterion rows the organiser fills in: names and descriptions in both languages, maximum and weight. */
function criteriaEditor(initial) {
  const box = h('div', { class: 'criteria', testid: 'criteria' });
  const rows = [];
  const add = (c = {}) => {
    const inputs = {
      zh: h('input', { type: 'text', maxlength: '100', required: true, value: (c.name || {})['zh-CN'] || '', testid: 'criterion-name-zh' }),
      en: h('input', { type: 'text', maxlength: '100', required: true, value: (c.name || {}).en || '', testid: 'criterion-name-en' }),
      dzh: h('input', { type: 'text', maxlength: '2000', value: (c.description || {})['zh-CN'] || '', testid: 'criterion-desc-zh' }),
      den: h('input', { type: 'text', maxlength: '2000', value: (c.description || {}).en || '', testid: 'criterion-desc-en' }),
      max: h('input', { type: 'number', min: '1', max: '100', value: String(c.max_points || 10), testid: 'criterion-max' }),
      weight: h('input', { type: 'number', min: '0.1', max: '100', step: 'any', value: String(c.weight || 1), testid: 'criterion-weight' }),
    };
    const row = h('fieldset', { class: 'grid-form', testid: 'criterion' }, h('legend', null, t('cw_criterion')),
      field(t('cw_name_zh'), inputs.zh), field(t('cw_name_en'), inputs.en), field(t('cw_desc_zh'), inputs.dzh), field(t('cw_desc_en'), inputs.den),
      field(t('cw_max_points'), inputs.max), field(t('cw_weight'), inputs.weight),
      h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'button', onclick: () => { rows.splice(rows.indexOf(inputs), 1); row.remove(); } }, t('cw_remove'))));
    rows.push(inputs);
    box.append(row);
  };
  (initial && initial.length ? initial : [{}]).forEach(add);
  const read = () => rows.map((r) => ({
    name: { 'zh-CN': r.zh.value, en: r.en.value }, description: { 'zh-CN': r.dzh.value, en: r.den.value },
    max_points: Number(r.max.value), weight: Number(r.weight.value),
  }));
  return { el: h('div', null, box, h('button', { class: 'btn', type: 'button', testid: 'criterion-add', onclick: () => add() }, t('cw_add_criterion'))), read };
}

/** The organiser's form for a new round of a creative event. */
export function creativeRoundCard(ev) {
  const name = h('input', { type: 'text', required: true, maxlength: '100', testid: 'cw-round-name' });
  const opens = h('input', { type: 'datetime-local', testid: 'cw-round-opens' });
  const days = h('input', { type: 'number', min: '0.01', step: 'any', value: '14', testid: 'cw-round-days' });
  const judgingDays = h('input', { type: 'number', min: '0.01', step: 'any', value: '7', testid: 'cw-judging-days' });
  const k = h('input', { type: 'number', min: '1', max: '10', value: '3', testid: 'cw-k' });
  const blind = h('input', { type: 'checkbox', checked: true, testid: 'cw-blind' });
  const disagreement = h('input', { type: 'number', min: '1', max: '100', value: '25', testid: 'cw-disagreement' });
  const criteria = criteriaEditor([]);
  const msg = h('div', { role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'form grid-form', testid: 'cw-round-form', onsubmit: async (e) => {
    e.preventDefault();
    const start = fromLocalInput(opens.value) ?? now();
    const closes = start + Math.round(Number(days.value) * 86400);
    const body = {
      name: name.value, opens_at: start, closes_at: closes, judging_closes_at: closes + Math.round(Number(judgingDays.value) * 86400),
      judges_per_entry: Number(k.value), blind: blind.checked, disagreement: Number(disagreement.value), criteria: criteria.read(),
    };
    try {
      const r = await api('POST', `/api/events/${ev.id}/creative-rounds`, body);
      location.hash = `#/events/${ev.id}/rounds/${r.id}`;
    } catch (err) {
      clear(msg, errorBox(err, 'cw-round-error'));
    }
  } },
  field(t('ev_round_name'), name), field(t('ev_opens_at'), opens, t('ev_opens_help')), field(t('cw_entry_days'), days),
  field(t('cw_judging_days'), judgingDays), field(t('cw_k'), k, t('cw_k_help')),
  field(t('cw_disagreement'), disagreement, t('cw_disagreement_help')),
  h('label', { class: 'check' }, blind, ' ', t('cw_blind')),
  h('div', { class: 'wide' }, h('h3', null, t('cw_rubric')), criteria.el),
  msg,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'cw-round-create' }, t('ev_create_round'))));
  return card(t('ev_new_round'), form);
}

/** A file input that uploads one file as base64 to the entry. */
function uploadForm(base, team, limits, after) {
  const input = h('input', { type: 'file', testid: 'cw-file', accept: (limits.extensions || []).map((e) => `.${e}`).join(',') });
  const out = h('div', { 'aria-live': 'polite' });
  const go = async () => {
    const f = input.files && input.files[0];
    if (!f) return;
    if (f.size > limits.max_file_bytes) return clear(out, h('div', { class: 'alert alert-error', role: 'alert' }, t('cw_file_too_big', { max: fmtBytes(limits.max_file_bytes) })));
    const bytes = new Uint8Array(await f.arrayBuffer());
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    try {
      await api('POST', `${base}/teams/${team}/entry/files`, { name: f.name, content_base64: btoa(bin) });
      clear(out, okBox(t('cw_file_added'), 'cw-file-ok'));
      input.value = '';
      after();
    } catch (err) {
      clear(out, errorBox(err, 'cw-file-error'));
    }
  };
  return h('div', { class: 'form inline-form' }, field(t('cw_add_file'), input, t('cw_file_help', { n: limits.max_files, max: fmtBytes(limits.max_file_bytes), types: (limits.extensions || []).join(' ') })),
    h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'button', testid: 'cw-upload', onclick: go }, t('cw_upload'))), out);
}

function filesList(files, hrefOf, onDelete) {
  if (!files.length) return empty(t('cw_no_files'), 'cw-no-files');
  return h('ul', { class: 'plain', testid: 'cw-files' }, files.map((f) => h('li', { testid: 'cw-file-row' },
    hrefOf ? h('a', { href: hrefOf(f), download: f.name, 'data-user': '' }, f.name) : user(f.name), ' · ', fmtBytes(f.size),
    onDelete ? [' ', h('button', { class: 'btn btn-small', type: 'button', testid: 'cw-file-delete', onclick: () => onDelete(f) }, t('cw_remove'))] : null)));
}

/** A team's entry: title, description, links and files while the round is open; the result once published. */
async function teamEntryCard(alive, base, round, team, limits) {
  const box = h('div', { testid: 'cw-entry' });
  const draw = async () => {
    let v;
    try {
      v = await api('GET', `${base}/teams/${team}/entry`);
    } catch (err) {
      return clear(box, errorBox(err));
    }
    if (!alive()) return;
    const e = v.entry;
    const title = h('input', { type: 'text', maxlength: '100', required: true, value: e ? e.title : '', testid: 'cw-title', disabled: !v.may_change });
    const desc = h('textarea', { maxlength: '2000', rows: '5', testid: 'cw-description', disabled: !v.may_change }, e ? e.description : '');
    const links = h('textarea', { rows: '2', testid: 'cw-links', placeholder: 'https://', disabled: !v.may_change }, e ? e.links.join('\n') : '');
    const out = h('div', { 'aria-live': 'polite' });
    const save = h('form', { class: 'form', testid: 'cw-entry-form', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('PUT', `${base}/teams/${team}/entry`, { title: title.value, description: desc.value, links: links.value.split('\n').map((x) => x.trim()).filter(Boolean) });
        await draw();
        clear(out, okBox(t('cw_saved'), 'cw-saved'));
      } catch (err) {
        clear(out, errorBox(err, 'cw-entry-error'));
      }
    } }, field(t('cw_title'), title), field(t('cw_description'), desc), field(t('cw_links'), links, t('cw_links_help', { n: limits.max_links })),
    v.may_change ? h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'cw-save' }, e ? t('cw_update') : t('cw_hand_in'))) : null, out);
    const del = async (f) => {
      try {
        await api('DELETE', `${base}/teams/${team}/entry/files/${f.id}`);
        await draw();
      } catch (err) {
        clear(out, errorBox(err));
      }
    };
    clear(box, save,
      e ? h('div', null, h('h3', null, t('cw_files')), filesList(e.files, (f) => `${base}/entries/${e.id}/files/${f.id}`, v.may_change ? del : null)) : null,
      e && v.may_change ? uploadForm(base, team, limits, draw) : null,
      !e && !v.may_change ? empty(t('cw_no_entry'), 'cw-no-entry') : null,
      v.result ? h('div', { testid: 'cw-result' }, h('h3', null, t('cw_result')),
        h('p', null, t('cw_your_score', { score: fmtScore(v.result.score), judges: v.result.judges })),
        v.result.comments.length ? h('ul', null, v.result.comments.map((c) => h('li', null, user(c)))) : null) : null);
  };
  await draw();
  return card(t('cw_my_entry'), h('p', { class: 'muted' }, t('cw_entry_window', { time: fmtTime(round.closes_at) })), box);
}

/** One entry's score sheet for its judge: points and a comment per criterion, an overall comment. */
function sheetForm(base, entry, rubric, open, after) {
  const mine = new Map(((entry.my_sheet || {}).scores || []).map((s) => [s.criterion_id, s]));
  const inputs = rubric.map((c) => ({
    c,
    points: h('input', { type: 'number', min: '0', max: String(c.max_points), step: '0.5', value: mine.has(c.id) ? String(mine.get(c.id).points) : '', required: true, testid: 'cw-points', disabled: !open }),
    comment: h('input', { type: 'text', maxlength: '2000', value: mine.has(c.id) ? mine.get(c.id).comment : '', testid: 'cw-comment', disabled: !open }),
  }));
  const overall = h('textarea', { maxlength: '2000', rows: '2', testid: 'cw-overall', disabled: !open }, (entry.my_sheet || {}).comment || '');
  const out = h('div', { 'aria-live': 'polite' });
  return h('form', { class: 'form', testid: 'cw-sheet', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const v = await api('PUT', `${base}/entries/${entry.id}/score`, {
        scores: inputs.map((i) => ({ criterion_id: i.c.id, points: Number(i.points.value), comment: i.comment.value })), comment: overall.value,
      });
      clear(out, okBox(t('cw_scored', { total: fmtScore(v.total) }), 'cw-scored'));
      after();
    } catch (err) {
      clear(out, errorBox(err, 'cw-sheet-error'));
    }
  } },
  inputs.map((i) => h('div', { class: 'grid-form' }, field(t('cw_points_of', { name: loc(i.c.name), max: i.c.max_points }), i.points, loc(i.c.description)), field(t('cw_comment'), i.comment))),
  field(t('cw_overall'), overall),
  open ? h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'cw-score' }, t('cw_save_sheet'))) : null, out);
}

/** A judge's assigned entries, each with its files and their sheet. */
async function judgeCard(alive, base, round, c) {
  const box = h('div', { testid: 'cw-judge' });
  const draw = async () => {
    const v = await api('GET', `${base}/entries`);
    if (!alive()) return;
    const open = now() > round.closes_at && !c.published_at && now() <= c.judging_closes_at;
    if (!v.entries.length) return clear(box, empty(t('cw_no_assigned'), 'cw-no-assigned'));
    clear(box, v.entries.map((e) => h('details', { class: 'entry', testid: 'cw-assigned', 'data-entry': e.id },
      h('summary', null, user(e.title), ' ', e.my_sheet && e.my_sheet.scored_at ? badge(t('cw_done'), 'ok') : badge(t('cw_pending'), 'wait')),
      v.blind ? h('p', { class: 'muted small' }, t('cw_blind_note')) : h('p', { class: 'muted small' }, user(`${e.team} · ${e.school} · ${(e.members || []).join('、')}`)),
      h('p', null, user(e.description, 'span')),
      e.links.length ? h('ul', { class: 'plain' }, e.links.map((l) => h('li', null, h('a', { href: l, rel: 'noopener noreferrer', target: '_blank', 'data-user': '' }, l)))) : null,
      filesList(e.files, (f) => `${base}/entries/${e.id}/files/${f.id}`),
      sheetForm(base, e, c.rubric, open, draw))));
  };
  try {
    await draw();
  } catch (err) {
    clear(box, errorBox(err));
  }
  return card(t('cw_to_judge'), h('p', { class: 'muted' }, t('cw_judging_window', { from: fmtTime(round.closes_at), to: fmtTime(c.judging_closes_at) })), box);
}

/** The organiser's panel: assign, the progress dashboard, further judges, conflicts and publication. */
async function organiserCard(alive, ev, base, round, c) {
  const out = h('div', { 'aria-live': 'polite' });
  const dash = h('div', { testid: 'cw-dashboard' });
  const k = h('input', { type: 'number', min: '1', max: '10', value: String(c.judges_per_entry), testid: 'cw-assign-k' });
  const action = async (fn, ok) => {
    try {
      const v = await fn();
      clear(out, okBox(ok(v), 'cw-action-ok'));
      await draw();
    } catch (err) {
      clear(out, errorBox(err, 'cw-action-error'));
    }
  };
  const draw = async () => {
    const d = await api('GET', `${base}/judging`);
    if (!alive()) return;
    const judgeName = new Map(d.judges.map((j) => [j.id, j.name]));
    clear(dash,
      h('p', { testid: 'cw-totals' }, t('cw_totals', d.totals)),
      h('h3', null, t('cw_per_judge')),
      table([t('cw_judge'), t('cw_assigned'), t('cw_done'), t('cw_pending')], d.judges.map((j) => h('tr', { testid: 'cw-judge-row' },
        h('td', null, user(j.name)), h('td', null, String(j.assigned)), h('td', null, String(j.done)), h('td', null, String(j.pending)))), { testid: 'cw-judges-table' }),
      h('h3', null, t('cw_entries')),
      d.entries.length ? table([t('cw_title'), t('cw_team'), t('cw_judges'), t('cw_raw_mean'), t('cw_score'), ''], d.entries.map((e) => h('tr', { testid: 'cw-entry-row', 'data-entry': e.id },
        h('td', null, user(e.title)), h('td', null, user(e.team)),
        h('td', null, e.judges.map((j) => h('span', { class: 'nowrap' }, user(judgeName.get(j.judge_id) || String(j.judge_id)), ' ',
          j.status === 'done' ? badge(`${fmtScore(j.raw)} → ${fmtScore(j.normalised)}`, 'ok') : badge(t('cw_pending'), 'wait'), ' ')),
          e.understaffed ? badge(t('cw_understaffed'), 'error') : null),
        h('td', null, fmtScore(e.raw_mean)), h('td', null, fmtScore(e.score), e.flagged ? [' ', badge(t('cw_flagged', { spread: fmtScore(e.spread) }), 'error')] : null),
        h('td', null, e.flagged && !d.published_at ? h('button', { class: 'btn btn-small', type: 'button', testid: 'cw-further', onclick: () => action(
          () => api('POST', `${base}/entries/${e.id}/further-judge`), (v) => t('cw_further_added', { name: judgeName.get(v.judge_id) || v.judge_id })) }, t('cw_further')) : null))),
      { testid: 'cw-entries-table' }) : empty(t('cw_no_entries'), 'cw-no-entries'),
      h('p', { class: 'muted small' }, t('cw_normalise_help')));
  };
  const assignBtn = h('button', { class: 'btn', type: 'button', testid: 'cw-assign', onclick: () => action(
    () => api('POST', `${base}/assign`, { judges_per_entry: Number(k.value) }), (v) => t('cw_assigned_n', { n: v.assigned, short: v.understaffed.length })) }, t('cw_assign'));
  const publishBtn = h('button', { class: 'btn btn-primary', type: 'button', testid: 'cw-publish', onclick: () => action(
    () => api('POST', `${base}/publish`), () => t('cw_published')) }, t('cw_publish'));
  try {
    await draw();
  } catch (err) {
    clear(dash, errorBox(err));
  }
  return card(t('cw_judging'),
    h('p', { class: 'muted' }, c.blind ? t('cw_blind_on') : t('cw_blind_off'), ' ', t('cw_k_now', { k: c.judges_per_entry })),
    c.published_at ? h('p', { testid: 'cw-published-at' }, t('cw_published_at', { time: fmtTime(c.published_at) })) : h('div', { class: 'form inline-form' },
      field(t('cw_k'), k, t('cw_assign_help')), h('div', { class: 'actions' }, assignBtn, ' ', publishBtn)),
    out, dash);
}

/** Declaring a conflict of interest: a judge for themselves, with a team of the event. */
async function conflictsCard(alive, ev) {
  const [{ teams }, { conflicts }] = await Promise.all([api('GET', `/api/events/${ev.id}/teams`), api('GET', `/api/events/${ev.id}/conflicts`)]);
  if (!alive()) return null;
  const teamName = new Map(teams.map((x) => [x.id, x.name]));
  const select = h('select', { testid: 'cw-conflict-team' }, teams.map((x) => h('option', { value: String(x.id), 'data-user': '' }, x.name)));
  const out = h('div', { 'aria-live': 'polite' });
  const go = async () => {
    try {
      await api('POST', `/api/events/${ev.id}/conflicts`, { team_id: Number(select.value) });
      rerender();
    } catch (err) {
      clear(out, errorBox(err, 'cw-conflict-error'));
    }
  };
  return card(t('cw_conflicts'), h('p', { class: 'muted' }, t('cw_conflicts_help')),
    conflicts.length ? h('ul', { class: 'plain', testid: 'cw-conflicts' }, conflicts.map((x) => h('li', null,
      x.team_id ? user(teamName.get(x.team_id) || String(x.team_id)) : t('cw_conflict_school', { id: x.school_id })))) : null,
    teams.length ? h('div', { class: 'form inline-form' }, field(t('cw_team'), select),
      h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'button', testid: 'cw-conflict-declare', onclick: go }, t('cw_declare')))) : null, out);
}

/** The page of a creative round: what the caller is in the event decides the panels. */
export async function creativeRoundPage(alive, ev, round, base, crumbs, board) {
  const c0 = await api('GET', `${base}/creative`);
  if (!alive()) return;
  const c = c0.creative;
  const me = ev.me || {};
  // A coach's teams (the server lists a coach only theirs).
  const coached = me.coach && !me.manages && !me.judge ? (await api('GET', `/api/events/${ev.id}/teams`)).teams.filter((x) => x.status === 'approved') : [];
  if (!alive()) return;
  const teamIds = [...new Set([me.team_id, ...coached.map((x) => x.id)].filter(Boolean))];
  const teamCards = [];
  for (const id of teamIds) teamCards.push(await teamEntryCard(alive, base, round, id, c.limits));
  const facts = h('dl', { class: 'facts', testid: 'cw-facts' },
    h('div', null, h('dt', null, t('cw_kind')), h('dd', null, t('ev_kind_creative'))),
    h('div', null, h('dt', null, t('ev_opens_at')), h('dd', null, fmtTime(round.opens_at))),
    h('div', null, h('dt', null, t('cw_entries_close')), h('dd', null, fmtTime(round.closes_at))),
    h('div', null, h('dt', null, t('cw_judging_closes')), h('dd', null, fmtTime(c.judging_closes_at))),
    h('div', null, h('dt', null, t('cw_k')), h('dd', null, String(c.judges_per_entry))),
    c.published_at ? h('div', null, h('dt', null, t('cw_published')), h('dd', null, fmtTime(c.published_at))) : null);
  setPage(round.name, crumbs, h('h1', { testid: 'round-title' }, user(round.name)), facts,
    card(t('cw_rubric'), rubricTable(c.rubric), h('p', { class: 'muted small' }, t('cw_rubric_help'))),
    ...teamCards,
    me.judge ? await judgeCard(alive, base, round, c) : null,
    me.judge && !me.manages ? await conflictsCard(alive, ev) : null,
    me.manages ? await organiserCard(alive, ev, base, round, c) : null,
    c.published_at ? await resultsCard(alive, ev, round, base) : null,
    board.el);
  board.start();
}
