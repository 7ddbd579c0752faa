// Assignments after they are made: the teacher sees the class's progress,
// edits, extends and closes an assignment and is warned before assigning a
// lab twice; the student sees each assignment's status, why one that has not
// opened cannot be submitted yet, and the lesson beside the editor with a
// picture of the arena (stacked on a narrow screen). Own class and students.

import { BASE, GRADING_TIMEOUT_MS, api, check, current, localInput, log, signIn, watch } from '../lib.mjs';

const PASSWORD = 'Square-kite-2024';

/** Imports students through the API and gives each a password of their own; returns their usernames. */
async function students(teacherToken, classId, rows) {
  const csv = `学号,姓名\n${rows.map(([n, name]) => `${n},${name}`).join('\n')}\n`;
  const res = await fetch(`${BASE}/api/classes/${classId}/roster`, {
    method: 'POST', headers: { Authorization: `Bearer ${teacherToken}`, 'Content-Type': 'text/csv' }, body: csv,
  });
  const body = await res.json();
  check(res.status === 201, `roster import -> ${res.status} ${JSON.stringify(body)}`);
  for (const c of body.created) {
    const { token } = await api('POST', '/api/login', null, { username: c.username, password: c.password });
    await api('POST', '/api/password', token, { current_password: c.password, new_password: PASSWORD });
  }
  return body.created.map((c) => c.username);
}

const text = async (page, testid) => (await page.getByTestId(testid).first().textContent()).trim();

