// Shared pieces of the browser tests: the JSON API, signing in, checks and
// the record of page errors that every flow adds to.

export const BASE = (process.env.BASE_URL || '').replace(/\/+$/, '');
export const GRADING_TIMEOUT_MS = 60_000;
const started = Date.now();

export function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}

export function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** The JSON API with a bearer token (no cookie, so no CSRF header needed). */
export async function api(method, urlPath, token, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(BASE + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (_) { /* not JSON */ }
  if (!res.ok) throw new Error(`${method} ${urlPath} -> ${res.status} ${text.slice(0, 500)}`);
  return json;
}

/** A Unix time as an <input type=datetime-local> value in local time (the browser runs on this machine). */
export function localInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export const pageErrors = [];
export const consoleLines = [];
/** The page a failure screenshot is taken of. */
export const current = { page: null };

export function watch(page, who) {
  page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${who} console.${m.type()}: ${m.text()}`);
  });
  current.page = page;
  return page;
}

export async function signIn(page, username, password) {
  await page.goto(`${BASE}/login`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/app(\?|#|$)/);
  await page.getByTestId('whoami').waitFor();
}
