// The program editor: line numbers, syntax highlighting and marked error lines.

import { h, t } from './core.js';

export function codeEditor(initial, onChange) {
  const gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
  const ta = h('textarea', {
    class: 'code', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', autocorrect: 'off',
    wrap: 'off', testid: 'code-editor', 'aria-label': t('my_program'),
  });
  ta.value = initial || '';
  let lines = 0;
  const numbers = () => {
    const n = ta.value.split('\n').length;
    if (n !== lines) {
      lines = n;
      gutter.textContent = Array.from({ length: n }, (_, i) => i + 1).join('\n') + '\n';
    }
    gutter.scrollTop = ta.scrollTop;
  };
  const insert = (text) => {
    ta.focus();
    if (!document.execCommand || !document.execCommand('insertText', false, text)) {
      ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, 'end');
      ta.dispatchEvent(new Event('input'));
    }
  };
  ta.addEventListener('input', () => {
    numbers();
    onChange(ta.value);
  });
  ta.addEventListener('scroll', () => { gutter.scrollTop = ta.scrollTop; });
  ta.addEventListener('keydown', (ev) => {
    if (ev.isComposing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === 'Tab' && !ev.shiftKey) {
      ev.preventDefault();
      insert('    ');
    } else if (ev.key === 'Tab' && ev.shiftKey) {
      ev.preventDefault();
      const start = ta.value.lastIndexOf('\n', ta.selectionStart - 1) + 1;
      const m = ta.value.slice(start).match(/^ {1,4}/);
      if (m) {
        const caret = ta.selectionStart;
        ta.setSelectionRange(start, start + m[0].length);
        insert('');
        ta.setSelectionRange(Math.max(start, caret - m[0].length), Math.max(start, caret - m[0].length));
      }
    } else if (ev.key === 'Enter') {
      const start = ta.value.lastIndexOf('\n', ta.selectionStart - 1) + 1;
      const line = ta.value.slice(start, ta.selectionStart);
      const indent = line.match(/^[ \t]*/)[0] + (/[{(\[]\s*$/.test(line) ? '    ' : '');
      ev.preventDefault();
      insert('\n' + indent);
    } else if (ev.key === 'Escape') {
      ta.blur();
    }
  });
  numbers();
  return {
    el: h('div', { class: 'editor' }, gutter, ta),
    value: () => ta.value,
    setValue: (v) => {
      ta.value = v;
      numbers();
    },
  };
}
