// On-site rounds: the organisers' card (on-site mode and its address
// allow-list, seats by hand or automatically over rooms, the seat plan as
// PDF, who is signed in at which seat, releasing a seat) and a contestant's
// own seat. The server decides who may do what and enforces the rules.

import { api, badge, card, clear, empty, errorBox, field, fmtTime, h, okBox, t, table } from './core.js';

const user = (text, tag = 'span') => h(tag, { 'data-user': '' }, text);

/** The on-site card of a round, for its organisers and judges; a contestant's seat line otherwise (null when off and unseated). */
export async function onsiteCard(alive, ev, round, base) {
  const me = ev.me || {};
  let info;
  try {
    info = await api('GET', `${base}/onsite`);
  } catch (e) {
    return e.status === 404 ? null : card(t('os_title'), errorBox(e, 'onsite-error'));
  }
  if (!alive()) return null;
  if (!(me.manages || me.judge)) {
    if (!info.enabled && !info.seat) return null;
    const el = card(t('os_title'),
      info.enabled ? h('p', { class: 'muted', testid: 'onsite-notice' }, t('os_contestant_notice')) : null,
      info.seat ? h('p', { testid: 'my-seat' }, t('os_my_seat', { room: info.seat.room, seat: String(info.seat.seat) })) : null);
    el.dataset.testid = 'onsite-card';
    return el;
  }
  const el = card(t('os_title'),
    h('p', { class: 'muted' }, t('os_help')),
    me.manages ? settingsForm(info, base) : h('p', { testid: 'onsite-state' }, info.enabled ? badge(t('os_on'), 'ok') : badge(t('os_off'), 'wait')),
    await seatsSection(alive, me, base),
    sessionsSection(info, base));
  el.dataset.testid = 'onsite-card';
  return el;
}

function settingsForm(info, base) {
  const enabled = h('input', { type: 'checkbox', testid: 'onsite-enabled' });
  enabled.checked = !!info.enabled;
  const allow = h('textarea', { rows: '3', testid: 'onsite-allow', placeholder: '10.1.0.0/16\n2001:db8::/32' });
  allow.value = (info.allow || []).join('\n');
  const out = h('div', { 'aria-live': 'polite' });
  return h('form', { class: 'form', testid: 'onsite-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const res = await api('PUT', `${base}/onsite`, { enabled: enabled.checked, allow: allow.value.split(/[\s,，]+/).filter(Boolean) });
      allow.value = res.allow.join('\n');
      clear(out, okBox(res.enabled ? t('os_saved_on', { n: res.allow.length }) : t('os_saved_off'), 'onsite-ok'));
    } catch (err) {
      clear(out, errorBox(err, 'onsite-save-error'));
    }
  } },
  h('label', { class: 'check' }, enabled, ' ', t('os_enabled')),
  field(t('os_allow'), allow, t('os_allow_help')), out,
  h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', testid: 'onsite-save' }, t('os_save'))));
}

/** The seat plan: the table, the organisers' forms (automatic over rooms, one contestant or team by hand) and the PDF. */
async function seatsSection(alive, me, base) {
  const box = h('div', { testid: 'seats' });
  const draw = async () => {
    let rooms;
    try {
      ({ rooms } = await api('GET', `${base}/seats`));
    } catch (e) {
      clear(box, errorBox(e));
      return;
    }
    if (!alive()) return;
    const rows = rooms.flatMap((r) => r.seats.map((s) => h('tr', { testid: 'seat-row' },
      h('td', null, user(s.room)), h('td', { class: 'num' }, String(s.seat)), h('td', null, user(s.name)), h('td', null, user(s.team)), h('td', null, user(s.school)))));
    clear(box, rows.length ? table([t('os_room'), t('os_seat'), t('jd_name'), t('os_team'), t('os_school')], rows, { testid: 'seat-table' })
      : empty(t('os_no_seats'), 'seats-empty'));
  };
  await draw();
  const pdfBox = h('div');
  const pdfBtn = h('button', { class: 'btn', type: 'button', testid: 'seats-pdf', onclick: async () => {
    clear(pdfBox, h('span', { class: 'muted' }, t('loading')));
    try {
      const blob = await api('GET', `${base}/seats.pdf`, undefined, { blob: true });
      const href = URL.createObjectURL(new Blob([blob], { type: 'application/pdf' }));
      clear(pdfBox, h('a', { href, download: 'seat-plan.pdf', target: '_blank', rel: 'noopener', class: 'btn btn-ghost', testid: 'seats-pdf-link' }, t('jd_open_file')));
    } catch (e) {
      clear(pdfBox, errorBox(e, 'seats-pdf-error'));
    }
  } }, t('os_pdf'));
  return h('div', null, h('h3', null, t('os_seats')), box,
    me.manages ? [autoForm(base, draw), manualForm(base, draw)] : null,
    h('div', { class: 'actions' }, pdfBtn), pdfBox);
}

