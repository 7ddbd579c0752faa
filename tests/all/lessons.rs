//! Lessons that teach: every Rhai example in every lesson runs (or, when it is
//! tagged `rhai,error`, fails as it says), every starter program runs and
//! moves the robot, lab lessons link the primer, and no lesson, starter,
//! reference or example names a variable with one of Rhai's reserved words.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use qiming_curriculum::{Catalogue, Lesson};
use qiming_grading::grade::lab_limits;
use qiming_grading::{RunOptions, RunResult, run_program};
use qiming_runtime::{Limits, Outcome, Program};
use qiming_sim::Scenario;

use crate::support::{on_run_thread, repo};

fn catalogue() -> Catalogue {
    Catalogue::open(&repo().join("curriculum")).expect("the shipped catalogue loads")
}

fn run(program: Program, scenario: Arc<Scenario>, seed: u64, limits: Limits) -> RunResult {
    on_run_thread(move || run_program(&program, &scenario, &RunOptions { seed, limits, ..RunOptions::default() }))
}

/// Where a lesson's examples run: its own `scenario`, else the first case of
/// the lab it belongs to.
fn example_arena(cat: &Catalogue, lesson: &Lesson) -> Option<(Arc<Scenario>, u64, Limits)> {
    if let Some(path) = &lesson.scenario {
        return Some((Arc::new(Scenario::load(path).expect("lesson scenario loads")), 0, Limits::default()));
    }
    let lab = cat.labs.iter().find(|l| l.lesson.as_deref() == Some(lesson.id.as_str()))?;
    let case = &lab.cases[0];
    Some((case.scenario.clone(), case.seed, lab_limits(lab, &Limits::default())))
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Error(e) => format!("error at {:?}:{:?}: {}", e.line, e.column, e.message),
        Outcome::Limit { limit, message } => format!("limit {limit:?}: {message}"),
        other => other.as_str().to_string(),
    }
}

#[test]
fn every_rhai_example_in_every_lesson_runs_as_tagged() {
    let cat = catalogue();
    let mut problems = Vec::new();
    let mut ran = 0;
    for lesson in &cat.lessons {
        if lesson.examples.is_empty() {
            continue;
        }
        let Some((scenario, seed, limits)) = example_arena(&cat, lesson) else {
            problems.push(format!("{}: has rhai examples but no scenario to run them in (set `scenario`, or attach it to a lab)", lesson.path.display()));
            continue;
        };
        for ex in &lesson.examples {
            let result = run(Program::rhai(ex.code.clone()), scenario.clone(), seed, limits.clone());
            ran += 1;
            let where_ = format!("{}:{} ({})", lesson.path.display(), ex.line, ex.lang);
            match (&result.report.outcome, ex.expect_error) {
                (Outcome::Finished | Outcome::TimeUp, false) | (Outcome::Error(_), true) => {}
                (outcome, false) => problems.push(format!("{where_}: the example should run, but ended with {}", describe(outcome))),
                (outcome, true) => problems.push(format!("{where_}: tagged rhai,error, but ended with {}", describe(outcome))),
            }
        }
    }
    assert!(ran >= 40, "only {ran} examples found: is the primer there?");
    assert!(problems.is_empty(), "{} lesson example(s) misbehave:\n{}", problems.len(), problems.join("\n"));
}

fn travelled(result: &RunResult) -> f64 {
    result.sim.track.windows(2).map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt()).fold(0.0, |a, b| a + b)
}

fn starter_program(language: &str, source: &str) -> Program {
    if language == "wasm" { Program::wasm(source.as_bytes().to_vec()) } else { Program::rhai(source.to_string()) }
}

