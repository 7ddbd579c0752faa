// Qiming sign-in page: POST /api/login, then on to /app.
'use strict';

(() => {
  const LANG = document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
  const form = document.getElementById('login-form');
  const username = document.getElementById('username');
  const password = document.getElementById('password');
  const button = document.getElementById('login-submit');
  const error = document.getElementById('login-error');
  let dict = {};

  fetch('/static/i18n.json', { credentials: 'same-origin' })
    .then((r) => r.json())
    .then((all) => { dict = all[LANG] || {}; })
    .catch(() => {});

  function showError(text) {
    error.textContent = text;
    error.hidden = false;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!username.value.trim() || !password.value) {
      showError(dict.login_missing || '');
      return;
    }
    button.disabled = true;
    try {
      const res = await fetch('/api/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ username: username.value.trim(), password: password.value }),
      });
      if (res.ok) {
        location.href = '/app';
        return;
      }
      let err = { code: `http_${res.status}`, message: res.statusText };
      try {
        const body = await res.json();
        if (body && body.error) err = body.error;
      } catch (_) { /* not JSON */ }
      // The page's language only: the server's English `message` is for developers.
      const has = (k) => Object.prototype.hasOwnProperty.call(dict, k);
      const fill = (text) => text.replace('{s}', String(err.retry_after || '')).replace('{code}', String(err.code));
      const key = `err_${err.code}`;
      let text = '';
      if (err.code === 'invalid') text = dict[`err_invalid_${err.reason}`] || dict.err_invalid || '';
      else if (err.retry_after && has(`${key}_wait`)) text = dict[`${key}_wait`];
      else if (has(key)) text = dict[key];
      else text = dict.err_unknown_code || '';
      showError(fill(text).replace('{field}', dict[`field_${err.field}`] || '').replace('{max}', String(err.max ?? '')));
      password.select();
    } catch (e) {
      showError(dict.err_network || '');
    } finally {
      button.disabled = false;
    }
  });
})();
