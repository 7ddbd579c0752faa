//! Explaining program errors to children: pure functions from (source text, engine error) to a [`Diagnostic`].
//!
//! The engines' own messages (`Function not found: colour (&str | ImmutableString
//! | String)`, `Expecting ';' to terminate this statement`) are written for Rust
//! programmers and stay in `ProgramError::message` for teachers. A diagnostic is
//! what a child reads: a stable `code`, one sentence in zh-CN and en, the line and
//! column to look at, and what to try.
//!
//! Rhai misdiagnoses text typed with a Chinese input method (`motors（0.5，0.5）；`
//! reports `Undefined variable: motors`), so on a compile error the source is
//! scanned for full-width punctuation, invisible characters, Chinese names,
//! reserved words and other languages' syntax *before* Rhai's message is
//! trusted. Everything here is deterministic: candidate lists are slices, ties
//! go to the first candidate.

use serde::Serialize;

/// A sentence in both of Qiming's languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    #[serde(rename = "zh-CN")]
    pub zh: String,
    pub en: String,
}

impl Message {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Message { zh: zh.into(), en: en.into() }
    }
}

/// What a child is shown about a problem in their program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code, e.g. `chinese_punctuation`, `unknown_function`, `missing_semicolon`
    /// (all codes are listed in docs/programs.md).
    pub code: &'static str,
    /// What is wrong, in words a ten-year-old understands.
    pub explanation: Message,
    /// What to try, when there is something specific to suggest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Message>,
    /// 1-based line the child should look at, when known.
    pub line: Option<u32>,
    /// 1-based column (in characters), when known.
    pub column: Option<u32>,
}

impl Diagnostic {
    fn new(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Diagnostic { code, explanation: Message::new(zh, en), suggestion: None, line: None, column: None }
    }
    fn suggest(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.suggestion = Some(Message::new(zh, en));
        self
    }
    pub(crate) fn at(mut self, line: Option<u32>, column: Option<u32>) -> Self {
        self.line = line;
        self.column = column;
        self
    }
    fn at_pos(self, (line, column): (u32, u32)) -> Self {
        self.at(Some(line), Some(column))
    }
    /// Keeps a position already set; otherwise uses the given one.
    pub(crate) fn or_at(self, line: Option<u32>, column: Option<u32>) -> Self {
        if self.line.is_some() { self } else { self.at(line, column) }
    }

    /// The generic explanation for an error nobody wrote a better one for.
    pub fn generic(kind: crate::ErrorKind) -> Self {
        match kind {
            crate::ErrorKind::Compile => {
                Diagnostic::new("syntax_error", "这里的写法程序看不懂，所以程序没能运行。", "The program could not be understood here, so it did not run.")
                    .suggest(
                        "检查这一行和上一行的括号、引号、分号是否成对、是否都是英文符号。",
                        "Check the brackets, quotes and semicolons on this line and the one before: are they in pairs, and typed in English?",
                    )
            }
            crate::ErrorKind::Link => Diagnostic::new(
                "link_error",
                "程序用到了 Qiming 没有提供的东西，所以没能开始运行。",
                "The program uses something Qiming does not provide, so it could not start.",
            ),
            crate::ErrorKind::Runtime => Diagnostic::new("runtime_error", "程序运行到这里时出错停下了。", "The program stopped with an error here.").suggest(
                "看看这一行用到的值是不是你想的那样，可以先用 print() 打印出来。",
                "Check that the values used on this line are what you expect: print() them first.",
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// What students may call, and the names they pass.

/// The robot functions (and print): name, number of arguments, signature.
pub(crate) const API: &[(&str, usize, &str)] = &[
    ("motors", 2, "motors(left, right)"),
    ("stop", 0, "stop()"),
    ("wait", 1, "wait(seconds)"),
    ("forward", 1, "forward(metres)"),
    ("turn", 1, "turn(degrees)"),
    ("distance", 1, "distance(\"front\")"),
    ("line", 1, "line(\"center\")"),
    ("color", 1, "color(\"floor\")"),
    ("bumper", 1, "bumper(\"front\")"),
    ("heading", 0, "heading()"),
    ("time", 0, "time()"),
    ("print", 1, "print(value)"),
    ("camera", 0, "camera()"),
    ("pixel", 3, "pixel(image, x, y)"),
    ("classify", 1, "classify(camera())"),
    ("labels", 0, "labels()"),
    ("record", 1, "record(\"stop\")"),
];

/// Signatures in Chinese, in the order of [`API`].
const API_ZH: &[&str] = &[
    "motors(左轮速度, 右轮速度)",
    "stop()",
    "wait(秒数)",
    "forward(米数)",
    "turn(角度)",
    "distance(\"front\")",
    "line(\"center\")",
    "color(\"floor\")",
    "bumper(\"front\")",
    "heading()",
    "time()",
    "print(要打印的值)",
    "camera()",
    "pixel(图像, x, y)",
    "classify(camera())",
    "labels()",
    "record(\"类别名\")",
];

/// Everyday Rhai functions worth suggesting besides the robot's.
const COMMON: &[&str] = &["abs", "sqrt", "floor", "ceiling", "round", "min", "max", "sin", "cos", "len", "push", "to_string", "to_int", "to_float"];

/// The starter bot's sensor names (scenarios may add others; the robot says which it has).
const SENSOR_NAMES: &[&str] = &["front", "left", "right", "center", "floor"];

/// Colour names `color()` returns.
pub(crate) const COLOURS: &[&str] = &["white", "black", "red", "green", "blue", "yellow", "orange", "purple", "gray", "brown", "cyan", "pink"];

/// Rhai's reserved words that students naturally reach for, with what to use instead.
const RESERVED: &[(&str, &str, &str)] = &[
    ("go", "换一个名字，比如 go_on 或 can_go", "pick another name, like go_on or can_go"),
    ("var", "定义变量用 let，比如 let speed = 0.5;", "declare variables with let, like let speed = 0.5;"),
    ("match", "换一个名字，比如 matched；要按值选择分支可以用 switch 或 if", "pick another name, like matched; to choose by value use switch or if"),
    ("case", "换一个名字；Rhai 的 switch 写成 switch x { 1 => …, _ => … }", "pick another name; Rhai's switch is written switch x { 1 => …, _ => … }"),
    (
        "default",
        "换一个名字，比如 default_speed；switch 里的“其他情况”写成 _ => …",
        "pick another name, like default_speed; in a switch the other cases are _ => …",
    ),
    ("new", "换一个名字，比如 new_speed", "pick another name, like new_speed"),
    ("null", "Rhai 里没有 null；表示“没有值”用 ()", "Rhai has no null; “no value” is written ()"),
    ("nil", "Rhai 里没有 nil；表示“没有值”用 ()", "Rhai has no nil; “no value” is written ()"),
    ("goto", "用 loop、while、break 来控制流程", "use loop, while and break instead"),
    ("static", "换一个名字；定义常量用 const", "pick another name; constants are declared with const"),
    ("public", "换一个名字", "pick another name"),
    ("protected", "换一个名字", "pick another name"),
    ("private", "换一个名字", "pick another name"),
    ("shared", "换一个名字", "pick another name"),
    ("spawn", "换一个名字", "pick another name"),
    ("thread", "换一个名字", "pick another name"),
    ("sync", "换一个名字", "pick another name"),
    ("async", "换一个名字", "pick another name"),
    ("await", "换一个名字", "pick another name"),
    ("yield", "换一个名字", "pick another name"),
    ("void", "换一个名字", "pick another name"),
    ("with", "换一个名字", "pick another name"),
    ("use", "换一个名字", "pick another name"),
    ("super", "换一个名字", "pick another name"),
    ("module", "换一个名字", "pick another name"),
    ("package", "换一个名字", "pick another name"),
    ("import", "Qiming 的程序不能导入模块：所有机器人函数都可以直接用", "Qiming programs cannot import modules: every robot function is already there"),
    ("export", "Qiming 的程序不能导出模块", "Qiming programs cannot export modules"),
];

/// Rhai's reserved words, for docs and tests.
pub fn reserved_words() -> impl Iterator<Item = &'static str> {
    RESERVED.iter().map(|r| r.0)
}

// ---------------------------------------------------------------------------
// Words for values, instead of Rust type names.

/// A type as Rhai names it (`i64`, `&str | ImmutableString | String`, `f64`, `()`…) in child words.
fn type_words(t: &str) -> (&'static str, &'static str) {
    let t = t.trim();
    if t.contains("str") || t.contains("String") || t == "string" {
        ("文字", "text")
    } else if t == "i64" || t == "i32" || t.eq_ignore_ascii_case("int") || t == "integer" {
        ("整数", "a whole number")
    } else if t == "f64" || t == "f32" || t.eq_ignore_ascii_case("float") || t == "decimal" {
        ("小数", "a decimal number")
    } else if t == "bool" {
        ("真假值（true 或 false）", "true or false")
    } else if t.contains("array") || t.contains("Array") || t.starts_with("Vec") {
        ("数组", "an array")
    } else if t.contains("map") || t.contains("Map") {
        ("对象映射", "a map")
    } else if t == "()" || t.is_empty() {
        ("空值（没有值）", "nothing (no value)")
    } else if t == "char" {
        ("一个字符", "a character")
    } else if t.contains("Fn") {
        ("函数", "a function")
    } else if t.contains("ange") {
        ("范围", "a range")
    } else if t.contains("blob") || t.contains("Blob") {
        ("字节串", "bytes")
    } else {
        ("一个值", "a value")
    }
}

fn type_words_en_article(t: &str) -> &'static str {
    match type_words(t).1 {
        "text" => "text",
        other => other,
    }
}

// ---------------------------------------------------------------------------
// A tolerant lexer: enough of Rhai's (and other languages') shape to point at things.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    Str,
    Punct,
    /// A character Rhai does not accept outside strings and comments.
    Other,
}

#[derive(Clone, Debug)]
struct Tok<'a> {
    kind: Kind,
    text: &'a str,
    line: u32,
    col: u32,
    /// Position just after the token's last character.
    end: (u32, u32),
    /// A string literal with no closing quote on its line.
    unterminated: bool,
}

impl Tok<'_> {
    fn pos(&self) -> (u32, u32) {
        (self.line, self.col)
    }
    fn is(&self, text: &str) -> bool {
        matches!(self.kind, Kind::Ident | Kind::Punct) && self.text == text
    }
}

const PUNCT3: &[&str] = &["===", "!==", "..=", "<<=", ">>="];
const PUNCT2: &[&str] =
    &["==", "!=", "<=", ">=", "&&", "||", "++", "--", "+=", "-=", "*=", "/=", "%=", "..", "=>", "->", "::", "**", "<<", ">>", "|=", "&=", "^=", "#{"];

