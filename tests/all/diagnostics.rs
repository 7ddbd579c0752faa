//! Feedback a child understands: a table of novice programs, the diagnostic each must produce in zh-CN and en, and how grade reports use them.

use std::fmt::Write as _;

use qiming_curriculum::Lab;
use qiming_grading::grade::{GradeOptions, GradeReport, grade};
use qiming_runtime::{Diagnostic, Outcome, Program, lint};

use crate::support::{on_run_thread, repo, rhai, wat};

/// How a row's program is written.
#[derive(Clone, Copy, PartialEq)]
enum Lang {
    /// Rhai, run in the empty arena; the diagnostic comes from its error.
    Rhai,
    /// Rhai that runs, with a mistake that is not an error; the diagnostic is a note.
    Note,
    /// WebAssembly text.
    Wat,
}

struct Row {
    name: &'static str,
    lang: Lang,
    source: &'static str,
    code: &'static str,
    /// Phrases the zh-CN text (explanation and suggestion) must contain.
    zh: &'static [&'static str],
    /// Phrases the en text must contain.
    en: &'static [&'static str],
    /// The line the child is sent to, when it matters.
    line: Option<u32>,
}

const fn row(
    name: &'static str,
    lang: Lang,
    source: &'static str,
    code: &'static str,
    zh: &'static [&'static str],
    en: &'static [&'static str],
    line: Option<u32>,
) -> Row {
    Row { name, lang, source, code, zh, en, line }
}

use Lang::{Note, Rhai, Wat};

