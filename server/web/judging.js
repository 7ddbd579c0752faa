// Judging and results of a contest round: the submission a team stands by,
// clarifications, appeals with the judges' evidence, certificates (PDF) and
// the results workbook. The server decides who may do what; a refusal is
// shown in the page's language.

import { LANG, api, badge, card, clear, empty, errorBox, field, fmtScore, fmtTime, h, loadLabs, loc, okBox, onCleanup, loading, rerender, setPage, t, table } from './core.js';
import { renderReport, scoreHeader } from './submissions.js';

const CLARIFICATION_POLL_MS = 10_000;
const user = (text, tag = 'span') => h(tag, { 'data-user': '' }, text);

// ---------------------------------------------------------------- the submission that counts

/** A button that makes a graded submission the one that counts for its lab (captain or coach, before the close). */
export function chooseButton(base, sub, after) {
  if (sub.chosen) return h('span', { testid: 'chosen' }, badge(t('jd_chosen'), 'ok'));
  if (sub.status !== 'done' || sub.final_of) return null;
  const out = h('span', { 'aria-live': 'polite' });
  const btn = h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'choose', onclick: async () => {
    btn.disabled = true;
    try {
      await api('POST', `${base}/choice`, { submission_id: sub.id });
      after();
    } catch (e) {
      btn.disabled = false;
      clear(out, errorBox(e, 'choose-error'));
    }
  } }, t('jd_choose'));
  return h('span', null, btn, out);
}

// ---------------------------------------------------------------- clarifications

/** Questions and answers of a round: contestants ask privately; organisers and judges answer (privately or to all) and announce. */
export function clarificationsCard(alive, ev, round, base) {
  const me = ev.me || {};
  const officiates = me.manages || me.judge;
  const list = h('div', { testid: 'clarifications' });
  const msg = h('div', { 'aria-live': 'polite' });
  let timer = null;
  onCleanup(() => clearTimeout(timer));
  const draw = async () => {
    clearTimeout(timer);
    let items;
    try {
      ({ clarifications: items } = await api('GET', `${base}/clarifications`));
    } catch (e) {
      // A server without clarifications (404): no card.
      if (e.status === 404) el.remove();
      else clear(list, errorBox(e));
      return;
    }
    if (!alive()) return;
    clear(list, items.length ? h('ul', { class: 'plain clarification-list' }, items.slice().reverse().map((c) => clarification(c, officiates, base, draw)))
      : empty(t('jd_no_clarifications'), 'clarifications-empty'));
    timer = setTimeout(draw, CLARIFICATION_POLL_MS);
  };
  const text = h('textarea', { rows: '3', maxlength: '2000', testid: 'clarification-text' });
  const form = officiates || me.team_id ? h('form', { class: 'form', testid: 'clarification-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('POST', `${base}/clarifications`, { text: text.value });
      text.value = '';
      clear(msg, okBox(officiates ? t('jd_announced') : t('jd_asked'), 'clarification-ok'));
      draw();
    } catch (err) {
      clear(msg, errorBox(err, 'clarification-error'));
    }
  } }, field(officiates ? t('jd_announce') : t('jd_ask'), text, officiates ? t('jd_announce_help') : t('jd_ask_help')), msg,
  h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'submit', testid: 'clarification-send' }, officiates ? t('jd_announce_go') : t('jd_ask_go')))) : null;
  const el = card(t('jd_clarifications'), form, list);
  el.dataset.testid = 'clarifications-card';
  draw();
  return el;
}

