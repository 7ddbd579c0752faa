// The "bundle box" of AI labs: a student hands in one .zip holding their program and their trained model.
//
// The page reads the zip's central directory itself (no library: the
// end-of-central-directory record and the file headers it points to) and
// refuses a zip the server would refuse — too large, not a zip, no program,
// two programs, two models, a program over the lab's limit or in a language
// the lab does not take — before anything is sent, in the student's language.
// The server checks again (docs/ai.md "Bundles"); its refusals are shown through
// the same error texts as every other page (`errorBox`). One hand-in function
// serves the assignment page and the contest round page.

import { api, clear, codeSpans, errorBox, h, langLabel, t } from './core.js';
import { renderReport } from './submissions.js';

/** What the server's loader takes (qiming_grading::bundle): more entries are refused. */
const MAX_ENTRIES = 64;
const EOCD = 0x06054b50;
/** File extensions named in the texts, set as code (they read the same in every language). */
const EXTENSIONS = { program: '`.rhai`', model: '`.qmodel`', zip: '`.zip`' };
const CENTRAL = 0x02014b50;

/** A zip the page will not send: `code` picks the text (`bundle_err_CODE`), `vars` fill it. */
export class BundleProblem extends Error {
  constructor(code, vars = {}) {
    super(code);
    this.code = code;
    this.vars = vars;
  }
}

/**
 * The entries a zip's central directory lists, without unpacking anything:
 * `{name, size, compressed, method, encrypted, dir, symlink}` each.
 * Throws a BundleProblem when the bytes are not a zip this page can read.
 */
