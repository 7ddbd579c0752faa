// A classmate guesses a student's password until the server makes them wait;
// the teacher lifts it with one click on the roster, and the student signs in
// at once. Runs in English on a phone-sized screen (the other flows cover
// zh-CN), and checks the waiting message names the seconds in English only.

import { BASE, check, current, log, watch } from '../lib.mjs';

export async function run(ctx) {
  const { browser, api, adminToken, tp, classId } = ctx;
  const number = `77${Date.now() % 100000}`;
  const added = await api('POST', `/api/classes/${classId}/students`, adminToken, { student_number: number, display_name: '林小雨' });
  const account = (added.created || added.reissued || [])[0];
  check(account && account.username && account.password, `adding a student gave no account: ${JSON.stringify(added)}`);

  // 1. A classmate on another phone guesses wrong until the server says to wait.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en' });
  phone.setDefaultTimeout(20_000);
  const guesser = watch(await phone.newPage(), 'classmate');
  await guesser.goto(`${BASE}/login?lang=en`);
  let waitText = '';
  for (let i = 1; i <= 12 && !waitText; i += 1) {
    await guesser.getByTestId('login-username').fill(account.username);
    await guesser.getByTestId('login-password').fill(`wrong-guess-${i}`);
    const answered = guesser.waitForResponse((r) => r.url().endsWith('/api/login'));
    await guesser.getByTestId('login-submit').click();
    const res = await answered;
    await guesser.getByTestId('login-error').waitFor();
    if (res.status() === 429) waitText = (await guesser.getByTestId('login-error').textContent()).trim();
  }
  check(waitText, 'twelve wrong passwords never made the server ask the classmate to wait');
  check(/\d+ seconds/.test(waitText) && !/[\u3400-\u9fff]/.test(waitText), `the waiting message is not plain English with the seconds: ${waitText}`);
  log(`classmate throttled: "${waitText}"`);

  // 2. The teacher lifts it from the roster.
  current.page = tp;
  await tp.goto(`${BASE}/app#/classes/${classId}/roster`);
  const row = tp.getByTestId('roster-row').filter({ hasText: '林小雨' });
  await row.waitFor();
  await row.getByTestId('unlock').click();
  await row.getByTestId('unlock-done').waitFor();
  log('teacher unlocked the account');

  // 3. The student signs in at once, on the same phone, with the right password.
  current.page = guesser;
  await guesser.getByTestId('login-username').fill(account.username);
  await guesser.getByTestId('login-password').fill(account.password);
  await guesser.getByTestId('login-submit').click();
  await guesser.waitForURL(/\/app(\?|#|$)/);
  await guesser.getByTestId('must-change').waitFor();
  log('the student signed in right after the unlock (and is asked for a new password)');
  await phone.close();
}
