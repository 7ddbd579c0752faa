// The replay player: draws a graded run of the robot in its arena, tick by tick.

import { api, clear, errText, h, onCleanup, placeName, t } from './core.js';

// ---------------------------------------------------------------- replay player

// The colours and the tick rate come with the payload (the engine's own), so
// the arena looks as the colour sensor reads it and a second is a second.

/** A case's replay, from the submission's replays or from `url` (a judge's hidden-case evidence). */
export function replaySlot(submissionId, caseName, url) {
  const slot = h('div', { class: 'replay', testid: 'replay', 'data-case': caseName }, h('p', { class: 'muted' }, t('replay_loading')));
  api('GET', url || `/api/submissions/${submissionId}/replays/${encodeURIComponent(caseName)}`)
    .then((data) => clear(slot, replayPlayer(data.world || {}, data.replay || {})))
    .catch((e) => clear(slot, h('p', { class: 'muted', testid: 'replay-missing' }, `${t('replay_missing')} (${errText(e)})`)));
  return slot;
}

/** A still picture of an arena, the robot at its start (the lab page's lesson panel). */
export function arenaPicture(world) {
  const canvas = replayPlayer(world, { frames: [{ pose: world.start || [0, 0, 0] }], tick_hz: 1 }).querySelector('canvas');
  canvas.dataset.testid = 'arena-canvas';
  canvas.setAttribute('aria-label', t('arena_picture'));
  return canvas;
}

