// Entry point of the web UI: the hash router and start-up.

import { adminPage } from './admin.js';
import { assignmentPage, myAssignmentsPage } from './assignments.js';
import { classPage, classesPage } from './classes.js';
import { ApiError, LANG, MANAGERS, api, errorBox, h, renderHeader, onRerender, setDictionary, setPage, state, t } from './core.js';
import { studentWorkPage } from './gradebook.js';
import { passwordPage } from './password.js';
import { submissionPage } from './submissions.js';

// ---------------------------------------------------------------- router

// [path, page, roles that may open it (all when absent)]
const routes = [
  [/^\/?$/, homePage],
  [/^\/classes$/, classesPage, MANAGERS],
  [/^\/classes\/(\d+)(?:\/(roster|assignments|gradebook))?$/, classPage, MANAGERS],
  [/^\/classes\/(\d+)\/students\/(\d+)$/, studentWorkPage, MANAGERS],
  [/^\/assignments$/, myAssignmentsPage],
  [/^\/assignments\/(\d+)$/, assignmentPage],
  [/^\/submissions\/(\d+)$/, submissionPage],
  [/^\/admin$/, adminPage, ['platform_admin', 'organiser', 'school_admin']],
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
    for (const [re, fn, roles] of routes) {
      const m = path.match(re);
      if (m) {
        run = roles && !roles.includes(state.me.role) ? homePage : () => fn(alive, ...m.slice(1));
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
  const target = role === 'student' ? '#/assignments' : MANAGERS.includes(role) && role !== 'platform_admin' ? '#/classes' : '#/admin';
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
