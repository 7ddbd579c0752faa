//! Grading: the shipped curriculum checks out, reports are stable snapshots,
//! and hidden cases reveal nothing.

use std::path::PathBuf;

use qiming_curriculum::{Catalogue, Lab};
use qiming_grading::check_lab;
use qiming_grading::grade::{GradeOptions, GradeReport, grade};
use qiming_runtime::Program;
use serde_json::Value;

use crate::support::{on_run_thread, repo};

fn lab(id: &str) -> Lab {
    Lab::load(&repo().join("curriculum/labs").join(id)).expect("lab loads")
}

fn grade_file(lab_id: &str, program: PathBuf) -> GradeReport {
    let lab = lab(lab_id);
    let program = Program::load(&program).expect("program loads");
    on_run_thread(move || grade(&lab, &program, &GradeOptions::default()))
}

fn grade_source(lab_id: &str, program: Program) -> GradeReport {
    let lab = lab(lab_id);
    on_run_thread(move || grade(&lab, &program, &GradeOptions::default()))
}

#[test]
fn the_shipped_curriculum_checks_out() {
    let cat = Catalogue::open(&repo().join("curriculum")).expect("catalogue loads");
    assert!(cat.labs.len() >= 4);
    for id in ["wall-stop", "square", "line-follow", "maze"] {
        assert!(cat.lab(id).is_some(), "canonical lab {id} is missing");
    }
    let labs = cat.labs.clone();
    let problems: Vec<String> = on_run_thread(move || labs.iter().flat_map(check_lab).collect());
    assert!(problems.is_empty(), "curriculum problems:\n{}", problems.join("\n"));
}

/// (snapshot name, lab, program path relative to the repository)
const SNAPSHOT_CASES: &[(&str, &str, &str)] = &[
    ("wall-stop-correct", "wall-stop", "curriculum/labs/wall-stop/reference.rhai"),
    ("wall-stop-partial", "wall-stop", "tests/grading/wall-stop-partial.rhai"),
    ("wall-stop-wrong", "wall-stop", "curriculum/labs/wall-stop/wrong-bumps.rhai"),
    ("wall-stop-broken", "wall-stop", "tests/grading/broken.rhai"),
    ("wall-stop-hostile", "wall-stop", "tests/grading/hostile.rhai"),
    ("square-correct", "square", "curriculum/labs/square/reference.wat"),
    ("square-partial", "square", "tests/grading/square-partial.rhai"),
    ("square-wrong", "square", "curriculum/labs/square/wrong-triangle.rhai"),
    ("square-broken", "square", "tests/grading/broken.rhai"),
    ("square-hostile", "square", "tests/grading/hostile.rhai"),
    ("line-follow-correct", "line-follow", "curriculum/labs/line-follow/reference.rhai"),
    ("line-follow-partial", "line-follow", "tests/grading/line-follow-partial.rhai"),
    ("line-follow-wrong", "line-follow", "curriculum/labs/line-follow/wrong-straight.rhai"),
    ("line-follow-broken", "line-follow", "tests/grading/broken.rhai"),
    ("line-follow-hostile", "line-follow", "tests/grading/hostile.rhai"),
    ("maze-correct", "maze", "curriculum/labs/maze/reference.rhai"),
    ("maze-partial", "maze", "tests/grading/maze-partial.rhai"),
    ("maze-wrong", "maze", "curriculum/labs/maze/wrong-straight.rhai"),
    ("maze-broken", "maze", "tests/grading/broken.rhai"),
    ("maze-hostile", "maze", "tests/grading/hostile.rhai"),
];

#[test]
fn grade_reports_match_their_snapshots() {
    for (name, lab_id, program) in SNAPSHOT_CASES {
        let report = grade_file(lab_id, repo().join(program));
        insta::with_settings!({ snapshot_path => repo().join("tests/all/snapshots"), prepend_module_to_snapshot => false }, {
            insta::assert_json_snapshot!(*name, report, { ".engine_version" => "[engine version]" });
        });
    }
}