export async function run(ctx) {
  const { browser, viewport, stamp, teacherUser, teacherPassword, tp } = ctx;
  const { token: teacher } = await api('POST', '/api/login', null, { username: teacherUser, password: teacherPassword });
  const cls = await api('POST', '/api/classes', teacher, { name: `五年级（3）班 ${stamp}` });
  const [first] = await students(teacher, cls.id, [[`5${stamp.slice(-4)}1`, '赵一'], [`5${stamp.slice(-4)}2`, '钱二']]);
  const now = Math.floor(Date.now() / 1000);
  const square = await api('POST', `/api/classes/${cls.id}/assignments`, teacher, { lab_id: 'square', due_at: now + 2 * 86400, attempt_limit: 5 });
  const opens = now + 2 * 3600;
  const later = await api('POST', `/api/classes/${cls.id}/assignments`, teacher, { lab_id: 'first-drive', opens_at: opens, due_at: opens + 86400 });
  // One of the two submits (it scores 0: the robot never moves).
  const { token: kid } = await api('POST', '/api/login', null, { username: first, password: PASSWORD });
  const sub = await api('POST', `/api/assignments/${square.id}/submissions`, kid, { language: 'rhai', program: 'stop();' });
  for (let i = 0; ; i++) {
    const s = await api('GET', `/api/submissions/${sub.id}`, kid);
    if (s.status === 'done' || s.status === 'failed') break;
    check(i * 200 < GRADING_TIMEOUT_MS, 'the submission was not graded in time');
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`class ${cls.id}: square (${square.id}) with one graded submission, first-drive (${later.id}) opening in 2 h`);

  // The teacher: progress of the class on the assignment.
  current.page = tp;
  await tp.goto(`${BASE}/app#/assignments/${square.id}`);
  await tp.getByTestId('progress').waitFor();
  check((await text(tp, 'progress-submitted')).includes('1 / 2'), `progress shows ${await text(tp, 'progress-submitted')}, expected 1 / 2`);
  check((await text(tp, 'progress-not-submitted')).includes('钱二'), 'the student who has not submitted is not named');
  const bins = await tp.getByTestId('progress-bin').evaluateAll((els) => els.map((e) => [e.dataset.label, e.dataset.count, e.textContent, e.querySelector('.histogram-bar').getBoundingClientRect().width]));
  check(bins.length === 5 && bins[0][1] === '1' && bins.slice(1).every((b) => b[1] === '0'), `histogram: ${JSON.stringify(bins)}`);
  check(bins[0][3] > 20 && bins.slice(1).every((b) => b[3] === 0), `the bars are not drawn to scale: ${JSON.stringify(bins)}`);
  check(bins[0][2].includes('0–59'), `the bars carry their labels as text: ${JSON.stringify(bins)}`);
  log(`progress shown: ${await text(tp, 'progress-submitted')}, histogram ${bins.map((b) => b[1]).join('/')}`);

  // A due time in the past is refused, in the teacher's language, naming the field.
  await tp.getByTestId('edit-due').fill(localInput(Date.now() - 3600 * 1000));
  await tp.getByTestId('edit-save').click();
  await tp.getByTestId('edit-error').waitFor();
  check(await tp.getByTestId('edit-error').getAttribute('data-field') === 'due_at', `the refused field is ${await tp.getByTestId('edit-error').getAttribute('data-field')}`);
  check(/截止时间/.test(await text(tp, 'edit-error')) && !/[a-z]{4,}/.test(await text(tp, 'edit-error')), `the error is not in Chinese only: ${await text(tp, 'edit-error')}`);
  await tp.getByTestId('edit-due').fill(localInput(square.due_at * 1000));
  // Edit: a title of the teacher's own and fewer attempts.
  await tp.getByTestId('edit-title').fill('正方形练习');
  await tp.getByTestId('edit-attempts').fill('3');
  await tp.getByTestId('edit-save').click();
  await tp.getByTestId('edit-ok').waitFor();
  await tp.getByTestId('assignment-title').filter({ hasText: '正方形练习' }).waitFor();
  let fresh = await api('GET', `/api/assignments/${square.id}`, teacher);
  check(fresh.custom_title === '正方形练习' && fresh.attempt_limit === 3 && fresh.due_at === square.due_at, `after the edit: ${JSON.stringify({ t: fresh.custom_title, n: fresh.attempt_limit, due: fresh.due_at })}`);
  // Extend by a day, then a week.
  await tp.getByTestId('extend-day').click();
  await tp.getByTestId('edit-ok').waitFor();
  await tp.waitForFunction(() => !document.querySelector('[data-testid="edit-ok"]'));
  fresh = await api('GET', `/api/assignments/${square.id}`, teacher);
  check(fresh.due_at === square.due_at + 86400, `+1 day: due ${fresh.due_at}, expected ${square.due_at + 86400}`);
  await tp.getByTestId('extend-week').click();
  await tp.getByTestId('edit-ok').waitFor();
  await tp.waitForFunction(() => !document.querySelector('[data-testid="edit-ok"]'));
  fresh = await api('GET', `/api/assignments/${square.id}`, teacher);
  check(fresh.due_at === square.due_at + 8 * 86400, `+1 week: due ${fresh.due_at}`);
  log('assignment edited and extended (+1 day, +1 week)');

  // Assigning square again warns with the assignment that exists.
  await tp.goto(`${BASE}/app#/classes/${cls.id}/assignments`);
  await tp.getByTestId('assign-lab').selectOption('square');
  await tp.getByTestId('assign-lab-taken').filter({ hasText: '正方形练习' }).waitFor();
  await tp.getByTestId('assign-submit').click();
  await tp.getByTestId('assign-duplicate').filter({ hasText: '正方形练习' }).waitFor();
  check(await tp.getByTestId('class-assignment-row').count() === 2, 'a duplicate was assigned without confirmation');
  await tp.getByTestId('assign-anyway').click();
  await tp.waitForFunction(() => document.querySelectorAll('[data-testid="class-assignment-row"]').length === 3);
  log('assigning a lab twice warned, and went ahead only when confirmed');
  // The twin has no submissions: it is deleted after a plain confirmation.
  const twin = (await api('GET', `/api/classes/${cls.id}/assignments`, teacher)).assignments.find((a) => a.lab_id === 'square' && a.id !== square.id);
  await tp.goto(`${BASE}/app#/assignments/${twin.id}`);
  await tp.getByTestId('delete-assignment').waitFor();
  tp.once('dialog', (d) => d.accept());
  await tp.getByTestId('delete-assignment').click();
  await tp.waitForURL(new RegExp(`#/classes/${cls.id}/assignments$`));
  await tp.waitForFunction(() => document.querySelectorAll('[data-testid="class-assignment-row"]').length === 2);

  // The student: statuses in the list, the reason on the one not open yet.
  const studentCtx = await browser.newContext({ viewport, locale: 'zh-CN' });
  studentCtx.setDefaultTimeout(20_000);
  const sp = watch(await studentCtx.newPage(), 'student (assignments flow)');
  await signIn(sp, first, PASSWORD);
  const statusOf = async (lab) => sp.getByTestId('assignment-item').filter({ has: sp.locator(`[data-lab="${lab}"]`) }).getByTestId('assignment-status');
  await sp.locator('[data-testid=assignment-link][data-lab=first-drive]').waitFor();
  const laterStatus = await statusOf('first-drive');
  check(await laterStatus.getAttribute('data-status') === 'not_open', `first-drive shows ${await laterStatus.getAttribute('data-status')}`);
  check((await laterStatus.textContent()).includes('未开始'), `the not-open status says so: ${await laterStatus.textContent()}`);
  check(await (await statusOf('square')).getAttribute('data-status') === 'submitted', 'square is not shown as submitted');
  await sp.locator('[data-testid=assignment-link][data-lab=first-drive]').click();
  await sp.getByTestId('submit-reason').waitFor();
  check(await sp.getByTestId('submit-reason').getAttribute('data-reason') === 'not_open', 'the reason is not "not open"');
  const reason = await text(sp, 'submit-reason');
  const opensShown = new Date(opens * 1000).toLocaleString('zh-CN', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  check(reason.includes('还没开始') && reason.includes(opensShown.slice(-5)), `the reason does not say when it opens (${opensShown}): ${reason}`);
  check(await sp.getByTestId('submit').isDisabled(), 'submit is enabled before the assignment opens');
  log(`student sees: ${reason}`);

  // The lesson beside the editor, with the arena drawn.
  const panel = sp.getByTestId('lesson-panel');
  await panel.waitFor();
  check(await sp.getByTestId('lesson-goals').locator('li').count() > 0, 'no goals in the lesson panel');
  check(await sp.getByTestId('lesson-steps').locator('li').count() > 0, 'no steps in the lesson panel');
  const fns = await sp.getByTestId('robot-function').evaluateAll((els) => els.map((e) => e.dataset.name));
  check(fns.includes('forward') && fns.includes('turn'), `robot functions listed: ${fns}`);
  const turnText = await sp.locator('[data-testid=robot-function][data-name=turn]').textContent();
  check(turnText.includes('度'), `turn's unit is not shown: ${turnText}`);
  const painted = await sp.evaluate(() => {
    const c = document.querySelector('[data-testid="arena-canvas"]');
    if (!c || !c.width) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4 * 61) colours.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
    return colours.size;
  });
  check(painted > 3, `the arena picture is empty (${painted} colours)`);
  const beside = async () => {
    const [p, e] = [await panel.boundingBox(), await sp.getByTestId('code-editor').boundingBox()];
    return { side: p.x + p.width <= e.x + 1 && p.y < e.y + e.height && e.y < p.y + p.height, stacked: p.y + p.height <= e.y + 1 };
  };
  const wide = await beside();
  check(wide.side, `at ${viewport.width} px the lesson is not beside the editor: ${JSON.stringify(wide)}`);
  // Grade 5: Rhai only is offered, with no advanced switch.
  const langs = await sp.getByTestId('language').locator('option').evaluateAll((os) => os.map((o) => o.value));
  check(langs.join() === 'rhai' && await sp.getByTestId('advanced-languages').count() === 0, `grade 5 is offered ${langs}`);
  await sp.setViewportSize({ width: 700, height: 900 });
  await sp.waitForFunction(() => window.innerWidth === 700);
  const narrow = await beside();
  check(narrow.stacked, `at 700 px the lesson is not above the editor: ${JSON.stringify(narrow)}`);
  log(`lesson panel beside the editor (stacked at 700 px), arena drawn (${painted} colours), functions ${fns.join(', ')}`);

  // Closing now: the student is told it is closed.
  current.page = tp;
  await tp.goto(`${BASE}/app#/assignments/${square.id}`);
  await tp.getByTestId('close-now').waitFor();
  tp.once('dialog', (d) => d.accept());
  await tp.getByTestId('close-now').click();
  await tp.getByTestId('edit-ok').waitFor();
  await new Promise((r) => setTimeout(r, 1100));
  current.page = sp;
  await sp.goto(`${BASE}/app#/assignments/${square.id}`);
  await sp.getByTestId('submit-reason').waitFor();
  check(await sp.getByTestId('submit-reason').getAttribute('data-reason') === 'closed', 'a closed assignment does not say it is closed');
  log('closed by the teacher; the student is told');
  await studentCtx.close();
  current.page = tp;
}
