// End-to-end test of the Qiming web UI: a teacher and a student in a real
// browser (Debian's chromium driven by playwright-core) against a running server.
//
//   BASE_URL=http://127.0.0.1:PORT ADMIN_PASSWORD=... REFERENCE=/abs/wall-stop/reference.rhai \
//     node tests/browser/e2e.mjs
//
// Optional: CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_S (default 600: the language flow visits every
// page four times, the contest and quiz flows each wait out a one-minute round), E2E_FLOWS (a comma-separated subset of flows).
// Exit code 0 = pass; otherwise a message on stderr, a screenshot in
// tests/browser/failure.png and exit code 1.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { BASE, GRADING_TIMEOUT_MS, api, check, consoleLines, current, localInput, log, pageErrors, signIn, watch } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || '';
const REFERENCE = process.env.REFERENCE || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_TIMEOUT_S = Number(process.env.E2E_TIMEOUT_S || 600);
const STUDENT_NAME = '张小明';
/** Flows in flows/NAME.mjs, each `export async function run(ctx)`; they may create their own classes and accounts. */
const ALL_FLOWS = [
  'assignments',
  'roster',
  'editor',
  'language',
  'gradebook',
  'lockout',
  'assessment',
  'contest',
  'quiz',
  'bundle',
];
/** E2E_FLOWS=contest,roster runs only those flows (after the common setup), for working on one. */
const FLOWS = process.env.E2E_FLOWS ? process.env.E2E_FLOWS.split(',').map((f) => f.trim()).filter(Boolean) : ALL_FLOWS;
const STUDENT_PASSWORD = 'Xiaoming-new-2024';
async function main() {
  check(BASE, 'BASE_URL is not set (e.g. BASE_URL=http://127.0.0.1:8080)');
  check(ADMIN_PASSWORD, 'ADMIN_PASSWORD is not set');
  check(REFERENCE, 'REFERENCE is not set (the path of curriculum/labs/wall-stop/reference.rhai)');
  const reference = await readFile(REFERENCE, 'utf8');
  const stamp = Date.now().toString(36);

  // 1. Setup through the JSON API.
  log(`server ${BASE}: setting up through the API`);
  const health = await fetch(`${BASE}/healthz`);
  check(health.ok, `GET /healthz -> ${health.status}`);
  const { token } = await api('POST', '/api/login', null, { username: 'admin', password: ADMIN_PASSWORD });
  check(token, 'POST /api/login gave no token');
  const region = await api('POST', '/api/regions', token, { name: `测试市-${stamp}`, kind: 'city' });
  const regionId = region.id ?? region.region?.id;
  check(regionId, `POST /api/regions gave no id: ${JSON.stringify(region)}`);
  const school = await api('POST', '/api/schools', token, { name: `启明实验小学-${stamp}`, region_id: regionId });
  const schoolId = school.id ?? school.school?.id;
  check(schoolId, `POST /api/schools gave no id: ${JSON.stringify(school)}`);
  const teacherUser = `teacher-${stamp}`;
  const teacherPassword = `Teacher-pass-${stamp}`;
  await api('POST', '/api/users', token, { username: teacherUser, display_name: '王老师', role: 'teacher', school_id: schoolId, password: teacherPassword });
  log(`created region ${regionId}, school ${schoolId}, teacher ${teacherUser}`);

  // 2. The browser.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  log(`chromium ${browser.version()} started`);
  try {
    const viewport = { width: 1280, height: 800 };

    // 3. The teacher: class, roster, assignment.
    const teacherCtx = await browser.newContext({ viewport, locale: 'zh-CN' });
    teacherCtx.setDefaultTimeout(20_000);
    const tp = watch(await teacherCtx.newPage(), 'teacher');
    teacherCtx.on('page', (p) => p.close().catch(() => {})); // the login-slip PDF tab
    await signIn(tp, teacherUser, teacherPassword);
    if (await tp.getByTestId('must-change').isVisible()) {
      throw new Error('a teacher created with a password must not be asked to change it');
    }
    log('teacher signed in');
    await tp.waitForURL(/#\/classes$/);
    const className = `五年级（2）班 ${stamp}`;
    await tp.getByTestId('class-name').fill(className);
    await tp.getByTestId('class-create').click();
    await tp.waitForURL(/#\/classes\/\d+/);
    const classId = tp.url().match(/#\/classes\/(\d+)/)[1];
    await tp.getByTestId('class-title').filter({ hasText: className }).waitFor();
    log(`class ${classId} created`);

    // A roster with a mistake: nothing is created and the bad row is shown.
    await tp.getByTestId('roster-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('学号,姓名\n2024001,张小明\n,李四\n', 'utf8') });
    await tp.getByTestId('roster-import').click();
    await tp.getByTestId('roster-error').waitFor();
    const badRows = await tp.getByTestId('roster-error-row').allTextContents();
    check(badRows.length >= 1, `a roster with an empty student number showed no bad rows (shown: ${await tp.getByTestId('roster-error').textContent()})`);
    check(badRows.some((r) => r.startsWith('3')), `the bad roster row should be row 3, the page shows: ${JSON.stringify(badRows)}`);
    log(`bad roster refused, rows shown: ${JSON.stringify(badRows)}`);

    // The real roster, as a school system exports it: UTF-8 with a BOM (as Excel writes it), a title
    // row above the header, and extra columns (序号, 性别) that are skipped and never stored.
    const csv = `\uFEFF五(2)班学生名单,,,\r\n序号,学号,姓名,性别\r\n1,2024001,${STUDENT_NAME},男\r\n2,2024002,李华,女\r\n`;
    await tp.getByTestId('roster-file').setInputFiles({ name: 'roster.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await tp.getByTestId('roster-import').click();
    await tp.getByTestId('roster-created').waitFor();
    const ignoredNote = await tp.getByTestId('ignored-columns').textContent();
    check(ignoredNote.includes('序号') && ignoredNote.includes('性别'), `the skipped columns are not named: ${ignoredNote}`);
    const created = tp.getByTestId('created-row');
    check(await created.count() === 2, `expected 2 created accounts, the page shows ${await created.count()}`);
    const row = created.filter({ hasText: STUDENT_NAME });
    const studentUser = (await row.getByTestId('created-username').textContent()).trim();
    const initialPassword = (await row.getByTestId('created-password').textContent()).trim();
    check(studentUser && initialPassword, 'no username/password shown for the imported student');
    log(`roster imported: ${STUDENT_NAME} is ${studentUser}`);
    await tp.getByTestId('roster-row').filter({ hasText: STUDENT_NAME }).waitFor();

    await tp.getByTestId('print-slips').click();
    await tp.locator('[data-testid=slips-link], [data-testid=slips-error]').first().waitFor();
    if (await tp.getByTestId('slips-error').count()) throw new Error(`login slips failed: ${await tp.getByTestId('slips-error').textContent()}`);
    check((await tp.getByTestId('slips-link').getAttribute('href')).startsWith('blob:'), 'the login-slip link is not a PDF blob');
    log('login slips made');

    await tp.getByTestId('tab-assignments').click();
    await tp.getByTestId('assign-lab').selectOption('wall-stop');
    await tp.getByTestId('assign-due').fill(localInput(Date.now() + 7 * 24 * 3600 * 1000));
    await tp.getByTestId('assign-submit').click();
    await tp.getByTestId('class-assignment-link').filter({ hasText: '墙前停车' }).waitFor();
    log('wall-stop assigned');

    // 4. The student: first sign-in, new password, submit, live result.
    const studentCtx = await browser.newContext({ viewport, locale: 'zh-CN' });
    studentCtx.setDefaultTimeout(20_000);
    const sp = watch(await studentCtx.newPage(), 'student');
    await signIn(sp, studentUser, initialPassword);
    await sp.getByTestId('must-change').waitFor();
    check(await sp.getByTestId('nav-assignments').count() === 0, 'the menu is shown before the required password change');
    // Just signed in with the generated password: it is not asked for again.
    check(await sp.getByTestId('pw-current').count() === 0, 'the forced first change asks for the generated password again');
    await sp.getByTestId('pw-new').fill(STUDENT_PASSWORD);
    await sp.getByTestId('pw-confirm').fill(STUDENT_PASSWORD);
    await sp.getByTestId('pw-submit').click();
    log('student changed the initial password');
    const link = sp.locator('[data-testid=assignment-link][data-lab=wall-stop]');
    await link.waitFor();
    await link.click();
    await sp.getByTestId('code-editor').waitFor();
    const starter = await sp.getByTestId('code-editor').inputValue();
    check(starter.includes('motors'), `the editor does not hold the starter code: ${JSON.stringify(starter.slice(0, 80))}`);
    await sp.getByTestId('code-editor').fill(reference);
    // Test before submitting: the practice cases graded at once, no attempt used.
    const attemptsBefore = (await sp.getByTestId('attempts-used').textContent()).trim();
    await sp.getByTestId('test-run').click();
    const tested = await sp.waitForFunction(() => {
      const q = (id) => document.querySelector(`[data-testid="${id}"]`);
      if (q('test-error')) return { error: q('test-error').textContent };
      return q('test-result') ? { ok: true } : false;
    }, null, { timeout: GRADING_TIMEOUT_MS, polling: 200 }).then((h) => h.jsonValue());
    check(!tested.error, `the test run failed: ${tested.error}`);
    check((await sp.getByTestId('attempts-used').textContent()).trim() === attemptsBefore, 'a test run used an attempt');
    log(`test run shown; attempts still ${attemptsBefore}`);
    await sp.evaluate(() => { window.__qimingNoReload = 'still-here'; });
    let navigations = 0;
    sp.on('framenavigated', (f) => { if (f === sp.mainFrame()) navigations += 1; });
    await sp.getByTestId('submit').click();
    log('reference solution submitted; waiting for the live result');
    const outcome = await sp.waitForFunction(() => {
      const q = (id) => document.querySelector(`[data-testid="${id}"]`);
      if (q('result-failed')) return { failed: q('result-failed').textContent };
      if (q('submit-error')) return { error: q('submit-error').textContent };
      const el = q('result-score');
      if (!el || el.dataset.status !== 'done') return false;
      return { score: el.dataset.score, max: el.dataset.maxScore, text: el.textContent };
    }, null, { timeout: GRADING_TIMEOUT_MS, polling: 200 }).then((h) => h.jsonValue());
    check(!outcome.error, `submitting failed: ${outcome.error}`);
    check(!outcome.failed, `grading failed: ${outcome.failed}`);
    check(Number(outcome.max) > 0 && Number(outcome.score) === Number(outcome.max), `expected full marks, the page shows ${outcome.score} / ${outcome.max} (${outcome.text})`);
    check(await sp.evaluate(() => window.__qimingNoReload) === 'still-here' && navigations === 0, 'the page reloaded while waiting for the result');
    const cases = await sp.getByTestId('case').count();
    check(cases >= 1, 'the result shows no test cases');
    log(`full marks shown live without a reload: ${outcome.score} / ${outcome.max}, ${cases} cases`);
    await sp.getByTestId('my-submissions').getByTestId('submission-row').first().waitFor();
    const score = outcome.score;

    // 5. The teacher: gradebook, override, submission view with the replay.
    current.page = tp;
    await tp.goto(`${BASE}/app#/classes/${classId}/gradebook`);
    await tp.reload();
    const gradeRow = tp.getByTestId('gradebook-row').filter({ hasText: STUDENT_NAME });
    await gradeRow.waitFor();
    const cell = gradeRow.getByTestId('grade-cell').first();
    const shown = await cell.getAttribute('data-score');
    check(Number(shown) === Number(score) && shown !== '', `the gradebook shows ${JSON.stringify(shown)} for ${STUDENT_NAME}, expected ${score}`);
    log(`gradebook shows ${STUDENT_NAME}: ${shown}`);

    await cell.click();
    await tp.getByTestId('override-editor').waitFor();
    await tp.getByTestId('override-score').fill('95');
    await tp.getByTestId('override-comment').fill('很好，但请写注释');
    await tp.getByTestId('override-save').click();
    await tp.waitForFunction((name) => {
      const row = [...document.querySelectorAll('[data-testid="gradebook-row"]')].find((r) => r.textContent.includes(name));
      const c = row && row.querySelector('[data-testid="grade-cell"]');
      return c && c.dataset.score === '95';
    }, STUDENT_NAME);
    log('score override saved and shown');

    await tp.getByTestId('gradebook-row').filter({ hasText: STUDENT_NAME }).getByTestId('gradebook-student-link').click();
    await tp.getByTestId('submission-link').first().click();
    await tp.getByTestId('submission-status').waitFor();
    const program = await tp.getByTestId('program').textContent();
    check(program.includes('distance("front")'), 'the submission view does not show the program');
    const canvas = tp.getByTestId('replay-canvas').first();
    await canvas.waitFor({ timeout: 20_000 }).catch(async () => {
      const missing = await tp.getByTestId('replay-missing').allTextContents();
      throw new Error(`no replay canvas on the submission view${missing.length ? `: ${missing.join('; ')}` : ''}`);
    });
    const frames = Number(await canvas.getAttribute('data-frames'));
    check(frames > 1, `the replay has ${frames} frames`);
    await tp.getByTestId('replay-play').first().click();
    await tp.waitForFunction(() => Number(document.querySelector('[data-testid="replay-canvas"]').dataset.frame) > 0, null, { timeout: 10_000 });
    log(`submission view shows ${await tp.getByTestId('replay-canvas').count()} replay canvas(es), ${frames} frames, playing`);

    // The language switch renders the page in English.
    await tp.getByTestId('lang-en').click();
    await tp.waitForFunction(() => document.documentElement.lang === 'en');
    await tp.getByTestId('nav-classes').filter({ hasText: 'My classes' }).waitFor();
    await tp.getByTestId('lang-zh-CN').click();
    await tp.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    log('language switch works');

    // Further flows, each in its own module under flows/ (run in this order).
    const ctx = { browser, viewport, api, adminToken: token, stamp, regionId, schoolId, teacherUser, teacherPassword, classId, studentUser, studentPassword: STUDENT_PASSWORD, tp, sp };
    for (const name of FLOWS) {
      log(`flow ${name}`);
      const flow = await import(`./flows/${name}.mjs`);
      await flow.run(ctx);
    }

    current.page = tp;
    await tp.getByTestId('logout').click();
    await tp.waitForURL(/\/login/);
    log('teacher signed out');

    check(pageErrors.length === 0, `uncaught errors in the pages:\n  ${pageErrors.join('\n  ')}`);
  } catch (e) {
    if (current.page) {
      const shot = path.join(HERE, 'failure.png');
      await current.page.screenshot({ path: shot, fullPage: true }).then(() => console.error(`screenshot: ${shot} (${current.page.url()})`)).catch(() => {});
    }
    throw e;
  } finally {
    await browser.close().catch(() => {});
  }
}

const timer = setTimeout(async () => {
  console.error(`FAIL: the test did not finish within ${TOTAL_TIMEOUT_S} s`);
  if (current.page) {
    await Promise.race([
      current.page.screenshot({ path: path.join(HERE, 'failure.png'), fullPage: true }).catch(() => {}),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
  }
  process.exit(1);
}, TOTAL_TIMEOUT_S * 1000);

main().then(() => {
  clearTimeout(timer);
  log('PASS');
}, (e) => {
  clearTimeout(timer);
  if (pageErrors.length) console.error(`page errors:\n  ${pageErrors.join('\n  ')}`);
  if (consoleLines.length) console.error(`browser console (last 20):\n  ${consoleLines.slice(-20).join('\n  ')}`);
  console.error(`FAIL: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 1;
});
