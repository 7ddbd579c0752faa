// One competition in the browser, from registration to results: an
// organiser creates a school-tier event (advancing into a city event) and
// names a judge; a coach, on a phone, registers two teams; the organiser
// approves one and rejects the other with a reason (the coach sees it);
// the organiser opens a one-minute round with a short freeze; a contestant,
// on a phone, submits the reference program and sees it graded and ranked;
// during the freeze the contestant's board is frozen while the organiser's
// is live; after the round the organiser draws the final ranking, the
// re-grades land on the final board, and the winning team advances into the
// city event. Pages are checked for one language and, at 390 px, for no
// sideways scrolling.

import { readFile } from 'node:fs/promises';

import { BASE, GRADING_TIMEOUT_MS, assertNoSideScroll, assertOneLanguage, check, current, log, settled, signIn, watch } from '../lib.mjs';

const PHONE = { width: 390, height: 844 };
const ROUND_MINUTES = 1;
const FREEZE_MINUTES = 0.25;

async function rawPost(urlPath, token, body, type) {
  const res = await fetch(BASE + urlPath, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': type, Accept: 'application/json' }, body });
  const json = await res.json().catch(() => null);
  check(res.ok, `POST ${urlPath} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function page(ctx, who, lang, viewport) {
  const context = await ctx.browser.newContext({ viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
  context.setDefaultTimeout(20_000);
  const p = watch(await context.newPage(), `contest ${who}`);
  await p.goto(`${BASE}/login?lang=${lang}`);
  return { context, page: p };
}

let USER_DATA = [];

/** The page speaks `lang` only (user data aside) and, on a phone, does not scroll sideways. */
async function oneLanguage(p, lang, where) {
  await settled(p);
  await assertOneLanguage(p, lang, { allow: USER_DATA, where });
  if (p.viewportSize().width < 600) await assertNoSideScroll(p, `${lang} ${where}`);
}

/** Reloads `p` until `fn` (in the page) holds; the board is redrawn every few seconds anyway. */
async function until(p, what, fn, arg, timeout = GRADING_TIMEOUT_MS) {
  await p.waitForFunction(fn, arg, { timeout, polling: 500 }).catch((e) => {
    throw new Error(`${what}: ${e.message}`);
  });
}

export async function run(ctx) {
  const { api, adminToken, stamp, regionId, schoolId, teacherUser } = ctx;
  const reference = await readFile(process.env.REFERENCE, 'utf8');
  // Choosing the submission that counts, clarifications, appeals and certificates, when the server has them.
  const { paths } = await api('GET', '/api/openapi.json', null);
  const judging = Boolean(paths['/api/events/{id}/appeals'] && paths['/api/events/{id}/rounds/{round}/certificates']);
  if (!judging) log('contest flow: this server has no appeals or certificates; those steps are left out');

  // Setup through the API: an organiser of the city, the city event teams advance into,
  // a coach with a grade-5 class of two students who have chosen their passwords.
  const organiser = { username: `zuwei-${stamp}`, password: `Org-${stamp}-secret` };
  await api('POST', '/api/users', adminToken, { username: organiser.username, display_name: '组委会', role: 'organiser', region_id: regionId, password: organiser.password });
  const { token: ot } = await api('POST', '/api/login', null, organiser);
  const cityEvent = await api('POST', '/api/events', ot, {
    name: `市赛 ${stamp}`, tier: 'city', kind: 'robot_sim', region_id: regionId,
    registration_deadline: Math.floor(Date.now() / 1000) + 7 * 86400, divisions: [{ name: '小学高年级', min_grade: 4, max_grade: 6 }],
  });
  const coach = { username: `coach-${stamp}`, password: `Jiaolian-${stamp}-secret` };
  await api('POST', '/api/users', adminToken, { username: coach.username, display_name: '陈教练', role: 'teacher', school_id: schoolId, password: coach.password });
  const { token: ct } = await api('POST', '/api/login', null, coach);
  const className = `五年级（1）班 ${stamp}`;
  const cls = await api('POST', '/api/classes', ct, { name: className });
  const roster = await rawPost(`/api/classes/${cls.id}/roster`, ct, `学号,姓名\n8${String(Date.now()).slice(-6)}1,孙悟\n8${String(Date.now()).slice(-6)}2,周瑜\n`, 'text/csv');
  const kids = [];
  for (const c of roster.created) {
    const first = await api('POST', '/api/login', null, { username: c.username, password: c.password });
    const password = `Kid-${stamp}-${c.id}`;
    await api('POST', '/api/password', first.token, { current_password: c.password, new_password: password });
    kids.push({ ...c, password });
  }
  const [winner, other] = kids;
  const eventName = `校赛 ${stamp}`;
  USER_DATA = [stamp, eventName, cityEvent.name, className, '孙悟', '周瑜', '陈教练', '组委会', '小学高年级', '启明队', '备选队', '第一轮', '王老师', '请补交学籍证明',
    organiser.username, coach.username, teacherUser, winner.username, other.username];
  log(`contest flow: organiser ${organiser.username}, city event ${cityEvent.id}, coach ${coach.username}, students ${winner.username} ${other.username}`);

  // 1. The organiser (zh-CN, laptop) creates the school event and names a judge.
  const o = await page(ctx, 'organiser', 'zh-CN', ctx.viewport);
  current.page = o.page;
  await signIn(o.page, organiser.username, organiser.password);
  await o.page.waitForURL(/#\/events$/);
  await o.page.getByTestId('event-form').waitFor();
  await oneLanguage(o.page, 'zh-CN', '#/events (organiser)');
  await o.page.getByTestId('ev-name').fill(eventName);
  await o.page.getByTestId('ev-tier').selectOption('school');
  await o.page.getByTestId('ev-school').selectOption(String(schoolId));
  await o.page.getByTestId('ev-parent').selectOption(String(cityEvent.id));
  // A bad divisions line is refused in the page, before the server.
  await o.page.getByTestId('ev-divisions').fill('小学高年级 四到六年级');
  await o.page.getByTestId('event-create').click();
  await o.page.getByTestId('event-form-error').waitFor();
  await o.page.getByTestId('ev-divisions').fill('小学高年级, 4, 6');
  await o.page.getByTestId('event-create').click();
  await o.page.waitForURL(/#\/events\/\d+$/);
  const eventId = Number(o.page.url().match(/#\/events\/(\d+)$/)[1]);
  await o.page.getByTestId('event-title').filter({ hasText: eventName }).waitFor();
  await oneLanguage(o.page, 'zh-CN', 'event page (organiser)');
  await o.page.getByTestId('judge-username').fill(teacherUser);
  await o.page.getByTestId('judge-add').click();
  await o.page.getByTestId('judge-added').waitFor();
  const { token: jt } = await api('POST', '/api/login', null, { username: teacherUser, password: ctx.teacherPassword });
  check((await api('GET', `/api/events/${eventId}`, jt)).me.judge === true, `${teacherUser} is not a judge of the event after the organiser named them`);
  log(`contest flow: event ${eventId} created in the browser, ${teacherUser} is a judge`);

  // 2. The coach (en, phone) registers two teams and sees them waiting.
  const c = await page(ctx, 'coach', 'en', PHONE);
  current.page = c.page;
  await signIn(c.page, coach.username, coach.password);
  await c.page.goto(`${BASE}/app#/events`);
  await c.page.getByTestId('event-link').filter({ hasText: eventName }).click();
  await c.page.getByTestId('register-form').waitFor();
  await oneLanguage(c.page, 'en', 'event page (coach)');
  const register = async (name, student) => {
    await c.page.getByTestId('team-name').fill(name);
    for (const box of await c.page.getByTestId('team-student').all()) await box.setChecked((await box.getAttribute('data-name')) === student);
    await c.page.getByTestId('team-register').click();
    await c.page.locator('[data-testid=my-team-row]', { hasText: name }).waitFor();
  };
  await register('启明队', '孙悟');
  await register('备选队', '周瑜');
  check(await c.page.locator('[data-testid=my-team-row][data-status=pending]').count() === 2, 'the coach does not see two teams waiting');
  // The same student twice: refused with the reason in English.
  await c.page.getByTestId('team-name').fill('重复队');
  for (const box of await c.page.getByTestId('team-student').all()) await box.setChecked((await box.getAttribute('data-name')) === '孙悟');
  await c.page.getByTestId('team-register').click();
  await c.page.getByTestId('register-error').waitFor();
  const refusal = await c.page.getByTestId('register-error').textContent();
  check(/already/i.test(refusal), `a second team for the same student is not refused as already registered: ${refusal}`);
  await oneLanguage(c.page, 'en', 'registration refused (coach)');
  log('contest flow: the coach registered two teams on a phone; a duplicate is refused');

  // 3. The organiser approves one team and rejects the other with a reason.
  current.page = o.page;
  await o.page.reload();
  const row = (name) => o.page.locator('[data-testid=team-row]', { hasText: name });
  await row('启明队').getByTestId('team-approve').click();
  await o.page.locator('[data-testid=team-row][data-status=approved]', { hasText: '启明队' }).waitFor();
  await row('备选队').getByTestId('team-reject').click();
  await row('备选队').getByTestId('decision-error').waitFor(); // a rejection needs a reason
  await row('备选队').getByTestId('reject-reason').fill('请补交学籍证明');
  await row('备选队').getByTestId('team-reject').click();
  await o.page.locator('[data-testid=team-row][data-status=rejected]', { hasText: '备选队' }).waitFor();
  log('contest flow: one team approved, one rejected with a reason');

  current.page = c.page;
  await c.page.reload();
  await c.page.locator('[data-testid=my-team-row][data-status=rejected]', { hasText: '备选队' }).getByTestId('team-reason').filter({ hasText: '请补交学籍证明' }).waitFor();
  await c.page.locator('[data-testid=my-team-row][data-status=approved]', { hasText: '启明队' }).waitFor();
  await oneLanguage(c.page, 'en', 'event page after the decisions (coach)');
  log('contest flow: the coach sees the approval and the reason for the rejection');

  // 4. The organiser opens a short round on wall-stop.
  current.page = o.page;
  await o.page.getByTestId('round-name').fill('第一轮');
  await o.page.getByTestId('round-minutes').fill(String(ROUND_MINUTES));
  await o.page.getByTestId('round-freeze').fill(String(FREEZE_MINUTES));
  await o.page.getByTestId('round-limit').fill('5');
  await o.page.locator('[data-testid=round-lab][data-lab=wall-stop]').check();
  await o.page.getByTestId('round-create').click();
  await o.page.waitForURL(/#\/events\/\d+\/rounds\/\d+$/);
  const roundId = Number(o.page.url().match(/rounds\/(\d+)$/)[1]);
  const round = await api('GET', `/api/events/${eventId}/rounds/${roundId}`, ot);
  await o.page.getByTestId('leaderboard').waitFor();
  log(`contest flow: round ${roundId} open until ${new Date(round.closes_at * 1000).toISOString()}, frozen from ${new Date(round.freeze_at * 1000).toISOString()}`);

  // 5. The contestant (zh-CN, phone) submits the reference program and sees it graded and ranked.
  const s = await page(ctx, 'contestant', 'zh-CN', PHONE);
  current.page = s.page;
  await signIn(s.page, winner.username, winner.password);
  await s.page.goto(`${BASE}/app#/events`);
  await s.page.getByTestId('event-link').filter({ hasText: eventName }).click();
  await s.page.getByTestId('round-link').filter({ hasText: '第一轮' }).click();
  await s.page.getByTestId('code-editor').waitFor();
  await oneLanguage(s.page, 'zh-CN', 'round page (contestant)');
  await s.page.getByTestId('code-editor').fill(reference);
  await s.page.getByTestId('submit').click();
  await s.page.getByTestId('result-score').waitFor({ timeout: GRADING_TIMEOUT_MS });
  const done = s.page.locator('[data-testid=round-submission][data-status=done]');
  await done.first().waitFor();
  const score = (await done.first().getByTestId('submission-score').textContent()).trim();
  const [got, max] = score.split(' / ');
  check(got && got === max, `the reference scored ${score} in the round, not full marks`);
  await s.page.getByTestId('round-attempts').filter({ hasText: /^1 \/ 5$/ }).waitFor();
  const leads = (want) => [...document.querySelectorAll('[data-testid=board-row]')].some((r) => r.dataset.rank === '1' && r.querySelector('[data-testid=board-score]').textContent === want);
  await until(s.page, `the contestant does not see the team ranked first with ${got} on the board`, leads, got);
  await oneLanguage(s.page, 'zh-CN', 'round page after grading (contestant)');
  log(`contest flow: the contestant's submission scored ${score}; the team leads the board`);

  // 5b. While the round runs: the captain makes the submission the one that counts, and asks a question
  // that the organiser answers to every team.
  if (judging) {
    await s.page.locator('[data-testid=round-submission][data-status=done]').first().getByTestId('choose').click();
    await s.page.locator('[data-testid=round-submission][data-status=done]').first().getByTestId('chosen').waitFor();
    await s.page.getByTestId('clarification-text').fill('小车可以倒退吗？');
    await s.page.getByTestId('clarification-send').click();
    await s.page.getByTestId('clarification-ok').waitFor();
    current.page = o.page;
    await o.page.reload();
    const question = o.page.locator('[data-testid=clarification]', { hasText: '小车可以倒退吗？' });
    await question.locator('summary').click();
    await question.getByTestId('answer-text').fill('可以，倒退不扣分。');
    await question.getByTestId('answer-broadcast').check();
    await question.getByTestId('answer-send').click();
    await o.page.locator('[data-testid=clarification][data-broadcast=true]', { hasText: '倒退不扣分' }).waitFor();
    current.page = s.page;
    await s.page.reload();
    await s.page.locator('[data-testid=clarification-answer]', { hasText: '倒退不扣分' }).waitFor();
    await oneLanguage(s.page, 'zh-CN', 'round page with a clarification (contestant)');
    log('contest flow: the captain chose the submission that counts; a question was answered to every team');
  }

  // 6. The freeze: the contestant sees the frozen board, the organiser the live one.
  const wait = async (t) => { const ms = t * 1000 - Date.now(); if (ms > 0) await new Promise((r) => setTimeout(r, ms)); };
  await wait(round.freeze_at + 1);
  await until(s.page, 'the contestant\'s board does not say it is frozen', () => document.querySelector('[data-testid=board-view]')?.dataset.view === 'frozen', null, 15_000);
  current.page = o.page;
  await o.page.reload();
  await until(o.page, 'the organiser\'s board is not live during the freeze', () => document.querySelector('[data-testid=board-view]')?.dataset.view === 'live', null, 15_000);
  log('contest flow: frozen for the contestant, live for the organiser');

  // 7. After the round: the final ranking, re-graded on fresh seeds.
  await wait(round.closes_at + 1);
  await o.page.reload();
  await o.page.getByTestId('round-finalise').click();
  await o.page.getByTestId('finalise-ok').waitFor();
  const key = (await o.page.getByTestId('finalise-key').textContent()).trim();
  check(/^[0-9a-f]{64}$/.test(key), `the final key is ${key}`);
  await until(o.page, 'the final board does not show the re-graded score',
    (want) => document.querySelector('[data-testid=board-view]')?.dataset.view === 'final'
      && [...document.querySelectorAll('[data-testid=board-row]')].some((r) => r.dataset.rank === '1' && r.querySelector('[data-testid=board-score]').textContent === want), got);
  await oneLanguage(o.page, 'zh-CN', 'final round page (organiser)');
  log('contest flow: the final ranking is drawn and re-graded');

  current.page = s.page;
  await s.page.reload();
  await until(s.page, 'the contestant does not see the final ranking', () => document.querySelector('[data-testid=board-view]')?.dataset.view === 'final'
    && document.querySelector('[data-testid=board-row].mine')?.dataset.rank === '1');
  await s.page.getByTestId('final-key').filter({ hasText: key }).waitFor();
  await oneLanguage(s.page, 'zh-CN', 'final round page (contestant)');

  // 8. The winning team advances into the city event.
  current.page = o.page;
  await o.page.goto(`${BASE}/app#/events/${eventId}`);
  await o.page.getByTestId('advance-form').waitFor();
  await o.page.getByTestId('advance-n').fill('1');
  await o.page.getByTestId('advance-go').click();
  await o.page.getByTestId('advance-ok').waitFor();
  await o.page.getByTestId('parent-link').click();
  await o.page.waitForURL(new RegExp(`#/events/${cityEvent.id}$`));
  await o.page.locator('[data-testid=team-row][data-status=approved]', { hasText: '启明队' }).waitFor();
  await oneLanguage(o.page, 'zh-CN', 'city event after advancement (organiser)');
  log('contest flow: the winners advanced into the city event');

  if (judging) await results({ ctx, o, c, s, eventId, roundId, eventName, winner, paths });
  for (const x of [o, c, s]) await x.context.close();
  current.page = ctx.tp;
}

async function results({ ctx, o, c, s, eventId, roundId, eventName, winner, paths }) {
  // 9. An appeal: the coach appeals against the grade; the organiser reads the full evidence
  // (hidden cases with their replays) and upholds it; the coach sees the decision.
  current.page = c.page;
  await c.page.goto(`${BASE}/app#/events/${eventId}/rounds/${roundId}`);
  const coached = c.page.locator('[data-testid=coached-submissions] [data-testid=round-submission][data-status=done]').first();
  await coached.locator('[data-testid=appeal] summary').click();
  await coached.getByTestId('appeal-reason').fill('We think the hidden case timed out unfairly.');
  await coached.getByTestId('appeal-send').click();
  await c.page.waitForURL(/#\/events\/\d+\/appeals\/\d+$/);
  const appealHash = c.page.url().slice(c.page.url().indexOf('#'));
  await c.page.locator('[data-testid=appeal-status][data-status=open]').waitFor();
  check(await c.page.getByTestId('evidence').count() === 0, 'the coach sees the judges\' evidence');
  await oneLanguage(c.page, 'en', 'appeal page (coach)');
  USER_DATA.push('We think the hidden case timed out unfairly.', '评分无误，申诉不成立但已复核。');
  current.page = o.page;
  await o.page.goto(`${BASE}/app${appealHash}`);
  await o.page.getByTestId('evidence').waitFor();
  const hidden = o.page.locator('[data-testid=evidence] [data-testid=case][data-case^=hidden]');
  check(await hidden.count() > 0, 'the evidence shows no hidden case');
  await o.page.locator('[data-testid=evidence] [data-testid=replay-canvas]').first().waitFor();
  await o.page.getByTestId('decision').selectOption('rejected');
  await o.page.getByTestId('decision-reason').fill('评分无误，申诉不成立但已复核。');
  await o.page.getByTestId('decision-send').click();
  await o.page.locator('[data-testid=appeal-status][data-status=rejected]').waitFor();
  await oneLanguage(o.page, 'zh-CN', 'appeal page (organiser)');
  current.page = c.page;
  await c.page.reload();
  await c.page.getByTestId('appeal-answer').filter({ hasText: '评分无误' }).waitFor();
  log('contest flow: an appeal filed, read with the hidden-case evidence and decided');

  // The organiser runs the similarity review over the event's counting submissions.
  if (paths['/api/events/{id}/similarity']) {
    current.page = o.page;
    await o.page.goto(`${BASE}/app#/events/${eventId}`);
    await o.page.getByTestId('similarity-load').click();
    await o.page.locator('[data-testid=similarity-lab], [data-testid=similarity-empty]').first().waitFor();
    check(await o.page.getByTestId('similarity-error').count() === 0, 'the similarity review failed');
    await oneLanguage(o.page, 'zh-CN', 'event page with the similarity review (organiser)');
    log('contest flow: the similarity review ran');
  }

  // 10. Certificates and results: the organiser issues them, the contestant prints theirs,
  // and anyone checks a code on the public page.
  current.page = o.page;
  await o.page.goto(`${BASE}/app#/events/${eventId}/rounds/${roundId}`);
  await o.page.getByTestId('awards').fill('一等奖, 1\n优秀奖, 100%');
  await o.page.getByTestId('issue').click();
  const certificate = o.page.getByTestId('certificate-row').filter({ hasText: '孙悟' });
  await certificate.waitFor();
  check((await certificate.textContent()).includes('一等奖'), `the winner's certificate is not 一等奖: ${await certificate.textContent()}`);
  const code = (await certificate.getByTestId('verify-link').textContent()).trim();
  USER_DATA.push('一等奖', '优秀奖');
  await o.page.getByTestId('results-xlsx').click();
  await o.page.getByTestId('results-xlsx-link').waitFor();
  await oneLanguage(o.page, 'zh-CN', 'round page with certificates (organiser)');
  current.page = s.page;
  await s.page.reload();
  await s.page.getByTestId('certificate-row').filter({ hasText: code }).waitFor();
  await s.page.getByTestId('certificates-pdf').click();
  await s.page.getByTestId('certificates-pdf-link').waitFor();
  check((await s.page.getByTestId('certificates-pdf-link').getAttribute('href')).startsWith('blob:'), 'the certificate link is not a PDF blob');
  await oneLanguage(s.page, 'zh-CN', 'round page with certificates (contestant)');
  // The public check needs no sign-in and shows only the name, the event and the award.
  const pub = await ctx.browser.newContext({ viewport: PHONE, locale: 'zh-CN' });
  const v = watch(await pub.newPage(), 'contest verify');
  current.page = v;
  await v.goto(`${BASE}/verify/${code}`);
  const shown = await v.locator('body').textContent();
  check(shown.includes('孙悟') && shown.includes('一等奖') && shown.includes(eventName), `the verification page does not show the name, award and event: ${shown.slice(0, 300)}`);
  check(!shown.includes(winner.username), 'the verification page shows the username');
  await assertNoSideScroll(v, 'verify page');
  await v.goto(`${BASE}/verify/AAAAA-BBBBB-CCCCC-DDDDD`);
  check(!(await v.locator('body').textContent()).includes('孙悟'), 'an unknown code shows a certificate');
  log(`contest flow: certificates issued, printed and verified (${code})`);

  // The organiser re-issues the winner's certificate with the name corrected: a new code,
  // and the old one answers "revoked" on the public page.
  if (paths['/api/events/{id}/rounds/{round}/certificates/{code}/reissue']) {
    const corrected = '孙悟空';
    USER_DATA.push(corrected, '姓名写错');
    current.page = o.page;
    await o.page.reload();
    const row = o.page.getByTestId('certificate-row').filter({ hasText: code });
    await row.getByTestId('cert-change-open').locator('summary').click();
    await row.getByTestId('cert-reason').fill('姓名写错');
    await row.getByTestId('cert-name').fill(corrected);
    await row.getByTestId('cert-reissue').click();
    const fresh = o.page.getByTestId('certificate-row').filter({ hasText: corrected });
    await fresh.waitFor();
    check((await fresh.getAttribute('data-status')) === 'valid', 'the re-issued certificate is not valid');
    const old = o.page.locator('[data-testid=certificate-row][data-status=revoked]').filter({ hasText: code });
    await old.waitFor();
    check((await old.textContent()).includes('姓名写错'), `the revoked row does not say why: ${await old.textContent()}`);
    await oneLanguage(o.page, 'zh-CN', 'round page with a re-issued certificate (organiser)');
    current.page = v;
    await v.goto(`${BASE}/verify/${code}`);
    await v.locator('[data-status=revoked]').waitFor();
    const revoked = await v.locator('body').textContent();
    check(revoked.includes('作废') && !revoked.includes('姓名写错'), `the public check of a revoked certificate: ${revoked.slice(0, 300)}`);
    log('contest flow: a certificate re-issued with a corrected name; the old code answers revoked');
  }
  await pub.close();
}
