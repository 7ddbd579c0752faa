// The program editor: line numbers, syntax highlighting, bracket matching and marked error lines.
//
// A transparent <textarea> (which keeps typing, selection, undo and input
// methods native) lies over a highlighted <pre> that mirrors its text line
// for line; both scroll together. The highlighting is built from text nodes
// and spans, never from HTML, so nothing a student types is parsed as markup.

import { h, t } from './core.js';

// ---------------------------------------------------------------- tokens

const RHAI_KEYWORDS = new Set([
  'let', 'const', 'fn', 'if', 'else', 'while', 'loop', 'for', 'in', 'do', 'until', 'break', 'continue', 'return',
  'throw', 'try', 'catch', 'switch', 'true', 'false', 'this', 'import', 'export', 'as', 'private', 'global',
]);
// The robot's functions (docs/programs.md), marked only where they are called.
const ROBOT_FUNCTIONS = new Set(['motors', 'stop', 'wait', 'forward', 'turn', 'distance', 'line', 'color', 'bumper', 'heading', 'time', 'print', 'camera', 'pixel', 'classify', 'labels', 'record']);
const WAT_KEYWORDS = new Set([
  'module', 'func', 'param', 'result', 'local', 'global', 'memory', 'export', 'import', 'type', 'table', 'elem', 'data',
  'start', 'mut', 'offset', 'if', 'then', 'else', 'end', 'block', 'loop', 'br', 'br_if', 'br_table', 'return', 'call',
  'call_indirect', 'drop', 'select', 'unreachable', 'nop', 'funcref', 'externref',
]);
const WAT_TYPES = new Set(['i32', 'i64', 'f32', 'f64', 'v128']);
const OPEN = '([{';
const CLOSE = ')]}';

