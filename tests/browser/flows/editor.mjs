// Flow: the program editor and what it takes from the server. A student of
// a class of its own types a program with a Chinese semicolon, test-runs it
// and sees the line marked with the Chinese explanation; fixes it, misspells
// a function and sees that line marked; the highlight layer has keyword
// spans, brackets match, Tab indents by two spaces and Esc leaves the editor;
// the replay plays at the engine's tick rate, taken from the payload.

import { readFile } from 'node:fs/promises';

import { BASE, GRADING_TIMEOUT_MS, check, current, log, signIn, watch } from '../lib.mjs';

const PASSWORD = 'Editor-flow-2024';

// Line 2 ends with a Chinese semicolon; line 3 is right.
const WITH_CHINESE_SEMICOLON = [
  '// 开向墙，靠近了就停下',
  'let speed = 0.5；',
  'motors(speed, speed);',
  'while distance("front") > 0.3 {',
  '  wait(0.01);',
  '}',
  'stop();',
].join('\n');
// Line 2 fixed; line 3 calls a function that does not exist.
const WITH_MISSPELLED_FUNCTION = WITH_CHINESE_SEMICOLON.replace('0.5；', '0.5;').replace('motors(speed', 'motor(speed');

/** Signs a fresh student of a new class in; returns their token, page, context and assignment. */
async function freshStudent(ctx) {
  const { api, stamp } = ctx;
  const { token: teacher } = await api('POST', '/api/login', null, { username: ctx.teacherUser, password: ctx.teacherPassword });
  const cls = await api('POST', '/api/classes', teacher, { name: `编辑器测试班 ${stamp}` });
  const number = `8${String(Date.now()).slice(-7)}`;
  const res = await fetch(`${BASE}/api/classes/${cls.id}/roster`, {
    method: 'POST', headers: { Authorization: `Bearer ${teacher}`, 'Content-Type': 'text/csv' }, body: `学号,姓名\n${number},林小雨\n`,
  });
  const body = await res.text();
  check(res.status === 201, `roster import -> ${res.status} ${body}`);
  const account = JSON.parse(body).created[0];
  const { token: first } = await api('POST', '/api/login', null, { username: account.username, password: account.password });
  await api('POST', '/api/password', first, { current_password: account.password, new_password: PASSWORD });
  const { token } = await api('POST', '/api/login', null, { username: account.username, password: PASSWORD });
  const assignment = await api('POST', `/api/classes/${cls.id}/assignments`, teacher, { lab_id: 'wall-stop', due_at: Math.floor(Date.now() / 1000) + 7 * 86400 });
  const context = await ctx.browser.newContext({ viewport: ctx.viewport, locale: 'zh-CN' });
  context.setDefaultTimeout(20_000);
  const page = watch(await context.newPage(), 'editor-student');
  await signIn(page, account.username, PASSWORD);
  return { token, page, context, assignment };
}

/** Test-runs what the editor holds; returns the first error of the report, as the page shows it. */
async function testRun(page) {
  await page.getByTestId('test-run').click();
  const done = await page.waitForFunction(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    if (q('test-error')) return { error: q('test-error').textContent };
    return q('test-result') ? { ok: true } : false;
  }, null, { timeout: GRADING_TIMEOUT_MS, polling: 200 }).then((h) => h.jsonValue());
  check(!done.error, `the test run failed: ${done.error}`);
  return page.evaluate(() => {
    const q = (sel) => document.querySelector(sel);
    const box = q('[data-testid="run-error"]');
    const lines = [...document.querySelectorAll('[data-testid="code-highlight"] .ln')];
    const marked = q('[data-testid="error-line"]');
    return {
      code: box && box.dataset.code,
      line: box && Number(box.dataset.line),
      column: box && Number(box.dataset.column),
      explanation: box && q('[data-testid="error-explanation"]').textContent,
      engineText: document.querySelectorAll('[data-testid="engine-text"]').length,
      markedLine: marked ? lines.indexOf(marked) + 1 : 0,
      gutterMark: (q('.gl-error') || {}).textContent || '',
      inline: (q('[data-testid="error-inline"]') || {}).textContent || '',
      bar: (q('[data-testid="editor-error-text"]') || {}).textContent || '',
      barShown: Boolean(q('[data-testid="editor-error"]') && !q('[data-testid="editor-error"]').hidden),
    };
  });
}

