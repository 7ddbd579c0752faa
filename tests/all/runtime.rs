//! The sandbox's contract: outcomes, virtual time, every limit, the compile cache.

use qiming_runtime::{ErrorKind, LimitKind, Limits, Outcome, Program};

use crate::support::{rhai, run_with, wat};

#[test]
fn a_program_that_returns_is_finished_and_time_reflects_work() {
    let r = rhai("let x = 0; for i in 0..1000 { x += i; } print(x);", "empty");
    assert_eq!(r.report.outcome, Outcome::Finished);
    assert_eq!(r.report.output, "499500\n");
    // ~4000 operations at 200 per tick: the virtual CPU took simulated time.
    assert!(r.sim.ticks >= 10 && r.sim.ticks <= 40, "ticks {}", r.sim.ticks);
}

#[test]
fn busy_loops_see_time_pass_and_end_time_up() {
    let r = rhai("let t0 = time(); while time() < 1.0 { } print(time() >= 1.0);", "empty");
    assert_eq!(r.report.outcome, Outcome::Finished);
    assert_eq!(r.report.output, "true\n");
    let r = rhai("loop { }", "empty");
    assert_eq!(r.report.outcome, Outcome::TimeUp);
    assert_eq!(r.sim.ticks, 3000);
    let r = wat(r#"(module (func (export "run") (loop $l (br $l))))"#, "empty");
    assert_eq!(r.report.outcome, Outcome::TimeUp);
    assert_eq!(r.sim.ticks, 3000);
}

#[test]
fn the_same_program_in_rhai_and_wasm_drives_the_same_way() {
    let r = rhai("forward(0.5); turn(90); forward(0.3);", "empty");
    let w = wat(
        r#"(module
            (import "robot" "forward" (func $f (param f64)))
            (import "robot" "turn" (func $t (param f64)))
            (func (export "run") (call $f (f64.const 0.5)) (call $t (f64.const 90)) (call $f (f64.const 0.3))))"#,
        "empty",
    );
    assert_eq!(r.report.outcome, Outcome::Finished);
    assert_eq!(w.report.outcome, Outcome::Finished);
    assert!((r.sim.final_pose.x - w.sim.final_pose.x).abs() < 0.01);
    assert!((r.sim.final_pose.y - 1.8).abs() < 0.02, "y {}", r.sim.final_pose.y);
    assert!((w.sim.final_pose.heading - 90.0).abs() < 1.0);
}