function clarification(c, officiates, base, redraw) {
  const answer = h('textarea', { rows: '2', maxlength: '2000', testid: 'answer-text', 'aria-label': t('jd_answer') });
  const broadcast = h('input', { type: 'checkbox', testid: 'answer-broadcast' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = officiates && c.question ? h('form', { class: 'form', testid: 'answer-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('POST', `${base}/clarifications/${c.id}/answer`, { answer: answer.value, broadcast: broadcast.checked });
      redraw();
    } catch (err) {
      clear(out, errorBox(err, 'answer-error'));
    }
  } }, field(c.answer ? t('jd_answer_again') : t('jd_answer'), answer),
  h('label', { class: 'check' }, broadcast, ' ', t('jd_broadcast')), out,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-small', type: 'submit', testid: 'answer-send' }, t('jd_answer_go')))) : null;
  return h('li', { class: 'card clarification', testid: 'clarification', 'data-id': c.id, 'data-answered': String(Boolean(c.answer)), 'data-broadcast': String(c.broadcast) },
    c.question ? h('p', null, h('strong', null, t('jd_question')), ' ', h('span', { class: 'muted small' }, fmtTime(c.asked_at)), h('br'), user(c.question, 'span')) : null,
    c.answer ? h('p', { testid: 'clarification-answer' }, h('strong', null, c.question ? t('jd_answer') : t('jd_announcement')), ' ',
      c.broadcast ? badge(t('jd_to_all'), 'busy') : badge(t('jd_private'), 'wait'), ' ', h('span', { class: 'muted small' }, fmtTime(c.answered_at)), h('br'), user(c.answer, 'span'))
      : h('p', { class: 'muted' }, t('jd_waiting')),
    form ? h('details', null, h('summary', null, c.answer ? t('jd_answer_again') : t('jd_answer')), form) : null);
}

// ---------------------------------------------------------------- appeals

/** A coach appeals against a graded submission of their team, with a reason. */
export function appealButton(ev, sub) {
  if (sub.status !== 'done' || sub.final_of) return null;
  const reason = h('textarea', { rows: '3', maxlength: '2000', testid: 'appeal-reason', 'aria-label': t('jd_appeal_reason') });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'form', testid: 'appeal-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const a = await api('POST', `/api/events/${ev.id}/appeals`, { submission_id: sub.id, reason: reason.value });
      location.hash = `#/events/${ev.id}/appeals/${a.id}`;
    } catch (err) {
      clear(out, errorBox(err, 'appeal-error'));
    }
  } }, field(t('jd_appeal_reason'), reason, t('jd_appeal_help')), out,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-small', type: 'submit', testid: 'appeal-send' }, t('jd_appeal_go'))));
  return h('details', { testid: 'appeal' }, h('summary', null, t('jd_appeal')), form);
}

function appealBadge(status) {
  return h('span', { testid: 'appeal-status', 'data-status': status }, badge(t(`jd_appeal_${status}`), { open: 'wait', upheld: 'ok', rejected: 'bad' }[status] || 'wait'));
}

/** The event's appeals the caller may see, open ones first. */
export async function appealsCard(alive, ev, teamName) {
  let appeals;
  try {
    ({ appeals } = await api('GET', `/api/events/${ev.id}/appeals`));
  } catch (_) {
    return null;
  }
  if (!alive() || !appeals.length) return null;
  const order = { open: 0, upheld: 1, rejected: 2 };
  const rows = appeals.slice().sort((a, b) => order[a.status] - order[b.status] || b.id - a.id).map((a) => h('tr', { testid: 'appeal-row', 'data-status': a.status },
    h('td', null, h('a', { href: `#/events/${ev.id}/appeals/${a.id}`, testid: 'appeal-link' }, fmtTime(a.filed_at))),
    h('td', null, user(teamName(a.team_id) || '')),
    h('td', null, appealBadge(a.status))));
  return card(t('jd_appeals_n', { n: appeals.length }), table([t('jd_filed_at'), t('ev_team_name'), t('ev_state')], rows, { testid: 'appeals' }));
}

// ---------------------------------------------------------------- similarity review

/** Pairs of the event's counting submissions that look alike, per lab, for organisers and judges to review; evidence, never a penalty. Loaded on request (it takes seconds for a big event). */
export function similarityCard(ev) {
  const out = h('div', { testid: 'similarity', 'aria-live': 'polite' });
  const minScore = h('input', { type: 'number', min: '0', max: '1', step: '0.05', value: '0.3', testid: 'similarity-min' });
  const load = async () => {
    clear(out, loading());
    try {
      const [r, catalogue] = await Promise.all([api('GET', `/api/events/${ev.id}/similarity?min_score=${encodeURIComponent(minScore.value || '0.3')}`), loadLabs()]);
      const title = (id) => { const l = catalogue.find((x) => x.id === id); return l ? loc(l.title) : id; };
      const labs = r.labs.filter((l) => l.programs > 0);
      clear(out, labs.length ? labs.map((l) => similarityLab(ev, l, title(l.lab_id), load)) : empty(t('sim_none'), 'similarity-empty'));
    } catch (e) {
      clear(out, errorBox(e, 'similarity-error'));
    }
  };
  const btn = h('button', { class: 'btn', type: 'button', testid: 'similarity-load', onclick: load }, t('sim_load'));
  return card(t('sim_title'), h('p', { class: 'muted' }, t('sim_help')),
    h('div', { class: 'filters' }, field(t('sim_min_score'), minScore), h('div', { class: 'actions' }, btn)), out);
}