fn lex(source: &str) -> Vec<Tok<'_>> {
    let chars: Vec<(usize, char)> = source.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(source.len(), |c| c.0);
    let mut toks = Vec::new();
    let (mut line, mut col) = (1u32, 1u32);
    let mut i = 0;
    // Advances over chars[i..j], keeping line and column.
    let advance = |i: &mut usize, j: usize, line: &mut u32, col: &mut u32| {
        while *i < j {
            if chars[*i].1 == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            *i += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i].1;
        let next = chars.get(i + 1).map(|c| c.1);
        let start = (line, col);
        let mut j = i + 1;
        let kind;
        let mut unterminated = false;
        if c == '\n' || c == '\r' || c == '\t' || c == ' ' {
            advance(&mut i, j, &mut line, &mut col);
            continue;
        } else if c == '/' && next == Some('/') {
            while j < chars.len() && chars[j].1 != '\n' {
                j += 1;
            }
            advance(&mut i, j, &mut line, &mut col);
            continue;
        } else if c == '/' && next == Some('*') {
            let mut depth = 1;
            j = i + 2;
            while j < chars.len() && depth > 0 {
                if chars[j].1 == '*' && chars.get(j + 1).map(|c| c.1) == Some('/') {
                    depth -= 1;
                    j += 2;
                } else if chars[j].1 == '/' && chars.get(j + 1).map(|c| c.1) == Some('*') {
                    depth += 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            advance(&mut i, j, &mut line, &mut col);
            continue;
        } else if c == '"' || c == '\'' || c == '`' {
            kind = Kind::Str;
            unterminated = true;
            while j < chars.len() {
                let d = chars[j].1;
                if d == '\\' {
                    j += 2;
                    continue;
                }
                if d == c {
                    j += 1;
                    unterminated = false;
                    break;
                }
                if d == '\n' && c != '`' {
                    break;
                }
                j += 1;
            }
            j = j.min(chars.len());
        } else if c.is_ascii_alphabetic() || c == '_' {
            kind = Kind::Ident;
            while j < chars.len() && (chars[j].1.is_ascii_alphanumeric() || chars[j].1 == '_') {
                j += 1;
            }
        } else if c.is_ascii_digit() {
            kind = Kind::Number;
            while j < chars.len() {
                let d = chars[j].1;
                let dot_dot = d == '.' && chars.get(j + 1).map(|c| c.1) == Some('.');
                if (d.is_ascii_alphanumeric() || d == '_' || d == '.') && !dot_dot {
                    j += 1;
                } else {
                    break;
                }
            }
        } else if c.is_ascii_punctuation() {
            kind = Kind::Punct;
            let rest = &source[chars[i].0..];
            j = i + PUNCT3.iter().chain(PUNCT2).find(|p| rest.starts_with(**p)).map_or(1, |p| p.len());
        } else {
            kind = Kind::Other;
        }
        let text = &source[chars[i].0..byte_at(j)];
        advance(&mut i, j, &mut line, &mut col);
        toks.push(Tok { kind, text, line: start.0, col: start.1, end: (line, col), unterminated });
    }
    toks
}

/// How far ahead a pattern looks from its first token: keeps every scan of
/// untrusted source linear (a program of 64 KiB of `fn fn fn …` must not make
/// the explanation quadratic).
const LOOKAHEAD: usize = 64;

/// Which tokens are inside a function body (`fn name(…) { … }`), by index.
fn in_fn_body(toks: &[Tok]) -> Vec<bool> {
    let mut inside = vec![false; toks.len()];
    let mut depth = 0i32;
    let mut fn_depth: Option<i32> = None;
    let mut pending_fn = false;
    for (i, t) in toks.iter().enumerate() {
        if t.is("fn") {
            pending_fn = true;
        }
        if t.is("{") || t.is("#{") {
            depth += 1;
            if pending_fn && fn_depth.is_none() && t.is("{") {
                fn_depth = Some(depth);
                pending_fn = false;
            }
        }
        inside[i] = fn_depth.is_some();
        if t.is("}") {
            if fn_depth == Some(depth) {
                fn_depth = None;
            }
            depth -= 1;
        }
    }
    inside
}

/// Names the program declares: (name, declared at top level outside functions).
fn declared(toks: &[Tok]) -> Vec<(String, bool)> {
    let inside = in_fn_body(toks);
    let mut names = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if (t.is("let") || t.is("const")) && toks.get(i + 1).is_some_and(|n| n.kind == Kind::Ident) {
            names.push((toks[i + 1].text.to_string(), !inside[i]));
        } else if t.is("fn") {
            // Function name and its parameters.
            let mut j = i + 1;
            while j < toks.len().min(i + LOOKAHEAD) && !toks[j].is("{") && !toks[j].is(";") {
                if toks[j].kind == Kind::Ident {
                    names.push((toks[j].text.to_string(), false));
                }
                j += 1;
            }
        } else if t.is("for") {
            let mut j = i + 1;
            while j < toks.len().min(i + LOOKAHEAD) && !toks[j].is("in") && !toks[j].is("{") {
                if toks[j].kind == Kind::Ident {
                    names.push((toks[j].text.to_string(), false));
                }
                j += 1;
            }
        } else if t.is("|") {
            // Closure parameters: |a, b|
            let mut j = i + 1;
            while j < toks.len() && (toks[j].kind == Kind::Ident || toks[j].is(",")) {
                if toks[j].kind == Kind::Ident {
                    names.push((toks[j].text.to_string(), false));
                }
                j += 1;
            }
        }
        i += 1;
    }
    names
}

fn is_declared(decls: &[(String, bool)], name: &str) -> bool {
    decls.iter().any(|(n, _)| n == name)
}

/// The token starting at a position, and its index.
fn token_at(toks: &[Tok], line: Option<u32>, col: Option<u32>) -> Option<usize> {
    let (l, c) = (line?, col?);
    toks.iter().position(|t| t.line == l && t.col == c).or_else(|| toks.iter().position(|t| (t.line, t.col) >= (l, c)))
}

/// The last token that starts before a position.
fn token_before(toks: &[Tok], line: u32, col: u32) -> Option<usize> {
    toks.iter().rposition(|t| (t.line, t.col) < (line, col))
}

// ---------------------------------------------------------------------------
// Suggestions by edit distance (optimal string alignment, like CPython's).

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The nearest candidate, if near enough to be a likely typo (case is ignored).
fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let max = (lower.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let d = edit_distance(&lower, &c.to_lowercase());
        if d <= max && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|b| b.1)
}

fn api(name: &str) -> Option<usize> {
    API.iter().position(|a| a.0 == name)
}

fn did_you_mean(name: &str) -> (String, String) {
    (format!("你是不是想写 `{name}`？"), format!("Did you mean `{name}`?"))
}

fn api_list_zh() -> String {
    API.iter().map(|a| a.0).collect::<Vec<_>>().join("、")
}
fn api_list_en() -> String {
    API.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------
// Characters typed with a Chinese input method, and invisible ones.

/// Full-width punctuation and what to type instead.
const FULL_WIDTH: &[(char, &str)] = &[
    ('（', "("),
    ('）', ")"),
    ('，', ","),
    ('；', ";"),
    ('：', ":"),
    ('“', "\""),
    ('”', "\""),
    ('‘', "'"),
    ('’', "'"),
    ('。', "."),
    ('．', "."),
    ('！', "!"),
    ('？', "?"),
    ('＝', "="),
    ('＋', "+"),
    ('－', "-"),
    ('＊', "*"),
    ('／', "/"),
    ('＜', "<"),
    ('＞', ">"),
    ('《', "<"),
    ('》', ">"),
    ('【', "["),
    ('】', "]"),
    ('［', "["),
    ('］', "]"),
    ('｛', "{"),
    ('｝', "}"),
    ('、', ","),
    ('＆', "&"),
    ('｜', "|"),
    ('％', "%"),
    ('＃', "#"),
    ('·', "`"),
    ('￥', "$"),
    ('…', "..."),
    ('—', "-"),
];

/// Characters that are there but cannot be seen, with their names.
const INVISIBLE: &[(char, &str, &str)] = &[
    ('\u{200B}', "零宽空格", "zero-width space"),
    ('\u{200C}', "零宽不连字", "zero-width non-joiner"),
    ('\u{200D}', "零宽连字", "zero-width joiner"),
    ('\u{2060}', "零宽不换行空格", "word joiner"),
    ('\u{FEFF}', "零宽不换行空格（BOM）", "zero-width no-break space (BOM)"),
    ('\u{00A0}', "不换行空格", "no-break space"),
    ('\u{00AD}', "软连字符", "soft hyphen"),
    ('\u{200E}', "从左到右标记", "left-to-right mark"),
    ('\u{200F}', "从右到左标记", "right-to-left mark"),
];

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF)
}

/// How a character looks in a message: itself if visible, else its code point.
fn visible(c: char) -> String {
    if c.is_control() || c.is_whitespace() || INVISIBLE.iter().any(|i| i.0 == c) { format!("U+{:04X}", c as u32) } else { c.to_string() }
}