#[test]
fn every_starter_runs_and_moves_the_robot() {
    let cat = catalogue();
    let mut problems = Vec::new();
    for lab in &cat.labs {
        assert!(lab.starter.contains_key("rhai") || !lab.languages.iter().any(|l| l == "rhai"), "{}: no Rhai starter", lab.id);
        let case = &lab.cases[0];
        // An AI lab's starter runs with the reference's model, as a student's
        // does once they have trained one.
        let model: Option<Arc<dyn qiming_ai::Classifier>> = lab
            .reference_bundles
            .first()
            .map(|dir| qiming_grading::Bundle::from_folder(dir).expect("the reference bundle loads"))
            .and_then(|b| b.model)
            .map(|m| m as Arc<dyn qiming_ai::Classifier>);
        for (language, source) in &lab.starter {
            let (program, scenario, limits, model) =
                (starter_program(language, source), case.scenario.clone(), lab_limits(lab, &Limits::default()), model.clone());
            let seed = case.seed;
            let result = on_run_thread(move || run_program(&program, &scenario, &RunOptions { seed, limits, model, ..RunOptions::default() }));
            let name = format!("{} starter ({language}) in case {}", lab.id, case.name);
            match &result.report.outcome {
                Outcome::Finished | Outcome::TimeUp => {}
                other => problems.push(format!("{name}: ended with {}", describe(other))),
            }
            let metres = travelled(&result);
            if metres < 0.05 {
                problems.push(format!("{name}: the robot moved only {metres:.3} m (a starter must visibly do something)"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn starters_say_what_to_change_in_both_languages() {
    for lab in &catalogue().labs {
        for (language, source) in &lab.starter {
            let comment = if language == "wasm" { ";;" } else { "//" };
            let comments: String = source.lines().filter_map(|l| l.split_once(comment).map(|(_, c)| c)).collect::<Vec<_>>().join("\n");
            assert!(comments.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{} starter ({language}) has no Chinese comment", lab.id);
            assert!(comments.chars().filter(|c| c.is_ascii_alphabetic()).count() > 20, "{} starter ({language}) has no English comment", lab.id);
            let hints = ["改", "change", "TODO", "your turn", "Your turn"];
            assert!(hints.iter().any(|h| comments.contains(h)), "{} starter ({language}) does not say what to change", lab.id);
        }
    }
}

#[test]
fn lab_lessons_link_the_primer_in_both_languages() {
    let cat = catalogue();
    let primer: Vec<&Lesson> = cat.lessons.iter().filter(|l| l.kind == "primer").collect();
    assert!(primer.len() >= 6, "the primer track has {} lessons", primer.len());
    for lab in &cat.labs {
        let Some(id) = &lab.lesson else { continue };
        let lesson = cat.lessons.iter().find(|l| &l.id == id).expect("lab lesson exists");
        let primer_links = |lang: &str| -> Vec<String> {
            let mut v: Vec<String> = lesson
                .links
                .iter()
                .filter(|k| k.lang == lang && primer.iter().any(|p| p.id == k.lesson))
                .map(|k| format!("{}#{}", k.lesson, k.anchor.clone().unwrap_or_default()))
                .collect();
            v.sort();
            v
        };
        let (zh, en) = (primer_links("zh-CN"), primer_links("en"));
        assert!(!zh.is_empty(), "{}: the zh-CN lesson links no primer section", lesson.path.display());
        assert_eq!(zh, en, "{}: the zh-CN and en lessons link different primer sections", lesson.path.display());
    }
}

/// Words Rhai reserves or uses as keywords that pupils are likely to reach for
/// as names. Our own programs must not use them as names (they would not
/// compile), and lessons must not suggest them as names.
const RESERVED: &[&str] = &[
    "go",
    "goto",
    "match",
    "case",
    "default",
    "new",
    "null",
    "nil",
    "var",
    "use",
    "with",
    "is",
    "this",
    "static",
    "public",
    "protected",
    "package",
    "super",
    "spawn",
    "thread",
    "async",
    "await",
    "yield",
    "sync",
    "shared",
    "module",
    "void",
];

/// The identifiers of a piece of Rhai outside strings and comments.
fn identifiers(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' || c == '`' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else {
            i += 1;
        }
    }
    out
}

/// Inline code spans of a Markdown body, outside fenced blocks.
fn inline_code(body: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut in_fence = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // Spans delimited by single backticks (double-backtick spans show a backtick).
        let mut parts = line.split("``");
        let mut text = String::new();
        if let Some(first) = parts.next() {
            text.push_str(first);
        }
        for (k, p) in parts.enumerate() {
            if k % 2 == 1 {
                text.push_str(p);
            }
        }
        let pieces: Vec<&str> = text.split('`').collect();
        spans.extend(pieces.iter().skip(1).step_by(2).map(|s| s.to_string()));
    }
    spans
}

fn rhai_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rhai_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rhai") {
            out.push(p);
        }
    }
}

#[test]
fn no_lesson_starter_reference_or_example_names_things_with_reserved_words() {
    let mut problems = Vec::new();
    let mut check = |what: String, code: &str| {
        for id in identifiers(code) {
            if RESERVED.contains(&id.as_str()) {
                problems.push(format!("{what}: uses the reserved word `{id}` as a name"));
            }
        }
    };
    let mut files = Vec::new();
    rhai_files(&repo().join("curriculum"), &mut files);
    rhai_files(&repo().join("examples"), &mut files);
    assert!(files.len() > 40);
    for f in &files {
        check(f.display().to_string(), &std::fs::read_to_string(f).unwrap());
    }
    let cat = catalogue();
    for lesson in &cat.lessons {
        for ex in lesson.examples.iter().filter(|e| !e.expect_error) {
            check(format!("{}:{}", lesson.path.display(), ex.line), &ex.code);
        }
        // Inline code in the prose, except a span that is just the word itself
        // (naming the word to warn about it).
        for (lang, body) in [("zh-CN", &lesson.body.zh), ("en", &lesson.body.en)] {
            for span in inline_code(body) {
                if RESERVED.contains(&span.trim()) {
                    continue;
                }
                check(format!("{} ({lang}) inline code `{span}`", lesson.path.display()), &span);
            }
        }
    }
    for lab in &cat.labs {
        for text in [&lab.instructions.zh, &lab.instructions.en] {
            for line in text.lines() {
                // Code in instructions is not marked up: look at what follows `let `.
                for part in line.split("let ").skip(1) {
                    check(format!("{}/lab.toml instructions", lab.id), part.split_whitespace().next().unwrap_or(""));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn lesson_format_errors_name_file_and_line() {
    let dir = std::env::temp_dir().join(format!("qiming-lessons-{}", std::process::id()));
    let lessons = dir.join("lessons");
    std::fs::create_dir_all(&lessons).unwrap();
    std::fs::create_dir_all(dir.join("labs")).unwrap();
    let front = |id: &str, extra: &str| {
        format!(
            "+++\nid = \"{id}\"\ngrade_band = \"3-4\"\nmodule = \"algorithms\"\nliteracies = [\"computational-thinking\"]\nminutes = 20\n{extra}\n[title]\nzh-CN = \"标题\"\nen = \"Title\"\n+++\n"
        )
    };
    // A primer lesson with an anchor in both languages.
    let primer = format!("{}<!-- zh-CN -->\n## 变量 {{#let}}\n正文\n<!-- en -->\n## Variables {{#let}}\nText\n", front("p1", "kind = \"primer\""));
    std::fs::write(lessons.join("p1.md"), primer).unwrap();
    // Links to a missing anchor (line 14) and to a primer lesson not listed as a prerequisite (lines 14, 16).
    let linking =
        format!("{}<!-- zh-CN -->\n## 需要的知识\n见 [变量](p1.md#lets)。\n<!-- en -->\nSee [variables](p1.md#let).\n", front("l1", "prerequisites = []"));
    std::fs::write(lessons.join("l1.md"), linking).unwrap();
    // An anchor in one language only (line 13), and an unknown code tag.
    let one_sided = format!("{}<!-- zh-CN -->\n## 只有中文 {{#only-zh}}\n<!-- en -->\nEnglish\n", front("l2", ""));
    std::fs::write(lessons.join("l2.md"), one_sided).unwrap();
    let bad_tag = format!("{}<!-- zh-CN -->\n```rhai error\nstop();\n```\n<!-- en -->\nEnglish\n", front("l3", ""));
    std::fs::write(lessons.join("l3.md"), bad_tag).unwrap();
    let bad_kind = front("l4", "kind = \"quiz\"") + "<!-- zh-CN -->\n中文\n<!-- en -->\nEnglish\n";
    std::fs::write(lessons.join("l4.md"), bad_kind).unwrap();

    let errors = Catalogue::load(&dir).expect_err("broken lessons are refused");
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let has = |file: &str, line: usize, text: &str| {
        assert!(
            errors.iter().any(|e| e.path.ends_with(file) && e.line == line && e.message.contains(text)),
            "expected {file}:{line} … {text} in:\n{}",
            shown.join("\n")
        )
    };
    has("l1.md", 14, "no anchor {#lets}");
    has("l1.md", 14, "`prerequisites` must list it");
    has("l1.md", 16, "`prerequisites` must list it");
    has("l2.md", 13, "not in the en text");
    has("l3.md", 13, "unknown code block tag");
    has("l4.md", 7, "kind must be one of");
    let _ = std::fs::remove_dir_all(&dir);
}
