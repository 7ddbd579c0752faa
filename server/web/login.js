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
      showError(dict.login_missing || 'Please enter your username and password.');
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
      // Codes the server explains completely are shown in the page's
      // language only; others add the server's detail.
      const key = `err_${err.code}`;
      const waitText = err.retry_after && dict[`${key}_wait`] ? dict[`${key}_wait`].replace('{s}', String(err.retry_after)) : '';
      const friendly = waitText || dict[key];
      const complete = waitText || ['bad_credentials', 'busy', 'request_timeout', 'account_deactivated'].includes(err.code);
      showError(friendly && !complete && err.message && err.message !== friendly ? `${friendly} — ${err.message}` : friendly || err.message);
      password.select();
    } catch (e) {
      showError(dict.err_network || String(e));
    } finally {
      button.disabled = false;
    }
  });
})();
