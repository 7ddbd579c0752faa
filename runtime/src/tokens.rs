//! Programs as token streams, for comparing submissions (`qiming similarity`): nothing here runs code.
//!
//! Each program becomes two streams: *normalised* tokens, where identifiers
//! the student chose become `I`, numbers `N` and strings `S` while keywords,
//! operators and the robot API keep their text (so renaming variables or
//! changing constants changes nothing), and *raw* tokens, the lexemes as
//! written (for programs that do not parse, which are compared as text).
//! Comments and layout never produce tokens.

use crate::program::{Language, Program};

/// A program's tokens, and whether it is valid source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    /// Identifiers, numbers and strings abstracted.
    pub normalised: Vec<String>,
    /// The lexemes as written.
    pub raw: Vec<String>,
    /// Whether the program parses (Rhai) or validates (WebAssembly).
    pub parses: bool,
}

/// Words that keep their text when normalised: Rhai's keywords and the robot API.
const RHAI_KEPT: &[&str] = &[
    "let", "const", "if", "else", "while", "loop", "for", "in", "do", "until", "break", "continue", "return", "fn", "true", "false", "switch", "throw", "try",
    "catch", "private", "this", "global", "motors", "stop", "wait", "forward", "turn", "distance", "line", "color", "colour", "bumper", "print", "time",
    "pose", "heading", "random", "abs", "min", "max", "sqrt", "floor", "round", "len", "push", "pad", "to_int", "to_float",
];

/// Where a string starting with the quote at `start` ends (after its closing quote, or at the end of the text).
fn quoted_end(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' {
            i += 1;
        }
        i += 1;
    }
    (i + 1).min(chars.len())
}

/// Where a block comment opened at `start` (two characters) ends: after `close1 close2`, or at the end.
fn block_end(chars: &[char], start: usize, close1: char, close2: char) -> usize {
    let mut i = start + 2;
    while i < chars.len() && !(chars[i] == close1 && chars.get(i + 1) == Some(&close2)) {
        i += 1;
    }
    (i + 2).min(chars.len())
}

/// Splits Rhai (or any C-like text) into lexemes, dropping comments and whitespace.
fn lex_c_like(src: &str) -> Vec<(Kind, String)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') || c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i = block_end(&chars, i, '*', '/');
        } else if c == '"' || c == '`' || c == '\'' {
            let end = quoted_end(&chars, i);
            out.push((Kind::Str, chars[i..end].iter().collect()));
            i = end;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                i += 1;
            }
            out.push((Kind::Num, chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Kind::Word, chars[start..i].iter().collect()));
        } else {
            // Two-character operators stay one token, so `a <= b` and `a < = b` differ.
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "=>", "::", ".."].contains(&two.as_str()) {
                out.push((Kind::Punct, two));
                i += 2;
            } else {
                out.push((Kind::Punct, c.to_string()));
                i += 1;
            }
        }
    }
    out
}

/// Splits WebAssembly text into lexemes, dropping `;;` and `(; ;)` comments.
fn lex_wat(src: &str) -> Vec<(Kind, String)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == ';' && chars.get(i + 1) == Some(&';') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '(' && chars.get(i + 1) == Some(&';') {
            i = block_end(&chars, i, ';', ')');
        } else if c == '(' || c == ')' {
            out.push((Kind::Punct, c.to_string()));
            i += 1;
        } else if c == '"' {
            let end = quoted_end(&chars, i);
            out.push((Kind::Str, chars[i..end].iter().collect()));
            i = end;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '(' && chars[i] != ')' {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let kind = if word.starts_with('$') {
                Kind::Ident
            } else if word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
                Kind::Num
            } else {
                Kind::Punct
            };
            out.push((kind, word));
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Word,
    Ident,
    Num,
    Str,
    Punct,
}

fn normalise(lexemes: &[(Kind, String)], kept: &[&str]) -> Vec<String> {
    lexemes
        .iter()
        .map(|(kind, text)| match kind {
            Kind::Word if kept.contains(&text.as_str()) => text.clone(),
            Kind::Word | Kind::Ident => "I".into(),
            Kind::Num => "N".into(),
            Kind::Str => "S".into(),
            Kind::Punct => text.clone(),
        })
        .collect()
}

/// The operators of a binary module's function bodies, without their
/// immediates (local indices, constants): the normalised stream of a `.wasm`.
fn wasm_operators(bytes: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.ok()? {
            let mut reader = body.get_operators_reader().ok()?;
            while !reader.eof() {
                let op = reader.read().ok()?;
                let name = format!("{op:?}");
                let end = name.find([' ', '{', '(']).unwrap_or(name.len());
                out.push(name[..end].to_string());
            }
        }
    }
    Some(out)
}

/// Tokenises a program. Binary WebAssembly has no raw text: its operators serve as both streams.
pub fn tokens(program: &Program) -> Tokens {
    match program.language {
        Language::Rhai => {
            let src = String::from_utf8_lossy(&program.source);
            let lexemes = lex_c_like(&src);
            let parses = rhai::Engine::new_raw().compile(src.as_ref()).is_ok();
            Tokens { normalised: normalise(&lexemes, RHAI_KEPT), raw: lexemes.into_iter().map(|(_, t)| t).collect(), parses }
        }
        Language::Wasm if program.source.starts_with(b"\0asm") => {
            let parses = wasmparser::Validator::new().validate_all(&program.source).is_ok();
            let ops = wasm_operators(&program.source).unwrap_or_default();
            Tokens { normalised: ops.clone(), raw: ops, parses }
        }
        Language::Wasm => {
            let src = String::from_utf8_lossy(&program.source);
            let parses = wat::parse_str(src.as_ref()).is_ok_and(|bin| wasmparser::Validator::new().validate_all(&bin).is_ok());
            let lexemes = lex_wat(&src);
            Tokens { normalised: normalise(&lexemes, &[]), raw: lexemes.into_iter().map(|(_, t)| t).collect(), parses }
        }
    }
}