function similarityLab(ev, lab, title, reload) {
  const team = (x) => h('span', null, h('a', { href: `#/submissions/${x.submission_id}`, testid: 'similarity-submission' }, `#${x.submission_id}`), ' ', user(x.team));
  const verdictBadge = (r) => r
    ? h('span', { testid: 'similarity-verdict', 'data-verdict': r.verdict, title: r.note || '' }, badge(t(`sim_verdict_${r.verdict}`), r.verdict === 'cleared' ? 'ok' : 'bad'), ' ', user(r.reviewer, 'small'))
    : badge(t('sim_verdict_pending'), 'wait');
  const rows = lab.pairs.map((p) => {
    const msg = h('span', { 'aria-live': 'polite' });
    const note = h('input', { type: 'text', maxlength: '500', placeholder: t('sim_note'), testid: 'similarity-note', value: (p.review && p.review.note) || '' });
    const give = (verdict) => h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: `similarity-${verdict}`, onclick: async () => {
      try {
        await api('POST', `/api/events/${ev.id}/similarity/reviews`, { a: p.a.submission_id, b: p.b.submission_id, verdict, note: note.value });
        reload();
      } catch (e) {
        clear(msg, errorBox(e, 'similarity-verdict-error'));
      }
    } }, t(`sim_give_${verdict}`));
    return h('tr', { testid: 'similarity-pair' },
      h('td', { class: 'num' }, `${Math.round(p.score * 100)}%`),
      h('td', null, team(p.a)), h('td', null, team(p.b)),
      h('td', null, p.same_school ? badge(t('sim_same_school'), 'wait') : t('sim_other_schools'), p.compared_as === 'text' ? [' ', badge(t('sim_as_text'), 'wait')] : null),
      h('td', null, verdictBadge(p.review)),
      h('td', null, note, ' ', give('cleared'), give('referred'), p.review ? give('pending') : null, msg));
  });
  const clusters = lab.clusters.filter((c) => c.length > 1);
  return h('section', { class: 'similarity-lab', testid: 'similarity-lab' },
    h('h3', null, title, ' ', h('span', { class: 'muted' }, t('sim_programs_n', { n: lab.programs }))),
    clusters.length ? h('p', { testid: 'similarity-clusters' }, t('sim_clusters', { n: clusters.length }), ' ',
      clusters.map((c) => h('span', { class: 'cluster' }, '[', c.map((id) => `#${id}`).join(' '), '] '))) : null,
    rows.length ? table([t('sim_score'), t('sim_a'), t('sim_b'), t('sim_schools'), t('sim_verdict'), t('actions')], rows, { testid: 'similarity-pairs' }) : empty(t('sim_no_pairs')),
    lab.unparsed.length ? h('p', { class: 'muted' }, t('sim_unparsed', { ids: lab.unparsed.map((id) => `#${id}`).join(' ') })) : null);
}

/** One appeal: the reason, the submission's report; for judges and organisers the full evidence with hidden-case replays, and the decision. */
export async function appealPage(alive, eventId, appealId) {
  setPage(t('jd_appeal'), loading());
  const [ev, a] = await Promise.all([api('GET', `/api/events/${eventId}`), api('GET', `/api/events/${eventId}/appeals/${appealId}`)]);
  if (!alive()) return;
  const me = ev.me || {};
  const officiates = me.manages || me.judge;
  const sub = a.submission || {};
  const evidenceUrl = (caseName) => `/api/events/${eventId}/appeals/${appealId}/replays/${encodeURIComponent(caseName)}`;
  setPage(t('jd_appeal'),
    h('p', { class: 'crumbs' }, h('a', { href: '#/events' }, t('nav_events')), ' › ', h('a', { href: `#/events/${ev.id}`, 'data-user': '' }, ev.name), ' › '),
    h('h1', null, t('jd_appeal'), ' ', appealBadge(a.status)),
    h('dl', { class: 'facts' },
      h('div', null, h('dt', null, t('jd_filed_at')), h('dd', null, fmtTime(a.filed_at))),
      h('div', null, h('dt', null, t('jd_score_before')), h('dd', null, fmtScore(a.score_before))),
      h('div', null, h('dt', null, t('submission')), h('dd', null, h('a', { href: `#/submissions/${a.submission_id}` }, `#${a.submission_id}`)))),
    card(t('jd_appeal_reason'), h('p', { testid: 'appeal-reason-text' }, user(a.reason))),
    a.answer ? card(t('jd_decision'), h('p', { testid: 'appeal-answer' }, user(a.answer)), a.regraded ? h('p', { class: 'muted' }, t('jd_regraded')) : null) : null,
    officiates && a.status === 'open' ? decisionCard(eventId, appealId) : null,
    sub.status ? card(t('result'), scoreHeader(sub, 'appeal-score'), sub.report ? renderReport(sub.report, null) : null) : null,
    officiates && a.evidence ? card(t('jd_evidence'), h('p', { class: 'muted' }, t('jd_evidence_help')),
      h('div', { testid: 'evidence' }, renderReport(a.evidence, null, evidenceUrl))) : null);
}