/** Rooms one a line: "name, capacity" (e.g. "301, 30"). */
function parseRooms(text) {
  const rooms = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const [name, cap] = line.split(/[,，\s]+/);
    if (!name || !/^\d+$/.test(cap || '')) return { error: line };
    rooms.push({ name, capacity: Number(cap) });
  }
  return { rooms };
}

function autoForm(base, after) {
  const rooms = h('textarea', { rows: '3', testid: 'rooms', placeholder: t('os_rooms_placeholder') });
  const out = h('div', { 'aria-live': 'polite' });
  return h('form', { class: 'form', testid: 'seats-auto-form', onsubmit: async (e) => {
    e.preventDefault();
    const parsed = parseRooms(rooms.value);
    if (parsed.error !== undefined || !parsed.rooms.length) {
      clear(out, h('div', { class: 'alert alert-error', role: 'alert', testid: 'seats-auto-error' }, t('os_rooms_bad', { line: parsed.error ?? '' })));
      return;
    }
    try {
      const res = await api('POST', `${base}/seats/auto`, { rooms: parsed.rooms });
      clear(out, okBox(t('os_seated_n', { n: res.seats.length }), 'seats-auto-ok'));
      await after();
    } catch (err) {
      clear(out, errorBox(err, 'seats-auto-error'));
    }
  } }, field(t('os_rooms'), rooms, t('os_rooms_help')), out,
  h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'submit', testid: 'seats-auto' }, t('os_auto'))));
}

function manualForm(base, after) {
  const who = h('input', { type: 'number', min: '1', testid: 'seat-student', required: '' });
  const kind = h('select', { testid: 'seat-kind' }, h('option', { value: 'student_id' }, t('os_by_student')), h('option', { value: 'team_id' }, t('os_by_team')));
  const room = h('input', { type: 'text', maxlength: '30', testid: 'seat-room' });
  const seat = h('input', { type: 'number', min: '1', testid: 'seat-number' });
  const out = h('div', { 'aria-live': 'polite' });
  return h('form', { class: 'form', testid: 'seat-form', onsubmit: async (e) => {
    e.preventDefault();
    const body = { [kind.value]: Number(who.value), room: room.value.trim() || null };
    if (body.room) body.seat = Number(seat.value);
    try {
      await api('POST', `${base}/seats`, body);
      clear(out, okBox(t('os_seat_saved'), 'seat-ok'));
      await after();
    } catch (err) {
      clear(out, errorBox(err, 'seat-error'));
    }
  } }, field(t('os_who'), kind), field(t('os_id'), who), field(t('os_room'), room, t('os_room_help')), field(t('os_seat'), seat), out,
  h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'submit', testid: 'seat-save' }, t('os_seat_save'))));
}

/** Who is signed in at which seat, with a release button each (organisers and judges). */
function sessionsSection(info, base) {
  const list = info.sessions || [];
  const rows = list.map((s) => {
    const out = h('span', { 'aria-live': 'polite' });
    const btn = h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'release', onclick: async () => {
      btn.disabled = true;
      try {
        await api('POST', `${base}/onsite/release`, { student_id: s.student_id });
        clear(out, badge(t('os_released'), 'ok'));
      } catch (e) {
        btn.disabled = false;
        clear(out, errorBox(e, 'release-error'));
      }
    } }, t('os_release'));
    return h('tr', { testid: 'session-row' }, h('td', null, user(s.name)), h('td', null, h('code', null, s.address)), h('td', null, fmtTime(s.bound_at)),
      h('td', null, s.live ? badge(t('os_live'), 'ok') : badge(t('os_ended'), 'wait')), h('td', null, btn, out));
  });
  return h('div', null, h('h3', null, t('os_sessions')), h('p', { class: 'muted' }, t('os_sessions_help')),
    rows.length ? table([t('jd_name'), t('os_address'), t('os_bound_at'), t('ev_state'), ''], rows, { testid: 'session-table' }) : empty(t('os_no_sessions'), 'sessions-empty'));
}