// One pass of a global regular expression per program: each alternative is
// a token kind; the text between matches is plain. (Character by character
// took 0.4 s for a 64 KB program; this takes milliseconds.)
const RHAI_RE = new RegExp([
  /(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))/.source, // 1 comment
  /("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`[^`]*`?)/.source, // 2 string
  /(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)/.source, // 3 number
  /([A-Za-z_][A-Za-z0-9_]*)/.source, // 4 word
  /([()[\]{}])/.source, // 5 bracket
].join('|'), 'g');
const WAT_RE = new RegExp([
  /(;;[^\n]*|\(;[\s\S]*?(?:;\)|$))/.source, // 1 comment
  /("(?:[^"\\\n]|\\.)*"?)/.source, // 2 string
  /([-+]?(?:0x[0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?\d+)?|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?))/.source, // 3 number
  /(\$[^\s()";]+|[a-z][a-z0-9_.]*)/.source, // 4 word
  /([()[\]{}])/.source, // 5 bracket
].join('|'), 'g');
const CALLED = /\s*\(/y;
const WAT_INSTRUCTION = /^(?:i32|i64|f32|f64|v128|local|global|memory|table|ref)\.[a-z0-9_]+$/;

/** Which language a program is in, from its first significant characters. */
export function guessLanguage(text) {
  return /^\s*(?:\(\s*module\b|;;|\(;)/.test(text) ? 'wat' : 'rhai';
}

function wordClass(word, text, end, lang) {
  if (lang === 'wat') {
    if (word[0] === '$') return 'tok-var';
    if (WAT_KEYWORDS.has(word) || WAT_INSTRUCTION.test(word)) return 'tok-keyword';
    if (WAT_TYPES.has(word)) return 'tok-type';
    return word === 'nan' || word === 'inf' ? 'tok-number' : null;
  }
  if (RHAI_KEYWORDS.has(word)) return 'tok-keyword';
  CALLED.lastIndex = end;
  if (!CALLED.test(text)) return null;
  return ROBOT_FUNCTIONS.has(word) ? 'tok-robot' : 'tok-call';
}

/** Splits a program into [class, text] tokens (class null for plain text); joined, they are the text. */
export function tokenize(text, lang) {
  const re = lang === 'wat' ? WAT_RE : RHAI_RE;
  const out = [];
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!m[0]) { // an empty match (cannot happen with these patterns, but never loop forever)
      re.lastIndex += 1;
      continue;
    }
    const cls = m[1] ? 'tok-comment' : m[2] ? 'tok-string' : m[3] ? 'tok-number' : m[5] ? 'tok-bracket' : wordClass(m[4], text, m.index + m[0].length, lang);
    if (!cls) continue; // plain: stays in the gap
    if (m.index > last) out.push([null, text.slice(last, m.index)]);
    out.push([cls, m[0]]);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push([null, text.slice(last)]);
  return out;
}

// ---------------------------------------------------------------- limits

/** The lab's size limit in bytes, from the server's lab payload (null when it gave none). */
function maxBytes(lab) {
  const n = lab && lab.limits && Number(lab.limits.max_program_bytes);
  return n > 0 ? n : null;
}

/** Whether a program is over its lab's size limit (the server refuses it with 413). */
export function tooBig(program, lab) {
  const max = maxBytes(lab);
  return max !== null && new TextEncoder().encode(program).length > max;
}

/** The lab's size limit in KB, for messages. */
export function maxKb(lab) {
  const max = maxBytes(lab);
  return max === null ? '—' : String(Math.floor(max / 1024));
}

// ---------------------------------------------------------------- the editor

const INDENT = '  ';

export function codeEditor(initial, onChange, opts = {}) {
  const gutterLines = h('div', { class: 'gutter-lines' });
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' }, gutterLines);
  const code = h('code', { class: 'hl-code' });
  const layer = h('pre', { class: 'hl', 'aria-hidden': 'true', testid: 'code-highlight' }, code);
  const ta = h('textarea', {
    class: 'code', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', autocorrect: 'off',
    wrap: 'off', testid: 'code-editor', 'aria-label': t('my_program'),
  });
  const area = h('div', { class: 'code-area' }, layer, ta);
  const errorBar = h('div', { class: 'editor-error', testid: 'editor-error', role: 'status', hidden: true });
  const box = h('div', { class: 'editor' }, gutter, area);
  ta.value = initial || '';

  let lang = opts.language || null;
  let error = null; // { line, column, message }
  let shownLines = 0;
  let pairs = new Map(); // bracket offset -> partner offset (-1: unmatched)
  let bracketEls = new Map(); // bracket offset -> its span
  let lit = [];

  const language = () => lang || guessLanguage(ta.value);

  function render() {
    const text = ta.value;
    const lines = text.split('\n');
    // The highlight layer: one block per line, so a marked line can have a background.
    const frag = document.createDocumentFragment();
    let lineEl = h('span', { class: 'ln' });
    let lineNo = 1;
    let offset = 0;
    const stack = [];
    pairs = new Map();
    bracketEls = new Map();
    lit = [];
    const endLine = () => {
      if (!lineEl.firstChild) lineEl.appendChild(document.createTextNode(' '));
      if (error && error.line === lineNo) decorateErrorLine(lineEl, lines[lineNo - 1] || '');
      frag.appendChild(lineEl);
      lineEl = h('span', { class: 'ln' });
      lineNo += 1;
    };
    for (const [cls, s] of tokenize(text, language())) {
      const parts = s.split('\n');
      parts.forEach((part, k) => {
        if (k > 0) {
          endLine();
          offset += 1;
        }
        if (!part) return;
        if (cls === 'tok-bracket') {
          const el = h('span', { class: cls }, part);
          bracketEls.set(offset, el);
          if (OPEN.includes(part)) stack.push(offset);
          else {
            const open = stack.length && OPEN[CLOSE.indexOf(part)] === text[stack[stack.length - 1]] ? stack.pop() : -1;
            pairs.set(offset, open);
            if (open >= 0) pairs.set(open, offset);
          }
          lineEl.appendChild(el);
        } else {
          lineEl.appendChild(cls ? h('span', { class: cls }, part) : document.createTextNode(part));
        }
        offset += part.length;
      });
    }
    endLine();
    for (const open of stack) pairs.set(open, -1);
    code.replaceChildren(frag);
    if (lines.length !== shownLines || gutterLines.dataset.error !== String(error ? error.line : '')) {
      shownLines = lines.length;
      gutterLines.dataset.error = String(error ? error.line : '');
      gutterLines.replaceChildren(...lines.map((_, k) => h('span', {
        class: error && error.line === k + 1 ? 'gl gl-error' : 'gl', title: error && error.line === k + 1 ? error.message : null,
      }, String(k + 1))));
    }
    sync();
    matchBrackets();
  }

  // The marked line: a background, the character at the column underlined, the message after the text.
  function decorateErrorLine(lineEl, lineText) {
    lineEl.classList.add('ln-error');
    lineEl.dataset.testid = 'error-line';
    const col = Math.max(1, error.column || 1);
    if (error.column && col <= lineText.length) {
      let left = col - 1;
      const walker = document.createTreeWalker(lineEl, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (left < node.length) {
          const at = node.splitText(left);
          at.splitText(1);
          const mark = h('span', { class: 'err-at' });
          at.parentNode.replaceChild(mark, at);
          mark.appendChild(at);
          break;
        }
        left -= node.length;
      }
    } else if (error.column) {
      lineEl.appendChild(h('span', { class: 'err-at err-eol' }, '\u00a0'));
    }
    lineEl.appendChild(h('span', { class: 'err-msg', testid: 'error-inline' }, `\u00a0\u00a0⚠ ${error.message}`));
  }

  // The layer and gutter follow the textarea's scrolling.
  function sync() {
    code.style.transform = `translate(${-ta.scrollLeft}px, ${-ta.scrollTop}px)`;
    gutterLines.style.transform = `translateY(${-ta.scrollTop}px)`;
  }

  function matchBrackets() {
    for (const el of lit) el.classList.remove('bm', 'bm-bad');
    lit = [];
    if (document.activeElement !== ta || ta.selectionStart !== ta.selectionEnd) return;
    const caret = ta.selectionStart;
    for (const at of [caret - 1, caret]) {
      if (!pairs.has(at)) continue;
      const partner = pairs.get(at);
      const els = [bracketEls.get(at), partner >= 0 ? bracketEls.get(partner) : null].filter(Boolean);
      for (const el of els) el.classList.add(partner >= 0 ? 'bm' : 'bm-bad');
      lit = els;
      return;
    }
  }

  const insert = (text) => {
    ta.focus();
    if (!document.execCommand || !document.execCommand('insertText', false, text)) {
      ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, 'end');
      ta.dispatchEvent(new Event('input'));
    }
  };
  const lineStart = (pos) => ta.value.lastIndexOf('\n', pos - 1) + 1;

  // Indents (or outdents) every line the selection touches, keeping it selected.
  const shiftLines = (out) => {
    const start = lineStart(ta.selectionStart);
    const end = ta.selectionEnd;
    const block = ta.value.slice(start, end);
    const changed = block.split('\n').map((l) => (out ? l.replace(/^ {1,2}/, '') : INDENT + l)).join('\n');
    ta.setSelectionRange(start, end);
    insert(changed);
    ta.setSelectionRange(start, start + changed.length);
  };

  // Leaves the editor for the next control, since Tab is taken for indenting.
  const leave = () => {
    const all = [...document.querySelectorAll('a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])')]
      .filter((el) => el === ta || el.getClientRects().length);
    const next = all[all.indexOf(ta) + 1];
    if (next) next.focus();
    else ta.blur();
  };

  ta.addEventListener('input', () => {
    // Lines added or removed move the marked line away from the error: drop the mark.
    if (error && ta.value.split('\n').length !== shownLines) {
      error = null;
      showErrorBar();
    }
    render();
    onChange(ta.value);
  });
  ta.addEventListener('scroll', sync);
  for (const ev of ['keyup', 'click', 'focus', 'blur', 'select']) ta.addEventListener(ev, matchBrackets);
  ta.addEventListener('keydown', (ev) => {
    if (ev.isComposing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === 'Tab') {
      ev.preventDefault();
      if (ev.shiftKey) shiftLines(true);
      else if (ta.value.slice(ta.selectionStart, ta.selectionEnd).includes('\n')) shiftLines(false);
      else insert(INDENT);
    } else if (ev.key === 'Enter') {
      const line = ta.value.slice(lineStart(ta.selectionStart), ta.selectionStart);
      const indent = line.match(/^[ \t]*/)[0] + (/[{(\[]\s*$/.test(line) ? INDENT : '');
      ev.preventDefault();
      insert('\n' + indent);
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      leave();
    }
  });

  function goTo(line, column) {
    const lines = ta.value.split('\n');
    const l = Math.min(Math.max(1, line), lines.length);
    let pos = 0;
    for (let k = 0; k < l - 1; k++) pos += lines[k].length + 1;
    pos += Math.min(Math.max(0, (column || 1) - 1), lines[l - 1].length);
    ta.focus();
    ta.setSelectionRange(pos, pos);
    const lh = parseFloat(getComputedStyle(ta).lineHeight) || 22;
    ta.scrollTop = Math.max(0, (l - 1) * lh - ta.clientHeight / 3);
    sync();
    matchBrackets();
  }

  function showErrorBar() {
    if (!error) {
      errorBar.hidden = true;
      errorBar.replaceChildren();
      box.removeAttribute('data-error-line');
      return;
    }
    box.dataset.errorLine = String(error.line);
    errorBar.hidden = false;
    const { line, column } = error;
    errorBar.replaceChildren(
      h('span', { class: 'icon', 'aria-hidden': 'true' }, '⚠'), ' ',
      h('strong', null, column ? t('line_col', { line, col: column }) : t('line_n', { n: line })), ' ',
      h('span', { testid: 'editor-error-text' }, error.message), ' ',
      h('button', { class: 'btn btn-small btn-ghost', type: 'button', testid: 'editor-error-jump', onclick: () => goTo(line, column) }, t('editor_jump', { n: line })));
  }

  render();
  return {
    el: h('div', { class: 'editor-wrap' }, box, errorBar),
    value: () => ta.value,
    setValue: (v) => {
      ta.value = v;
      error = null;
      showErrorBar();
      render();
    },
    /** Highlights as `rhai` or `wat`; null guesses from the text. */
    setLanguage: (l) => {
      lang = l === 'wasm' ? 'wat' : l;
      render();
    },
    /** Marks a line as wrong: background, gutter marker, the message beside it and under the editor. */
    markError: (line, column, message) => {
      if (!line) return;
      error = { line: Number(line), column: column ? Number(column) : null, message: String(message || '') };
      showErrorBar();
      render();
    },
    clearError: () => {
      if (!error) return;
      error = null;
      showErrorBar();
      render();
    },
    goTo,
    focus: () => ta.focus(),
  };
}