function decisionCard(eventId, appealId) {
  const decision = h('select', { testid: 'decision' }, h('option', { value: 'upheld' }, t('jd_uphold')), h('option', { value: 'rejected' }, t('jd_reject')));
  const reason = h('textarea', { rows: '3', maxlength: '2000', testid: 'decision-reason' });
  const regrade = h('input', { type: 'checkbox', testid: 'decision-regrade' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'form', testid: 'decision-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('POST', `/api/events/${eventId}/appeals/${appealId}/decision`, { decision: decision.value, reason: reason.value, regrade: regrade.checked && decision.value === 'upheld' });
      rerender();
    } catch (err) {
      clear(out, errorBox(err, 'decision-error'));
    }
  } }, field(t('jd_decision'), decision), field(t('jd_decision_reason'), reason),
  h('label', { class: 'check' }, regrade, ' ', t('jd_regrade')), out,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'decision-send' }, t('jd_decide'))));
  return card(t('jd_decide'), form);
}

// ---------------------------------------------------------------- certificates and results

/** Fetches a file the API makes and offers it as a link (PDF opened, XLSX downloaded). */
async function fileLink(box, url, name, type, testid) {
  clear(box, h('span', { class: 'muted' }, t('loading')));
  try {
    const blob = await api('GET', url, undefined, { blob: true });
    const href = URL.createObjectURL(new Blob([blob], { type }));
    clear(box, h('a', { href, download: name, target: '_blank', rel: 'noopener', class: 'btn btn-ghost', testid }, t('jd_open_file')));
  } catch (e) {
    clear(box, errorBox(e, `${testid}-error`));
  }
}

/** Awards typed one a line: "name, top N" or "name, N%" or "name, advanced". */
function parseAwards(text) {
  const out = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const [name, rule] = line.split(/[,，]/).map((p) => p.trim());
    if (!name || !rule) return { error: line };
    let m;
    if ((m = /^(\d+(?:\.\d+)?)\s*[%％]$/.exec(rule))) out.push({ name, top_percent: Number(m[1]) });
    else if (/^\d+$/.test(rule)) out.push({ name, top: Number(rule) });
    else if (/^(advanced|晋级)$/i.test(rule)) out.push({ name, advanced: true });
    else return { error: line };
  }
  return { awards: out };
}

/** Valid, or revoked with the reason (and the code issued in its place). */
function certificateStatus(c) {
  if (c.status !== 'revoked') return h('span', { testid: 'certificate-status' }, badge(t('jd_cert_valid'), 'ok'));
  return h('span', { testid: 'certificate-status' }, badge(t('jd_cert_revoked'), 'bad'), ' ',
    c.revoked_reason ? user(c.revoked_reason, 'span') : null,
    c.replaced_by ? h('span', { class: 'muted small' }, ' ', t('jd_cert_replaced_by'), ' ', h('code', null, c.replaced_by)) : null);
}

