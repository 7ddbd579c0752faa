// A computational-thinking quiz round in the browser: the organiser creates
// it, picking three items of the bank for the division; a contestant, on a
// phone in English, starts the team's sheet, answers, reloads and finds the
// answers kept, sees the answer a teammate saved, and hands in; the
// organiser follows the progress; after the round the contestant reads the
// review (points, keys, explanations) and the organiser finalises the
// ranking. Pages are checked for one language and, at 390 px, for no
// sideways scrolling.

import { BASE, assertNoSideScroll, assertOneLanguage, check, current, log, settled, signIn, watch } from '../lib.mjs';

const PHONE = { width: 390, height: 844 };
const ROUND_MINUTES = 1;
const ITEMS = ['ct-56-001', 'ct-56-003', 'ct-56-009'];

async function rawPost(urlPath, token, body, type) {
  const res = await fetch(BASE + urlPath, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': type, Accept: 'application/json' }, body });
  const json = await res.json().catch(() => null);
  check(res.ok, `POST ${urlPath} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function page(ctx, who, lang, viewport) {
  const context = await ctx.browser.newContext({ viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
  context.setDefaultTimeout(20_000);
  const p = watch(await context.newPage(), `quiz ${who}`);
  await p.goto(`${BASE}/login?lang=${lang}`);
  return { context, page: p };
}

let USER_DATA = [];

async function oneLanguage(p, lang, where) {
  await settled(p);
  await assertOneLanguage(p, lang, { allow: USER_DATA, where });
  if (p.viewportSize().width < 600) await assertNoSideScroll(p, `${lang} ${where}`);
}

export async function run(ctx) {
  const { api, adminToken, stamp, regionId, schoolId } = ctx;
  const { paths } = await api('GET', '/api/openapi.json', null);
  if (!paths['/api/events/{id}/quiz-rounds']) {
    log('quiz flow: this server has no quiz rounds; left out');
    return;
  }
  // Setup through the API: an organiser of the city, a ct_quiz event, a coach with a
  // grade-5 class of two students in one approved team.
  const organiser = { username: `qz-zuwei-${stamp}`, password: `Org-${stamp}-quiz` };
  await api('POST', '/api/users', adminToken, { username: organiser.username, display_name: '测验组委', role: 'organiser', region_id: regionId, password: organiser.password });
  const { token: ot } = await api('POST', '/api/login', null, organiser);
  const eventName = `计算思维测试 ${stamp}`;
  const ev = await api('POST', '/api/events', ot, {
    name: eventName, tier: 'city', kind: 'ct_quiz', region_id: regionId,
    registration_deadline: Math.floor(Date.now() / 1000) + 7 * 86400, divisions: [{ name: '五六年级', min_grade: 5, max_grade: 6 }],
  });
  const coach = { username: `qz-coach-${stamp}`, password: `Jiaolian-${stamp}-quiz` };
  await api('POST', '/api/users', adminToken, { username: coach.username, display_name: '林教练', role: 'teacher', school_id: schoolId, password: coach.password });
  const { token: ct } = await api('POST', '/api/login', null, coach);
  const className = `五年级（3）班 ${stamp}`;
  const cls = await api('POST', '/api/classes', ct, { name: className });
  const n = String(Date.now()).slice(-6);
  const roster = await rawPost(`/api/classes/${cls.id}/roster`, ct, `学号,姓名\n7${n}1,刘一\n7${n}2,陈二\n`, 'text/csv');
  const kids = [];
  for (const c of roster.created) {
    const first = await api('POST', '/api/login', null, { username: c.username, password: c.password });
    const password = `Kid-${stamp}-${c.id}`;
    await api('POST', '/api/password', first.token, { current_password: c.password, new_password: password });
    kids.push({ ...c, password, token: (await api('POST', '/api/login', null, { username: c.username, password })).token });
  }
  const team = await api('POST', `/api/events/${ev.id}/teams`, ct, { name: '思维队', division_id: ev.divisions[0].id, students: kids.map((k) => k.id) });
  await api('POST', `/api/events/${ev.id}/teams/${team.id}/decision`, ot, { decision: 'approve' });
  const roundName = `初赛 ${stamp}`;
  USER_DATA = [stamp, eventName, className, roundName, '刘一', '陈二', '林教练', '测验组委', '五六年级', '思维队', organiser.username, coach.username, ...kids.map((k) => k.username)];

  // 1. The organiser (zh-CN, laptop) creates the round, picking three items for the division.
  const o = await page(ctx, 'organiser', 'zh-CN', ctx.viewport);
  current.page = o.page;
  await signIn(o.page, organiser.username, organiser.password);
  await o.page.goto(`${BASE}/app#/events/${ev.id}`);
  await o.page.getByTestId('qz-round-form').waitFor();
  await o.page.locator('[data-testid=qz-pick]').first().waitFor();
  await oneLanguage(o.page, 'zh-CN', 'event page with the quiz round form (organiser)');
  await o.page.getByTestId('round-name').fill(roundName);
  await o.page.getByTestId('round-minutes').fill(String(ROUND_MINUTES));
  for (const id of ITEMS) await o.page.locator(`[data-testid=qz-pick][data-item="${id}"]`).check();
  const created = Date.now();
  await o.page.getByTestId('round-create').click();
  await o.page.waitForURL(/#\/events\/\d+\/rounds\/\d+$/);
  const roundUrl = o.page.url().replace(/^.*#/, '#');
  await o.page.getByTestId('qz-form-item').nth(ITEMS.length - 1).waitFor();
  check(await o.page.getByTestId('qz-form-item').count() === ITEMS.length, 'the round does not list the three chosen items');
  await o.page.locator('[data-testid=qz-team-status][data-status=not_started]').waitFor();
  await oneLanguage(o.page, 'zh-CN', 'quiz round (organiser)');
  log(`quiz flow: round ${roundUrl} created in the browser`);

  // 2. A contestant (en, phone) starts the sheet, answers, reloads: the answers are kept.
  const [k1, k2] = kids;
  const s = await page(ctx, 'contestant', 'en', PHONE);
  current.page = s.page;
  await signIn(s.page, k1.username, k1.password);
  await s.page.goto(`${BASE}/app${roundUrl}`);
  await s.page.getByTestId('qz-start').click();
  await s.page.getByTestId('qz-question').nth(ITEMS.length - 1).waitFor();
  const q = (id) => s.page.locator(`[data-testid=qz-question][data-item="${id}"]`);
  await q('ct-56-001').locator('input[value=a]').check();
  await s.page.locator('[data-testid=saved][data-state=saved]').waitFor();
  await q('ct-56-003').locator('input[value=a]').check();
  await s.page.waitForFunction(() => document.querySelector('[data-testid=saved]')?.dataset.state === 'saved');
  await oneLanguage(s.page, 'en', 'quiz sheet (contestant, phone)');
  // The teammate answers the true/false item from another computer.
  await api('PUT', `/api/events/${ev.id}/rounds/${roundUrl.split('/').pop()}/quiz/sheet/answers/ct-56-009`, k2.token, { response: { value: false } });
  await s.page.reload();
  await q('ct-56-001').locator('input[value=a]:checked').waitFor();
  await q('ct-56-003').locator('input[value=a]:checked').waitFor();
  await q('ct-56-009').locator('input[value=false]:checked').waitFor();
  log('quiz flow: answers kept across a reload, the teammate\'s answer shown');
  s.page.once('dialog', (d) => d.accept());
  await s.page.getByTestId('qz-submit').click();
  await s.page.getByTestId('qz-handed-in').waitFor();
  check(await s.page.getByTestId('explanation').count() === 0, 'explanations are shown before the round closes');

  // 3. The organiser's progress shows the sheet handed in.
  current.page = o.page;
  await o.page.locator('[data-testid=qz-team-status][data-status=submitted]').waitFor({ timeout: 15_000 });

  // 4. After the round: the review, and the final ranking.
  const wait = created + ROUND_MINUTES * 60_000 + 2_000 - Date.now();
  if (wait > 0) {
    log(`quiz flow: waiting ${Math.round(wait / 1000)} s for the round to close`);
    await new Promise((r) => setTimeout(r, wait));
  }
  current.page = s.page;
  await s.page.reload();
  await s.page.getByTestId('qz-review-item').nth(ITEMS.length - 1).waitFor();
  const points = await s.page.getByTestId('qz-review-item').evaluateAll((els) => els.map((e) => `${e.dataset.item}:${e.dataset.points}`));
  check(JSON.stringify(points) === JSON.stringify(['ct-56-001:1', 'ct-56-003:1', 'ct-56-009:1']), `review points: ${JSON.stringify(points)}`);
  check(await s.page.getByTestId('explanation').count() === ITEMS.length, 'the review lacks explanations');
  await oneLanguage(s.page, 'en', 'quiz review (contestant, phone)');
  // The coach (zh-CN) goes through the team's sheet, read-only, now that the round is over.
  const c = await page(ctx, 'coach', 'zh-CN', ctx.viewport);
  current.page = c.page;
  await signIn(c.page, coach.username, coach.password);
  await c.page.goto(`${BASE}/app${roundUrl}`);
  await c.page.locator(`[data-testid=qz-coach-team][data-team="${team.id}"]`).click();
  await c.page.locator('[data-testid=qz-coach-sheet] [data-testid=qz-review-item]').nth(ITEMS.length - 1).waitFor();
  const coachPoints = await c.page.locator('[data-testid=qz-coach-sheet] [data-testid=qz-review-item]').evaluateAll((els) => els.map((e) => `${e.dataset.item}:${e.dataset.points}`));
  check(JSON.stringify(coachPoints) === JSON.stringify(points), `the coach's view of the sheet: ${JSON.stringify(coachPoints)}`);
  check(await c.page.getByTestId('qz-start').count() === 0 && await c.page.getByTestId('qz-submit').count() === 0, 'the coach can change the sheet');
  await oneLanguage(c.page, 'zh-CN', 'quiz review (coach)');
  await c.context.close();
  log('quiz flow: the coach read the team\'s sheet after the round');
  current.page = o.page;
  await o.page.reload();
  await o.page.getByTestId('round-finalise').click();
  await o.page.getByTestId('finalise-ok').waitFor();
  await o.page.locator(`[data-testid=board-row][data-team="${team.id}"][data-rank="1"]`).waitFor({ timeout: 15_000 });
  await oneLanguage(o.page, 'zh-CN', 'quiz round finalised (organiser)');
  log('quiz flow: review read, ranking finalised');
  await s.context.close();
  await o.context.close();
}
