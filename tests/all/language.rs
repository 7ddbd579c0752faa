//! One language per page, checked without a browser: every error code, field
//! and reason the server can send has a text in both languages of
//! `server/web/i18n.json`; each language's texts speak only that language;
//! and the colours of `server/web/app.css` meet WCAG contrast (4.5:1).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::repo;

type Dict = BTreeMap<String, String>;

fn dictionaries() -> (Dict, Dict) {
    let text = std::fs::read_to_string(repo().join("server/web/i18n.json")).unwrap();
    let all: BTreeMap<String, Dict> = serde_json::from_str(&text).expect("i18n.json is valid JSON");
    (all["zh-CN"].clone(), all["en"].clone())
}

fn server_sources() -> Vec<(String, String)> {
    let dir = repo().join("server/src/serve");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// The arguments of every call `name(…)` in `src`, split at top-level commas
/// (string literals and nested brackets respected), trimmed.
fn calls(src: &str, name: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = src[from..].find(name) {
        let start = from + at + name.len();
        from = start;
        let (mut depth, mut in_str, mut escaped) = (1, false, false);
        let (mut args, mut cur) = (Vec::new(), String::new());
        for c in src[start..].chars() {
            if in_str {
                cur.push(c);
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => {
                    args.push(cur.trim().to_string());
                    cur.clear();
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        if !cur.trim().is_empty() {
            args.push(cur.trim().to_string());
        }
        out.push(args);
    }
    out
}

/// `"word"` → `Some("word")` for a plain string literal.
fn literal(arg: &str) -> Option<String> {
    let inner = arg.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.is_empty() && inner.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')).then(|| inner.to_string())
}

/// Literals right after `prefix` (e.g. `StatusCode::CONFLICT, "` or `reason: "`).
fn literals_after(src: &str, prefix: &str) -> Vec<String> {
    src.match_indices(prefix).filter_map(|(i, _)| src[i + prefix.len()..].split('"').next().map(str::to_string)).collect()
}

/// Every i18n key the server's errors need, with where each came from.
fn keys_the_server_needs() -> BTreeMap<String, String> {
    let mut need = BTreeMap::new();
    let mut add = |key: String, from: &str| {
        need.entry(key).or_insert_with(|| from.to_string());
    };
    for (file, src) in server_sources() {
        // Codes in the response builders: `(StatusCode::X, "code", …)`, `StatusCode::X => "code"`, `"code": "…"`.
        for (i, _) in src.match_indices("StatusCode::") {
            let rest = &src[i + "StatusCode::".len()..];
            let after = rest.trim_start_matches(|c: char| c.is_ascii_uppercase() || c == '_');
            // `(StatusCode::X, "code"`, also with the code on the next line (`AppError::typed`).
            let after_comma = after.strip_prefix(',').map(|r| format!(", {}", r.trim_start()));
            let after = after_comma.as_deref().unwrap_or(after);
            for sep in [", \"", " => \""] {
                if let Some(code) = after.strip_prefix(sep).and_then(|r| r.split('"').next())
                    && literal(&format!("\"{code}\"")).is_some()
                {
                    add(format!("err_{code}"), &file);
                }
            }
        }
        for code in literals_after(&src, "\"code\": \"") {
            add(format!("err_{code}"), &file);
        }
        for args in calls(&src, "AppError::conflict(") {
            let code = literal(&args[0]).unwrap_or_else(|| panic!("{file}: AppError::conflict needs a literal code, got {:?}", args[0]));
            add(format!("err_{code}"), &file);
        }
        for args in calls(&src, "AppError::invalid(") {
            let reason = literal(&args[1]).unwrap_or_else(|| panic!("{file}: AppError::invalid needs a literal reason, got {:?}", args[1]));
            add(format!("err_invalid_{reason}"), &file);
            match literal(&args[0]) {
                Some(field) => add(format!("field_{field}"), &file),
                // Only `check_name` passes a field through; its callers name it.
                None => assert_eq!((file.as_str(), args[0].as_str()), ("org.rs", "field"), "AppError::invalid needs a literal field"),
            }
        }
        for args in calls(&src, "check_name(") {
            if let Some(field) = literal(&args[0]) {
                add(format!("field_{field}"), &file);
            }
        }
        for args in calls(&src, "RowError::new(") {
            if args.len() < 4 {
                continue; // the definition itself
            }
            let reason = literal(&args[2]).unwrap_or_else(|| panic!("{file}: RowError::new needs a literal code, got {:?}", args[2]));
            add(format!("roster_err_{reason}"), &file);
            if let Some(field) = literal(&args[1]) {
                add(format!("field_{field}"), &file);
            }
        }
        for reason in literals_after(&src, "TooManyRequests { reason: \"").into_iter().chain(literals_after(&src, "reason: \"")) {
            add(format!("err_too_many_requests_{reason}"), &file);
        }
        // Reasons that are the arms of a `code` function: `WeakPassword::code`
        // (auth.rs, for `weak_password`) and `Refusal::code` (work.rs, for `cannot_submit`).
        let reason_prefix = match file.as_str() {
            "auth.rs" => Some("err_weak_password"),
            "work.rs" => Some("err_cannot_submit"),
            _ => None,
        };
        if let Some(prefix) = reason_prefix
            && let Some(start) = src.find("pub fn code(self) -> &'static str")
        {
            let body = &src[start..];
            let body = &body[..body[1..].find("pub fn ").map_or(body.len(), |e| e + 1)];
            for code in literals_after(body, " => \"") {
                add(format!("{prefix}_{code}"), &file);
            }
        }
        // A 400 in English only: every refused value must name its field and reason.
        let bare = src.matches("AppError::BadRequest(").count() - src.matches("AppError::BadRequest(m)").count();
        let allowed = usize::from(file == "http.rs") * 2; // the enum's variant and the JSON-rejection conversion
        assert!(bare <= allowed, "{file}: AppError::BadRequest with hand-written text; use AppError::invalid(field, reason, …)");
    }
    // Errors the UI makes itself.
    for key in ["err_network", "err_unknown", "err_unknown_code", "err_invalid"] {
        add(key.to_string(), "core.js");
    }
    need
}

#[test]
fn every_error_code_the_server_sends_is_translated() {
    let need = keys_the_server_needs();
    // The scan must see what it is meant to see, or it proves nothing.
    for known in [
        "err_not_found",
        "err_invalid_roster",
        "err_bad_request",
        "err_request_timeout",
        "err_username_taken",
        "err_cannot_submit_attempts_used_up",
        "err_already_assigned",
        "err_invalid_length",
        "field_display_name",
        "field_attempt_limit",
        "roster_err_no_number_column",
        "err_too_many_requests_login",
        "err_weak_password_common",
        "err_method_not_allowed",
    ] {
        assert!(need.contains_key(known), "the scan of server/src/serve missed {known}: {need:?}");
    }
    let (zh, en) = dictionaries();
    let missing: Vec<String> = need
        .iter()
        .flat_map(|(key, from)| {
            [("zh-CN", &zh), ("en", &en)].into_iter().filter(|(_, d)| !d.contains_key(key)).map(move |(lang, _)| format!("{lang} {key} (from {from})"))
        })
        .collect();
    assert!(missing.is_empty(), "i18n.json lacks texts for error codes the server sends:\n  {}", missing.join("\n  "));
}

fn allow_list() -> (BTreeSet<String>, BTreeSet<String>) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(repo().join("tests/browser/one-language.json")).unwrap()).unwrap();
    let set = |lang: &str| v[lang].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    (set("zh-CN"), set("en"))
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{2ffff}')
}

/// The Latin words of a Chinese text, outside `{placeholders}` and the allow-list.
fn latin_words(text: &str, allow: &BTreeSet<String>) -> Vec<String> {
    let mut plain = String::new();
    let mut in_placeholder = false;
    for c in text.chars() {
        match c {
            '{' => in_placeholder = true,
            '}' => in_placeholder = false,
            _ if !in_placeholder => plain.push(c),
            _ => {}
        }
    }
    plain
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')))
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | '-' | '/')))
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()) && !allow.contains(*w))
        .map(str::to_string)
        .collect()
}