/// The first character outside strings and comments that Rhai cannot read, explained.
fn scan_characters(toks: &[Tok]) -> Option<Diagnostic> {
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.kind != Kind::Other {
            i += 1;
            continue;
        }
        let c = t.text.chars().next().unwrap_or(' ');
        if let Some((_, ascii)) = FULL_WIDTH.iter().find(|f| f.0 == c) {
            let shown = if c == '“' || c == '”' { format!("{c}") } else { c.to_string() };
            return Some(
                Diagnostic::new(
                    "chinese_punctuation",
                    format!("这里用了中文标点“{shown}”，请换成英文的 {ascii}"),
                    format!("This is a Chinese (full-width) punctuation mark “{shown}”: type the English {ascii} instead."),
                )
                .suggest(
                    "写程序时先把输入法切换到英文（按 Shift 键），再输入括号、逗号、分号和引号。",
                    "Switch your input method to English (press Shift) before typing brackets, commas, semicolons and quotes.",
                )
                .at_pos(t.pos()),
            );
        }
        if c == '\u{3000}' {
            return Some(
                Diagnostic::new(
                    "fullwidth_space",
                    "这里有一个中文全角空格（U+3000），程序看不懂它，请换成普通的英文空格。",
                    "There is a Chinese full-width space (U+3000) here: replace it with an ordinary space.",
                )
                .suggest("把输入法切换到英文后重新输入这个空格。", "Switch your input method to English and type the space again.")
                .at_pos(t.pos()),
            );
        }
        if let Some((_, zh, en)) = INVISIBLE.iter().find(|v| v.0 == c) {
            return Some(
                Diagnostic::new(
                    "invisible_character",
                    format!("这里有一个看不见的字符：[{}，{zh}]。它常常是从网页或聊天软件复制代码时带进来的。", visible(c)),
                    format!(
                        "There is an invisible character here: [{}, {en}]. It often comes along when code is copied from a web page or a chat.",
                        visible(c)
                    ),
                )
                .suggest("把这个位置前后的空格删掉再重新输入。", "Delete the spaces around this spot and type them again.")
                .at_pos(t.pos()),
            );
        }
        if is_cjk(c) {
            // The whole name: Chinese characters and any letters or digits next to them.
            let mut name = String::new();
            let mut j = i;
            let mut end = t.end;
            while j < toks.len()
                && (toks[j].kind == Kind::Other && toks[j].text.chars().all(is_cjk) || toks[j].kind == Kind::Ident || toks[j].kind == Kind::Number)
                && (j == i || toks[j].pos() == end)
            {
                name.push_str(toks[j].text);
                end = toks[j].end;
                j += 1;
            }
            return Some(
                Diagnostic::new(
                    "chinese_identifier",
                    format!("“{name}”是中文名字。变量名和函数名只能用英文字母、数字和下划线 _。"),
                    format!("“{name}” is a Chinese name. Names of variables and functions may use only English letters, digits and _."),
                )
                .suggest(
                    "换成英文或拼音名字，比如 speed 或 sudu；中文可以写在 // 注释里或 \"引号\" 里。",
                    "Use an English or pinyin name, like speed or sudu; Chinese is fine in // comments and inside \"quotes\".",
                )
                .at_pos(t.pos()),
            );
        }
        if c.is_whitespace() {
            return Some(
                Diagnostic::new(
                    "invisible_character",
                    format!("这里有一个特殊的空格：[{}]。程序只认识普通空格。", visible(c)),
                    format!("There is an unusual space here: [{}]. Programs only understand ordinary spaces.", visible(c)),
                )
                .suggest("把这个空格删掉再重新输入。", "Delete this space and type it again.")
                .at_pos(t.pos()),
            );
        }
        if !c.is_ascii() {
            return Some(
                Diagnostic::new(
                    "unexpected_character",
                    format!("这里有一个程序看不懂的字符“{}”（{}）。", visible(c), format_args!("U+{:04X}", c as u32)),
                    format!("There is a character the program cannot read here: “{}” (U+{:04X}).", visible(c), c as u32),
                )
                .suggest("把它删掉，或者换成英文键盘上的字符。", "Delete it or replace it with a character from an English keyboard.")
                .at_pos(t.pos()),
            );
        }
        i += 1;
    }
    None
}

// ---------------------------------------------------------------------------
// Other languages' habits and Rhai's reserved words.

fn reserved_word(word: &str, pos: (u32, u32)) -> Option<Diagnostic> {
    let (_, zh, en) = RESERVED.iter().find(|r| r.0 == word)?;
    Some(
        Diagnostic::new(
            "reserved_word",
            format!("`{word}` 是 Rhai 保留的词，不能用作变量名或函数名。"),
            format!("`{word}` is a word Rhai keeps for itself: it cannot be the name of a variable or function."),
        )
        .suggest(
            if zh.ends_with(';') { zh.to_string() } else { format!("{zh}。") },
            format!("{}{}{}", en[..1].to_uppercase(), &en[1..], if en.ends_with(';') { "" } else { "." }),
        )
        .at_pos(pos),
    )
}

