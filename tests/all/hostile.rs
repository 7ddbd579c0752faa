//! The hostile-program suite: every program in tests/hostile/ ends with the
//! outcome its header promises, without crashing, hanging or bloating the host.
//!
//! Header (first line): `// expect: <outcome> [<limit or error kind>]` for
//! Rhai, `;; expect: …` for WebAssembly text; an optional second line
//! `// scenario: <stem>` picks the scenario (default `empty`).

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qiming_grading::{RunOptions, run_program};
use qiming_runtime::{Outcome, Program};

use crate::support::{repo, scenario};

/// A run that has not reported after this long is a hang (the runtime's own
/// wall-clock backstop is 20 s, so this only trips if the backstop failed).
const HANG: Duration = Duration::from_secs(120);
/// Documented bound on the test process's peak resident memory (docs/programs.md).
const PEAK_RSS_BOUND_KIB: u64 = 512 * 1024;

struct Expectation {
    outcome: String,
    detail: Option<String>,
    scenario: String,
}

fn header(path: &Path, text: &str) -> Expectation {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let body = first
        .trim_start_matches("//")
        .trim_start_matches(";;")
        .trim()
        .strip_prefix("expect:")
        .unwrap_or_else(|| panic!("{}: first line must be `// expect: …` or `;; expect: …`", path.display()));
    let mut words = body.split_whitespace();
    let outcome = words.next().expect("an outcome").to_string();
    let detail = words.next().map(str::to_string);
    let scenario = lines
        .next()
        .and_then(|l| l.trim_start_matches("//").trim_start_matches(";;").trim().strip_prefix("scenario:"))
        .map_or("empty".to_string(), |s| s.trim().to_string());
    Expectation { outcome, detail, scenario }
}

fn actual(outcome: &Outcome) -> (String, Option<String>) {
    match outcome {
        Outcome::Limit { limit, .. } => ("limit".into(), Some(limit.as_str().into())),
        Outcome::Error(e) => ("error".into(), Some(serde_json::to_value(e.kind).unwrap().as_str().unwrap().to_string())),
        other => (other.as_str().into(), None),
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Set in the child process that runs the suite on its own.
const CHILD: &str = "QIMING_HOSTILE_SUITE_CHILD";

/// The suite runs in a child process of this test binary with only this
/// test selected, so its peak memory is the suite's own — not that of the
/// server tests that happen to run beside it in the same process.
#[test]
fn hostile_programs_end_with_their_expected_outcome() {
    if std::env::var_os(CHILD).is_some() {
        return run_suite();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["hostile::hostile_programs_end_with_their_expected_outcome", "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .output()
        .expect("run the hostile suite in a child process");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    assert!(out.status.success(), "the hostile suite failed (output above)");
    assert!(text.contains("1 passed"), "the child ran the suite: {text}");
}

fn run_suite() {
    let dir = repo().join("tests/hostile");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/hostile exists")
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("rhai" | "wat" | "wasm")))
        .collect();
    files.sort();
    let rhai = files.iter().filter(|p| p.extension().unwrap() == "rhai").count();
    assert!(files.len() >= 40, "the suite needs at least 40 programs, found {}", files.len());
    assert!(rhai >= 15 && files.len() - rhai >= 15, "both languages need a real share");

    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let expect = header(path, &text);
        let program = Program::load(path).unwrap();
        let sc = scenario(&expect.scenario);
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        std::thread::Builder::new()
            .stack_size(qiming_grading::grade::RUN_STACK)
            .spawn(move || {
                let r = run_program(&program, &sc, &RunOptions::default());
                let _ = tx.send(r);
            })
            .unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result = match rx.recv_timeout(HANG) {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: hung for more than {HANG:?}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                failures.push(format!("{name}: the run thread panicked"));
                continue;
            }
        };
        let elapsed = started.elapsed();
        if elapsed > slowest.0 {
            slowest = (elapsed, name.clone());
        }
        let (outcome, detail) = actual(&result.report.outcome);
        let detail_ok = expect.detail.is_none() || expect.detail == detail;
        if outcome != expect.outcome || !detail_ok {
            failures.push(format!(
                "{name}: expected {} {}, got {outcome} {} ({:?})",
                expect.outcome,
                expect.detail.clone().unwrap_or_default(),
                detail.unwrap_or_default(),
                result.report.outcome
            ));
        }
        assert!(result.report.output.len() <= 64 << 10, "{name}: output over the limit");
    }
    eprintln!("hostile suite: {} programs; slowest {} took {:?}", files.len(), slowest.1, slowest.0);
    if let Some(peak) = peak_rss_kib() {
        eprintln!("hostile suite: peak RSS {} MiB", peak / 1024);
        assert!(peak <= PEAK_RSS_BOUND_KIB, "peak RSS {peak} KiB is over the documented bound");
    }
    assert!(failures.is_empty(), "hostile programs with the wrong outcome:\n{}", failures.join("\n"));
}