#[test]
fn each_dictionary_speaks_its_own_language() {
    let (zh, en) = dictionaries();
    let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
    let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
    assert!(only_zh.is_empty() && only_en.is_empty(), "keys in one language only: zh-CN {only_zh:?}, en {only_en:?}");
    let (allow_zh, allow_en) = allow_list();
    let mut bad = Vec::new();
    for (key, text) in &zh {
        let words = latin_words(text, &allow_zh);
        if !words.is_empty() {
            bad.push(format!("zh-CN {key}: {words:?} in {text:?}"));
        }
    }
    for (key, text) in &en {
        let mut rest = text.clone();
        for w in &allow_en {
            rest = rest.replace(w.as_str(), "");
        }
        if rest.chars().any(is_han) {
            bad.push(format!("en {key}: Chinese in {text:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "texts in the other language (add the word to tests/browser/one-language.json only if it has no translation):\n  {}",
        bad.join("\n  ")
    );
    // The checker itself: it must catch what it is for.
    assert_eq!(latin_words("请选择 class 再提交 {n} 个 CSV", &allow_zh), vec!["class"]);
}

// ---------------------------------------------------------------- contrast

/// An sRGB colour with alpha, from `#rgb`, `#rrggbb` or `rgba(r, g, b, a)`.
#[derive(Clone, Copy, Debug)]
struct Rgba(f64, f64, f64, f64);

fn parse_colour(v: &str, vars: &BTreeMap<String, String>) -> Option<Rgba> {
    let v = v.trim();
    if let Some(name) = v.strip_prefix("var(").and_then(|r| r.strip_suffix(')')) {
        return parse_colour(vars.get(name.trim())?, vars);
    }
    if v == "#fff" || v == "white" {
        return Some(Rgba(255.0, 255.0, 255.0, 1.0));
    }
    if let Some(hex) = v.strip_prefix('#') {
        let hex: String = if hex.len() == 3 { hex.chars().flat_map(|c| [c, c]).collect() } else { hex.to_string() };
        let n = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok().map(f64::from);
        return (hex.len() == 6).then(|| Some(Rgba(n(0)?, n(2)?, n(4)?, 1.0))).flatten();
    }
    let inner = v.strip_prefix("rgba(").or_else(|| v.strip_prefix("rgb("))?.strip_suffix(')')?;
    let p: Vec<f64> = inner.split(',').map(|x| x.trim().parse().ok()).collect::<Option<_>>()?;
    Some(Rgba(p[0], p[1], p[2], p.get(3).copied().unwrap_or(1.0)))
}

fn over(top: Rgba, base: Rgba) -> Rgba {
    let a = top.3;
    Rgba(top.0 * a + base.0 * (1.0 - a), top.1 * a + base.1 * (1.0 - a), top.2 * a + base.2 * (1.0 - a), 1.0)
}

fn luminance(c: Rgba) -> f64 {
    let ch = |x: f64| {
        let s = x / 255.0;
        if s <= 0.03928 { s / 12.92 } else { ((s + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * ch(c.0) + 0.7152 * ch(c.1) + 0.0722 * ch(c.2)
}

fn contrast(fg: Rgba, bg: Rgba) -> f64 {
    let fg = over(fg, bg);
    let (a, b) = (luminance(fg), luminance(bg));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// `selector { declarations }` blocks of a stylesheet (comments removed, @media flattened).
fn rules(css: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut text = String::new();
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        text.push_str(&rest[..i]);
        rest = rest[i..].split_once("*/").map_or("", |(_, r)| r);
    }
    text.push_str(rest);
    let mut out = Vec::new();
    let mut selector = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '{' {
            selector.push(c);
            continue;
        }
        let sel = selector.trim().to_string();
        selector.clear();
        if sel.starts_with('@') {
            continue; // the rules inside follow as usual
        }
        let body: String = chars.by_ref().take_while(|&c| c != '}').collect();
        let decls = body
            .split(';')
            .filter_map(|d| d.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().trim_end_matches("!important").trim().to_string()))
            .collect();
        out.push((sel.trim_start_matches('}').trim().to_string(), decls));
    }
    out
}

#[test]
fn colours_meet_wcag_contrast() {
    let css = std::fs::read_to_string(repo().join("server/web/app.css")).unwrap();
    let rules = rules(&css);
    let vars: BTreeMap<String, String> = rules
        .iter()
        .filter(|(s, _)| s == ":root")
        .flat_map(|(_, d)| d.iter().filter(|(k, _)| k.starts_with("--")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let colour = |v: &str| parse_colour(v, &vars).unwrap_or_else(|| panic!("app.css: cannot read the colour {v:?}"));
    let white = Rgba(255.0, 255.0, 255.0, 1.0);
    let mut checked = Vec::new();
    let mut bad = Vec::new();
    let mut check = |what: String, fg: Rgba, bg: Rgba| {
        let ratio = contrast(fg, bg);
        if ratio < 4.5 {
            bad.push(format!("{what}: {ratio:.2}:1"));
        }
        checked.push(what);
    };
    // Rules for the top bar's parts sit on its dark blue, the rest on white.
    let in_topbar = |sel: &str| {
        sel.split(',').all(|s| {
            let s = s.trim_start();
            s.starts_with(".topbar") || s.starts_with(".mainnav") || s.starts_with(".user") || s.starts_with(".menu-toggle") || s.starts_with(".badge-role")
        })
    };
    let topbar = colour("var(--brand)");
    // 1. Every rule that sets both a text colour and a background.
    for (sel, d) in &rules {
        let bg = d.get("background").or_else(|| d.get("background-color"));
        if let (Some(fg), Some(bg)) = (d.get("color"), bg)
            && !matches!(fg.as_str(), "inherit" | "currentColor")
            && !bg.contains("gradient")
            && !matches!(bg.as_str(), "transparent" | "inherit" | "none")
            && !sel.contains(":disabled")
        {
            let base = if in_topbar(sel) { topbar } else { white };
            check(format!("{sel} ({fg} on {bg})"), colour(fg), over(colour(bg), base));
        }
    }
    // 2. Text that takes its background from elsewhere: (text, background, where).
    let var = |name: &str| colour(&format!("var({name})"));
    let declared = [
        ("--ink", "--bg", "page text"),
        ("--ink", "--card", "card text"),
        ("--muted", "--bg", "muted text on the page (footer, crumbs)"),
        ("--muted", "--card", "muted text in cards"),
        ("--brand-2", "--card", "links in cards"),
        ("--brand-2", "--bg", "links on the page"),
        ("--bad", "--card", "danger buttons"),
        ("--wait", "--card", "warnings"),
        ("--accent-text", "--card", "overridden grades"),
        ("--muted", "--info-bg", "muted text on a highlighted cell"),
    ];
    for (fg, bg, what) in declared {
        check(format!("{what} ({fg} on {bg})"), var(fg), var(bg));
    }
    for (sel, d) in &rules {
        if let Some(fg) = d.get("color").filter(|c| !matches!(c.as_str(), "inherit" | "currentColor"))
            && in_topbar(sel)
            && !d.contains_key("background")
        {
            check(format!("{sel} on the top bar ({fg})"), colour(fg), topbar);
        }
    }
    for (sel, d) in &rules {
        if sel.contains("thead th") || sel.contains("tr:nth-child(even)") {
            let bg = colour(d.get("background").expect("table header/stripe background"));
            check(format!("muted text on {sel}"), var("--muted"), bg);
            check(format!("text on {sel}"), var("--ink"), bg);
        }
    }
    assert!(checked.len() > 25, "the contrast check looked at only {} pairs: {checked:?}", checked.len());
    assert!(bad.is_empty(), "text/background pairs below WCAG AA (4.5:1):\n  {}", bad.join("\n  "));
}

/// What a page shows as code (the web UI's `codeSpans`): `backticks`,
/// calls like `distance("front")` and quoted names — removed before the check.
fn without_code(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(['`', '"']) {
        out.push_str(&rest[..start]);
        let quote = rest[start..].chars().next().unwrap();
        match rest[start + 1..].find(quote) {
            Some(end) => rest = &rest[start + 1 + end + 1..],
            None => {
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    // Calls: an identifier directly followed by `(…)`.
    let mut plain = String::new();
    let chars: Vec<char> = out.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() || chars[i] == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            if i < chars.len() && chars[i] == '(' {
                let mut depth = 0;
                while i < chars.len() {
                    match chars[i] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            } else {
                plain.extend(&chars[start..i]);
            }
        } else {
            plain.push(chars[i]);
            i += 1;
        }
    }
    plain
}

/// Every lab's texts a student reads (titles, instructions, hints, case
/// titles) speak one language, outside code and the shared allow-list — the
/// browser flow visits only a few labs, this covers all of them.
#[test]
fn lab_texts_speak_the_readers_language() {
    let catalogue = qiming_curriculum::Catalogue::open(&repo().join("curriculum")).unwrap();
    let (allow_zh, allow_en) = allow_list();
    let mut bad = Vec::new();
    for lab in &catalogue.labs {
        let mut texts: Vec<(String, &qiming_curriculum::Text)> =
            vec![("title".into(), &lab.title), ("instructions".into(), &lab.instructions), ("hidden_hint".into(), &lab.hidden_hint)];
        texts.extend(lab.checks.iter().enumerate().filter_map(|(i, c)| c.hint.as_ref().map(|h| (format!("checks[{i}].hint"), h))));
        texts.extend(lab.cases.iter().filter_map(|c| c.title.as_ref().map(|t| (format!("case {} title", c.name), t))));
        for (what, text) in texts {
            let words = latin_words(&without_code(&text.zh), &allow_zh);
            if !words.is_empty() {
                bad.push(format!("{} {what} (zh-CN): {words:?}", lab.id));
            }
            let mut en = without_code(&text.en);
            for w in &allow_en {
                en = en.replace(w.as_str(), "");
            }
            if en.chars().any(is_han) {
                bad.push(format!("{} {what} (en): Chinese in {:?}", lab.id, text.en));
            }
        }
    }
    assert!(bad.is_empty(), "lab texts in the other language (mark code with backticks, translate the rest):\n  {}", bad.join("\n  "));
}