/// The first place the program uses Python, JavaScript or C syntax, or a reserved word.
fn scan_foreign(toks: &[Tok], decls: &[(String, bool)]) -> Option<Diagnostic> {
    let undeclared = |t: &Tok| t.kind == Kind::Ident && !is_declared(decls, t.text);
    for (i, t) in toks.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &toks[p]);
        let next = toks.get(i + 1);
        let after_dot = prev.is_some_and(|p| p.is("."));
        let line_start = prev.is_none_or(|p| p.end.0 < t.line);
        if t.is("#") && !next.is_some_and(|n| n.is("{") && n.pos() == t.end) {
            return Some(
                Diagnostic::new("python_comment", "Rhai 的注释不用 #，要用 //。", "Comments in Rhai start with //, not #.")
                    .suggest("把 # 换成 //，比如 // 向前开", "Replace # with //, like // drive forward")
                    .at_pos(t.pos()),
            );
        }
        if t.kind == Kind::Ident
            && !after_dot
            && let Some(d) = reserved_word(t.text, t.pos())
        {
            return Some(d);
        }
        if t.kind == Kind::Ident && after_dot {
            continue;
        }
        match t.text {
            "elif" if undeclared(t) => {
                return Some(
                    Diagnostic::new("python_elif", "Rhai 里没有 elif，要写成 else if。", "Rhai has no elif: write else if.")
                        .suggest("} elif x { 改成 } else if x {", "Change } elif x { to } else if x {")
                        .at_pos(t.pos()),
                );
            }
            "and" | "or" | "not" if undeclared(t) => {
                let (sym, zh, en) = match t.text {
                    "and" => ("&&", "并且", "and"),
                    "or" => ("||", "或者", "or"),
                    _ => ("!", "不是", "not"),
                };
                return Some(
                    Diagnostic::new(
                        "python_operator",
                        format!("Rhai 里“{zh}”不写 {}，要写 {sym}。", t.text),
                        format!("In Rhai, “{en}” is written {sym}, not {}.", t.text),
                    )
                    .suggest(format!("把 {} 换成 {sym}", t.text), format!("Replace {} with {sym}", t.text))
                    .at_pos(t.pos()),
                );
            }
            "True" | "False" | "None" if undeclared(t) => {
                let want = match t.text {
                    "True" => "true",
                    "False" => "false",
                    _ => "()",
                };
                return Some(
                    Diagnostic::new(
                        "python_constant",
                        format!("Rhai 里要写 {want}（小写），不是 Python 的 {}。", t.text),
                        format!("In Rhai this is written {want} (lower case), not Python's {}.", t.text),
                    )
                    .suggest(format!("把 {} 换成 {want}", t.text), format!("Replace {} with {want}", t.text))
                    .at_pos(t.pos()),
                );
            }
            "def" | "function" | "func" | "void" if undeclared(t) && next.is_some_and(|n| n.kind == Kind::Ident) => {
                return Some(
                    Diagnostic::new(
                        "function_keyword",
                        format!("Rhai 定义函数用 fn，不用 {}。", t.text),
                        format!("Rhai defines functions with fn, not {}.", t.text),
                    )
                    .suggest(
                        "写成 fn 名字(参数) { … }，比如 fn drive(speed) { motors(speed, speed); }",
                        "Write fn name(parameters) { … }, like fn drive(speed) { motors(speed, speed); }",
                    )
                    .at_pos(t.pos()),
                );
            }
            "console" if next.is_some_and(|n| n.is(".")) && toks.get(i + 2).is_some_and(|n| n.text == "log") => {
                return Some(
                    Diagnostic::new("js_console_log", "Rhai 里打印用 print()，没有 console.log。", "Rhai prints with print(); there is no console.log.")
                        .suggest("把 console.log(…) 换成 print(…)", "Replace console.log(…) with print(…)")
                        .at_pos(t.pos()),
                );
            }
            "for" if next.is_some_and(|n| n.is("(")) => {
                // for (a, i) in … is Rhai; for (…; …; …) is C or JavaScript.
                let mut depth = 0;
                let mut semicolon = false;
                for u in toks[i + 1..].iter().take_while(|u| u.line == t.line) {
                    if u.is("(") {
                        depth += 1;
                    } else if u.is(")") {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    } else if u.is(";") {
                        semicolon = true;
                    }
                }
                if semicolon {
                    return Some(
                        Diagnostic::new(
                            "c_for_loop",
                            "Rhai 的 for 循环不写成 for (…; …; …)，而是 for 变量 in 范围。",
                            "Rhai's for loop is not for (…; …; …) but for variable in range.",
                        )
                        .suggest("重复 4 次写成 for i in 0..4 { … }（i 依次是 0、1、2、3）", "To repeat 4 times write for i in 0..4 { … } (i is 0, 1, 2, 3)")
                        .at_pos(t.pos()),
                    );
                }
            }
            _ => {}
        }
        // for i in 4 { … }: a count where a range is needed.
        if t.is("for")
            && toks.get(i + 2).is_some_and(|u| u.is("in"))
            && let Some(n) = toks.get(i + 3).filter(|u| u.kind == Kind::Number && toks.get(i + 4).is_some_and(|v| v.is("{")))
        {
            return Some(
                Diagnostic::new(
                    "for_needs_range",
                    "for 后面要给一个范围或数组，不能只给一个数。",
                    "for needs a range or an array to go through, not a single number.",
                )
                .suggest(format!("重复 {0} 次写成 for i in 0..{0} {{ … }}", n.text), format!("To repeat {0} times write for i in 0..{0} {{ … }}", n.text))
                .at_pos(n.pos()),
            );
        }
        if t.is("++") || t.is("--") {
            let op = &t.text[..1];
            return Some(
                Diagnostic::new("increment_operator", format!("Rhai 里没有 {} 运算符。", t.text), format!("Rhai has no {} operator.", t.text))
                    .suggest(format!("写成 i {op}= 1;"), format!("Write i {op}= 1;"))
                    .at_pos(t.pos()),
            );
        }
        if t.is("===") || t.is("!==") {
            let want = &t.text[..2];
            return Some(
                Diagnostic::new("triple_equals", format!("Rhai 比较用 {want}，不用 {}。", t.text), format!("Rhai compares with {want}, not {}.", t.text))
                    .suggest(format!("把 {} 换成 {want}", t.text), format!("Replace {} with {want}", t.text))
                    .at_pos(t.pos()),
            );
        }
        // if x > 1:   while True:   else:   — a Python block.
        if line_start && ["if", "while", "for", "else", "elif", "def", "loop"].contains(&t.text) && t.kind == Kind::Ident {
            let last = toks[i..].iter().take_while(|u| u.line == t.line).last();
            if let Some(colon) = last.filter(|u| u.is(":")) {
                return Some(
                    Diagnostic::new(
                        "python_block",
                        "Rhai 不用冒号和缩进表示代码块，要用大括号 { }。",
                        "Rhai does not mark blocks with a colon and indentation: use braces { }.",
                    )
                    .suggest("写成 if x > 1 { … }，把要做的事放在 { 和 } 之间", "Write if x > 1 { … }, with what to do between { and }")
                    .at_pos(colon.pos()),
                );
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Rhai compile errors.

/// Explains a Rhai compile error. `message` is Rhai's text, `position` its (line, column).
pub(crate) fn rhai_compile(source: &str, error: &rhai::ParseErrorType, line: Option<u32>, column: Option<u32>) -> Diagnostic {
    use rhai::{LexError, ParseErrorType as P};
    let toks = lex(source);
    if let Some(d) = scan_characters(&toks) {
        return d;
    }
    let decls = declared(&toks);
    if let Some(d) = scan_foreign(&toks, &decls) {
        return d;
    }
    let at = token_at(&toks, line, column);
    let d = match error {
        P::Reserved(word) => reserved_word(word, (line.unwrap_or(1), column.unwrap_or(1))),
        P::VariableUndefined(name) => Some(undefined_variable(&toks, &decls, name, at)),
        P::MissingToken(token, _) if token == ";" => missing_semicolon(&toks, line, column),
        P::MissingToken(token, _) if token == "}" || token == ")" || token == "]" => unclosed(&toks, token),
        // motors(0.5, 0.5;  — Rhai expects another argument; the bracket is what is missing.
        P::MissingToken(token, _) if token == "," => unclosed(&toks, ")").or_else(|| unclosed(&toks, "]")),
        P::MissingToken(token, _) if token == "{" => Some(missing_braces(&toks, at)),
        P::MissingToken(token, _) => Some(Diagnostic::new("missing_symbol", format!("这里少了一个 {token}。"), format!("A {token} is missing here."))),
        P::BadInput(LexError::UnterminatedString) => Some(
            Diagnostic::new("unterminated_string", "这段文字没有结束：少了后面的引号 \"。", "This text never ends: the closing quote \" is missing.")
                .suggest("文字要放在一对英文双引号之间，比如 \"front\"。", "Text goes between a pair of English double quotes, like \"front\"."),
        ),
        P::BadInput(LexError::MalformedNumber(n)) => Some(
            Diagnostic::new("bad_number", format!("“{n}”不是一个正确的数字。"), format!("“{n}” is not a proper number."))
                .suggest("小数写成 0.5 这样：只有一个小数点。", "Write decimals like 0.5, with one decimal point."),
        ),
        P::BadInput(LexError::ImproperSymbol(s, _)) if s == "=" => Some(
            Diagnostic::new(
                "assign_in_condition",
                "条件里要比较是否相等，用两个等号 ==；一个等号 = 是“赋值”。",
                "To compare in a condition use two equals signs ==; a single = means “set to”.",
            )
            .suggest("写成 if x == 5 { … }", "Write if x == 5 { … }"),
        ),
        P::BadInput(LexError::ImproperSymbol(s, _)) | P::BadInput(LexError::UnexpectedInput(s)) => {
            let shown: String = s.chars().map(visible).collect();
            Some(Diagnostic::new("unexpected_symbol", format!("程序看不懂这里的“{shown}”。"), format!("The program does not understand “{shown}” here.")))
        }
        P::AssignmentToInvalidLHS(_) | P::AssignmentToConstant(_)
            if at.is_some_and(|i| toks[..i].iter().rev().take_while(|t| !t.is(";") && !t.is("{") && !t.is("}")).any(|t| t.is("if") || t.is("while"))) =>
        {
            Some(
                Diagnostic::new(
                    "assign_in_condition",
                    "条件里要比较是否相等，用两个等号 ==；一个等号 = 是“赋值”。",
                    "To compare in a condition use two equals signs ==; a single = means “set to”.",
                )
                .suggest("写成 if x == 5 { … }", "Write if x == 5 { … }"),
            )
        }
        P::AssignmentToConstant(name) => Some(
            Diagnostic::new(
                "assign_to_constant",
                format!("{name} 是用 const 定义的常量，不能再改变它的值。"),
                format!("{name} was declared with const, so its value cannot change."),
            )
            .suggest("要改变的值用 let 定义。", "Declare values that change with let."),
        ),
        P::AssignmentToInvalidLHS(_) => Some(Diagnostic::new("cannot_assign", "等号 = 左边必须是一个变量名。", "The left side of = must be a variable name.")),
        P::ExprExpected(_) | P::UnexpectedEOF => Some(
            Diagnostic::new(
                "value_expected",
                "这里缺少一个值，比如数字、变量或函数调用。",
                "A value is missing here, like a number, a variable or a function call.",
            )
            .suggest("看看 = 或运算符后面是不是漏写了东西。", "Check for something left out after = or an operator."),
        ),
        P::WrongFnDefinition => Some(
            Diagnostic::new(
                "function_in_block",
                "函数只能在程序的最外层定义，不能写在 if、loop 或别的函数里面。",
                "Functions can only be defined at the outermost level of the program, not inside if, loop or another function.",
            )
            .suggest("把 fn … { … } 移到程序开头。", "Move the fn … { … } to the start of the program."),
        ),
        P::FnDuplicatedDefinition(name, n) => Some(
            Diagnostic::new(
                "duplicate_function",
                format!("函数 {name}（{n} 个参数）定义了两次。"),
                format!("The function {name} (with {n} parameters) is defined twice."),
            )
            .suggest("删掉一个，或者给它们起不同的名字。", "Delete one, or give them different names."),
        ),
        P::FnMissingName | P::FnMissingParams(_) | P::FnMissingBody(_) => Some(
            Diagnostic::new("bad_function", "函数的写法不完整。", "This function definition is incomplete.")
                .suggest("写成 fn 名字(参数) { … }", "Write fn name(parameters) { … }"),
        ),
        P::LoopBreak => {
            Some(Diagnostic::new("break_outside_loop", "break 和 continue 只能用在循环里面。", "break and continue can only be used inside a loop."))
        }
        P::DuplicatedVariable(name) => Some(Diagnostic::new("duplicate_name", format!("{name} 在这里重复了。"), format!("{name} is repeated here."))),
        P::ForbiddenVariable(name) => reserved_word(name, (1, 1)).map(|d| d.at(None, None)).or_else(|| {
            Some(
                Diagnostic::new("reserved_word", format!("`{name}` 不能用作名字。"), format!("`{name}` cannot be used as a name."))
                    .suggest("换一个名字。", "Pick another name."),
            )
        }),
        P::VariableExists(name) => Some(Diagnostic::new("duplicate_name", format!("{name} 已经定义过了。"), format!("{name} is already defined."))),
        P::UnknownOperator(op) => Some(Diagnostic::new("unknown_operator", format!("Rhai 里没有 {op} 这个运算符。"), format!("Rhai has no {op} operator."))),
        _ => None,
    };
    d.unwrap_or_else(|| Diagnostic::generic(crate::ErrorKind::Compile)).or_at(line, column)
}

fn missing_semicolon(toks: &[Tok], line: Option<u32>, column: Option<u32>) -> Option<Diagnostic> {
    let before = token_before(toks, line?, column?)?;
    let prev = &toks[before];
    Some(
        Diagnostic::new("missing_semicolon", "这一句的末尾少了分号 ;", "This statement is missing a semicolon ; at its end.")
            .suggest(format!("在 {} 后面加上 ;", prev.text), format!("Add ; after {}", prev.text))
            .at_pos(prev.end),
    )
}

/// A bracket with no partner: points at the opening one.
fn unclosed(toks: &[Tok], closer: &str) -> Option<Diagnostic> {
    let opener = match closer {
        "}" => "{",
        ")" => "(",
        _ => "[",
    };
    let mut stack: Vec<&Tok> = Vec::new();
    let mut found = None;
    for t in toks {
        if t.is("{") || t.is("#{") || t.is("(") || t.is("[") {
            stack.push(t);
        } else if t.is("}") || t.is(")") || t.is("]") {
            match stack.last() {
                Some(o) if pair(o.text) == t.text => {
                    stack.pop();
                }
                Some(o) => {
                    // A closer that does not match: the opener is the unclosed one.
                    found = Some(*o);
                    break;
                }
                None => {}
            }
        }
    }
    let open = found.or_else(|| stack.iter().rev().find(|o| pair(o.text) == closer).copied())?;
    let (zh_what, en_what) = match opener {
        "{" => ("大括号", "brace"),
        "(" => ("括号", "bracket"),
        _ => ("方括号", "square bracket"),
    };
    let code = if closer == "}" {
        "missing_close_brace"
    } else if closer == ")" {
        "missing_close_paren"
    } else {
        "missing_close_bracket"
    };
    Some(
        Diagnostic::new(
            code,
            format!("第 {} 行的{zh_what} {} 没有配对的 {closer}。", open.line, open.text),
            format!("The {en_what} {} on line {} has no matching {closer}.", open.text, open.line),
        )
        .suggest(format!("在这一块结束的地方加上 {closer}。"), format!("Add {closer} where this part ends."))
        .at_pos(open.pos()),
    )
}

fn pair(open: &str) -> &'static str {
    match open {
        "(" => ")",
        "[" => "]",
        _ => "}",
    }
}

fn missing_braces(toks: &[Tok], at: Option<usize>) -> Diagnostic {
    let keyword = at.and_then(|i| toks[..i].iter().rev().find(|t| ["if", "while", "loop", "for", "else", "fn"].contains(&t.text))).map_or("if", |t| t.text);
    Diagnostic::new("missing_braces", format!("{keyword} 后面要做的事必须放在大括号 {{ }} 里面。"), format!("What {keyword} does must go inside braces {{ }}."))
        .suggest("写成 if d < 0.2 { stop(); }", "Write if d < 0.2 { stop(); }")
}

fn undefined_variable(toks: &[Tok], decls: &[(String, bool)], name: &str, at: Option<usize>) -> Diagnostic {
    let t = at.map(|i| &toks[i]);
    let pos = t.map(|t| t.pos());
    let prev2 = at.and_then(|i| i.checked_sub(2)).map(|i| &toks[i]);
    let prev = at.and_then(|i| i.checked_sub(1)).map(|i| &toks[i]);
    let next = at.and_then(|i| toks.get(i + 1));
    let inside_fn = at.is_some_and(|i| in_fn_body(toks)[i]);
    let place = |d: Diagnostic| match pos {
        Some(p) => d.at_pos(p),
        None => d,
    };
    // distance(front): a sensor name without quotes.
    let sensor_call = prev.is_some_and(|p| p.is("(")) && prev2.is_some_and(|f| ["distance", "line", "color", "bumper"].contains(&f.text));
    if sensor_call || (SENSOR_NAMES.contains(&name) && !is_declared(decls, name)) {
        return place(
            Diagnostic::new(
                "unquoted_name",
                format!("传感器的名字是文字，要加英文双引号：\"{name}\"。"),
                format!("A sensor's name is text and needs double quotes: \"{name}\"."),
            )
            .suggest(
                format!("写成 {}(\"{name}\")", prev2.filter(|_| sensor_call).map_or("distance", |f| f.text)),
                format!("Write {}(\"{name}\")", prev2.filter(|_| sensor_call).map_or("distance", |f| f.text)),
            ),
        );
    }
    if COLOURS.contains(&name.to_lowercase().as_str()) {
        let lower = name.to_lowercase();
        return place(
            Diagnostic::new(
                "unquoted_name",
                format!("颜色的名字是文字，要加英文双引号，并且用小写：\"{lower}\"。"),
                format!("A colour's name is text: it needs double quotes and lower case, \"{lower}\"."),
            )
            .suggest(format!("写成 color(\"floor\") == \"{lower}\""), format!("Write color(\"floor\") == \"{lower}\"")),
        );
    }
    // stop;  — a robot function without its brackets.
    if let Some(k) = api(name) {
        let sig = API[k].2;
        return place(
            Diagnostic::new(
                "missing_parentheses",
                format!("{name} 是一个函数，调用它时要在后面加上括号：{}。", API_ZH[k]),
                format!("{name} is a function: call it with brackets, {sig}."),
            )
            .suggest(format!("写成 {sig}"), format!("Write {sig}")),
        );
    }
    // x = 5;  — a first assignment without let.
    if next.is_some_and(|n| n.is("=")) && !is_declared(decls, name) {
        return place(
            Diagnostic::new(
                "missing_let",
                format!("变量 {name} 还没有定义。第一次用一个变量时要写 let。"),
                format!("The variable {name} has not been declared. The first time you use a variable, write let."),
            )
            .suggest(format!("写成 let {name} = …;"), format!("Write let {name} = …;")),
        );
    }
    // A variable declared outside the function that uses it.
    if inside_fn && decls.iter().any(|(n, top)| n == name && *top) {
        return place(
            Diagnostic::new(
                "function_scope",
                format!("函数里看不到函数外面定义的变量 {name}。"),
                format!("A function cannot see the variable {name}, which is declared outside it."),
            )
            .suggest(
                format!("把 {name} 作为参数传进去（fn f({name}) {{ … }}，调用时写 f({name})），或者在函数里面用 let 定义它；不变的值可以用 const 定义。"),
                format!("Pass {name} in as a parameter (fn f({name}) {{ … }}, called as f({name})), or declare it with let inside the function; values that never change can be const."),
            ),
        );
    }
    let names: Vec<&str> = decls.iter().map(|(n, _)| n.as_str()).chain(API.iter().map(|a| a.0)).collect();
    let mut d = Diagnostic::new("undefined_variable", format!("程序里还没有叫 {name} 的变量。"), format!("There is no variable called {name} yet."));
    d = match nearest(name, names.iter().copied()) {
        Some(n) => {
            let (zh, en) = did_you_mean(n);
            d.suggest(zh, en)
        }
        None => d.suggest(format!("用之前先定义它：let {name} = …;"), format!("Declare it before using it: let {name} = …;")),
    };
    place(d)
}

// ---------------------------------------------------------------------------
// Rhai runtime errors.

/// Explains a Rhai runtime error (already unwrapped from "in function" wrappers).
pub(crate) fn rhai_runtime(source: &str, error: &rhai::EvalAltResult, line: Option<u32>, column: Option<u32>) -> Diagnostic {
    use rhai::EvalAltResult as E;
    let d = match error {
        E::ErrorFunctionNotFound(sig, _) => Some(function_not_found(source, sig)),
        E::ErrorArithmetic(msg, _) if msg.contains("zero") => Some(
            Diagnostic::new("division_by_zero", "这里除以了 0。任何数除以 0 都没有答案。", "This divides by zero, which has no answer.")
                .suggest("除之前先检查除数是不是 0，比如 if n != 0 { … }", "Check the divisor is not 0 before dividing, like if n != 0 { … }"),
        ),
        E::ErrorArithmetic(..) => Some(
            Diagnostic::new("number_too_big", "计算结果太大了（或者不是一个数），程序算不了。", "The result of this calculation is too big (or not a number).")
                .suggest("整数太大时改用小数，比如 1.0 而不是 1。", "Use decimals instead of whole numbers when they grow large, like 1.0 instead of 1."),
        ),
        E::ErrorArrayBounds(len, idx, _) => Some(
            Diagnostic::new(
                "index_out_of_range",
                format!("数组只有 {len} 个元素（编号 0 到 {}），没有编号 {idx}。", (*len as i64 - 1).max(0)),
                format!("The array has only {len} items (numbered 0 to {}), so there is no item {idx}.", (*len as i64 - 1).max(0)),
            )
            .suggest("数组的编号从 0 开始；用 a.len() 看它有多少个元素。", "Arrays count from 0; a.len() tells how many items there are."),
        ),
        E::ErrorStringBounds(len, idx, _) => Some(Diagnostic::new(
            "index_out_of_range",
            format!("这段文字只有 {len} 个字符，没有编号 {idx}。"),
            format!("The text has only {len} characters, so there is no character {idx}."),
        )),
        E::ErrorFor(_) => Some(
            Diagnostic::new(
                "for_needs_range",
                "for 后面要给一个范围或数组，不能只给一个数。",
                "for needs a range or an array to go through, not a single number.",
            )
            .suggest("重复 4 次写成 for i in 0..4 { … }", "To repeat 4 times write for i in 0..4 { … }"),
        ),
        E::ErrorMismatchDataType(want, _, _) if want == "bool" => Some(
            Diagnostic::new(
                "not_a_condition",
                "if 和 while 的条件必须是真假值（true 或 false），比如 d < 0.2。",
                "The condition of if and while must be true or false, like d < 0.2.",
            )
            .suggest("用比较写条件：==、!=、<、>、<=、>=", "Write the condition as a comparison: ==, !=, <, >, <=, >="),
        ),
        E::ErrorMismatchDataType(want, got, _) | E::ErrorMismatchOutputType(want, got, _) => {
            let (wz, we) = type_words(want);
            let (gz, ge) = type_words(got);
            Some(Diagnostic::new("wrong_type", format!("这里需要{wz}，但得到的是{gz}。"), format!("This needs {we}, but it got {ge}.")))
        }
        E::ErrorVariableNotFound(name, _) => {
            let toks = lex(source);
            let decls = declared(&toks);
            Some(undefined_variable(&toks, &decls, name, token_at(&toks, line, column)))
        }
        E::ErrorPropertyNotFound(name, _) => {
            Some(Diagnostic::new("unknown_property", format!("这里没有叫 {name} 的属性。"), format!("There is no property called {name} here.")))
        }
        E::ErrorIndexingType(..) | E::ErrorIndexNotFound(..) => {
            Some(Diagnostic::new("bad_index", "这个值不能这样用方括号 [ ] 取元素。", "This value cannot be indexed with square brackets [ ]."))
        }
        E::ErrorRuntime(value, _) => {
            let text = value.clone().into_string().unwrap_or_else(|_| value.to_string());
            Some(
                Diagnostic::new("thrown", format!("程序用 throw 停了下来，抛出的是：{text}"), format!("The program stopped itself with throw: {text}"))
                    .suggest(
                        "如果这不是你想要的，找到写 throw 的地方看看为什么会运行到那里。",
                        "If that is not what you wanted, find the throw and see why it was reached.",
                    ),
            )
        }
        _ => None,
    };
    d.unwrap_or_else(|| Diagnostic::generic(crate::ErrorKind::Runtime)).or_at(line, column)
}

/// Names of the functions the program defines, with their parameters.
fn user_functions<'a>(toks: &'a [Tok<'a>]) -> Vec<(&'a str, Vec<&'a str>)> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.is("fn") && toks.get(i + 1).is_some_and(|n| n.kind == Kind::Ident) {
            let params = toks[i + 2..].iter().take(LOOKAHEAD).skip(1).take_while(|u| !u.is(")")).filter(|u| u.kind == Kind::Ident).map(|u| u.text).collect();
            out.push((toks[i + 1].text, params));
        }
    }
    out
}

