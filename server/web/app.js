// Entry point of the web UI: the hash router and start-up.

import { adminPage } from './admin.js';
import { assessmentProgressPage, assessmentsPage, takePage } from './assessments.js';
import { assignmentPage, myAssignmentsPage } from './assignments.js';
import { classPage, classesPage } from './classes.js';
import { eventPage, eventsPage, roundPage } from './contests.js';
import { appealPage } from './judging.js';
import { ApiError, LANG, api, errorBox, h, renderHeader, onRerender, setDictionary, setPage, state, t } from './core.js';
import { studentWorkPage } from './gradebook.js';
import { passwordPage } from './password.js';
import { submissionPage } from './submissions.js';

// ---------------------------------------------------------------- router

// [path, page, what the user must be able to do (state.me.can, from the server) to open it]
const routes = [
  [/^\/?$/, homePage],
  [/^\/classes$/, classesPage, 'manage_classes'],
  [/^\/classes\/(\d+)(?:\/(roster|assignments|gradebook))?$/, classPage, 'manage_classes'],
  [/^\/classes\/(\d+)\/students\/(\d+)$/, studentWorkPage, 'manage_classes'],
  [/^\/assignments$/, myAssignmentsPage],
  [/^\/assignments\/(\d+)$/, assignmentPage],
  [/^\/submissions\/(\d+)$/, submissionPage],
  [/^\/assessments$/, assessmentsPage],
  [/^\/assessments\/(\d+)$/, assessmentProgressPage],
  [/^\/assessments\/(\d+)\/take$/, takePage],
  [/^\/events$/, eventsPage],
  [/^\/events\/(\d+)$/, eventPage],
  [/^\/events\/(\d+)\/rounds\/(\d+)$/, roundPage],
  [/^\/events\/(\d+)\/appeals\/(\d+)$/, appealPage],
  [/^\/admin$/, adminPage, 'admin'],
  [/^\/password$/, passwordPage],
];

function route() {
  for (const fn of state.cleanups.splice(0)) {
    try { fn(); } catch (_) { /* ignore */ }
  }
  const seq = ++state.seq;
  const alive = () => seq === state.seq;
  renderHeader();
  let run;
  if (state.me.must_change_password) {
    run = () => passwordPage(alive, true);
  } else {
    const path = location.hash.replace(/^#/, '');
    for (const [re, fn, need] of routes) {
      const m = path.match(re);
      if (m) {
        run = need && !state.me.can[need] ? homePage : () => fn(alive, ...m.slice(1));
        break;
      }
    }
  }
  if (!run) {
    setPage(t('not_found'), h('h1', null, t('not_found')), h('p', null, h('a', { href: '#/' }, t('go_home'))));
    return;
  }
  Promise.resolve().then(run).catch((e) => {
    if (!alive() || (e instanceof ApiError && (e.status === 401 || e.code === 'password_change_required'))) return;
    setPage(t('error_title'), h('h1', null, t('error_title')), errorBox(e, 'page-error'),
      h('p', null, h('a', { href: '#/' }, t('go_home'))));
  });
}

function homePage() {
  const role = state.me.role;
  const target = state.me.can.submit ? '#/assignments' : role === 'organiser' ? '#/events' : state.me.can.manage_classes && role !== 'platform_admin' ? '#/classes' : '#/admin';
  location.replace(target);
}

// ---------------------------------------------------------------- start

async function boot() {
  try {
    const res = await fetch('/static/i18n.json', { credentials: 'same-origin' });
    setDictionary((await res.json())[LANG] || {});
  } catch (_) {
    setDictionary({});
  }
  try {
    const me = await api('GET', '/api/me');
    state.me = me;
    state.csrf = me.csrf_token;
  } catch (e) {
    if (e.status !== 401) setPage(t('error_title'), errorBox(e, 'page-error'));
    return;
  }
  window.addEventListener('hashchange', route);
  onRerender(route);
  route();
}

boot();
