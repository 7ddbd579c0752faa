// The password page: changing one's own password (forced after a generated one).

import { api, card, clear, errorBox, field, h, okBox, rerender, setPage, state, t } from './core.js';

// ---------------------------------------------------------------- password

export async function passwordPage(alive, forced) {
  // Right after signing in with the generated password, a child is not made
  // to type those 14 characters again: the server knows this session used it.
  const askCurrent = !(forced && state.me && state.me.current_password_required === false);
  const cur = askCurrent ? h('input', { type: 'password', autocomplete: 'current-password', required: true, testid: 'pw-current' }) : null;
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, testid: 'pw-new' });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, testid: 'pw-confirm' });
  const msg = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'pw-submit' }, t('pw_submit'));
  const form = h('form', {
    class: 'form narrow', testid: 'password-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(msg);
      if (next.value !== again.value) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert', testid: 'error' }, t('pw_mismatch')));
      if (cur && next.value === cur.value) return clear(msg, h('div', { class: 'alert alert-error', role: 'alert', testid: 'error' }, t('pw_same')));
      btn.disabled = true;
      try {
        await api('POST', '/api/password', cur ? { current_password: cur.value, new_password: next.value } : { new_password: next.value });
        const me = await api('GET', '/api/me');
        state.me = me;
        state.csrf = me.csrf_token;
        if (forced) {
          location.hash = '#/';
          rerender();
        } else {
          form.reset();
          clear(msg, okBox(t('pw_changed'), 'pw-ok'));
        }
      } catch (e) {
        clear(msg, errorBox(e));
      } finally {
        btn.disabled = false;
      }
    },
  },
  cur ? field(t('pw_current'), cur) : null,
  field(t('pw_new'), next, t('pw_new_help')),
  field(t('pw_confirm'), again),
  msg, h('div', { class: 'actions' }, btn));
  setPage(t('pw_title'),
    h('h1', null, t('pw_title')),
    forced ? h('div', { class: 'alert alert-info', testid: 'must-change' }, t(cur ? 'pw_forced' : 'pw_forced_fresh')) : null,
    card(null, form));
  (cur || next).focus();
}