/// Functions students expect from other languages or other robots, and what to use.
const ALIASES: &[(&str, &str, &str, &str)] = &[
    ("range", "python_range", "Rhai 用 0..4 表示 0、1、2、3，不用 range(4)。", "Rhai writes 0..4 for 0, 1, 2, 3, not range(4)."),
    ("println", "unknown_function", "打印用 print(…)。", "Print with print(…)."),
    ("printf", "unknown_function", "打印用 print(…)。", "Print with print(…)."),
    ("puts", "unknown_function", "打印用 print(…)。", "Print with print(…)."),
    ("echo", "unknown_function", "打印用 print(…)。", "Print with print(…)."),
    ("log", "unknown_function", "打印用 print(…)。", "Print with print(…)."),
    ("sleep", "unknown_function", "等待用 wait(秒数)，比如 wait(0.5) 等半秒。", "Wait with wait(seconds), like wait(0.5) for half a second."),
    ("delay", "unknown_function", "等待用 wait(秒数)，比如 wait(0.5) 等半秒。", "Wait with wait(seconds), like wait(0.5) for half a second."),
    ("pause", "unknown_function", "等待用 wait(秒数)，比如 wait(0.5) 等半秒。", "Wait with wait(seconds), like wait(0.5) for half a second."),
    (
        "move",
        "unknown_function",
        "前进用 forward(米数)，或者用 motors(左, 右) 设置轮子速度。",
        "Drive with forward(metres), or set the wheel speeds with motors(left, right).",
    ),
    (
        "drive",
        "unknown_function",
        "前进用 forward(米数)，或者用 motors(左, 右) 设置轮子速度。",
        "Drive with forward(metres), or set the wheel speeds with motors(left, right).",
    ),
    ("speed", "unknown_function", "设置速度用 motors(左轮, 右轮)，比如 motors(0.5, 0.5)。", "Set the speed with motors(left, right), like motors(0.5, 0.5)."),
    (
        "set_speed",
        "unknown_function",
        "设置速度用 motors(左轮, 右轮)，比如 motors(0.5, 0.5)。",
        "Set the speed with motors(left, right), like motors(0.5, 0.5).",
    ),
    (
        "set_motors",
        "unknown_function",
        "设置速度用 motors(左轮, 右轮)，比如 motors(0.5, 0.5)。",
        "Set the speed with motors(left, right), like motors(0.5, 0.5).",
    ),
    ("backward", "unknown_function", "后退用 forward(负数)，比如 forward(-0.5)。", "Drive backwards with a negative distance, like forward(-0.5)."),
    ("back", "unknown_function", "后退用 forward(负数)，比如 forward(-0.5)。", "Drive backwards with a negative distance, like forward(-0.5)."),
    ("left", "unknown_function", "左转用 turn(90)，右转用 turn(-90)。", "Turn left with turn(90), right with turn(-90)."),
    ("right", "unknown_function", "左转用 turn(90)，右转用 turn(-90)。", "Turn left with turn(90), right with turn(-90)."),
    ("turn_left", "unknown_function", "左转用 turn(90)，右转用 turn(-90)。", "Turn left with turn(90), right with turn(-90)."),
    ("turn_right", "unknown_function", "左转用 turn(90)，右转用 turn(-90)。", "Turn left with turn(90), right with turn(-90)."),
    ("brake", "unknown_function", "停车用 stop()。", "Stop with stop()."),
    ("halt", "unknown_function", "停车用 stop()。", "Stop with stop()."),
    (
        "input",
        "unknown_function",
        "机器人程序不能从键盘读入；用传感器读数，比如 distance(\"front\")。",
        "Robot programs cannot read the keyboard; read a sensor instead, like distance(\"front\").",
    ),
    ("str", "unknown_function", "把数变成文字用 x.to_string()。", "Turn a number into text with x.to_string()."),
    ("int", "unknown_function", "取整用 x.to_int() 或 round(x)。", "Make a whole number with x.to_int() or round(x)."),
    ("float", "unknown_function", "变成小数用 x.to_float()。", "Make a decimal with x.to_float()."),
];

