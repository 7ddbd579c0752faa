//! Syntax colouring for Rhai and WebAssembly text, plus marks for the error line and matching brackets.

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId, Stroke};

/// What a piece of source is, for colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Plain,
    Keyword,
    /// A robot function (`motors`, `distance`…) or a WebAssembly import.
    Robot,
    Number,
    Str,
    Comment,
    Punct,
}

const RHAI_KEYWORDS: &[&str] = &[
    "let", "const", "if", "else", "while", "loop", "for", "in", "do", "until", "break", "continue", "return", "fn", "true", "false", "switch", "throw", "try",
    "catch", "private", "this", "global",
];
const RHAI_ROBOT: &[&str] = &[
    "motors", "stop", "wait", "forward", "turn", "distance", "line", "color", "colour", "bumper", "print", "time", "heading", "pose", "camera", "classify",
    "record", "pixel", "labels",
];
const WAT_KEYWORDS: &[&str] = &[
    "module",
    "func",
    "param",
    "result",
    "local",
    "global",
    "import",
    "export",
    "memory",
    "data",
    "table",
    "elem",
    "type",
    "mut",
    "block",
    "loop",
    "if",
    "then",
    "else",
    "end",
    "br",
    "br_if",
    "br_table",
    "return",
    "call",
    "call_indirect",
    "drop",
    "select",
    "unreachable",
    "nop",
    "start",
];

/// Splits `src` into classified byte ranges covering all of it.
pub fn classify(src: &str, wat: bool) -> Vec<(std::ops::Range<usize>, Class)> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let push = |out: &mut Vec<(std::ops::Range<usize>, Class)>, r: std::ops::Range<usize>, c: Class| out.push((r, c));
    while i < bytes.len() {
        let rest = &src[i..];
        let c = rest.chars().next().expect("non-empty");
        let start = i;
        if (!wat && rest.starts_with("//")) || (wat && rest.starts_with(";;")) {
            let end = rest.find('\n').map_or(src.len(), |n| i + n);
            push(&mut out, start..end, Class::Comment);
            i = end;
        } else if (!wat && rest.starts_with("/*")) || (wat && rest.starts_with("(;")) {
            let close = if wat { ";)" } else { "*/" };
            let end = rest[2..].find(close).map_or(src.len(), |n| i + 2 + n + 2);
            push(&mut out, start..end, Class::Comment);
            i = end;
        } else if c == '"' || (!wat && (c == '\'' || c == '`')) {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != c as u8 {
                if bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(src.len());
            let end = (end..=src.len()).find(|&e| src.is_char_boundary(e)).unwrap_or(src.len());
            push(&mut out, start..end, Class::Str);
            i = end;
        } else if c.is_ascii_digit() || (c == '-' && wat && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
            let len = rest.char_indices().skip(1).find(|(_, d)| !(d.is_ascii_alphanumeric() || *d == '.' || *d == '_')).map_or(rest.len(), |(n, _)| n);
            push(&mut out, start..i + len, Class::Number);
            i += len;
        } else if c.is_alphabetic() || c == '_' || (wat && c == '$') {
            let word_char = |d: char| d.is_alphanumeric() || d == '_' || (wat && matches!(d, '.' | '$' | '-'));
            let len = rest.char_indices().skip(1).find(|(_, d)| !word_char(*d)).map_or(rest.len(), |(n, _)| n);
            let word = &rest[..len];
            let class = if wat {
                if WAT_KEYWORDS.contains(&word) || word.contains('.') { Class::Keyword } else { Class::Plain }
            } else if RHAI_KEYWORDS.contains(&word) {
                Class::Keyword
            } else if RHAI_ROBOT.contains(&word) {
                Class::Robot
            } else {
                Class::Plain
            };
            push(&mut out, start..i + len, class);
            i += len;
        } else {
            let len = c.len_utf8();
            let class = if c.is_ascii_punctuation() { Class::Punct } else { Class::Plain };
            push(&mut out, start..i + len, class);
            i += len;
        }
    }
    // The robot's imports in WAT are strings ("robot" "motors"): colour the function names.
    if wat {
        for (r, class) in &mut out {
            if *class == Class::Str && RHAI_ROBOT.contains(&src[r.start + 1..r.end.saturating_sub(1).max(r.start + 1)].trim_matches('"')) {
                *class = Class::Robot;
            }
        }
    }
    out
}

/// The colours of a theme.
pub fn color(class: Class, dark: bool, high_contrast: bool) -> Color32 {
    // Chosen for at least 4.5:1 contrast on the editor background in both themes.
    match (class, dark) {
        (Class::Plain | Class::Punct, true) => {
            if high_contrast {
                Color32::WHITE
            } else {
                Color32::from_rgb(0xE6, 0xE6, 0xE6)
            }
        }
        (Class::Plain | Class::Punct, false) => {
            if high_contrast {
                Color32::BLACK
            } else {
                Color32::from_rgb(0x20, 0x20, 0x20)
            }
        }
        (Class::Keyword, true) => Color32::from_rgb(0xFF, 0x9E, 0x64),
        (Class::Keyword, false) => Color32::from_rgb(0xA3, 0x2B, 0x00),
        (Class::Robot, true) => Color32::from_rgb(0x6C, 0xC4, 0xFF),
        (Class::Robot, false) => Color32::from_rgb(0x00, 0x55, 0xA5),
        (Class::Number, true) => Color32::from_rgb(0xC3, 0xE8, 0x8D),
        (Class::Number, false) => Color32::from_rgb(0x2F, 0x6B, 0x00),
        (Class::Str, true) => Color32::from_rgb(0xF0, 0xC6, 0x74),
        (Class::Str, false) => Color32::from_rgb(0x8A, 0x4B, 0x00),
        (Class::Comment, true) => Color32::from_rgb(0xA0, 0xA8, 0xB0),
        (Class::Comment, false) => Color32::from_rgb(0x4F, 0x5B, 0x66),
    }
}

