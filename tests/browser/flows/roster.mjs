// Rosters and accounts in the browser: a teacher adds a student by hand and
// prints their 账号卡 at once (counts follow without a reload); the child
// signs in and sets a password with only "new" and "again"; the admin finds
// the child by name and deactivates the account, and the audit log shows it.

import { BASE, api, check, current, log, watch } from '../lib.mjs';

export async function run(ctx) {
  const { browser, viewport, tp, classId, stamp } = ctx;
  const name = '欧阳䶮';
  const number = `99${Date.now() % 100000}`;

  // 1. The teacher adds one student on the roster tab.
  current.page = tp;
  await tp.goto(`${BASE}/app#/classes/${classId}/roster`);
  await tp.getByTestId('add-student').waitFor();
  const before = Number((await tp.getByTestId('tab-roster-count').textContent()).replace(/\D/g, ''));
  await tp.getByTestId('add-number').fill(number);
  await tp.getByTestId('add-name').fill(name);
  await tp.getByTestId('add-submit').click();
  const box = tp.getByTestId('accounts-box');
  await box.getByTestId('created-row').filter({ hasText: name }).waitFor();
  check(await box.getByTestId('passwords-once').isVisible(), 'the one-time password box does not say it is shown only once');
  const username = (await box.getByTestId('created-username').first().textContent()).trim();
  const password = (await box.getByTestId('created-password').first().textContent()).trim();
  check(username.endsWith(`-${number}`) && password.length === 14, `unexpected account ${username} / ${password}`);
  // Counts follow without a reload: the tab and the header.
  await tp.waitForFunction((n) => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    return q('tab-roster-count').textContent.includes(`(${n})`) && q('class-student-count').textContent.includes(String(n));
  }, before + 1);
  await tp.getByTestId('roster-row').filter({ hasText: name }).waitFor();
  log(`${name} added by hand as ${username}; counts show ${before + 1}`);

  await box.getByTestId('print-slips').click();
  await box.locator('[data-testid=slips-link], [data-testid=slips-error]').first().waitFor();
  if (await box.getByTestId('slips-error').count()) throw new Error(`the 账号卡 failed: ${await box.getByTestId('slips-error').textContent()}`);
  check(await box.getByTestId('slips-missing').count() === 0, `a character of ${name} could not be printed: ${await box.getByTestId('slips-missing').allTextContents()}`);
  log('账号卡 printed for the new student');

  // The same number for another child: refused, in Chinese, nothing added.
  await tp.getByTestId('add-number').fill(number);
  await tp.getByTestId('add-name').fill('别的同学');
  await tp.getByTestId('add-submit').click();
  const refusal = (await tp.getByTestId('roster-error-text').first().textContent()).trim();
  check(refusal.includes(number) && refusal.includes('已经有账号'), `the refusal is not in the teacher's language: ${refusal}`);
  check(Number((await tp.getByTestId('tab-roster-count').textContent()).replace(/\D/g, '')) === before + 1, 'a refused add changed the count');

  // 2. The child signs in: a new password and the same again, nothing more.
  const kidCtx = await browser.newContext({ viewport, locale: 'zh-CN' });
  kidCtx.setDefaultTimeout(20_000);
  try {
    const kp = watch(await kidCtx.newPage(), 'added student');
    await kp.goto(`${BASE}/login`);
    await kp.getByTestId('login-username').fill(username);
    await kp.getByTestId('login-password').fill(password);
    await kp.getByTestId('login-submit').click();
    await kp.getByTestId('must-change').waitFor();
    check(await kp.getByTestId('pw-current').count() === 0, 'the forced first change asks for the generated password again');
    const chosen = `Ouyang-${stamp}-ok`;
    await kp.getByTestId('pw-new').fill(chosen);
    await kp.getByTestId('pw-confirm').fill(chosen);
    await kp.getByTestId('pw-submit').click();
    await kp.getByTestId('nav-assignments').waitFor();
    log('the new student set a password with only new + confirm');
  } finally {
    await kidCtx.close();
  }

  // 3. The admin finds the child by name and deactivates the account.
  const adminCtx = await browser.newContext({ viewport, locale: 'zh-CN' });
  adminCtx.setDefaultTimeout(20_000);
  try {
    await adminCtx.addCookies([{ name: 'qiming_session', value: ctx.adminToken, url: BASE }]);
    const ap = watch(await adminCtx.newPage(), 'admin');
    ap.on('dialog', (d) => d.accept());
    await ap.goto(`${BASE}/app#/admin`);
    await ap.getByTestId('users-search').fill(name);
    const row = ap.getByTestId('user-row').filter({ hasText: name });
    await ap.waitForFunction(() => document.querySelectorAll('[data-testid="user-row"]').length === 1);
    await row.getByTestId('user-deactivate').click();
    await row.getByTestId('user-reactivate').waitFor();
    check((await row.getByTestId('user-state').textContent()).includes('已停用'), 'the account is not shown as deactivated');
    await ap.getByTestId('audit-table').getByTestId('audit-row').first().filter({ hasText: '停用账号' }).waitFor();
    log('admin search found the student; deactivated, and the audit log shows it');
    const res = await fetch(`${BASE}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: `Ouyang-${stamp}-ok` }) });
    const body = await res.json();
    check(res.status === 403 && body.error.code === 'account_deactivated', `a deactivated account signed in: ${res.status} ${JSON.stringify(body)}`);
    // Back on: the same password works again.
    await row.getByTestId('user-reactivate').click();
    await row.getByTestId('user-deactivate').waitFor();
    await api('POST', '/api/login', null, { username, password: `Ouyang-${stamp}-ok` });
    log('reactivated: signs in again');
  } finally {
    await adminCtx.close();
    current.page = tp;
  }
}