/// `Function not found: colour (&str | ImmutableString | String)` and friends.
fn function_not_found(source: &str, sig: &str) -> Diagnostic {
    let (name, args) = match sig.find(" (") {
        Some(i) => (&sig[..i], sig[i + 2..].trim_end_matches(')')),
        None => (sig, ""),
    };
    let arg_types: Vec<&str> = if args.trim().is_empty() { Vec::new() } else { args.split(", ").collect() };
    let given = arg_types.len();
    let toks = lex(source);
    let user = user_functions(&toks);

    // An operator used on values it cannot combine: "a" * 2, true + 1.
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_punctuation()) {
        let words: Vec<&str> = arg_types.iter().map(|t| type_words(t).0).collect();
        let words_en: Vec<&str> = arg_types.iter().map(|t| type_words_en_article(t)).collect();
        return Diagnostic::new(
            "operator_types",
            format!("{} 不能用在{}上。", name, words.join("和")),
            format!("{} cannot be used on {}.", name, words_en.join(" and ")),
        )
        .suggest(
            "把数字和文字分开算：文字变数字用 x.parse_float()，数字变文字用 x.to_string()。",
            "Keep numbers and text apart: text to number with x.parse_float(), number to text with x.to_string().",
        );
    }
    // Right name, wrong number of arguments.
    if let Some(k) = api(name) {
        let (_, want, sig_en) = API[k];
        if want != given {
            return Diagnostic::new(
                "wrong_argument_count",
                format!("{name} 需要 {want} 个参数：{}；这里给了 {given} 个。", API_ZH[k]),
                format!("{name} needs {want} argument{}: {sig_en}; here it got {given}.", if want == 1 { "" } else { "s" }),
            )
            .suggest(format!("写成 {sig_en}"), format!("Write {sig_en}"));
        }
        // Right count, wrong kind of value (e.g. distance(front_value) with a number).
        let (gz, ge) = arg_types.first().map_or(("", ""), |t| type_words(t));
        return Diagnostic::new(
            "wrong_argument_type",
            format!("{name} 不能接受{gz}作为参数：{}。", API_ZH[k]),
            format!("{name} cannot take {ge} here: {sig_en}."),
        )
        .suggest(format!("写成 {sig_en}"), format!("Write {sig_en}"));
    }
    if let Some((fname, params)) = user.iter().find(|(n, _)| *n == name) {
        let sig = format!("{fname}({})", params.join(", "));
        return Diagnostic::new(
            "wrong_argument_count",
            format!("你定义的函数 {sig} 需要 {} 个参数，这里给了 {given} 个。", params.len()),
            format!("Your function {sig} needs {} argument{}, but here it got {given}.", params.len(), if params.len() == 1 { "" } else { "s" }),
        )
        .suggest(format!("调用时写 {sig}"), format!("Call it as {sig}"));
    }
    // Motors, STOP(): the right name in the wrong case.
    if let Some(k) = API.iter().position(|a| a.0.eq_ignore_ascii_case(name)) {
        let right = API[k].0;
        return Diagnostic::new(
            "wrong_case",
            format!("大小写不对：函数名是 {right}，全部小写。"),
            format!("Wrong capitals: the function is called {right}, all in lower case."),
        )
        .suggest(format!("写成 {}", API[k].2), format!("Write {}", API[k].2));
    }
    if let Some(&(_, code, zh, en)) = ALIASES.iter().find(|a| a.0 == name) {
        return Diagnostic::new(code, format!("Qiming 里没有 {name} 这个函数。{zh}"), format!("Qiming has no function called {name}. {en}"));
    }
    let candidates: Vec<&str> = API.iter().map(|a| a.0).chain(user.iter().map(|u| u.0)).chain(COMMON.iter().copied()).collect();
    let d = Diagnostic::new("unknown_function", format!("Qiming 里没有叫 {name} 的函数。"), format!("Qiming has no function called {name}."));
    match nearest(name, candidates) {
        Some(n) => {
            let (zh, en) = did_you_mean(n);
            d.suggest(zh, en)
        }
        None => d.suggest(format!("机器人函数有：{}。", api_list_zh()), format!("The robot functions are: {}.", api_list_en())),
    }
}

// ---------------------------------------------------------------------------
// Robot API argument errors, shared by both engines.

/// A robot function got a value of the wrong kind (Rhai's type name, e.g. `string`, `i64`).
pub(crate) fn needs_number(signature: &str, got: &str) -> Diagnostic {
    let (gz, ge) = type_words(got);
    Diagnostic::new("wrong_argument_type", format!("{signature} 需要数字，但这里给的是{gz}。"), format!("{signature} needs numbers, but here it got {ge}."))
        .suggest("数字不加引号：写 0.5，不写 \"0.5\"。", "Numbers have no quotes: write 0.5, not \"0.5\".")
}

/// A sensor function got something other than a name.
pub(crate) fn needs_name(func: &str, got: &str) -> Diagnostic {
    let (gz, ge) = type_words(got);
    Diagnostic::new(
        "wrong_argument_type",
        format!("{func}() 需要传感器的名字（文字），但这里给的是{gz}。"),
        format!("{func}() needs a sensor's name (text), but here it got {ge}."),
    )
    .suggest(format!("写成 {func}(\"front\") 这样，名字加英文双引号。"), format!("Write it like {func}(\"front\"), with the name in double quotes."))
}

/// `sleep(1)`: robot programs wait in simulated time.
pub(crate) fn use_wait(name: &str) -> Diagnostic {
    Diagnostic::new(
        "use_wait",
        format!("Qiming 的程序不能用 {name}：机器人的时间是模拟的。"),
        format!("Qiming programs cannot use {name}: the robot's time is simulated."),
    )
    .suggest("等待用 wait(秒数)，比如 wait(0.5) 等半秒。", "Wait with wait(seconds), like wait(0.5) for half a second.")
}

pub(crate) fn not_finite(signature: &str) -> Diagnostic {
    Diagnostic::new(
        "not_a_number",
        format!("{signature} 需要一个正常的数字，这里得到的不是数（可能是除以 0 得到的无穷大）。"),
        format!("{signature} needs an ordinary number; this one is not (perhaps infinity from dividing by 0)."),
    )
    .suggest("算出来的值先用 print() 打印出来看看。", "print() the value you calculated to see it.")
}

pub(crate) fn negative_wait(seconds: f64) -> Diagnostic {
    Diagnostic::new(
        "value_out_of_range",
        format!("wait(秒数) 不能等负数秒（这里是 {seconds}）。"),
        format!("wait(seconds) cannot wait a negative time (here {seconds})."),
    )
    .suggest("秒数要大于等于 0，比如 wait(1)。", "Use 0 or more seconds, like wait(1).")
}

pub(crate) fn too_large(signature: &str, max: f64, value: f64) -> Diagnostic {
    let unit = if signature.starts_with("turn") { ("度", "degrees") } else { ("米", "metres") };
    Diagnostic::new(
        "value_out_of_range",
        format!("{signature} 最多只能是 ±{max} {}，这里是 {value}。", unit.0),
        format!("{signature} accepts at most ±{max} {}, and here it got {value}.", unit.1),
    )
    .suggest("看看这个数是不是算错了，或者单位用错了。", "Check whether this number was miscalculated or uses the wrong unit.")
}

/// A sensor name the robot does not have, with the nearest one it does.
pub(crate) fn unknown_sensor(func: &str, name: &str, available: &[String]) -> Diagnostic {
    let kind = match func {
        "distance" => ("距离", "distance"),
        "line" => ("巡线", "line"),
        "color" => ("颜色", "colour"),
        _ => ("碰撞", "bumper"),
    };
    let shown: String = name.chars().map(visible).collect();
    let d = Diagnostic::new(
        "unknown_sensor",
        format!("机器人没有叫 \"{shown}\" 的{}传感器。", kind.0),
        format!("The robot has no {} sensor called \"{shown}\".", kind.1),
    );
    let pool: Vec<&str> = if available.is_empty() { SENSOR_NAMES.to_vec() } else { available.iter().map(String::as_str).collect() };
    let list = if available.is_empty() { String::new() } else { available.join(", ") };
    if let Some(exact) = pool.iter().find(|n| n.eq_ignore_ascii_case(name.trim())) {
        return d.suggest(format!("名字要全部小写、不带空格：{func}(\"{exact}\")"), format!("Names are lower case with no spaces: {func}(\"{exact}\")"));
    }
    match nearest(name, pool.iter().copied()) {
        Some(n) => {
            let (zh, en) = did_you_mean(&format!("{func}(\"{n}\")"));
            d.suggest(zh, en)
        }
        None if !list.is_empty() => d.suggest(format!("这个机器人的{}传感器有：{list}。", kind.0), format!("This robot's {} sensors are: {list}.", kind.1)),
        None => d,
    }
}

// ---------------------------------------------------------------------------
// The robot's AI functions: camera, classify, record.

/// What an AI function of the robot could not do, explained.
pub(crate) fn ai_error(func: &str, error: &crate::robot::AiError) -> Diagnostic {
    use crate::robot::AiError;
    match error {
        AiError::NoCamera => Diagnostic::new("no_camera", "这个机器人没有摄像头。", "This robot has no camera.")
            .suggest("换一个带摄像头的场景或实验再试。", "Use a scenario or lab whose robot has a camera."),
        AiError::NoModel => Diagnostic::new(
            "no_model",
            format!("这次运行没有模型，所以 {func} 没法分类：先训练一个模型，再在实验里把它部署给机器人。"),
            format!("This run has no model, so {func} cannot classify: train one and deploy it with the lab first."),
        )
        .suggest(
            "在实验的“人工智能”面板里训练模型并点“部署”，或者提交时把模型文件和程序放在一起。",
            "Train a model in the lab's AI panel and deploy it, or hand the model file in together with the program.",
        ),
        AiError::WrongLength { expected, got } => Diagnostic::new(
            "model_input_length",
            format!("模型需要 {expected} 个数，但传给 {func} 的有 {got} 个。"),
            format!("The model needs {expected} numbers, but {func} was given {got}."),
        )
        .suggest(
            "训练模型用的是什么数据，分类时就传同样的数据：摄像头模型传 camera()，传感器模型传同样顺序、同样个数的传感器读数。",
            "Classify the same kind of data the model was trained on: camera() for a camera model, the same sensor readings in the same order for a sensor model.",
        ),
        AiError::NoSuchLabel { index, count } => Diagnostic::new(
            "value_out_of_range",
            format!("模型只有 {count} 个类别（编号 0 到 {}），没有编号 {index}。", count.saturating_sub(1)),
            format!("The model has {count} labels (numbered 0 to {}); there is no label {index}.", count.saturating_sub(1)),
        ),
        AiError::NoDataset => Diagnostic::new("no_dataset", "这次运行不收集数据，所以 record 不能用。", "This run does not collect data, so record cannot be used.")
            .suggest("收集数据要用“人工智能”面板里的“录制”，或者命令 qiming ai record。", "Collect data with Record in the AI panel, or the command qiming ai record."),
    }
}