/// What to mark besides syntax.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    /// 1-based line with an error.
    pub error_line: Option<u32>,
    /// Byte offsets of a bracket pair to outline.
    pub brackets: Option<(usize, usize)>,
    /// Byte ranges of find matches.
    pub found: Vec<std::ops::Range<usize>>,
}

/// The layout of `src` with colours and marks.
pub fn layout(src: &str, wat: bool, font: FontId, dark: bool, high_contrast: bool, marks: &Marks) -> LayoutJob {
    let mut job = LayoutJob::default();
    let error_range = marks.error_line.and_then(|n| line_range(src, n));
    let error_bg = if dark { Color32::from_rgb(0x5A, 0x1E, 0x1E) } else { Color32::from_rgb(0xFF, 0xDD, 0xDD) };
    let found_bg = if dark { Color32::from_rgb(0x4A, 0x4A, 0x00) } else { Color32::from_rgb(0xFF, 0xF0, 0x80) };
    // Split classified tokens further at mark boundaries so each piece has one format.
    let mut cuts: Vec<usize> = vec![0, src.len()];
    if let Some(r) = &error_range {
        cuts.extend([r.start, r.end]);
    }
    if let Some((a, b)) = marks.brackets {
        cuts.extend([a, a + 1, b, b + 1]);
    }
    for r in &marks.found {
        cuts.extend([r.start, r.end]);
    }
    cuts.retain(|&c| c <= src.len() && src.is_char_boundary(c));
    cuts.sort_unstable();
    cuts.dedup();
    for (range, class) in classify(src, wat) {
        let mut start = range.start;
        for &cut in cuts.iter().filter(|&&c| c > range.start && c < range.end).chain(std::iter::once(&range.end)) {
            let piece = start..cut;
            let mut format = TextFormat { font_id: font.clone(), color: color(class, dark, high_contrast), ..Default::default() };
            if error_range.as_ref().is_some_and(|r| piece.start >= r.start && piece.start < r.end) {
                format.background = error_bg;
            }
            if marks.found.iter().any(|r| piece.start >= r.start && piece.start < r.end) {
                format.background = found_bg;
            }
            if let Some((a, b)) = marks.brackets
                && (piece.start == a || piece.start == b)
            {
                format.underline = Stroke::new(2.0, color(Class::Robot, dark, true));
            }
            job.append(&src[piece.clone()], 0.0, format);
            start = cut;
        }
    }
    job
}

/// Byte range of 1-based line `n` (without its newline).
pub fn line_range(src: &str, n: u32) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for (i, line) in src.split('\n').enumerate() {
        if i + 1 == n as usize {
            return Some(start..start + line.len());
        }
        start += line.len() + 1;
    }
    None
}

/// The bracket matching the one at or just before byte `at`, if any: (open, close) byte offsets.
pub fn matching_bracket(src: &str, at: usize, wat: bool) -> Option<(usize, usize)> {
    let bytes = src.as_bytes();
    let is_bracket = |i: usize| matches!(bytes.get(i), Some(b'(' | b')' | b'[' | b']' | b'{' | b'}'));
    let pos = if is_bracket(at) {
        at
    } else if at > 0 && is_bracket(at - 1) {
        at - 1
    } else {
        return None;
    };
    // Brackets inside strings and comments do not count.
    let code: Vec<bool> = {
        let mut v = vec![true; bytes.len()];
        for (r, class) in classify(src, wat) {
            if matches!(class, Class::Str | Class::Comment) {
                v[r].iter_mut().for_each(|b| *b = false);
            }
        }
        v
    };
    if !code[pos] {
        return None;
    }
    let (open, close, forward) = match bytes[pos] {
        b'(' => (b'(', b')', true),
        b'[' => (b'[', b']', true),
        b'{' => (b'{', b'}', true),
        b')' => (b'(', b')', false),
        b']' => (b'[', b']', false),
        _ => (b'{', b'}', false),
    };
    let mut depth = 0i32;
    if forward {
        for i in pos..bytes.len() {
            if !code[i] {
                continue;
            }
            if bytes[i] == open {
                depth += 1;
            } else if bytes[i] == close {
                depth -= 1;
                if depth == 0 {
                    return Some((pos, i));
                }
            }
        }
    } else {
        for i in (0..=pos).rev() {
            if !code[i] {
                continue;
            }
            if bytes[i] == close {
                depth += 1;
            } else if bytes[i] == open {
                depth -= 1;
                if depth == 0 {
                    return Some((i, pos));
                }
            }
        }
    }
    None
}
