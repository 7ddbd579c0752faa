// Sitting an assessment in the browser: the teacher sets a short fixed form
// (through the API) and watches live progress; the student starts it, answers,
// reloads the page mid-way (every saved answer survives and the sitting
// resumes at the question they were on), changes the font size, hands it in
// and sees the score per literacy with the right answers and explanations.
// Then a second form with a performance task (wall-stop): the student sees the
// lab's task with the starter in the editor, hands in a program, watches it
// being graded and the points arrive, and hands in the test.

import { readFileSync } from 'node:fs';

import { BASE, check, current, log, signIn, watch } from '../lib.mjs';

const FORM = ['ct-56-001', 'ia-56-007', 'ct-56-006'];

export async function run(ctx) {
  const { api, adminToken, stamp, teacherUser, teacherPassword, browser, viewport } = ctx;
  // Setup: a class of the teacher's with one student, and the form.
  const { users } = await api('GET', '/api/users?role=teacher', adminToken);
  const teacher = users.find((u) => u.username === teacherUser);
  check(teacher, `teacher ${teacherUser} not listed`);
  const cls = await api('POST', '/api/classes', adminToken, { name: `测评班 ${stamp}`, teacher_id: teacher.id });
  const res = await fetch(`${BASE}/api/classes/${cls.id}/roster`, {
    method: 'POST', headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'text/csv', Accept: 'application/json' }, body: '学号,姓名\n6001,周测\n',
  });
  check(res.status === 201, `roster import -> ${res.status}`);
  const [kid] = (await res.json()).created;
  const first = await api('POST', '/api/login', null, { username: kid.username, password: kid.password });
  const kidPassword = `Zhou-new-${stamp}`;
  await api('POST', '/api/password', first.token, { current_password: kid.password, new_password: kidPassword });
  const { token: teacherToken } = await api('POST', '/api/login', null, { username: teacherUser, password: teacherPassword });
  const a = await api('POST', '/api/assessments', teacherToken, {
    title: `小测验 ${stamp}`, population: 'students', mode: 'fixed', presentation: 'single',
    closes_at: Math.floor(Date.now() / 1000) + 3600, time_limit_minutes: 20, items: FORM, class_ids: [cls.id],
  });
  log(`assessment flow: assessment ${a.id} for class ${cls.id}`);

  // The student, on a phone-sized screen.
  const sctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  sctx.setDefaultTimeout(20_000);
  const sp = watch(await sctx.newPage(), 'assessment-student');
  sp.on('dialog', (d) => d.accept());
  await signIn(sp, kid.username, kidPassword);
  await sp.goto(`${BASE}/app#/assessments`);
  await sp.getByTestId('assessment-take-link').filter({ hasText: a.title }).click();
  await sp.getByTestId('start-sitting').click();
  await sp.getByTestId('timer').waitFor();
  const timer = (await sp.getByTestId('timer').textContent()).trim();
  check(/(19|20):\d\d/.test(timer), `the timer shows ${JSON.stringify(timer)}, expected about 20 minutes`);
  // Question 1 (single choice): the first option, saved.
  await sp.locator('[data-testid=question][data-item="ct-56-001"] input[value=a]').check();
  await sp.locator('[data-testid=saved][data-state=saved]').waitFor();
  // Question 2 (true/false) by the keyboard-usable navigation.
  await sp.getByTestId('next-in-form').click();
  await sp.locator('[data-testid=question][data-item="ia-56-007"] input[value=true]').check();
  await sp.locator('[data-testid=saved][data-state=saved]').waitFor();
  check((await sp.getByTestId('answered-count').textContent()).includes('2'), 'two answers are not counted');
  // Bigger text survives the reload too.
  await sp.getByTestId('font-up').click();

  // Reload mid-way: the sitting resumes at question 2 with both answers.
  await sp.reload();
  await sp.locator('[data-testid=question][data-item="ia-56-007"]').waitFor();
  check(await sp.locator('[data-testid=question][data-item="ia-56-007"] input[value=true]').isChecked(), 'the true/false answer was lost in the reload');
  const size = await sp.getByTestId('sitting').evaluate((el) => el.style.fontSize);
  check(size && size !== '100%', `the font size was not kept: ${size}`);
  await sp.getByTestId('prev-question').click();
  check(await sp.locator('[data-testid=question][data-item="ct-56-001"] input[value=a]').isChecked(), 'the first answer was lost in the reload');
  const wide = await sp.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  check(!wide, 'the sitting scrolls sideways at 390 px');

  // The teacher sees the student in progress, 2 of 3 answered.
  current.page = ctx.tp;
  await ctx.tp.goto(`${BASE}/app#/assessments/${a.id}`);
  const row = ctx.tp.locator('[data-testid=progress-row][data-status=in_progress]');
  await row.waitFor();
  check((await row.getByTestId('progress-answered').textContent()).includes('2'), `progress shows ${await row.textContent()}`);
  log('assessment flow: the teacher sees 2 of 3 answered, live');

  // The last question (numeric), then hand in.
  current.page = sp;
  await sp.getByTestId('qdot').nth(2).click();
  await sp.getByTestId('answer-number').fill('32');
  await sp.getByTestId('answer-number').press('Tab');
  await sp.locator('[data-testid=saved][data-state=saved]').waitFor();
  await sp.getByTestId('submit-sitting').click();
  await sp.getByTestId('total-score').waitFor();
  const total = (await sp.getByTestId('total-score').textContent()).trim();
  check(total.startsWith('3 / 3'), `the score is ${JSON.stringify(total)}, expected 3 / 3`);
  check(await sp.getByTestId('literacy-row').count() === 2, 'expected scores for two literacies');
  check(await sp.getByTestId('explanation').count() === 3, 'every item shows its explanation after the test');
  check(await sp.getByTestId('correct-answer').count() === 3, 'every item shows its right answer after the test');
  log(`assessment flow: handed in, ${total}, results with explanations`);

  // Progress now says submitted (the page polls).
  current.page = ctx.tp;
  await ctx.tp.locator('[data-testid=progress-row][data-status=submitted]').waitFor({ timeout: 15_000 });

  // A performance task: the program is graded by the server's workers, the points arrive by themselves.
  const task = await api('POST', '/api/assessments', teacherToken, {
    title: `实践题 ${stamp}`, population: 'students', mode: 'fixed', presentation: 'single',
    closes_at: Math.floor(Date.now() / 1000) + 3600, time_limit_minutes: 20, items: ['ct-56-020'], class_ids: [cls.id],
  });
  current.page = sp;
  await sp.goto(`${BASE}/app#/assessments`);
  await sp.getByTestId('assessment-take-link').filter({ hasText: task.title }).click();
  await sp.getByTestId('start-sitting').click();
  const editor = sp.getByTestId('program-editor');
  await editor.waitFor();
  check((await editor.inputValue()).includes('distance("front")'), 'the editor does not start from the lab\'s starter program');
  check((await sp.getByTestId('attempts-left').textContent()).includes('10'), 'the attempts left are not shown');
  const reference = readFileSync(new URL('../../../curriculum/labs/wall-stop/reference.rhai', import.meta.url), 'utf8');
  await editor.fill(reference);
  await sp.getByTestId('hand-in').click();
  await sp.locator('[data-testid=program-row]').first().waitFor();
  await sp.locator('[data-testid=program-row][data-status=done]').waitFor({ timeout: 60_000 });
  const points = await sp.locator('[data-testid=program-row]').first().getAttribute('data-points');
  check(points === '2', `the graded program shows ${points} points, expected 2`);
  check((await sp.getByTestId('best-points').textContent()).includes('2'), 'the points so far are not shown');
  check((await sp.getByTestId('attempts-left').textContent()).includes('9'), 'the attempts left did not go down');
  const wideTask = await sp.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  check(!wideTask, 'the performance task scrolls sideways at 390 px');
  await sp.getByTestId('submit-sitting').click();
  await sp.getByTestId('total-score').waitFor();
  const taskTotal = (await sp.getByTestId('total-score').textContent()).trim();
  check(taskTotal.startsWith('2 / 2'), `the performance test scores ${JSON.stringify(taskTotal)}, expected 2 / 2`);
  log(`assessment flow: a program handed in for a performance task, graded, ${taskTotal}`);

  current.page = ctx.tp;
  // Staff see the item bank's calibrations (none yet on a fresh server; only the platform admin runs one).
  await ctx.tp.goto(`${BASE}/app#/assessments`);
  await ctx.tp.locator('[data-testid=calibrations], [data-testid=calibrations-empty]').first().waitFor();
  check(await ctx.tp.getByTestId('calibration-form').count() === 0, 'a teacher is offered to run a calibration');
  await sctx.close();
}