/// `record` was called more often than a run may.
pub(crate) fn too_many_records(max: usize) -> Diagnostic {
    Diagnostic::new(
        "too_many_records",
        format!("一次运行最多只能 record {max} 个样本，已经到上限了。"),
        format!("A run may record at most {max} samples, and this one has reached the limit."),
    )
    .suggest(
        "减少 record 的次数，比如每隔几步才记录一次；需要更多数据就多运行几次。",
        "Record less often, for example every few steps; run again to collect more.",
    )
}

/// A label `record` refused.
pub(crate) fn bad_label(problem: crate::robot::LabelProblem, max_chars: usize) -> Diagnostic {
    use crate::robot::LabelProblem;
    let d = match problem {
        LabelProblem::Empty => Diagnostic::new("bad_label", "record 的类别名不能是空的。", "The label given to record must not be empty."),
        LabelProblem::TooLong => Diagnostic::new(
            "bad_label",
            format!("record 的类别名太长了：最多 {max_chars} 个英文字母或数字，或者 21 个汉字。"),
            format!("The label given to record is too long: at most {max_chars} letters or digits (21 Chinese characters)."),
        ),
        LabelProblem::BadCharacter => Diagnostic::new(
            "bad_label",
            "record 的类别名里有不能用的字符（开头或结尾的空格、换行、引号或斜杠）。",
            "The label given to record has a character labels cannot use (a space at either end, a line break, a quote or a slash).",
        ),
    };
    d.suggest("用简短的词作类别名，比如 record(\"stop\") 或 record(\"left\")。", "Use a short word as the label, like record(\"stop\") or record(\"left\").")
}

/// `record` got something other than text.
pub(crate) fn bad_label_type(got: &str) -> Diagnostic {
    let (gz, ge) = type_words(got);
    Diagnostic::new(
        "wrong_argument_type",
        format!("record(类别名) 需要文字作类别名，但这里给的是{gz}。"),
        format!("record(label) needs the label as text, but here it got {ge}."),
    )
    .suggest("类别名加英文双引号，比如 record(\"stop\")。", "Put the label in double quotes, like record(\"stop\").")
}

/// `classify` or `pixel` got something other than an image or a list of numbers.
pub(crate) fn needs_image(signature: &str, got: &str) -> Diagnostic {
    let (gz, ge) = type_words(got);
    Diagnostic::new(
        "wrong_argument_type",
        format!("{signature} 需要摄像头的图像（camera() 的结果）或者一组数字，但这里给的是{gz}。"),
        format!("{signature} needs a camera image (what camera() returns) or a list of numbers, but here it got {ge}."),
    )
    .suggest(
        "写成 classify(camera()) 或 classify([distance(\"front\"), line(\"center\")])。",
        "Write classify(camera()) or classify([distance(\"front\"), line(\"center\")]).",
    )
}

/// A list given to `classify` holds something that is not a number.
pub(crate) fn needs_numbers(signature: &str, index: usize, got: &str) -> Diagnostic {
    let (gz, ge) = type_words(got);
    Diagnostic::new(
        "wrong_argument_type",
        format!("{signature} 的列表里只能有数字，但第 {index} 个（从 0 数）是{gz}。"),
        format!("The list given to {signature} may hold only numbers, but item {index} (counting from 0) is {ge}."),
    )
}

/// `pixel(img, x, y)` outside the image, or on something that is not an image.
pub(crate) fn bad_pixel(x: i64, y: i64, width: usize, height: usize) -> Diagnostic {
    Diagnostic::new(
        "value_out_of_range",
        format!("图像只有 {width}×{height} 个像素：x 要在 0 到 {} 之间，y 要在 0 到 {} 之间，这里是 ({x}, {y})。", width - 1, height - 1),
        format!("The image has {width}×{height} pixels: x must be 0 to {}, y 0 to {}; here it is ({x}, {y}).", width - 1, height - 1),
    )
    .suggest("x 从左往右数，y 从上往下数，都从 0 开始。", "x counts from the left and y from the top, both starting at 0.")
}

/// A byte string given as an image does not have the size of one.
pub(crate) fn not_an_image(signature: &str, bytes: usize, needed: usize) -> Diagnostic {
    Diagnostic::new(
        "wrong_argument_type",
        format!("{signature} 需要 camera() 拍的图像（{needed} 个字节），这里的数据有 {bytes} 个字节。"),
        format!("{signature} needs an image taken by camera() ({needed} bytes); this data has {bytes} bytes."),
    )
    .suggest("直接把 camera() 的结果传进去，不要改动它的长度。", "Pass what camera() returns without changing its length.")
}

/// A WebAssembly buffer (image, numbers) outside the module's memory.
pub(crate) fn wasm_bad_buffer(func: &str) -> Diagnostic {
    Diagnostic::new(
        "wasm_bad_buffer",
        format!("传给 {func} 的缓冲区不对：指针加长度超出了内存，长度不对，或者模块没有导出 memory。"),
        format!("The buffer passed to {func} is wrong: pointer plus length is outside memory, the length is wrong, or the module does not export its memory."),
    )
    .suggest("见 docs/wasm-abi.md 里图像和数字缓冲区的传法。", "See how images and number buffers are passed in docs/wasm-abi.md.")
}

// ---------------------------------------------------------------------------
// WebAssembly.

/// A text-format (`.wat`) syntax error.
pub(crate) fn wat_syntax() -> Diagnostic {
    Diagnostic::new("wat_syntax", "WebAssembly 文本格式（.wat）在这里有语法错误。", "The WebAssembly text (.wat) has a syntax error here.").suggest(
        "检查括号是否成对、指令名是否拼对（比如 i32.add、f64.const）。",
        "Check the brackets pair up and the instruction names are spelled right (like i32.add, f64.const).",
    )
}

/// A module the compiler refused (invalid binary or types that do not fit).
pub(crate) fn wasm_invalid() -> Diagnostic {
    Diagnostic::new("wasm_invalid", "这个 WebAssembly 模块不正确，无法编译。", "This WebAssembly module is not valid and cannot be compiled.").suggest(
        "用编译器重新生成它；如果是手写的 .wat，检查每条指令用到的值的类型。",
        "Build it again with your compiler; for hand-written .wat, check the types of the values each instruction uses.",
    )
}

pub(crate) fn wasm_import_module(module: &str, name: &str) -> Diagnostic {
    Diagnostic::new(
        "wasm_import_module",
        format!("模块从 \"{module}\" 导入了 {name}，但 Qiming 只提供 \"robot\" 模块里的机器人函数（没有 WASI、文件、时钟或网络）。"),
        format!(
            "The module imports {name} from \"{module}\", but Qiming only provides the robot functions of module \"robot\" (no WASI, files, clock or network)."
        ),
    )
    .suggest(
        format!("从 \"robot\" 导入：(import \"robot\" \"{name}\" …)；C 语言里写 __attribute__((import_module(\"robot\")))。"),
        format!("Import from \"robot\": (import \"robot\" \"{name}\" …); in C use __attribute__((import_module(\"robot\")))."),
    )
}

pub(crate) fn wasm_unknown_import(name: &str, known: &[&str]) -> Diagnostic {
    let d =
        Diagnostic::new("wasm_unknown_import", format!("\"robot\" 模块里没有 {name} 这个函数。"), format!("Module \"robot\" has no function called {name}."));
    match nearest(name, known.iter().copied()) {
        Some(n) => {
            let (zh, en) = did_you_mean(n);
            d.suggest(zh, en)
        }
        None => d.suggest(format!("\"robot\" 模块提供：{}。", known.join("、")), format!("Module \"robot\" provides: {}.", known.join(", "))),
    }
}

/// An import or `run` whose signature is not the one needed.
pub(crate) fn wasm_signature(what_zh: &str, what_en: &str, found: &str, needed: &str) -> Diagnostic {
    Diagnostic::new(
        "wasm_signature",
        format!("你的{what_zh} 有 {found}，但需要的是 {needed}。"),
        format!("Your {what_en} has {found}, but {needed} is needed."),
    )
    .suggest("改正参数和结果的类型（见 docs/wasm-abi.md）。", "Fix the types of the parameters and results (see docs/wasm-abi.md).")
}

pub(crate) fn wasm_missing_run(exports: &[String]) -> Diagnostic {
    let found = if exports.is_empty() {
        ("模块没有导出任何函数。".to_string(), "The module exports no functions.".to_string())
    } else {
        (format!("模块导出的函数有：{}。", exports.join("、")), format!("The module exports: {}.", exports.join(", ")))
    };
    Diagnostic::new(
        "wasm_missing_run",
        format!("模块没有导出名为 run 的函数，Qiming 不知道从哪里开始运行。{}", found.0),
        format!("The module does not export a function called run, so Qiming does not know where to start. {}", found.1),
    )
    .suggest(
        "导出一个没有参数、没有结果的 run：(func (export \"run\") …)；C 语言里写 __attribute__((export_name(\"run\"))) void run(void)。",
        "Export a run with no parameters and no results: (func (export \"run\") …); in C use __attribute__((export_name(\"run\"))) void run(void).",
    )
}