export function zipEntries(bytes) {
  const n = bytes.length;
  if (n < 22) throw new BundleProblem('not_zip');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record is the last 22 bytes, unless a comment (at most 64 KiB) follows it.
  let end = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new BundleProblem('not_zip');
  const count = dv.getUint16(end + 10, true);
  const size = dv.getUint32(end + 12, true);
  const offset = dv.getUint32(end + 16, true);
  // ZIP64 placeholders: a zip that large is never a student's bundle.
  if (count === 0xffff || offset === 0xffffffff) throw new BundleProblem('not_zip');
  if (count > MAX_ENTRIES) throw new BundleProblem('too_many', { max: MAX_ENTRIES });
  if (offset + size > end) throw new BundleProblem('not_zip');
  const utf8 = new TextDecoder('utf-8');
  const entries = [];
  let p = offset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > end || dv.getUint32(p, true) !== CENTRAL) throw new BundleProblem('not_zip');
    const madeBy = dv.getUint16(p + 4, true);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const compressed = dv.getUint32(p + 20, true);
    const length = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const attributes = dv.getUint32(p + 38, true);
    if (p + 46 + nameLen > end) throw new BundleProblem('not_zip');
    const name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // Made on Unix (high byte 3): the file type sits in the high half of the external attributes.
    const symlink = (madeBy >> 8) === 3 && ((attributes >>> 16) & 0o170000) === 0o120000;
    entries.push({ name, size: length, compressed, method, encrypted: Boolean(flags & 1), dir: name.endsWith('/'), symlink });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** What a file in a bundle is, by its extension (as the server's loader decides). */
function role(base) {
  const ext = (base.includes('.') ? base.slice(base.lastIndexOf('.') + 1) : '').toLowerCase();
  if (ext === 'qmodel') return 'model';
  if (ext === 'rhai') return 'rhai';
  if (ext === 'wasm' || ext === 'wat') return 'wasm';
  return 'other';
}

const kb = (bytes) => String(Math.max(1, Math.ceil(bytes / 1024)));

/**
 * Checks a chosen zip against the lab (its payload's `limits` and `model`):
 * returns `{program: {name, size, language}, model: {name, size} | null, others: [names]}`
 * or throws a BundleProblem.
 */
export function checkBundle(bytes, lab) {
  const limits = lab.limits || {};
  const maxZip = Number(limits.max_bundle_bytes) || 0;
  if (maxZip && bytes.length > maxZip) throw new BundleProblem('too_big', { kb: kb(bytes.length), max: Math.floor(maxZip / 1024) });
  let program = null;
  let model = null;
  const others = [];
  for (const e of zipEntries(bytes)) {
    const raw = e.name;
    if (raw.includes('\\') || raw.startsWith('/') || raw.includes(':') || raw.includes('\0') || raw.split('/').includes('..') || e.symlink) {
      throw new BundleProblem('unsafe', { name: raw });
    }
    if (e.dir) continue;
    const base = raw.slice(raw.lastIndexOf('/') + 1);
    // macOS adds `__MACOSX/._main.rhai` resource forks: not programs (the server skips them too).
    if (raw.startsWith('__MACOSX/') || base.startsWith('._')) continue;
    const kind = role(base);
    if (kind === 'other') {
      others.push(raw);
      continue;
    }
    if (e.encrypted || (e.method !== 0 && e.method !== 8)) throw new BundleProblem('unsupported', { name: raw });
    if (kind === 'model') {
      if (model) throw new BundleProblem('two_models', { first: model.name, second: base });
      model = { name: base, size: e.size };
    } else {
      if (program) throw new BundleProblem('two_programs', { first: program.name, second: base });
      program = { name: base, size: e.size, language: kind };
    }
  }
  if (!program) throw new BundleProblem('no_program');
  const maxProgram = Number(limits.max_program_bytes) || 0;
  if (maxProgram && program.size > maxProgram) throw new BundleProblem('program_too_big', { name: program.name, kb: Math.floor(maxProgram / 1024) });
  const languages = lab.languages && lab.languages.length ? lab.languages : ['rhai'];
  if (!languages.includes(program.language)) {
    throw new BundleProblem('language', { name: program.name, languages: languages.map(langLabel).join(' / ') });
  }
  if (!model && lab.model && lab.model.required) throw new BundleProblem('model_required');
  return { program, model, others };
}

/** Bytes as base64 (in slices: one call with 190 KB of arguments would overflow the stack). */
function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * Sends a checked bundle: POST `path` (an assignment's or a round's
 * submissions, or an assignment's test run) with `extra` (a round's `lab_id`)
 * and the zip as base64, `encoding: "zip"`. The one way every page sends one.
 */
export function sendBundle(path, extra, chosen) {
  return api('POST', path, { ...extra, language: chosen.found.program.language, encoding: 'zip', program: base64(chosen.bytes) });
}

/** What the lab's model must be, from the lab payload's `model`. */
function modelFacts(model) {
  const codes = (list) => list.map((x, i) => [i ? ' ' : '', h('code', null, x)]);
  return h('dl', { class: 'facts bundle-model', testid: 'bundle-model-spec' },
    h('div', null, h('dt', null, t('bundle_labels')), h('dd', { testid: 'bundle-labels' }, codes(model.labels || []))),
    h('div', null, h('dt', null, t('bundle_input')), h('dd', { testid: 'bundle-input', 'data-input': model.input },
      model.input === 'sensors' ? [t('bundle_input_sensors'), ' ', codes(model.sensors || [])] : t('bundle_input_image'))),
    model.kinds && model.kinds.length ? h('div', null, h('dt', null, t('bundle_kinds')), h('dd', null, codes(model.kinds))) : null,
    h('div', null, h('dt', null, t('bundle_model')), h('dd', null, t(model.required ? 'bundle_model_required' : 'bundle_model_optional'))));
}

/** The files found in a chosen zip. */
function contents(found) {
  return h('ul', { class: 'plain bundle-contents', testid: 'bundle-contents' },
    h('li', { testid: 'bundle-program', 'data-language': found.program.language },
      t('bundle_found_program'), ' ', h('code', null, found.program.name), ` (${langLabel(found.program.language)}, ${kb(found.program.size)} KB)`),
    h('li', { testid: 'bundle-model' }, t('bundle_found_model'), ' ',
      found.model ? [h('code', null, found.model.name), ` (${kb(found.model.size)} KB)`] : t('bundle_no_model')),
    found.others.length ? h('li', { class: 'muted', testid: 'bundle-others' }, t('bundle_others'), ' ', found.others.map((o, i) => [i ? ' ' : '', h('code', null, o)])) : null);
}

/**
 * The box for an AI lab: choose (or drop) a .zip, see what it holds, test it
 * (when `testPath` is given) and hand it in. Reports go to `result` (the
 * page's result card); `onSubmitted(sub)` follows the new submission.
 * Returns `{el, setBlocked(bool)}`: the page blocks handing in when the
 * server says the student may not submit now.
 */
export function bundleBox({ lab, submitPath, testPath, extra = {}, result, onSubmitted }) {
  let chosen = null;
  let blocked = false;
  let busy = false;
  const input = h('input', { type: 'file', accept: '.zip,application/zip', testid: 'bundle-file' });
  const status = h('div', { 'aria-live': 'polite', testid: 'bundle-status' });
  const testBtn = testPath ? h('button', { class: 'btn btn-big', type: 'button', testid: 'bundle-test', title: t('test_run_help') }, t('test_run')) : null;
  const submitBtn = h('button', { class: 'btn btn-primary btn-big', type: 'button', testid: 'bundle-submit' }, t('bundle_hand_in'));
  const update = () => {
    if (testBtn) testBtn.disabled = !chosen || busy;
    submitBtn.disabled = !chosen || busy || blocked;
  };
  const choose = async (file) => {
    chosen = null;
    update();
    clear(result);
    if (!file) return clear(status);
    let bytes;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (_) {
      return clear(status, problemBox(new BundleProblem('read')));
    }
    try {
      chosen = { bytes, found: checkBundle(bytes, lab) };
      clear(status, h('div', { class: 'alert alert-ok', role: 'status', testid: 'bundle-ok' }, codeSpans(t('bundle_checked', asCode({ name: file.name })))), contents(chosen.found));
    } catch (e) {
      if (!(e instanceof BundleProblem)) throw e;
      clear(status, problemBox(e));
    }
    update();
  };
  input.addEventListener('change', () => choose(input.files && input.files[0]));
  const zone = h('div', { class: 'dropzone', testid: 'bundle-drop' },
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('bundle_choose')), input),
    h('p', { class: 'field-help' }, t('bundle_drop')));
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('dragging');
    const file = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (file) choose(file);
  });

  if (testBtn) {
    testBtn.addEventListener('click', async () => {
      if (!chosen) return;
      busy = true;
      update();
      clear(result, h('div', { class: 'live', testid: 'test-running' }, t('test_running')));
      try {
        const report = await sendBundle(testPath, extra, chosen);
        clear(result, h('div', { class: 'alert alert-info', testid: 'test-result' }, t('test_result_note', { n: String(report.hidden_cases || 0) })),
          renderReport(report, null));
      } catch (e) {
        clear(result, errorBox(e, 'test-error'));
      } finally {
        busy = false;
        update();
      }
    });
  }
  submitBtn.addEventListener('click', async () => {
    if (!chosen) return;
    busy = true;
    update();
    clear(result);
    try {
      const sub = await sendBundle(submitPath, extra, chosen);
      await onSubmitted(sub);
    } catch (e) {
      clear(result, errorBox(e, 'submit-error'));
    } finally {
      busy = false;
      update();
    }
  });
  update();
  const el = h('section', { class: 'card bundle-box', testid: 'bundle-box' },
    h('h2', null, t('bundle_title')),
    h('p', null, codeSpans(t('bundle_help', EXTENSIONS))),
    lab.model ? modelFacts(lab.model) : null,
    zone,
    status,
    h('div', { class: 'actions' }, testBtn, submitBtn));
  return {
    el,
    setBlocked(b) {
      blocked = Boolean(b);
      update();
    },
  };
}

/** A refused zip, in the page's language. */
function problemBox(p) {
  return h('div', { class: 'alert alert-error', role: 'alert', testid: 'bundle-error', 'data-reason': p.code }, codeSpans(t(`bundle_err_${p.code}`, { ...EXTENSIONS, ...asCode(p.vars) })));
}

/** File names from the zip, set as code in a text (backticks in a name are dropped). */
function asCode(vars) {
  const out = { ...vars };
  for (const k of ['name', 'first', 'second']) if (k in out) out[k] = `\`${String(out[k]).replace(/`/g, '')}\``;
  return out;
}
