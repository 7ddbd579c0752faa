// One language per page, on a phone (390×844) and a laptop (1280×800): a
// teacher, a student and the platform admin visit every page of theirs in
// zh-CN and in en; each page must speak only that language (user data
// aside), must not scroll sideways at phone width, and must keep its menu
// reachable. Also: the class tabs by keyboard, and error texts that never
// show the server's English.

import { readFile } from 'node:fs/promises';

import { BASE, GRADING_TIMEOUT_MS, api, assertNoSideScroll, assertOneLanguage, check, current, log, settled, signIn, watch } from '../lib.mjs';

const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };

async function rawPost(urlPath, token, body, type) {
  const res = await fetch(BASE + urlPath, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': type, Accept: 'application/json' }, body });
  const json = await res.json().catch(() => null);
  check(res.ok, `POST ${urlPath} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function graded(id, token) {
  const until = Date.now() + GRADING_TIMEOUT_MS;
  for (;;) {
    const s = await api('GET', `/api/submissions/${id}`, token);
    if (s.status === 'done' || s.status === 'failed') return s;
    check(Date.now() < until, `submission ${id} was not graded in time (${s.status})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Its own teacher, class, student, assignment and two graded submissions (one full marks, one that does not compile). */
async function setup(ctx) {
  const { stamp, adminToken, schoolId } = ctx;
  const teacher = { username: `lang-teacher-${stamp}`, password: `Jiaoshi-${stamp}-pw` };
  await api('POST', '/api/users', adminToken, { username: teacher.username, display_name: '李老师', role: 'teacher', school_id: schoolId, password: teacher.password });
  const { token: tt } = await api('POST', '/api/login', null, { username: teacher.username, password: teacher.password });
  const className = `六年级（3）班 ${stamp}`;
  const cls = await api('POST', '/api/classes', tt, { name: className });
  const classId = cls.id ?? cls.class?.id;
  const number = `7${String(Date.now()).slice(-7)}`;
  const roster = await rawPost(`/api/classes/${classId}/roster`, tt, `学号,姓名\n${number},赵小红\n`, 'text/csv');
  const created = roster.created[0];
  const student = { id: created.id, username: created.username, password: `Xiaohong-${stamp}` };
  const a = await api('POST', `/api/classes/${classId}/assignments`, tt, { lab_id: 'wall-stop', due_at: Math.floor(Date.now() / 1000) + 7 * 86400 });
  const { token: st } = await api('POST', '/api/login', null, { username: created.username, password: created.password });
  await api('POST', '/api/password', st, { current_password: created.password, new_password: student.password });
  const reference = await readFile(process.env.REFERENCE, 'utf8');
  const good = await api('POST', `/api/assignments/${a.id}/submissions`, st, { language: 'rhai', program: reference });
  const bad = await api('POST', `/api/assignments/${a.id}/submissions`, st, { language: 'rhai', program: 'motors(1.0, 1.0\nwait(1.0);\n' });
  const [g, b] = [await graded(good.id, st), await graded(bad.id, st)];
  check(g.status === 'done' && Number(g.score) === Number(g.max_score), `the reference scored ${g.score} / ${g.max_score}`);
  check(b.status === 'done', `the broken program ended ${b.status}`);
  // User data the pages may show in any language (the page title names the class, for one).
  const userData = [stamp, className, '赵小红', '李老师', teacher.username, created.username, 'admin'];
  return { teacher, student, classId, assignmentId: a.id, good: good.id, bad: bad.id, userData };
}

async function newPage(ctx, lang, viewport, who) {
  const context = await ctx.browser.newContext({ viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
  context.setDefaultTimeout(20_000);
  const page = watch(await context.newPage(), `${who} ${lang} ${viewport.width}`);
  await page.goto(`${BASE}/login?lang=${lang}`);
  return { context, page };
}

/** Opens `hash` and checks the page: one language, and at phone width no sideways scrolling. */
let USER_DATA = [];

async function visit(page, lang, hash, opts = {}) {
  await page.goto(`${BASE}/app${hash}`);
  await settled(page);
  if (opts.ready) await page.locator(opts.ready).first().waitFor();
  await check_(page, lang, hash, opts);
}

async function check_(page, lang, where, opts = {}) {
  check(await page.evaluate(() => document.documentElement.lang) === lang, `${where}: the page is not in ${lang}`);
  await assertOneLanguage(page, lang, { allow: USER_DATA, where: `${where} (${page.viewportSize().width}px)` });
  if (page.viewportSize().width < 600) await assertNoSideScroll(page, `${lang} ${where}`);
}

/** The top bar: on a phone the menu folds behind a button that opens it; on a laptop the menu is in view. */
async function topBar(page, phone, navTestid) {
  const toggle = page.getByTestId('menu-toggle');
  const nav = page.getByTestId(navTestid);
  if (!phone) {
    check(!(await toggle.isVisible()) && await nav.isVisible(), 'on a laptop the menu must be in view without a menu button');
    return;
  }
  check(await toggle.isVisible(), 'no menu button at phone width');
  check(!(await nav.isVisible()), 'at phone width the menu should be folded until the menu button is pressed');
  await toggle.click();
  check(await toggle.getAttribute('aria-expanded') === 'true', 'the menu button does not say it is open');
  await nav.waitFor({ state: 'visible' });
  check(await page.getByTestId('logout').isVisible(), 'sign-out is not reachable from the open menu');
  await assertNoSideScroll(page, 'open menu');
  await page.getByTestId('nav-password').click();
  await page.waitForURL(/#\/password$/);
  await settled(page);
  check(!(await nav.isVisible()), 'the menu stays open after choosing a page');
}

/** Error texts as the UI builds them, in the page's language only. */
async function errorTexts(page, lang) {
  const texts = await page.evaluate(async () => {
    const core = await import('/static/core.js');
    return [
      core.errorText({ code: 'invalid', field: 'name', reason: 'length', max: 64 }),
      core.errorText({ code: 'invalid', field: 'attempt_limit', reason: 'range', max: 100 }),
      core.errorText({ code: 'too_many_requests', reason: 'login', retryAfter: 30 }),
      core.errorText({ code: 'no_attempts_left' }),
      core.errorText({ code: 'row', reason: 'missing_column' }),
      core.errorText({ code: 'never_heard_of_it' }),
      core.errText(new core.ApiError(409, { code: 'username_taken', message: 'username x is taken' })),
    ];
  });
  check(texts[0].includes('64') && texts[2].includes('30'), `limits and waits are not in the texts: ${JSON.stringify(texts)}`);
  check(texts[5].includes('never_heard_of_it'), `an unknown code is not named: ${texts[5]}`);
  check(!texts[6].includes('taken') || lang === 'en', `the server's English message is shown: ${texts[6]}`);
  for (const text of texts.slice(0, 5)) {
    const bad = lang === 'en' ? /[\u3400-\u9fff]/.test(text) : /[A-Za-z]{2,}/.test(text.replace('never_heard_of_it', ''));
    check(!bad, `error text not in ${lang}: ${text}`);
  }
  check(!/[\u3400-\u9fff]/.test(texts[6]) === (lang === 'en'), `the username_taken text is not in ${lang}: ${texts[6]}`);
}

export async function run(ctx) {
  const s = await setup(ctx);
  USER_DATA = s.userData;
  log(`language: class ${s.classId}, assignment ${s.assignmentId}, submissions ${s.good} (full marks) and ${s.bad} (compile error)`);
  const adminPassword = process.env.ADMIN_PASSWORD;
  for (const lang of ['zh-CN', 'en']) {
    for (const viewport of [PHONE, LAPTOP]) {
      const phone = viewport.width < 600;
      const tag = `${lang} ${viewport.width}px`;

      // The teacher.
      const t = await newPage(ctx, lang, viewport, 'teacher');
      current.page = t.page;
      await check_(t.page, lang, '/login');
      if (phone) await assertNoSideScroll(t.page, `${lang} /login`);
      await signIn(t.page, s.teacher.username, s.teacher.password);
      await topBar(t.page, phone, 'nav-classes');
      const cls = `#/classes/${s.classId}`;
      await visit(t.page, lang, '#/classes', { ready: '[data-testid=class-link]' });
      await visit(t.page, lang, `${cls}/roster`, { ready: '[data-testid=roster-row]' });
      await visit(t.page, lang, `${cls}/assignments`, { ready: '[data-testid=class-assignment-link]' });
      await visit(t.page, lang, `${cls}/gradebook`, { ready: '[data-testid=grade-cell]' });
      await t.page.getByTestId('grade-cell').first().click();
      await t.page.getByTestId('override-editor').waitFor();
      await check_(t.page, lang, 'gradebook editor');
      await visit(t.page, lang, `${cls}/students/${s.student.id}`, { ready: '[data-testid=submission-link]' });
      await visit(t.page, lang, `#/assignments/${s.assignmentId}`);
      await visit(t.page, lang, `#/submissions/${s.good}`, { ready: '[data-testid=case]' });
      await visit(t.page, lang, `#/submissions/${s.bad}`, { ready: '.run-error' });
      await visit(t.page, lang, '#/assessments', { ready: '[data-testid=assessment-form]' });
      await visit(t.page, lang, '#/password');
      // A refused new password: the reason in the page's language, never the server's English.
      await t.page.getByTestId('pw-current').fill(s.teacher.password);
      await t.page.getByTestId('pw-new').fill('12345678');
      await t.page.getByTestId('pw-confirm').fill('12345678');
      await t.page.getByTestId('pw-submit').click();
      await t.page.locator('#main [role=alert]').first().waitFor();
      await check_(t.page, lang, 'password error');
      await errorTexts(t.page, lang);
      if (lang === 'zh-CN' && !phone) {
        // The class tabs are a tablist: arrow keys move between them.
        await visit(t.page, lang, `${cls}/roster`, { ready: '[data-testid=roster-row]' });
        const tab = t.page.getByTestId('tab-roster');
        check(await tab.getAttribute('aria-selected') === 'true' && await tab.getAttribute('tabindex') === '0', 'the selected tab is not marked for assistive technology');
        await tab.focus();
        await t.page.keyboard.press('ArrowRight');
        await t.page.waitForURL(/\/assignments$/);
        await t.page.getByTestId('tab-assignments').and(t.page.locator('[aria-selected=true]')).waitFor();
        check(await t.page.evaluate(() => document.activeElement?.dataset.testid) === 'tab-assignments', 'the focus did not move to the next tab');
        await t.page.keyboard.press('End');
        await t.page.waitForURL(/\/gradebook$/);
        log('class tabs work by keyboard');
      }
      await t.context.close();

      // The student.
      const p = await newPage(ctx, lang, viewport, 'student');
      current.page = p.page;
      await signIn(p.page, s.student.username, s.student.password);
      await topBar(p.page, phone, 'nav-assignments');
      await visit(p.page, lang, '#/assignments', { ready: '[data-testid=assignment-link]' });
      await visit(p.page, lang, `#/assignments/${s.assignmentId}`, { ready: '[data-testid=code-editor]' });
      await p.page.getByTestId('test-run').click();
      await p.page.locator('[data-testid=test-result], [data-testid=test-error]').first().waitFor({ timeout: GRADING_TIMEOUT_MS });
      check(await p.page.getByTestId('test-error').count() === 0, `the test run failed: ${await p.page.getByTestId('test-error').first().textContent().catch(() => '')}`);
      await check_(p.page, lang, 'assignment after a test run');
      const caseNames = await p.page.locator('.case-name').allTextContents();
      check(caseNames.some((n) => n.includes(lang === 'en' ? 'Practice' : '练习')), `case names are not in ${lang}: ${JSON.stringify(caseNames)}`);
      await visit(p.page, lang, `#/submissions/${s.good}`, { ready: '[data-testid=case]' });
      await visit(p.page, lang, `#/submissions/${s.bad}`, { ready: '.run-error' });
      await visit(p.page, lang, '#/assessments', { ready: '[data-testid=assessments-empty]' });
      await p.context.close();

      // The platform admin.
      const ad = await newPage(ctx, lang, viewport, 'admin');
      current.page = ad.page;
      await signIn(ad.page, 'admin', adminPassword);
      await topBar(ad.page, phone, 'nav-admin');
      await visit(ad.page, lang, '#/admin', { ready: 'table' });
      await visit(ad.page, lang, '#/classes', { ready: '[data-testid=class-link]' });
      await ad.context.close();
      log(`language: every page speaks ${tag} only${phone ? ', none scrolls sideways, the menu folds' : ''}`);
    }
  }
  current.page = ctx.tp;
}