/// At least 40 novice programs and what each must be told.
const TABLE: &[Row] = &[
    // Text typed with a Chinese input method.
    row("full-width brackets", Rhai, "motors（0.5，0.5）；", "chinese_punctuation", &["中文标点“（”", "英文的 ("], &["Chinese", "“（”", "English ("], Some(1)),
    row("full-width semicolon", Rhai, "motors(0.5, 0.5)；\nwait(1);", "chinese_punctuation", &["“；”", "英文的 ;"], &["“；”", "English ;"], Some(1)),
    row("full-width comma", Rhai, "motors(0.5，0.5);", "chinese_punctuation", &["“，”", "英文的 ,"], &["“，”"], Some(1)),
    row("curly quotes", Rhai, "let d = distance(“front”);", "chinese_punctuation", &["“", "英文的 \""], &["English \""], Some(1)),
    row(
        "full-width space",
        Rhai,
        "let speed = 0.5;\n\u{3000}motors(speed, speed);",
        "fullwidth_space",
        &["全角空格", "U+3000"],
        &["full-width space", "U+3000"],
        Some(2),
    ),
    row("zero-width space", Rhai, "motors(0.5,\u{200B} 0.5);", "invisible_character", &["看不见", "U+200B"], &["invisible", "U+200B"], Some(1)),
    row("no-break space", Rhai, "let\u{00A0}x = 1;", "invisible_character", &["U+00A0"], &["U+00A0"], Some(1)),
    row(
        "chinese variable name",
        Rhai,
        "let 速度 = 0.5;\nmotors(速度, 速度);",
        "chinese_identifier",
        &["“速度”是中文名字", "英文字母"],
        &["“速度” is a Chinese name"],
        Some(1),
    ),
    // Rhai's grammar.
    row(
        "missing semicolon",
        Rhai,
        "motors(0.5, 0.5)\nwait(1);",
        "missing_semicolon",
        &["少了分号 ;", "在 ) 后面加上 ;"],
        &["missing a semicolon", "Add ; after )"],
        Some(1),
    ),
    row(
        "missing semicolon after let",
        Rhai,
        "let d = distance(\"front\")\nif d < 0.2 { stop(); }",
        "missing_semicolon",
        &["少了分号"],
        &["semicolon"],
        Some(1),
    ),
    row(
        "missing closing brace",
        Rhai,
        "loop {\n    motors(0.5, 0.5);\n",
        "missing_close_brace",
        &["第 1 行", "没有配对的 }"],
        &["line 1", "no matching }"],
        Some(1),
    ),
    row("missing closing bracket", Rhai, "motors(0.5, 0.5;", "missing_close_paren", &["没有配对的 )"], &["no matching )"], Some(1)),
    row("unterminated text", Rhai, "print(\"hello);", "unterminated_string", &["少了后面的引号"], &["closing quote"], Some(1)),
    row(
        "stop without brackets",
        Rhai,
        "motors(0.5, 0.5);\nwait(1);\nstop;",
        "missing_parentheses",
        &["stop 是一个函数", "stop()"],
        &["stop is a function", "stop()"],
        Some(3),
    ),
    row(
        "sensor name without quotes",
        Rhai,
        "let d = distance(front);",
        "unquoted_name",
        &["英文双引号", "distance(\"front\")"],
        &["double quotes", "distance(\"front\")"],
        Some(1),
    ),
    row("colour without quotes", Rhai, "if color(\"floor\") == red { stop(); }", "unquoted_name", &["\"red\""], &["\"red\""], Some(1)),
    row("missing let", Rhai, "speed = 0.5;\nmotors(speed, speed);", "missing_let", &["let speed"], &["let speed"], Some(1)),
    row(
        "function cannot see outside",
        Rhai,
        "let speed = 0.5;\nfn drive() {\n    motors(speed, speed);\n}\ndrive();",
        "function_scope",
        &["函数里看不到", "speed", "参数"],
        &["cannot see", "speed", "parameter"],
        Some(3),
    ),
    row("misspelt variable", Rhai, "let speed = 0.5;\nmotors(sped, speed);", "undefined_variable", &["sped", "`speed`"], &["sped", "`speed`"], Some(2)),
    row("if without braces", Rhai, "let d = distance(\"front\");\nif d < 0.2 stop();", "missing_braces", &["大括号"], &["braces"], Some(2)),
    row("assignment in condition", Rhai, "let d = distance(\"front\");\nif d = 0.2 { stop(); }", "assign_in_condition", &["=="], &["=="], Some(2)),
    // Other languages' habits.
    row("python comment", Rhai, "# drive forward\nmotors(0.5, 0.5);", "python_comment", &["//"], &["//"], Some(1)),
    row(
        "elif",
        Rhai,
        "let d = distance(\"front\");\nif d < 0.2 {\n    stop();\n} elif d < 0.5 {\n    motors(0.2, 0.2);\n}",
        "python_elif",
        &["else if"],
        &["else if"],
        Some(4),
    ),
    row("and", Rhai, "let d = distance(\"front\");\nif d > 0.2 and d < 1.0 { motors(0.3, 0.3); }", "python_operator", &["&&"], &["&&"], Some(2)),
    row("python True", Rhai, "let done = True;", "python_constant", &["true"], &["true"], Some(1)),
    row("python block colon", Rhai, "while true:\n    motors(0.5, 0.5)", "python_block", &["大括号"], &["braces"], Some(1)),
    row("python def", Rhai, "def drive() {\n    motors(0.5, 0.5);\n}", "function_keyword", &["fn"], &["fn"], Some(1)),
    row("javascript var", Rhai, "var speed = 0.5;", "reserved_word", &["let"], &["let"], Some(1)),
    row("console.log", Rhai, "console.log(\"hi\");", "js_console_log", &["print"], &["print"], Some(1)),
    row(
        "C for loop",
        Rhai,
        "for (let i = 0; i < 4; i++) {\n    forward(0.5);\n    turn(90);\n}",
        "c_for_loop",
        &["for i in 0..4"],
        &["for i in 0..4"],
        Some(1),
    ),
    row("i++", Rhai, "let i = 0;\ni++;", "increment_operator", &["i += 1"], &["i += 1"], Some(2)),
    row("triple equals", Rhai, "let c = color(\"floor\");\nif c === \"red\" { stop(); }", "triple_equals", &["=="], &["=="], Some(2)),
    row("python range", Rhai, "for i in range(4) {\n    forward(0.5);\n    turn(90);\n}", "python_range", &["0..4"], &["0..4"], Some(1)),
    row("println", Rhai, "println(\"hi\");", "unknown_function", &["print(…)"], &["print(…)"], Some(1)),
    // Reserved words.
    row(
        "go is reserved",
        Rhai,
        "let go = true;\nif go { motors(0.5, 0.5); wait(1); }",
        "reserved_word",
        &["`go`", "保留"],
        &["`go`", "keeps for itself"],
        Some(1),
    ),
    row("match is reserved", Rhai, "let match = 1;", "reserved_word", &["`match`"], &["`match`"], Some(1)),
    row("default is reserved", Rhai, "let default = 0.5;", "reserved_word", &["`default`"], &["`default`"], Some(1)),
    row("new is reserved", Rhai, "let new = 2;", "reserved_word", &["`new`"], &["`new`"], Some(1)),
    row("case is reserved", Rhai, "let case = 1;", "reserved_word", &["`case`"], &["`case`"], Some(1)),
    row("null is reserved", Rhai, "let x = null;", "reserved_word", &["()"], &["()"], Some(1)),
    // Robot functions.
    row("colour spelt the British way", Rhai, "let c = colour(\"floor\");", "unknown_function", &["colour", "`color`"], &["colour", "`color`"], Some(1)),
    row("misspelt motors", Rhai, "motor(0.5, 0.5);", "unknown_function", &["`motors`"], &["Did you mean `motors`?"], Some(1)),
    row("capitalised function", Rhai, "Motors(0.5, 0.5);", "wrong_case", &["motors", "小写"], &["motors", "lower case"], Some(1)),
    row(
        "too few arguments",
        Rhai,
        "motors(0.5);",
        "wrong_argument_count",
        &["需要 2 个参数", "motors(左轮速度, 右轮速度)", "给了 1 个"],
        &["needs 2 arguments", "motors(left, right)", "got 1"],
        Some(1),
    ),
    row("forward without distance", Rhai, "forward();", "wrong_argument_count", &["forward(米数)"], &["forward(metres)"], Some(1)),
    row(
        "own function, wrong count",
        Rhai,
        "fn drive(speed) {\n    motors(speed, speed);\n}\ndrive();",
        "wrong_argument_count",
        &["drive(speed)", "1 个参数"],
        &["drive(speed)", "1 argument"],
        Some(4),
    ),
    row("text instead of number", Rhai, "motors(\"fast\", 0.5);", "wrong_argument_type", &["需要数字", "文字"], &["needs numbers", "text"], Some(1)),
    row(
        "number instead of sensor name",
        Rhai,
        "let d = distance(5);",
        "wrong_argument_type",
        &["传感器的名字", "整数"],
        &["sensor's name", "a whole number"],
        Some(1),
    ),
    row("unknown sensor", Rhai, "let d = distance(\"nose\");", "unknown_sensor", &["\"nose\""], &["\"nose\""], Some(1)),
    row(
        "sensor name in capitals",
        Rhai,
        "let d = distance(\"Front\");",
        "unknown_sensor",
        &["小写", "distance(\"front\")"],
        &["lower case", "distance(\"front\")"],
        Some(1),
    ),
    row("delay instead of wait", Rhai, "motors(0.5, 0.5);\ndelay(1);", "unknown_function", &["wait(秒数)"], &["wait(seconds)"], Some(2)),
    row("sleep instead of wait", Rhai, "motors(0.5, 0.5);\nsleep(1);", "use_wait", &["wait(秒数)"], &["wait(seconds)"], Some(2)),
    row("negative wait", Rhai, "wait(-1);", "value_out_of_range", &["负数"], &["negative"], Some(1)),
    // Runtime.
    row("division by zero", Rhai, "let n = 0;\nlet x = 10 / n;", "division_by_zero", &["除以了 0"], &["divides by zero"], Some(2)),
    row("index out of range", Rhai, "let a = [1, 2];\nprint(a[5]);", "index_out_of_range", &["只有 2 个元素", "编号 5"], &["only 2 items", "item 5"], Some(2)),
    row("for over a number", Rhai, "for i in 4 {\n    forward(0.5);\n}", "for_needs_range", &["0..4"], &["0..4"], Some(1)),
    row("text times number", Rhai, "let x = \"a\" * 2;", "operator_types", &["文字", "整数"], &["text", "a whole number"], Some(1)),
    row("throw", Rhai, "throw \"oops\";", "thrown", &["oops"], &["oops"], Some(1)),
    // Mistakes that run.
    row(
        "colour in capitals",
        Note,
        "loop {\n    if color(\"floor\") == \"Red\" { stop(); break; }\n    motors(0.3, 0.3);\n}",
        "colour_case",
        &["\"red\"", "小写"],
        &["\"red\"", "lower case"],
        Some(2),
    ),
    row("colour in chinese", Note, "if color(\"floor\") == \"红色\" { stop(); }", "colour_in_chinese", &["\"red\""], &["\"red\""], Some(1)),
    row("centimetres to forward", Note, "forward(50);", "units_centimetres", &["米", "0.5"], &["metres", "0.5"], Some(1)),
    row(
        "centimetres from distance",
        Note,
        "loop {\n    if distance(\"front\") < 20 { stop(); break; }\n    motors(0.5, 0.5);\n}",
        "units_centimetres",
        &["0.2"],
        &["0.2"],
        Some(2),
    ),
    row(
        "milliseconds to wait",
        Note,
        "loop {\n    motors(0.5, 0.5);\n    wait(500);\n    turn(90);\n}",
        "units_milliseconds",
        &["秒", "wait(0.5)"],
        &["seconds", "wait(0.5)"],
        Some(3),
    ),
    row("motor speed in percent", Note, "motors(50, 50);\nwait(1);", "motor_percent", &["-1 到 1", "0.5"], &["-1 to 1", "0.5"], Some(1)),
    // WebAssembly.
    row(
        "wasm import from env",
        Wat,
        r#"(module (import "env" "motors" (func (param f64 f64))) (func (export "run")))"#,
        "wasm_import_module",
        &["\"robot\"", "\"env\""],
        &["\"robot\"", "\"env\""],
        None,
    ),
    row(
        "wasm unknown import",
        Wat,
        r#"(module (import "robot" "motor" (func (param f64 f64))) (func (export "run")))"#,
        "wasm_unknown_import",
        &["`motors`"],
        &["`motors`"],
        None,
    ),
    row(
        "wasm import signature",
        Wat,
        r#"(module (import "robot" "motors" (func (param f32 f32))) (func (export "run")))"#,
        "wasm_signature",
        &["(f32, f32) -> ()", "(f64, f64) -> ()"],
        &["has (f32, f32) -> ()", "but (f64, f64) -> () is needed"],
        None,
    ),
    row(
        "wasm run with a parameter",
        Wat,
        r#"(module (func (export "run") (param i32)))"#,
        "wasm_signature",
        &["(i32) -> ()", "() -> ()"],
        &["Your function run has (i32) -> ()", "but () -> () is needed"],
        None,
    ),
    row("wasm without run", Wat, r#"(module (func (export "main")))"#, "wasm_missing_run", &["run", "main"], &["run", "main"], None),
    // The AI functions.
    row(
        "classify without a model",
        Rhai,
        "let img = camera();\nlet s = classify(img);",
        "no_model",
        &["没有模型", "训练", "部署"],
        &["no model", "train", "deploy"],
        Some(2),
    ),
    row("classify a text", Rhai, "let s = classify(\"stop\");", "wrong_argument_type", &["摄像头的图像", "文字"], &["camera image", "text"], Some(1)),
    row(
        "pixel outside the image",
        Rhai,
        "let img = camera();\nprint(pixel(img, 40, 3));",
        "value_out_of_range",
        &["32×24", "(40, 3)"],
        &["32×24", "(40, 3)"],
        Some(2),
    ),
    row("record an empty label", Rhai, "record(\"\");", "bad_label", &["类别名", "空"], &["label", "empty"], Some(1)),
    row("record a number", Rhai, "record(1);", "wrong_argument_type", &["类别名", "整数"], &["label", "whole number"], Some(1)),
    row(
        "wasm camera past the end of memory",
        Wat,
        r#"(module (import "robot" "camera" (func $c (param i32) (result i32))) (memory (export "memory") 1) (func (export "run") (drop (call $c (i32.const 65000)))))"#,
        "wasm_bad_buffer",
        &["camera", "内存"],
        &["camera", "outside memory"],
        None,
    ),
    row(
        "wasm divide by zero",
        Wat,
        r#"(module (func (export "run") (drop (i32.div_s (i32.const 1) (i32.const 0)))))"#,
        "division_by_zero",
        &["除以了 0"],
        &["divides"],
        None,
    ),
];

/// The diagnostic a row's program gets: its error's, or for notes the matching note.
fn diagnostic_of(row: &Row) -> Diagnostic {
    if row.lang == Lang::Note {
        let notes = lint(row.source);
        return notes.into_iter().find(|n| n.code == row.code).unwrap_or_else(|| panic!("{}: no note {}", row.name, row.code));
    }
    let run = if row.lang == Lang::Wat { wat(row.source, "empty") } else { rhai(row.source, "empty") };
    match run.report.outcome {
        Outcome::Error(e) => *e.diagnostic,
        other => panic!("{}: expected an error, got {other:?}", row.name),
    }
}

fn learner_text(d: &Diagnostic) -> (String, String) {
    let s = d.suggestion.as_ref();
    (format!("{} {}", d.explanation.zh, s.map_or("", |s| s.zh.as_str())), format!("{} {}", d.explanation.en, s.map_or("", |s| s.en.as_str())))
}

/// Rust type names and engine phrases a child must never see.
const FORBIDDEN: &[&str] = &[
    "ImmutableString",
    "&str",
    "String",
    "Dynamic",
    "i64",
    "INT",
    "FLOAT",
    "Function not found",
    "Variable not found",
    "Undefined variable",
    "Expecting",
    "Division by zero",
    "Unknown operator",
    "Syntax error",
    "wasm trap",
    "ErrorRuntime",
];

#[test]
fn the_table_is_big_enough_and_codes_are_stable_words() {
    assert!(TABLE.len() >= 40, "{} rows", TABLE.len());
    for r in TABLE {
        assert!(r.code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}: code {}", r.name, r.code);
    }
}

#[test]
fn every_novice_program_gets_its_diagnostic_in_both_languages() {
    let mut failures = Vec::new();
    for r in TABLE {
        let d = diagnostic_of(r);
        let (zh, en) = learner_text(&d);
        if d.code != r.code {
            failures.push(format!("{}: code {} (wanted {}): {zh} | {en}", r.name, d.code, r.code));
            continue;
        }
        for p in r.zh {
            if !zh.contains(p) {
                failures.push(format!("{}: zh lacks {p:?}: {zh}", r.name));
            }
        }
        for p in r.en {
            if !en.contains(p) {
                failures.push(format!("{}: en lacks {p:?}: {en}", r.name));
            }
        }
        if r.line.is_some() && d.line != r.line {
            failures.push(format!("{}: line {:?} (wanted {:?})", r.name, d.line, r.line));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn learner_text_never_contains_type_names_or_engine_english() {
    for r in TABLE {
        let d = diagnostic_of(r);
        let (zh, en) = learner_text(&d);
        for text in [&zh, &en] {
            for f in FORBIDDEN {
                // WebAssembly's own types (f64, i32) are the ABI advanced students write; Rust's are not.
                if r.lang == Lang::Wat && *f == "i64" {
                    continue;
                }
                assert!(!text.contains(f), "{}: learner text contains {f:?}: {text}", r.name);
            }
            if r.lang != Lang::Wat {
                assert!(!text.contains("f64"), "{}: learner text contains f64: {text}", r.name);
            }
        }
        assert!(zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}: the zh-CN text is not Chinese: {zh}", r.name);
        assert!(d.line.is_some() || r.lang == Lang::Wat, "{}: a Rhai diagnostic always has a line", r.name);
    }
}

#[test]
fn the_whole_table_matches_its_snapshot() {
    let mut out = String::new();
    for r in TABLE {
        let d = diagnostic_of(r);
        let at = match (d.line, d.column) {
            (Some(l), Some(c)) => format!("{l}:{c}"),
            (Some(l), None) => format!("{l}"),
            _ => "-".into(),
        };
        let _ = writeln!(out, "## {} [{}] at {at}", r.name, d.code);
        let _ = writeln!(out, "zh: {}", d.explanation.zh);
        if let Some(s) = &d.suggestion {
            let _ = writeln!(out, "    {}", s.zh);
        }
        let _ = writeln!(out, "en: {}", d.explanation.en);
        if let Some(s) = &d.suggestion {
            let _ = writeln!(out, "    {}", s.en);
        }
    }
    insta::with_settings!({ snapshot_path => repo().join("tests/all/snapshots"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("diagnostics-table", out);
    });
}

#[test]
fn correct_habits_get_no_notes() {
    // Waiting until time is up, quoted colours in lower case, metres.
    for src in [
        "motors(0.5, 0.5);\nwait(1000);",
        "if color(\"floor\") == \"red\" { stop(); }",
        "forward(0.5);\nif distance(\"front\") < 0.2 { stop(); }",
        "print(\"红色\");",
    ] {
        assert_eq!(lint(src), Vec::new(), "{src}");
    }
}

#[test]
fn the_original_engine_text_stays_for_teachers() {
    let run = rhai("let c = colour(\"floor\");", "empty");
    let Outcome::Error(e) = run.report.outcome else { panic!("an error") };
    assert!(e.message.contains("colour"), "{}", e.message);
    assert_eq!(e.diagnostic.code, "unknown_function");
}

// ---------------------------------------------------------------------------
// Grade reports.

fn lab(id: &str) -> Lab {
    Lab::load(&repo().join("curriculum/labs").join(id)).expect("lab loads")
}

fn grade_src(lab_id: &str, src: &str) -> GradeReport {
    let lab = lab(lab_id);
    let program = Program::rhai(src);
    on_run_thread(move || grade(&lab, &program, &GradeOptions::default()))
}

fn all_feedback(report: &GradeReport) -> String {
    serde_json::to_string(&report.cases.iter().map(|c| (&c.feedback, c.checks.iter().map(|k| &k.feedback).collect::<Vec<_>>())).collect::<Vec<_>>()).unwrap()
}

#[test]
fn a_program_that_never_ran_gets_one_message_per_case_and_no_driving_advice() {
    let report = grade_src("wall-stop", "motors（0.5，0.5）；");
    assert_eq!(report.score, 0.0);
    for case in &report.cases {
        assert_eq!(case.feedback.len(), 1, "{}: {:?}", case.name, case.feedback);
        let f = &case.feedback[0];
        if case.hidden {
            assert!(f.en.contains("did not run"), "{}", f.en);
        } else {
            assert!(f.zh.contains("中文标点") && f.zh.contains("第 1 行第 7 列"), "{}", f.zh);
            let error = case.run.as_ref().unwrap().error.as_ref().unwrap();
            assert_eq!(error.code, "chinese_punctuation");
            assert!(error.message.contains("motors"), "the engine's text stays for teachers: {}", error.message);
            for c in &case.checks {
                assert!(c.hint.is_none());
                assert!(c.feedback.en.contains("did not run"), "{}", c.feedback.en);
            }
        }
    }
    let text = all_feedback(&report);
    for praise in ["never touched anything", "too far", "Drive slower"] {
        assert!(!text.contains(praise), "{praise}: {text}");
    }
}

#[test]
fn a_program_that_ends_before_moving_is_told_the_motors_stop_at_the_end() {
    let report = grade_src("wall-stop", "motors(0.5, 0.5);");
    let first = &report.cases[0];
    assert_eq!(first.feedback.len(), 1, "{:?}", first.feedback);
    assert!(first.feedback[0].zh.contains("程序一结束，马达就会停下"), "{}", first.feedback[0].zh);
    assert!(first.feedback[0].en.contains("wait(seconds)"), "{}", first.feedback[0].en);
    assert!(!all_feedback(&report).contains("never touched anything"));
}

#[test]
fn a_robot_sitting_on_the_line_is_not_praised_for_following_it() {
    let report = grade_src("line-follow", "wait(1);");
    let text = all_feedback(&report);
    assert!(!text.contains("of the time"), "{text}");
    assert!(report.cases[0].feedback[0].en.contains("never moved"), "{:?}", report.cases[0].feedback);
}

#[test]
fn a_debugging_print_in_a_loop_does_not_change_the_score_where_output_is_not_graded() {
    let reference = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/reference.rhai")).unwrap();
    let chatty = reference.replace("let gap = distance(\"front\");", "let gap = distance(\"front\");\n    print(`gap is ${gap}`);");
    assert_ne!(chatty, reference);
    let quiet = grade_src("wall-stop", &reference);
    let loud = grade_src("wall-stop", &chatty);
    assert_eq!(loud.score, quiet.score);
    let first = &loud.cases[0];
    let run = first.run.as_ref().unwrap();
    assert!(run.output_truncated && run.output.len() == 4096, "{}", run.output.len());
    assert!(first.feedback.iter().any(|f| f.en.contains("output was cut") && f.zh.contains("截掉")), "{:?}", first.feedback);
}

#[test]
fn output_checks_show_the_expected_and_printed_lines() {
    let report = grade_src("traffic-light", "print(\"go\");\nprint(\"stop\");\nmotors(0.5, 0.5);\nwait(3);");
    let first = &report.cases[0];
    let check = first.checks.iter().find(|c| c.code == "output_matches").unwrap();
    assert!(check.feedback.zh.contains("第 2 行应该是“slow”，你的程序打印的是“stop”"), "{}", check.feedback.zh);
    assert!(check.feedback.en.contains("Expected: go / slow / stop / go / slow; yours: go / stop."), "{}", check.feedback.en);
}

#[test]
fn colour_rules_without_a_visit_do_not_report_a_speed_and_zones_have_names() {
    let report = grade_src("traffic-light", "motors(0.5, 0.5);\nwait(0.5);\nstop();");
    let text = all_feedback(&report);
    assert!(!text.contains("0.00 m/s"), "{text}");
    assert!(text.contains("never reached a yellow card"), "{text}");
    assert!(text.contains("did not reach the finish") && text.contains("没有到达终点"), "{text}");
}

#[test]
fn notes_reach_the_report_and_the_feedback_of_failed_cases() {
    let report = grade_src("traffic-light", "loop {\n    if color(\"floor\") == \"Blue\" { stop(); break; }\n    motors(0.5, 0.5);\n}");
    assert_eq!(report.notes.iter().map(|n| n.code.as_str()).collect::<Vec<_>>(), ["colour_case"]);
    assert!(report.cases[0].feedback.iter().any(|f| f.en.contains("\"blue\"")), "{:?}", report.cases[0].feedback);
}