export async function run(ctx) {
  const { api } = ctx;
  const { token, page, context, assignment } = await freshStudent(ctx);
  current.page = page;
  try {
    await page.goto(`${BASE}/app#/assignments/${assignment.id}`);
    const editor = page.getByTestId('code-editor');
    await editor.waitFor();

    // Highlighting: keywords, robot functions and strings get their own spans.
    await editor.fill(WITH_CHINESE_SEMICOLON);
    const spans = await page.evaluate(() => {
      const all = (cls) => [...document.querySelectorAll(`[data-testid="code-highlight"] .${cls}`)].map((e) => e.textContent);
      return { keyword: all('tok-keyword'), robot: all('tok-robot'), string: all('tok-string'), comment: all('tok-comment'), lines: document.querySelectorAll('[data-testid="code-highlight"] .ln').length };
    });
    check(spans.keyword.includes('let') && spans.keyword.includes('while'), `no keyword spans in the highlight layer: ${JSON.stringify(spans)}`);
    check(spans.robot.includes('motors') && spans.robot.includes('distance'), `robot functions are not highlighted: ${JSON.stringify(spans)}`);
    check(spans.string.includes('"front"') && spans.comment.length === 1, `strings or comments are not highlighted: ${JSON.stringify(spans)}`);
    check(spans.lines === 7, `the highlight layer has ${spans.lines} lines for a 7-line program`);
    log(`highlighting: ${spans.keyword.length} keyword, ${spans.robot.length} robot-function spans`);

    // The Chinese semicolon: the line is marked with the explanation in Chinese.
    const expected1 = await api('POST', `/api/assignments/${assignment.id}/test`, token, { language: 'rhai', program: WITH_CHINESE_SEMICOLON });
    const err1 = expected1.cases.map((c) => c.run && c.run.error).find(Boolean);
    check(err1 && err1.code === 'chinese_punctuation' && err1.line === 2, `the server diagnosed ${JSON.stringify(err1)}`);
    const shown1 = await testRun(page);
    check(shown1.code === 'chinese_punctuation' && shown1.line === 2 && shown1.column === err1.column, `the report shows ${JSON.stringify(shown1)}`);
    check(shown1.markedLine === 2 && shown1.gutterMark === '2', `the editor marks line ${shown1.markedLine} (gutter ${shown1.gutterMark}), not line 2`);
    check(shown1.explanation === err1.explanation['zh-CN'], `the report explains ${JSON.stringify(shown1.explanation)}, expected ${JSON.stringify(err1.explanation['zh-CN'])}`);
    check(shown1.inline.includes(err1.explanation['zh-CN']) && shown1.bar.includes(err1.explanation['zh-CN']) && shown1.barShown, `the editor does not show the explanation: ${JSON.stringify(shown1)}`);
    check(/[\u4e00-\u9fff]/.test(shown1.inline) && !shown1.inline.includes('Unexpected'), `the message beside the line is not Chinese: ${shown1.inline}`);
    check(shown1.engineText === 0, 'a student is shown the engine\'s original message');
    // The jump button puts the caret on the error.
    await page.getByTestId('editor-error-jump').click();
    const caret = await editor.evaluate((ta) => ({ focused: document.activeElement === ta, at: ta.selectionStart }));
    const want = WITH_CHINESE_SEMICOLON.split('\n')[0].length + 1 + err1.column - 1;
    check(caret.focused && caret.at === want, `the jump button put the caret at ${caret.at} (focused ${caret.focused}), expected ${want}`);
    log(`line 2 marked: ${shown1.inline.trim()}`);

    // Brackets: the caret after "(" lights the pair.
    const paren = WITH_CHINESE_SEMICOLON.indexOf('motors(') + 'motors('.length;
    await editor.evaluate((ta, pos) => { ta.focus(); ta.setSelectionRange(pos, pos); ta.dispatchEvent(new KeyboardEvent('keyup')); }, paren);
    const lit = await page.locator('[data-testid="code-highlight"] .bm').allTextContents();
    check(lit.join('') === '()', `bracket matching lit ${JSON.stringify(lit)}`);

    // Fixed; a misspelled function on line 3 is marked next, with the right name suggested.
    await editor.fill(WITH_MISSPELLED_FUNCTION);
    const shown2 = await testRun(page);
    check(shown2.code === 'unknown_function' && shown2.line === 3 && shown2.markedLine === 3, `the misspelled function: ${JSON.stringify(shown2)}`);
    check(shown2.bar.includes('motors') && /[\u4e00-\u9fff]/.test(shown2.bar), `the suggestion does not name motors in Chinese: ${shown2.bar}`);
    log(`line 3 marked: ${shown2.bar}`);

    // Tab indents by two spaces; Esc leaves the editor for the next control.
    await editor.evaluate((ta) => { ta.focus(); ta.setSelectionRange(0, 0); });
    await page.keyboard.press('Tab');
    check((await editor.inputValue()).startsWith('  // '), 'Tab did not insert two spaces');
    await page.keyboard.press('Escape');
    const after = await page.evaluate(() => ({ tag: document.activeElement.tagName, id: document.activeElement.dataset.testid || '' }));
    check(after.id !== 'code-editor' && after.tag !== 'BODY', `Esc did not move the focus on (now on ${after.tag} ${after.id})`);
    log(`Esc moved the focus to ${after.tag} ${after.id}`);

    // The replay plays at the engine's tick rate, from the payload.
    const reference = await readFile(process.env.REFERENCE, 'utf8');
    const sub = await api('POST', `/api/assignments/${assignment.id}/submissions`, token, { language: 'rhai', program: reference });
    let graded = sub;
    for (let i = 0; i < GRADING_TIMEOUT_MS / 250 && graded.status !== 'done' && graded.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      graded = await api('GET', `/api/submissions/${sub.id}`, token);
    }
    check(graded.status === 'done', `the reference submission ended ${graded.status}`);
    const visible = graded.report.cases.find((c) => !c.hidden);
    const payload = await api('GET', `/api/submissions/${sub.id}/replays/${encodeURIComponent(visible.name)}`, token);
    check(payload.world.tick_rate > 0 && Math.abs(payload.world.dt * payload.world.tick_rate - 1) < 1e-9, `the payload's tick rate: ${payload.world.tick_rate}, dt ${payload.world.dt}`);
    check(Object.keys(payload.world.palette || {}).length >= 10, 'the payload has no palette');
    await page.goto(`${BASE}/app#/submissions/${sub.id}`);
    const canvas = page.locator(`[data-testid="replay"][data-case="${visible.name}"] [data-testid="replay-canvas"]`);
    await canvas.waitFor();
    const frameMs = Number(await canvas.getAttribute('data-frame-ms'));
    check(Math.abs(frameMs - 1000 / payload.world.tick_rate) < 1e-6, `frames last ${frameMs} ms, the engine's tick is ${1000 / payload.world.tick_rate} ms`);
    const frames = Number(await canvas.getAttribute('data-frames'));
    check(frames > 1.5 * payload.world.tick_rate, `the replay is too short to time (${frames} frames)`);
    await page.locator(`[data-testid="replay"][data-case="${visible.name}"] [data-testid="replay-play"]`).click();
    const rate = await canvas.evaluate(async (el) => {
      const sample = () => [performance.now(), Number(el.dataset.frame)];
      await new Promise((r) => setTimeout(r, 200));
      const [t0, f0] = sample();
      await new Promise((r) => setTimeout(r, 1000));
      const [t1, f1] = sample();
      return (f1 - f0) / ((t1 - t0) / 1000);
    });
    const hz = payload.world.tick_rate;
    check(rate > hz * 0.8 && rate < hz * 1.2, `the replay plays ${rate.toFixed(1)} frames a second, the engine ticks ${hz} times`);
    log(`replay plays at ${rate.toFixed(1)} frames/s (engine: ${hz} Hz, ${frameMs} ms a frame)`);
  } finally {
    current.page = ctx.tp;
    await context.close();
  }
}
