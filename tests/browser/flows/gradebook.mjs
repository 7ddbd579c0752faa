// The gradebook for a whole term: 未交 for missing work, sorting and filtering,
// keyboard use of the cells (Enter opens the editor, Esc closes it and gives
// the focus back), an override with a comment that the student sees, and
// clearing it so the computed score counts again. Builds its own class.

import { readFile } from 'node:fs/promises';

import { BASE, GRADING_TIMEOUT_MS, check, current, log, signIn, watch } from '../lib.mjs';

const COMMENT = '思路清楚，下次记得写注释';

/** Imports a roster (CSV) as `token`; returns the created accounts. */
async function importRoster(token, classId, csv) {
  const res = await fetch(`${BASE}/api/classes/${classId}/roster`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/csv', Accept: 'application/json' }, body: csv,
  });
  const body = await res.json();
  check(res.status === 201, `roster import -> ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.created;
}

/** The numbers in the rows as shown, top to bottom. */
const shownNumbers = (page) => page.getByTestId('gradebook-row').evaluateAll((rows) => rows.map((r) => r.children[1].textContent.trim()));

export async function run(ctx) {
  const { api, adminToken, stamp, teacherUser, tp, browser, viewport } = ctx;
  // Setup through the API: a class of the same teacher, three students, one assignment.
  const { users } = await api('GET', '/api/users?role=teacher', adminToken);
  const teacher = users.find((u) => u.username === teacherUser);
  check(teacher, `teacher ${teacherUser} not listed`);
  const cls = await api('POST', '/api/classes', adminToken, { name: `成绩册班 ${stamp}`, teacher_id: teacher.id });
  const created = await importRoster(adminToken, cls.id, '学号,姓名\n3001,赵一\n3002,钱二\n3003,孙三\n');
  const [zhao, qian, sun] = ['3001', '3002', '3003'].map((n) => created.find((c) => c.student_number === n));
  const asg = await api('POST', `/api/classes/${cls.id}/assignments`, adminToken, { lab_id: 'wall-stop', due_at: Math.floor(Date.now() / 1000) + 7 * 24 * 3600 });
  // 赵一 submits the reference solution (computed score 100); 钱二 gets a teacher's score without submitting; 孙三 does nothing.
  const first = await api('POST', '/api/login', null, { username: zhao.username, password: zhao.password });
  const zhaoPassword = `Zhao-new-${stamp}`;
  await api('POST', '/api/password', first.token, { current_password: zhao.password, new_password: zhaoPassword });
  const { token: zhaoToken } = await api('POST', '/api/login', null, { username: zhao.username, password: zhaoPassword });
  const reference = await readFile(process.env.REFERENCE, 'utf8');
  const sub = await api('POST', `/api/assignments/${asg.id}/submissions`, zhaoToken, { language: 'rhai', program: reference });
  const deadline = Date.now() + GRADING_TIMEOUT_MS;
  let graded = sub;
  while (graded.status !== 'done' && graded.status !== 'failed' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    graded = await api('GET', `/api/submissions/${sub.id}`, zhaoToken);
  }
  check(graded.status === 'done' && graded.score === 100, `the reference was not graded 100: ${JSON.stringify(graded).slice(0, 200)}`);
  await api('PUT', `/api/assignments/${asg.id}/overrides/${qian.id}`, adminToken, { score: 60, comment: '补交了纸质作业' });
  log(`gradebook flow: class ${cls.id}, 赵一 graded 100, 钱二 set to 60 by the teacher`);

  // The teacher's gradebook: 未交, completion, sticky names and header.
  current.page = tp;
  await tp.goto(`${BASE}/app#/classes/${cls.id}/gradebook`);
  await tp.getByTestId('gradebook-row').first().waitFor();
  const cellOf = (student) => tp.locator(`[data-testid="grade-cell"][data-student="${student.id}"]`);
  const sunCell = cellOf(sun);
  check((await sunCell.getAttribute('data-status')) === 'missing' && (await sunCell.textContent()).includes('未交'), `孙三's cell does not say 未交: ${await sunCell.textContent()}`);
  const completion = (await tp.getByTestId('gb-completion').first().textContent()).trim();
  check(completion === '已交 1/3', `completion shows ${JSON.stringify(completion)}, expected 已交 1/3`);
  check((await tp.getByTestId('gb-foot-average').textContent()).includes('80'), 'the class average of 100 and 60 is not 80');
  const sticky = await tp.evaluate(() => {
    const name = document.querySelector('[data-testid="gradebook-row"] th.gb-name');
    const head = document.querySelector('table.gradebook thead th');
    return [getComputedStyle(name).position, getComputedStyle(head).position];
  });
  check(sticky[0] === 'sticky' && sticky[1] === 'sticky', `names and header are not sticky: ${sticky}`);
  log('gradebook shows 未交, 已交 1/3, the average, sticky names and header');

  // Sorting: by score (students without a score last), by name, back to student number.
  await tp.getByTestId('gb-sort-assignment').click();
  check((await tp.getByTestId(`gb-head-a${asg.id}`).getAttribute('aria-sort')) === 'ascending', 'aria-sort is not ascending');
  check(JSON.stringify(await shownNumbers(tp)) === JSON.stringify(['3002', '3001', '3003']), `ascending by score: ${await shownNumbers(tp)}`);
  await tp.getByTestId('gb-sort-assignment').click();
  check((await tp.getByTestId(`gb-head-a${asg.id}`).getAttribute('aria-sort')) === 'descending', 'aria-sort is not descending');
  check(JSON.stringify(await shownNumbers(tp)) === JSON.stringify(['3001', '3002', '3003']), `descending by score: ${await shownNumbers(tp)}`);
  await tp.getByTestId('gb-sort-number').click();
  await tp.getByTestId('gb-sort-number').click();
  check(JSON.stringify(await shownNumbers(tp)) === JSON.stringify(['3003', '3002', '3001']), `descending by number: ${await shownNumbers(tp)}`);
  await tp.getByTestId('gb-sort-number').click();
  check((await tp.getByTestId('gb-head-number').getAttribute('aria-sort')) === 'ascending', 'number sort not ascending');
  // Filtering: by name, by number, and only students with missing work.
  await tp.getByTestId('gradebook-filter').fill('钱');
  check(JSON.stringify(await shownNumbers(tp)) === JSON.stringify(['3002']), `filter 钱: ${await shownNumbers(tp)}`);
  await tp.getByTestId('gradebook-filter').fill('3003');
  check(JSON.stringify(await shownNumbers(tp)) === JSON.stringify(['3003']), `filter 3003: ${await shownNumbers(tp)}`);
  await tp.getByTestId('gradebook-filter').fill('');
  await tp.getByTestId('gradebook-only-missing').check();
  check(JSON.stringify(await shownNumbers(tp)) === JSON.stringify(['3003']), `only missing work: ${await shownNumbers(tp)}`);
  await tp.getByTestId('gradebook-only-missing').uncheck();
  check((await shownNumbers(tp)).length === 3, 'unfiltering does not show everyone');
  log('sorting (aria-sort) and filtering work');

  // Keyboard: Enter on a cell opens the editor; Esc closes it and the focus is back on the cell.
  await sunCell.focus();
  await tp.keyboard.press('Enter');
  await tp.getByTestId('override-editor').waitFor();
  check(await tp.evaluate(() => document.activeElement.dataset.testid) === 'override-score', 'the editor does not take the focus');
  await tp.keyboard.press('Escape');
  await tp.getByTestId('override-editor').waitFor({ state: 'hidden' });
  check(await tp.evaluate((id) => document.activeElement.dataset.testid === 'grade-cell' && document.activeElement.dataset.student === String(id), sun.id),
    'Esc did not give the focus back to the cell');
  log('Enter opens the override editor, Esc closes it and returns the focus');

  // An override with a comment: shown next to the computed score, marked as such.
  const zhaoCell = cellOf(zhao);
  await zhaoCell.focus();
  await tp.keyboard.press('Enter');
  await tp.getByTestId('override-score').fill('88');
  await tp.getByTestId('override-comment').fill(COMMENT);
  await tp.getByTestId('override-save').click();
  await tp.waitForFunction((id) => {
    const c = document.querySelector(`[data-testid="grade-cell"][data-student="${id}"]`);
    return c && c.dataset.score === '88' && c.dataset.overridden === 'true';
  }, zhao.id);
  const text = await zhaoCell.textContent();
  check(text.includes('88') && text.includes('计算 100'), `the overridden cell does not show both scores: ${text}`);
  check((await zhaoCell.getByTestId('override-mark').getAttribute('aria-label')) === '老师调整过的分数', 'the override mark has no accessible label');
  check(await tp.evaluate((id) => document.activeElement.dataset.student === String(id), zhao.id), 'the focus is not back on the cell after saving');
  log(`override saved: ${text.replace(/\s+/g, ' ').trim()}`);

  // The student sees the teacher's score and comment.
  const studentCtx = await browser.newContext({ viewport, locale: 'zh-CN' });
  studentCtx.setDefaultTimeout(20_000);
  try {
    const zp = watch(await studentCtx.newPage(), 'student 赵一');
    await signIn(zp, zhao.username, zhaoPassword);
    await zp.goto(`${BASE}/app#/assignments/${asg.id}`);
    await zp.getByTestId('teacher-override').waitFor();
    const note = await zp.getByTestId('teacher-override').textContent();
    check(note.includes('老师的评语') && note.includes(COMMENT) && note.includes('最终得分：88') && note.includes('由老师设定'), `the student's page shows: ${note}`);
    check((await zp.getByTestId('assignment-best-score').textContent()).trim() === '88', 'the facts do not show the final score');
    log('the student sees 老师的评语 and the final score set by the teacher');
  } finally {
    await studentCtx.close();
    current.page = tp;
  }

  // Clearing the override: the computed score counts again.
  await zhaoCell.click();
  await tp.getByTestId('override-remove').click();
  await tp.waitForFunction((id) => {
    const c = document.querySelector(`[data-testid="grade-cell"][data-student="${id}"]`);
    return c && c.dataset.score === '100' && c.dataset.overridden === 'false';
  }, zhao.id);
  const after = await zhaoCell.textContent();
  check(!after.includes('计算') && (await zhaoCell.getByTestId('override-mark').count()) === 0, `the cleared cell still looks overridden: ${after}`);
  check((await tp.getByTestId('gradebook-status').textContent()).includes('已撤销'), 'clearing is not announced');
  log('override cleared: the gradebook shows the computed 100 again');
}