/// A WebAssembly trap, in words.
pub(crate) fn wasm_trap(trap: &wasmtime::Trap) -> Diagnostic {
    use wasmtime::Trap as T;
    match trap {
        T::IntegerDivisionByZero => Diagnostic::new("division_by_zero", "这里整数除以了 0。", "This divides a whole number by zero.")
            .suggest("除之前先检查除数是不是 0。", "Check the divisor is not 0 before dividing."),
        T::IntegerOverflow => Diagnostic::new("number_too_big", "整数运算的结果太大了。", "The result of a whole-number calculation is too big."),
        T::UnreachableCodeReached => {
            Diagnostic::new("unreachable", "程序运行到了 unreachable（不该到达的地方），停了下来。", "The program reached unreachable code and stopped.")
                .suggest("C/Rust 程序里这通常表示出错了（比如 panic 或 abort）。", "In C or Rust this usually means something failed (a panic or abort).")
        }
        T::MemoryOutOfBounds => Diagnostic::new("memory_out_of_bounds", "程序读写了内存范围以外的地方。", "The program read or wrote outside its memory.")
            .suggest("检查数组下标和指针。", "Check array indices and pointers."),
        T::BadConversionToInteger => Diagnostic::new(
            "number_too_big",
            "小数变整数时超出了整数的范围（或者不是一个数）。",
            "A decimal was too big (or not a number) to become a whole number.",
        ),
        _ => Diagnostic::generic(crate::ErrorKind::Runtime),
    }
}

/// A pointer or length passed to a robot function that does not fit the module's memory.
pub(crate) fn wasm_bad_text(func: &str) -> Diagnostic {
    Diagnostic::new(
        "wasm_bad_text",
        format!("传给 {func} 的文字不对：指针、长度超出了内存，文字不是 UTF-8，或者模块没有导出 memory。"),
        format!("The text passed to {func} is wrong: its pointer or length is outside memory, it is not UTF-8, or the module does not export its memory."),
    )
    .suggest("见 docs/wasm-abi.md 里文字参数的传法。", "See how text is passed in docs/wasm-abi.md.")
}

pub(crate) fn not_utf8() -> Diagnostic {
    Diagnostic::new("not_utf8", "程序文件不是 UTF-8 编码的文字。", "The program file is not UTF-8 text.")
        .suggest("用编辑器把文件另存为 UTF-8 编码。", "Save the file again as UTF-8 in your editor.")
}

pub(crate) fn internal_error() -> Diagnostic {
    Diagnostic::new(
        "internal_error",
        "Qiming 自己出了问题（不是你的错），已经报告给管理员。",
        "Qiming itself had a problem (not your fault); it has been reported.",
    )
}

// ---------------------------------------------------------------------------
// Notes on programs that ran: mistakes that are not errors.

/// Mistakes in a program that still runs: colour names in the wrong case,
/// distances in centimetres, waits in milliseconds, motor speeds in percent.
/// At most one note per code, in source order.
pub fn lint(source: &str) -> Vec<Diagnostic> {
    let toks = lex(source);
    let mut notes: Vec<Diagnostic> = Vec::new();
    let mut push = |d: Diagnostic| {
        if !notes.iter().any(|n| n.code == d.code) {
            notes.push(d);
        }
    };
    let number = |t: &Tok| if t.kind == Kind::Number { t.text.replace('_', "").parse::<f64>().ok() } else { None };
    for (i, t) in toks.iter().enumerate() {
        if t.kind == Kind::Str
            && !t.unterminated
            && let Some(inner) = t.text.get(1..t.text.len().saturating_sub(1))
        {
            if let Some(c) = COLOURS.iter().find(|c| c.eq_ignore_ascii_case(inner)).filter(|c| **c != inner) {
                push(
                    Diagnostic::new(
                        "colour_case",
                        format!("color() 返回的颜色名全部是小写，\"{inner}\" 永远不会等于它。"),
                        format!("color() returns colour names in lower case, so \"{inner}\" never matches."),
                    )
                    .suggest(format!("写成 \"{c}\""), format!("Write \"{c}\""))
                    .at_pos(t.pos()),
                );
            }
            const ZH_COLOURS: &[(&str, &str)] = &[("红", "red"), ("绿", "green"), ("黄", "yellow"), ("蓝", "blue"), ("黑", "black"), ("白", "white")];
            let compared = toks.get(i.wrapping_sub(1)).is_some_and(|p| p.is("==") || p.is("!=")) || toks.get(i + 1).is_some_and(|n| n.is("==") || n.is("!="));
            if compared && let Some((_, en)) = ZH_COLOURS.iter().find(|(zh, _)| inner == *zh || inner == format!("{zh}色")) {
                push(
                    Diagnostic::new(
                        "colour_in_chinese",
                        format!("color() 返回的是英文颜色名，\"{inner}\" 永远不会等于它。"),
                        format!("color() returns English colour names, so \"{inner}\" never matches."),
                    )
                    .suggest(format!("写成 \"{en}\""), format!("Write \"{en}\""))
                    .at_pos(t.pos()),
                );
            }
        }
        // forward(50), distance("front") < 20: centimetres where metres are meant.
        if t.is("forward") && toks.get(i + 1).is_some_and(|p| p.is("(")) {
            let neg = toks.get(i + 2).is_some_and(|m| m.is("-"));
            if let Some(v) = toks.get(i + 2 + usize::from(neg)).and_then(number).filter(|v| *v >= 10.0) {
                push(centimetres(&format!("forward({}{v})", if neg { "-" } else { "" }), v, t.pos()));
            }
        }
        if t.is("distance") && toks.get(i + 1).is_some_and(|p| p.is("(")) {
            let close = toks[i..].iter().take(LOOKAHEAD).position(|u| u.is(")")).map(|p| p + i);
            let cmp = close.and_then(|c| toks.get(c + 1)).filter(|o| ["<", ">", "<=", ">="].contains(&o.text));
            if let Some(v) = close.and_then(|c| toks.get(c + 2)).filter(|_| cmp.is_some()).and_then(number).filter(|v| *v > 3.0) {
                push(centimetres(&format!("distance(…) {} {v}", cmp.map_or("<", |o| o.text)), v, t.pos()));
            }
        }
        // wait(1000) as the last statement is the "keep going until time is up"
        // idiom; with more to do after it, it is milliseconds mistaken for seconds.
        let more_after = |k: usize| toks.get(k..).is_some_and(|rest| rest.iter().any(|u| !u.is("}") && !u.is(";")));
        if t.is("wait")
            && toks.get(i + 1).is_some_and(|p| p.is("("))
            && toks.get(i + 3).is_some_and(|p| p.is(")"))
            && more_after(i + 4)
            && let Some(v) = toks.get(i + 2).and_then(number).filter(|v| *v >= 100.0)
        {
            push(
                Diagnostic::new(
                    "units_milliseconds",
                    format!("wait 的单位是秒：wait({v}) 要等 {v} 秒，也就是 {:.0} 分钟多。", v / 60.0),
                    format!("wait counts seconds: wait({v}) waits {v} seconds, more than {:.0} minutes.", v / 60.0),
                )
                .suggest(format!("等 {v} 毫秒写成 wait({})", v / 1000.0), format!("To wait {v} milliseconds write wait({})", v / 1000.0))
                .at_pos(t.pos()),
            );
        }
        if t.is("motors") && toks.get(i + 1).is_some_and(|p| p.is("(")) {
            let big = toks[i + 2..].iter().take(LOOKAHEAD).take_while(|u| !u.is(")")).filter_map(number).find(|v| *v > 1.0);
            if let Some(v) = big {
                push(
                    Diagnostic::new(
                        "motor_percent",
                        format!("motors 的速度在 -1 到 1 之间（1 是最快）；{v} 会被当成 1。"),
                        format!("motors speeds go from -1 to 1 (1 is full speed); {v} counts as 1."),
                    )
                    .suggest(
                        format!("一半速度写成 motors(0.5, 0.5)；{v}% 写成 {}", v / 100.0),
                        format!("Half speed is motors(0.5, 0.5); {v}% is {}", v / 100.0),
                    )
                    .at_pos(t.pos()),
                );
            }
        }
    }
    notes
}

fn centimetres(what: &str, v: f64, pos: (u32, u32)) -> Diagnostic {
    Diagnostic::new(
        "units_centimetres",
        format!("距离的单位是米，不是厘米：{what} 表示 {v} 米。"),
        format!("Distances are in metres, not centimetres: {what} means {v} metres."),
    )
    .suggest(format!("{v} 厘米写成 {}", v / 100.0), format!("{v} centimetres is {}", v / 100.0))
    .at_pos(pos)
}

/// The program finished (or ran out of time) and the robot never moved.
/// Knows whether the program set the motors: the motors stop when a program ends.
pub fn never_moved(source: &[u8], finished: bool) -> Diagnostic {
    let text = String::from_utf8_lossy(source);
    let toks = lex(&text);
    let sets_motors = toks.iter().any(|t| t.is("motors")) || text.contains("\"motors\"");
    let waits = toks.iter().any(|t| t.is("wait") || t.is("loop") || t.is("while")) || text.contains("\"wait\"");
    if finished && sets_motors && !waits {
        return Diagnostic::new(
            "ended_before_moving",
            "机器人没有动：程序一结束，马达就会停下。motors() 只是设置速度，程序马上就结束了。",
            "The robot did not move: the motors stop when the program ends, and the program ended right after motors().",
        )
        .suggest(
            "motors(…) 之后用 wait(秒数) 让机器人开一会儿，或者把它放进 loop { … } 里一直开。",
            "After motors(…) call wait(seconds) to let the robot drive, or put it in a loop { … }.",
        );
    }
    Diagnostic::new("never_moved", "机器人一直没有动。", "The robot never moved.").suggest(
        "用 motors(左轮, 右轮) 加 wait(秒数)，或者 forward(米数) 让它动起来。",
        "Make it move with motors(left, right) and wait(seconds), or with forward(metres).",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("motros", "motors"), 1);
        assert_eq!(edit_distance("colour", "color"), 1);
        assert_eq!(nearest("Motor", API.iter().map(|a| a.0)), Some("motors"));
        assert_eq!(nearest("xyzzy", API.iter().map(|a| a.0)), None);
    }

    #[test]
    fn the_lexer_skips_strings_and_comments() {
        let toks = lex("print(\"，\"); // ；\nlet a = 1;");
        assert!(toks.iter().all(|t| t.kind != Kind::Other));
        assert_eq!(toks.last().map(|t| t.pos()), Some((2, 10)));
        let toks = lex("motors（0.5，0.5）；");
        assert_eq!(scan_characters(&toks).map(|d| (d.code, d.column)), Some(("chinese_punctuation", Some(7))));
    }

    #[test]
    fn hostile_sources_are_explained_in_linear_time() {
        let start = std::time::Instant::now();
        for src in ["fn ".repeat(20_000), "for (".repeat(12_000), "motors(".repeat(9_000), "distance(".repeat(7_000), "{".repeat(60_000)] {
            let _ = rhai_compile(&src, &rhai::ParseErrorType::UnexpectedEOF, Some(1), Some(1));
            let _ = lint(&src);
            let _ = function_not_found(&src, "drive ()");
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
    }

    #[test]
    fn types_become_child_words() {
        assert_eq!(type_words("&str | ImmutableString | String").1, "text");
        assert_eq!(type_words("i64").1, "a whole number");
        assert_eq!(type_words("f64").1, "a decimal number");
    }
}