function replayPlayer(world, replay) {
  const frames = replay.frames || [];
  // One frame per tick: the replay's recorded rate, else the engine's.
  const hz = Number(replay.tick_hz) || Number(world.tick_rate) || 1 / Number(world.dt);
  const palette = world.palette || {};
  const colour = (name, fallback) => palette[name] || fallback;
  const [aw, ah] = world.arena_size || [2, 2];
  const robotR = world.robot_radius || replay.robot_radius || 0.08;
  const events = replay.events || [];
  const last = Math.max(0, frames.length - 1);
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const cssW = 800;
  const scale = cssW / aw;
  const cssH = Math.round(ah * scale);
  const canvas = h('canvas', {
    class: 'replay-canvas', testid: 'replay-canvas', width: Math.round(cssW * dpr), height: Math.round(cssH * dpr),
    'data-frames': frames.length, 'data-tick-rate': hz, 'data-frame-ms': 1000 / hz, role: 'img', 'aria-label': t('replay'),
  });
  const ctx = canvas.getContext('2d');
  let frame = 0;
  let playing = false;
  let speed = 1;
  let raf = 0;
  let lastTs = 0;
  let clock = 0;

  const slider = h('input', { type: 'range', min: 0, max: last, step: 1, value: '0', testid: 'replay-slider', 'aria-label': t('replay_time') });
  const timeLabel = h('span', { class: 'replay-time', testid: 'replay-time' });
  const playBtn = h('button', { class: 'btn btn-small', type: 'button', testid: 'replay-play' });
  const speedBtn = h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'replay-speed' });

  const shapePath = (s) => {
    ctx.beginPath();
    if (s.kind === 'circle') {
      ctx.arc(s.center[0], s.center[1], s.radius, 0, Math.PI * 2);
    } else if (s.kind === 'polygon') {
      (s.points || []).forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
    } else if (s.kind === 'box') {
      const [cx, cy] = s.center;
      const [hx, hy] = s.half_extents;
      const c = Math.cos(s.angle || 0);
      const sn = Math.sin(s.angle || 0);
      [[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]].forEach(([x, y], i) => {
        const px = cx + x * c - y * sn;
        const py = cy + x * sn + y * c;
        if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
      });
      ctx.closePath();
    }
  };
  const strokeSeg = (s, color, alpha) => {
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = color;
    ctx.lineCap = 'round';
    ctx.lineWidth = 2 * (s.half_width || 0.01);
    ctx.beginPath();
    ctx.moveTo(s.a[0], s.a[1]);
    ctx.lineTo(s.b[0], s.b[1]);
    ctx.stroke();
    ctx.restore();
  };
  const centerOf = (s) => {
    if (s.center) return s.center;
    if (s.kind === 'stroke') return [(s.a[0] + s.b[0]) / 2, (s.a[1] + s.b[1]) / 2];
    const pts = s.points || [[0, 0]];
    return [pts.reduce((m, p) => m + p[0], 0) / pts.length, pts.reduce((m, p) => m + p[1], 0) / pts.length];
  };
  const label = (text, [x, y], color) => {
    ctx.save();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = '13px system-ui, sans-serif';
    ctx.fillStyle = color;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(text, x * scale, cssH - y * scale);
    ctx.restore();
  };

  function draw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    // A white floor is drawn as paper, softer on screen than pure white.
    ctx.fillStyle = world.floor && world.floor !== 'white' ? colour(world.floor, '#fbfaf6') : '#fbfaf6';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    // world coordinates: metres, y up
    ctx.setTransform(scale * dpr, 0, 0, -scale * dpr, 0, cssH * dpr);
    const px = 1 / scale;
    ctx.strokeStyle = '#e6e2d8';
    ctx.lineWidth = px;
    for (let x = 0; x <= aw + 1e-9; x += 0.5) { ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, ah); ctx.stroke(); }
    for (let y = 0; y <= ah + 1e-9; y += 0.5) { ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(aw, y); ctx.stroke(); }
    for (const p of world.paint || []) {
      const color = colour(p.color, '#999');
      if (p.kind === 'stroke') strokeSeg(p, color, 1);
      else {
        shapePath(p);
        ctx.fillStyle = color;
        ctx.fill();
      }
    }
    for (const l of world.lines || []) {
      const pts = l.points || [];
      if (!pts.length) continue;
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      if (l.closed) ctx.closePath();
      ctx.strokeStyle = colour(l.color || 'black', '#141414');
      ctx.lineWidth = l.width || 0.02;
      ctx.lineJoin = 'round';
      ctx.lineCap = 'round';
      ctx.stroke();
    }
    for (const z of world.zones || []) {
      ctx.save();
      ctx.setLineDash([4 * px, 3 * px]);
      if (z.kind === 'stroke') strokeSeg(z, '#2a9d8f', 0.25);
      else {
        shapePath(z);
        ctx.fillStyle = 'rgba(42,157,143,0.15)';
        ctx.fill();
        ctx.strokeStyle = '#2a9d8f';
        ctx.lineWidth = 1.5 * px;
        ctx.stroke();
      }
      ctx.restore();
    }
    for (const c of world.checkpoints || []) {
      ctx.save();
      ctx.setLineDash([4 * px, 3 * px]);
      ctx.beginPath();
      ctx.arc(c.center[0], c.center[1], c.radius, 0, Math.PI * 2);
      ctx.strokeStyle = '#e67e22';
      ctx.lineWidth = 2 * px;
      ctx.stroke();
      ctx.restore();
    }
    for (const s of world.solids || []) {
      shapePath(s);
      // Plain gray walls get the UI's slate; coloured ones the engine's colour.
      ctx.fillStyle = s.color && s.color !== 'gray' ? colour(s.color, '#4a5568') : '#4a5568';
      ctx.fill();
      if (s.sign) {
        // A sign: a short tick on the side its face looks to.
        const [nx, ny] = [Math.cos(s.angle), Math.sin(s.angle)];
        ctx.beginPath();
        ctx.moveTo(s.center[0], s.center[1]);
        ctx.lineTo(s.center[0] + nx * 0.06, s.center[1] + ny * 0.06);
        ctx.strokeStyle = colour(s.color, '#4a5568');
        ctx.lineWidth = 2 * px;
        ctx.stroke();
      }
    }
    ctx.strokeStyle = '#2d3748';
    ctx.lineWidth = 2 * px;
    ctx.strokeRect(0, 0, aw, ah);
    // the whole path, faint; then the part driven so far
    if (frames.length) {
      ctx.save();
      ctx.beginPath();
      frames.forEach((f, i) => (i ? ctx.lineTo(f.pose[0], f.pose[1]) : ctx.moveTo(f.pose[0], f.pose[1])));
      ctx.setLineDash([3 * px, 4 * px]);
      ctx.strokeStyle = 'rgba(37,99,235,0.3)';
      ctx.lineWidth = 1.5 * px;
      ctx.stroke();
      ctx.restore();
      ctx.beginPath();
      for (let i = 0; i <= frame; i++) {
        const [x, y] = frames[i].pose;
        if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      }
      ctx.strokeStyle = 'rgba(37,99,235,0.8)';
      ctx.lineWidth = 2.5 * px;
      ctx.lineJoin = 'round';
      ctx.stroke();
    }
    // contacts so far
    const tick = frame;
    ctx.strokeStyle = '#dc2626';
    ctx.lineWidth = 2.5 * px;
    for (const e of events) {
      if (e.type !== 'contact' || e.tick > tick) continue;
      const d = 5 * px;
      ctx.beginPath();
      ctx.moveTo(e.x - d, e.y - d); ctx.lineTo(e.x + d, e.y + d);
      ctx.moveTo(e.x - d, e.y + d); ctx.lineTo(e.x + d, e.y - d);
      ctx.stroke();
    }
    // robot
    if (frames.length) {
      const [x, y, th] = frames[frame].pose;
      ctx.beginPath();
      ctx.arc(x, y, robotR, 0, Math.PI * 2);
      ctx.fillStyle = '#f6ad55';
      ctx.fill();
      ctx.strokeStyle = '#9c4221';
      ctx.lineWidth = 2 * px;
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + Math.cos(th) * robotR, y + Math.sin(th) * robotR);
      ctx.strokeStyle = '#1a202c';
      ctx.lineWidth = 3 * px;
      ctx.stroke();
    }
    for (const z of world.zones || []) if (z.name) label(placeName(z.name), centerOf(z), '#1f6f66');
    for (const c of world.checkpoints || []) if (c.name) label(placeName(c.name), c.center, '#b35a00');
    // Signs carry their symbol in front of the face: a letter or an arrow as seen from the front.
    const signMark = { stop: 'S', go: 'G', left: '<', right: '>', slow: '!' };
    for (const s of world.solids || []) {
      if (!s.sign) continue;
      const at = [s.center[0] + Math.cos(s.angle) * 0.12, s.center[1] + Math.sin(s.angle) * 0.12];
      label(signMark[s.sign] || '?', at, '#1a202c');
    }
    slider.value = String(frame);
    timeLabel.textContent = `${(frame / hz).toFixed(2)} s / ${(last / hz).toFixed(2)} s`;
    playBtn.textContent = playing ? `■ ${t('pause')}` : `▶ ${t('play')}`;
    speedBtn.textContent = `×${speed}`;
    canvas.dataset.frame = String(frame);
  }

  function step(ts) {
    if (!playing) return;
    if (!canvas.isConnected) {
      playing = false;
      return;
    }
    if (lastTs) clock += ((ts - lastTs) / 1000) * speed;
    lastTs = ts;
    frame = Math.min(last, Math.floor(clock * hz));
    if (frame >= last) playing = false;
    draw();
    if (playing) raf = requestAnimationFrame(step);
  }

  playBtn.addEventListener('click', () => {
    if (playing) {
      playing = false;
      cancelAnimationFrame(raf);
    } else {
      if (frame >= last) frame = 0;
      clock = frame / hz;
      lastTs = 0;
      playing = true;
      raf = requestAnimationFrame(step);
    }
    draw();
  });
  speedBtn.addEventListener('click', () => {
    speed = speed === 1 ? 4 : 1;
    draw();
  });
  slider.addEventListener('input', () => {
    frame = Math.min(last, Math.max(0, Number(slider.value)));
    clock = frame / hz;
    lastTs = 0;
    draw();
  });
  onCleanup(() => {
    playing = false;
    cancelAnimationFrame(raf);
  });
  draw();
  return h('div', { class: 'player' }, canvas,
    h('div', { class: 'player-controls' }, playBtn, slider, speedBtn, timeLabel),
    frames.length ? null : h('p', { class: 'muted' }, t('replay_empty')));
}