/** An organiser revokes a certificate, or re-issues it under a new code with the name or award corrected. */
function certificateChange(base, c) {
  const reason = h('input', { type: 'text', maxlength: '200', required: true, testid: 'cert-reason' });
  const name = h('input', { type: 'text', maxlength: '60', value: c.name, testid: 'cert-name' });
  const award = h('input', { type: 'text', maxlength: '30', value: c.award, testid: 'cert-award' });
  const out = h('div', { 'aria-live': 'polite' });
  const send = async (what) => {
    const body = { reason: reason.value };
    if (what === 'reissue') {
      if (name.value.trim() !== c.name) body.name = name.value;
      if (award.value.trim() !== c.award) body.award = award.value;
    }
    try {
      await api('POST', `${base}/certificates/${c.code}/${what}`, body);
      rerender();
    } catch (err) {
      clear(out, errorBox(err, 'cert-change-error'));
    }
  };
  const form = h('form', { class: 'form', testid: 'cert-change', onsubmit: (e) => { e.preventDefault(); send('reissue'); } },
    field(t('jd_cert_reason'), reason, t('jd_cert_reason_help')), field(t('jd_name'), name), field(t('jd_award'), award), out,
    h('div', { class: 'actions' },
      h('button', { class: 'btn btn-small', type: 'submit', testid: 'cert-reissue' }, t('jd_cert_reissue')),
      h('button', { class: 'btn btn-small btn-danger', type: 'button', testid: 'cert-revoke', onclick: () => { if (reason.reportValidity()) send('revoke'); } }, t('jd_cert_revoke'))));
  return h('details', { testid: 'cert-change-open' }, h('summary', null, t('jd_cert_change')), form);
}

/** The round's results: organisers issue certificates and download the workbook; everyone prints their own certificates. */
export async function resultsCard(alive, ev, round, base) {
  if (!round.finalised_at) return null;
  const me = ev.me || {};
  let certificates = [];
  try {
    ({ certificates } = await api('GET', `${base}/certificates`));
  } catch (e) {
    if (e.status === 404) return null; // a server without certificates
  }
  if (!alive()) return null;
  const pdfBox = h('div');
  const xlsxBox = h('div');
  const pdfBtn = h('button', { class: 'btn', type: 'button', testid: 'certificates-pdf', onclick: () => fileLink(pdfBox, `${base}/certificates.pdf?lang=${LANG}`, 'certificates.pdf', 'application/pdf', 'certificates-pdf-link') }, t('jd_certificates_pdf'));
  const xlsxBtn = h('button', { class: 'btn', type: 'button', testid: 'results-xlsx', onclick: () => fileLink(xlsxBox, `${base}/results.xlsx?lang=${LANG}`, 'results.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'results-xlsx-link') }, t('jd_results_xlsx'));
  const rows = certificates.map((c) => h('tr', { testid: 'certificate-row', 'data-status': c.status || 'valid' },
    h('td', { class: 'num' }, String(c.rank)), h('td', null, user(c.name)), h('td', null, user(c.award)),
    h('td', null, h('a', { href: `/verify/${c.code}`, target: '_blank', rel: 'noopener', testid: 'verify-link' }, h('code', null, c.code))),
    h('td', null, certificateStatus(c), me.manages && c.status !== 'revoked' ? certificateChange(base, c) : null)));
  let issueForm = null;
  if (me.manages && !certificates.length) {
    const awards = h('textarea', { rows: '4', testid: 'awards', placeholder: t('jd_awards_placeholder') });
    const out = h('div', { 'aria-live': 'polite' });
    issueForm = h('form', { class: 'form', testid: 'issue-form', onsubmit: async (e) => {
      e.preventDefault();
      const parsed = parseAwards(awards.value);
      if (parsed.error !== undefined || !parsed.awards.length) {
        clear(out, h('div', { class: 'alert alert-error', role: 'alert', testid: 'issue-error' }, t('jd_awards_bad', { line: parsed.error ?? '' })));
        return;
      }
      try {
        await api('POST', `${base}/certificates`, { awards: parsed.awards });
        rerender();
      } catch (err) {
        clear(out, errorBox(err, 'issue-error'));
      }
    } }, field(t('jd_awards'), awards, t('jd_awards_help')), out,
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'issue' }, t('jd_issue'))));
  }
  const el = card(t('jd_certificates'),
    issueForm,
    certificates.length ? [table([t('ev_rank'), t('jd_name'), t('jd_award'), t('jd_code'), t('jd_cert_status')], rows, { testid: 'certificates' }),
      h('div', { class: 'actions' }, pdfBtn), pdfBox] : issueForm ? null : empty(t('jd_no_certificates'), 'certificates-empty'),
    me.manages || me.judge ? [h('div', { class: 'actions' }, xlsxBtn), xlsxBox] : null);
  el.dataset.testid = 'results-card';
  return el;
}