#[test]
fn grading_twice_gives_byte_identical_reports() {
    let path = repo().join("tests/grading/line-follow-partial.rhai");
    let a = serde_json::to_string(&grade_file("line-follow", path.clone())).unwrap();
    let b = serde_json::to_string(&grade_file("line-follow", path)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn correct_programs_pass_and_wrong_ones_do_not() {
    let r = grade_file("wall-stop", repo().join("curriculum/labs/wall-stop/reference.rhai"));
    assert_eq!((r.score, r.passed), (100.0, true));
    let r = grade_file("wall-stop", repo().join("curriculum/labs/wall-stop/wrong-bumps.rhai"));
    assert!(r.score <= 30.0, "touching the wall scores at most 30%: {}", r.score);
    assert!(!r.passed);
    let broken = grade_file("square", repo().join("tests/grading/broken.rhai"));
    assert_eq!(broken.score, 0.0);
    let first = &broken.cases[0];
    // Visible cases explain the compile error in the learner's words; the
    // engine's own text stays in `error.message` for teachers (issue 12).
    let error = first.run.as_ref().unwrap().error.as_ref().unwrap();
    assert!(first.feedback[0].en.contains(error.explanation.en.as_str()), "visible cases explain the compile error");
    assert!(!first.feedback[0].en.contains(error.message.as_str()), "learners do not get the engine's English");
}

/// Keys a hidden case may have: nothing that describes the run.
const HIDDEN_KEYS: &[&str] = &["feedback", "hidden", "max_score", "name", "passed", "score"];

fn hidden_cases(report: &GradeReport) -> Vec<Value> {
    let v = serde_json::to_value(report).unwrap();
    v["cases"].as_array().unwrap().iter().filter(|c| c["hidden"] == true).cloned().collect()
}

#[test]
fn hidden_cases_reveal_only_pass_fail_and_score() {
    // A program that tries to smuggle out what it sees: it prints its sensor
    // readings and start pose, then fails with an error built from them.
    let spy = Program::rhai(
        r#"
        let seen = `SPY front=${distance("front")} left=${distance("left")} t=${time()} h=${heading()}`;
        print(seen);
        motors(0.5, 0.5);
        wait(1.0);
        throw seen;
        "#,
    );
    for lab_id in ["wall-stop", "square", "line-follow", "maze"] {
        let lab = lab(lab_id);
        let report = grade_source(lab_id, spy.clone());
        let hidden = hidden_cases(&report);
        assert!(!hidden.is_empty());
        for case in &hidden {
            let keys: Vec<&str> = case.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, HIDDEN_KEYS, "{lab_id}: a hidden case carries only these keys");
            let text = case.to_string();
            assert!(!text.contains("SPY"), "{lab_id}: program output leaked: {text}");
            let feedback = serde_json::to_string(&case["feedback"]).unwrap();
            assert!(feedback == serde_json::to_string(&serde_json::json!([lab.hidden_hint])).unwrap(), "{lab_id}: hidden feedback is the lab's generic hint");
        }
    }
}

#[test]
fn programs_that_differ_only_on_hidden_cases_get_reports_that_differ_only_in_hidden_scores() {
    // Behaves like the reference when the wall is near (visible cases here are
    // seeds 1 and 2), and does nothing otherwise: it cannot tell which case it is in,
    // so the reports may differ only in hidden cases' pass/score fields.
    let reference = grade_file("wall-stop", repo().join("curriculum/labs/wall-stop/reference.rhai"));
    let picky = grade_source(
        "wall-stop",
        Program::rhai(
            r#"
            if distance("front") > 1.9 { loop { wait(1); } }
            loop {
                let gap = distance("front");
                if gap <= 0.12 { stop(); break; }
                let speed = if gap > 0.5 { 0.8 } else { 0.1 + gap };
                motors(speed, speed);
            }
            "#,
        ),
    );
    for (a, b) in reference.cases.iter().zip(&picky.cases) {
        let (mut a, mut b) = (serde_json::to_value(a).unwrap(), serde_json::to_value(b).unwrap());
        if a["hidden"] == true {
            for key in ["passed", "score", "feedback"] {
                a[key] = Value::Null;
                b[key] = Value::Null;
            }
            assert_eq!(a, b, "hidden cases differ only in passed/score/feedback");
        }
    }
}

#[test]
fn grade_cli_prints_the_documented_json() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qiming"))
        .args(["grade", "square", "curriculum/labs/square/reference.rhai", "--json"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["score"], 100.0);
    assert_eq!(v["max_score"], 100.0);
    for case in v["cases"].as_array().unwrap() {
        for key in ["name", "hidden", "passed", "score", "max_score", "feedback"] {
            assert!(case.get(key).is_some(), "case lacks {key}: {case}");
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qiming")).args(["grade", "no-such-lab", "x.rhai"]).current_dir(repo()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-lab"));
}

#[test]
fn labs_tighten_limits() {
    let lab = lab("wall-stop");
    assert_eq!(lab.limits.get("output"), Some(&4096));
    let report = grade_source("wall-stop", Program::rhai("loop { print(\"flood flood flood\"); }"));
    let run = report.cases[0].run.as_ref().unwrap();
    assert_eq!((run.outcome.as_str(), run.limit.as_deref()), ("limit", Some("output")));
    assert_eq!(run.output.len(), 4096);
}

#[test]
fn colour_rules_catch_a_robot_that_prints_the_right_words_but_ignores_the_lights() {
    let report = grade_file("traffic-light", repo().join("tests/grading/traffic-light-rolls-through.rhai"));
    assert!(!report.passed && report.score < 70.0, "score {}", report.score);
    let first = &report.cases[0];
    let codes: Vec<(&str, bool)> = first.checks.iter().map(|c| (c.code.as_str(), c.passed)).collect();
    assert!(codes.contains(&("output_matches", true)));
    assert!(codes.contains(&("stop_on_color", false)));
}