#[test]
fn runtime_errors_carry_line_and_column() {
    let r = rhai("let a = 1;\nlet b = distance(\"nose\");", "empty");
    match r.report.outcome {
        Outcome::Error(e) => {
            assert_eq!(e.kind, ErrorKind::Runtime);
            assert_eq!(e.line, Some(2));
            assert!(e.column.is_some());
            assert!(e.message.contains("nose") && e.message.contains("front"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    let r = rhai("let a = ;", "empty");
    assert!(matches!(r.report.outcome, Outcome::Error(ref e) if e.kind == ErrorKind::Compile && e.line == Some(1)));
    let r = wat("(module (func (export \"run\")\n  (i32.add)))", "empty");
    assert!(matches!(r.report.outcome, Outcome::Error(ref e) if e.kind == ErrorKind::Compile), "{:?}", r.report.outcome);
    let r = wat("(module\n  (func (export \"run\") (i32.bogus)))", "empty");
    assert!(matches!(r.report.outcome, Outcome::Error(ref e) if e.kind == ErrorKind::Compile && e.line == Some(2)), "{:?}", r.report.outcome);
}

fn limit_of(o: &Outcome) -> Option<LimitKind> {
    match o {
        Outcome::Limit { limit, .. } => Some(*limit),
        _ => None,
    }
}

#[test]
fn every_rhai_limit_fires_and_is_named() {
    let cases = [
        ("fn f(n) { f(n + 1) } f(0);", LimitKind::CallDepth),
        ("let s = \"ab\"; loop { s += s; }", LimitKind::StringSize),
        ("let a = []; loop { a.push(1); }", LimitKind::ArraySize),
        ("loop { print(\"flood flood flood flood\"); }", LimitKind::Output),
    ];
    for (src, expected) in cases {
        let r = rhai(src, "empty");
        assert_eq!(limit_of(&r.report.outcome), Some(expected), "{src}: {:?}", r.report.outcome);
    }
    let small_maps = Limits::default().tightened(&Limits { map_len: 300, ..Limits::default() });
    let r = run_with(Program::rhai("let m = #{}; let i = 0; loop { m.set(`k${i}`, i); i += 1; }"), "empty", 0, small_maps);
    assert_eq!(limit_of(&r.report.outcome), Some(LimitKind::MapSize), "{:?}", r.report.outcome);
    let deep = format!("let x = {}1{};", "(".repeat(500), ")".repeat(500));
    assert_eq!(limit_of(&rhai(&deep, "empty").report.outcome), Some(LimitKind::ExpressionDepth));
    let big = format!("// {}\n", "x".repeat(65 << 10));
    assert_eq!(limit_of(&rhai(&big, "empty").report.outcome), Some(LimitKind::ProgramSize));
    let huge_module = format!(";; {}\n(module (func (export \"run\")))", "x".repeat(1 << 20));
    assert_eq!(limit_of(&wat(&huge_module, "empty").report.outcome), Some(LimitKind::ProgramSize));
    let tight = Limits::default().tightened(&Limits { string_bytes: 1000, ..Limits::default() });
    let literal = format!("let s = \"{}\";", "y".repeat(2000));
    assert_eq!(limit_of(&run_with(Program::rhai(literal), "empty", 0, tight).report.outcome), Some(LimitKind::StringSize));
    let grow = "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }";
    assert_eq!(limit_of(&rhai(grow, "empty").report.outcome), Some(LimitKind::MapSize), "index assignment is checked too");
}

#[test]
fn every_wasm_limit_fires_and_is_named() {
    let cases = [
        (r#"(module (memory 1) (func (export "run") (loop $l (drop (memory.grow (i32.const 100))) (br $l))))"#, LimitKind::Memory),
        (r#"(module (memory 10000) (func (export "run")))"#, LimitKind::Memory),
        (r#"(module (table 1 funcref) (func (export "run") (loop $l (drop (table.grow (ref.null func) (i32.const 1000))) (br $l))))"#, LimitKind::Table),
        (r#"(module (func $r (call $r)) (func (export "run") (call $r)))"#, LimitKind::Stack),
    ];
    for (src, expected) in cases {
        let r = wat(src, "empty");
        assert_eq!(limit_of(&r.report.outcome), Some(expected), "{src}: {:?}", r.report.outcome);
    }
}

#[test]
fn the_wall_clock_backstop_fires_only_when_configured_absurdly_low() {
    let limits = Limits { wall_clock: std::time::Duration::from_millis(1), ..Limits::default() };
    let r = run_with(Program::rhai("loop { let a = [1, 2, 3]; a.sort(); }"), "empty", 0, limits);
    assert!(matches!(r.report.outcome, Outcome::Limit { limit: LimitKind::WallClock, .. } | Outcome::TimeUp), "{:?}", r.report.outcome);
}

#[test]
fn labs_can_tighten_limits() {
    let tight = Limits::default().tightened(&Limits { output_bytes: 10, ..Limits::default() });
    let r = run_with(Program::rhai("print(\"0123456789abcdef\");"), "empty", 0, tight);
    assert_eq!(limit_of(&r.report.outcome), Some(LimitKind::Output));
    assert_eq!(r.report.output, "0123456789");
    assert!(r.report.output_truncated);
}

#[test]
fn compiled_programs_are_cached_by_content() {
    // Rhai programs are cached per thread (the engine is not `Sync`): run both on one.
    let src = "let unique_name_for_cache_test = 41; print(unique_name_for_cache_test + 1);";
    let scenario = crate::support::scenario("empty");
    let (first, second) = crate::support::on_run_thread(move || {
        let run = || qiming_grading::run_program(&Program::rhai(src), &scenario, &qiming_grading::RunOptions::default());
        (run(), run())
    });
    assert!(!first.report.cached);
    assert!(second.report.cached);
    assert_eq!(first.report.output, second.report.output);
    let w = r#"(module (func (export "run") (nop)) (func $cache_marker))"#;
    assert!(!wat(w, "empty").report.cached);
    assert!(wat(w, "empty").report.cached);
}

#[test]
fn no_ambient_authority() {
    for src in ["eval(\"1\")", "import \"fs\" as fs;", "timestamp()", "open_file(\"/etc/passwd\")", "env(\"HOME\")"] {
        let r = rhai(src, "empty");
        assert!(matches!(r.report.outcome, Outcome::Error(_)), "{src}: {:?}", r.report.outcome);
    }
    let r = wat(r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (func (export "run")))"#, "empty");
    match r.report.outcome {
        Outcome::Error(e) => {
            assert_eq!(e.kind, ErrorKind::Link);
            assert!(e.message.contains("fd_write") && e.message.contains("wasi_snapshot_preview1"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
}
