//! Real WebAssembly toolchains build the recipes of docs/wasm-abi.md
//! (`examples/wasm/`), and `qiming grade` gives each full marks on `wall-stop`;
//! the typical mistakes of each toolchain (`examples/wasm/mistakes/`) end in an
//! `error` outcome that names the culprit; and the runtime accepts and refuses
//! the WebAssembly features as that page's table says.
//!
//! Toolchains: clang and lld (Debian), Zig (`python3 -m pip install ziglang`),
//! AssemblyScript (`npm ci` in tests/toolchains) and Emscripten (Debian);
//! `.ci/run` installs them all. Elsewhere a missing toolchain is skipped with a
//! notice — except under CI (`CI` set), where it is a failure.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use qiming_runtime::{ErrorKind, Limits, Outcome, Program};
use serde_json::Value;

use crate::support::{repo, run_with, wat};

/// What every recipe prints when it has stopped (UTF-8 text through robot.print).
const STOPPED: &str = "停在墙前 stopped in front of the wall\n";

#[derive(Clone, Copy)]
enum Toolchain {
    Clang,
    ClangXx,
    Zig,
    AssemblyScript,
    Emscripten,
}

impl Toolchain {
    fn name(self) -> &'static str {
        match self {
            Toolchain::Clang => "clang",
            Toolchain::ClangXx => "clang++",
            Toolchain::Zig => "zig",
            Toolchain::AssemblyScript => "AssemblyScript",
            Toolchain::Emscripten => "Emscripten",
        }
    }

    fn install_hint(self) -> &'static str {
        match self {
            Toolchain::Clang | Toolchain::ClangXx => "apt-get install clang lld",
            Toolchain::Zig => "python3 -m pip install ziglang==0.17.1",
            Toolchain::AssemblyScript => "npm ci in tests/toolchains",
            Toolchain::Emscripten => "apt-get install emscripten",
        }
    }

    /// The compiler command, as docs/wasm-abi.md writes it, before its arguments.
    fn command(self) -> Command {
        match self {
            Toolchain::Clang => Command::new("clang"),
            Toolchain::ClangXx => Command::new("clang++"),
            Toolchain::Zig => {
                let mut c = Command::new("python3");
                c.args(["-m", "ziglang"]);
                c
            }
            Toolchain::AssemblyScript => {
                let mut c = Command::new("node");
                c.arg(repo().join("tests/toolchains/node_modules/assemblyscript/bin/asc.js"));
                c
            }
            Toolchain::Emscripten => Command::new("emcc"),
        }
    }

    /// Whether the toolchain runs here at all (`--version` or the like succeeds).
    fn available(self) -> bool {
        if matches!(self, Toolchain::AssemblyScript) && !repo().join("tests/toolchains/node_modules/assemblyscript").is_dir() {
            return false;
        }
        let mut c = self.command();
        c.arg(if matches!(self, Toolchain::Zig) { "version" } else { "--version" });
        c.output().is_ok_and(|o| o.status.success())
    }

    /// The recipe's arguments for `source` (relative to the repository) and `out`.
    fn args(self, source: &str, out: &Path) -> Vec<OsString> {
        let src = repo().join(source).into_os_string();
        let mut args: Vec<OsString> = match self {
            Toolchain::Clang => ["--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-Wl,--export=run"].map(Into::into).to_vec(),
            Toolchain::ClangXx => {
                ["--target=wasm32", "-O2", "-nostdlib", "-fno-exceptions", "-fno-rtti", "-Wl,--no-entry", "-Wl,--export=run"].map(Into::into).to_vec()
            }
            Toolchain::Zig => {
                let mut emit = OsString::from("-femit-bin=");
                emit.push(out);
                return vec![
                    "build-exe".into(),
                    src,
                    "-target".into(),
                    "wasm32-freestanding".into(),
                    "-fno-entry".into(),
                    "-rdynamic".into(),
                    "-O".into(),
                    "ReleaseSmall".into(),
                    emit,
                ];
            }
            Toolchain::AssemblyScript => {
                return vec![src, "-O".into(), "--use".into(), "abort=".into(), "-o".into(), out.into()];
            }
            Toolchain::Emscripten => ["-O2", "--no-entry", "-sERROR_ON_UNDEFINED_SYMBOLS=0", "-sWARN_ON_UNDEFINED_SYMBOLS=0"].map(Into::into).to_vec(),
        };
        args.extend(["-o".into(), out.into(), src]);
        args
    }
}

/// A fresh folder for one test's build products.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qiming-toolchains-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// False (after a notice) when the toolchain is missing outside CI; panics in CI.
fn present(tc: Toolchain) -> bool {
    if tc.available() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{} is required in CI ({})", tc.name(), tc.install_hint());
    eprintln!("skipping the {} recipes: {} is not available ({})", tc.name(), tc.name(), tc.install_hint());
    false
}

/// Builds `source` with the documented command into `dir`; the toolchain must succeed.
fn build(tc: Toolchain, source: &str, dir: &Path) -> PathBuf {
    let stem = Path::new(source).file_stem().unwrap().to_str().unwrap();
    let out = dir.join(format!("{stem}.wasm"));
    // The build runs in the output folder so no compiler leaves a cache in the repository.
    let done = tc.command().args(tc.args(source, &out)).current_dir(dir).output().expect("run the compiler");
    assert!(
        done.status.success() && out.is_file(),
        "{} failed on {source}:\n{}{}",
        tc.name(),
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );
    out
}

fn qiming(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_qiming")).args(args).current_dir(repo()).output().expect("run qiming");
    assert!(out.status.success(), "qiming {args:?}: exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// Builds the recipe and grades it on wall-stop with the `qiming` binary: full marks.
fn recipe_scores_full_marks(tc: Toolchain, source: &str) {
    if !present(tc) {
        return;
    }
    let dir = out_dir(tc.name());
    let wasm = build(tc, source, &dir);
    let report = qiming(&["grade", "wall-stop", wasm.to_str().unwrap(), "--json"]);
    assert_eq!(report["language"], "wasm", "{report}");
    assert_eq!(report["score"], 100.0, "{source} built with {} scores below 100: {report:#}", tc.name());
    assert_eq!(report["passed"], true);
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases.iter().filter(|c| c["hidden"] == false) {
        assert_eq!(case["run"]["outcome"], "finished", "{case:#}");
        assert_eq!(case["run"]["output"], STOPPED, "{case:#}");
        assert_eq!(case["run"]["collisions"], 0);
    }
}

#[test]
fn clang_c_recipe_scores_full_marks() {
    recipe_scores_full_marks(Toolchain::Clang, "examples/wasm/wall-stop.c");
}

#[test]
fn clang_cpp_recipe_scores_full_marks() {
    recipe_scores_full_marks(Toolchain::ClangXx, "examples/wasm/wall-stop.cpp");
}

#[test]
fn zig_recipe_scores_full_marks() {
    recipe_scores_full_marks(Toolchain::Zig, "examples/wasm/wall-stop.zig");
}

#[test]
fn assemblyscript_recipe_scores_full_marks() {
    recipe_scores_full_marks(Toolchain::AssemblyScript, "examples/wasm/wall-stop.ts");
}

#[test]
fn emscripten_recipe_scores_full_marks() {
    recipe_scores_full_marks(Toolchain::Emscripten, "examples/wasm/wall-stop-emscripten.c");
}

/// How a mistake was built: the recipe's command with arguments added or taken away.
enum Flags {
    Recipe,
    Plus(&'static [&'static str]),
    Without(&'static [&'static str]),
}

/// Each mistake: (toolchain, source, build, error kind, words the message must contain).
/// The words are the culprit (an import, a module, a sensor, a trap), not the
/// wording around it, which may improve.
const MISTAKES: &[(Toolchain, &str, Flags, &str, &[&str])] = &[
    (Toolchain::Clang, "examples/wasm/mistakes/no-export.c", Flags::Without(&["-Wl,--export=run"]), "link", &["\"run\""]),
    (Toolchain::Clang, "examples/wasm/mistakes/env-import.c", Flags::Plus(&["-Wl,--allow-undefined"]), "link", &["forward", "\"env\"", "robot"]),
    (Toolchain::Clang, "examples/wasm/mistakes/run-returns-int.c", Flags::Recipe, "link", &["\"run\""]),
    (Toolchain::Clang, "examples/wasm/mistakes/float-distance.c", Flags::Recipe, "link", &["distance", "f32", "f64"]),
    (Toolchain::Zig, "examples/wasm/mistakes/zig-env-import.zig", Flags::Recipe, "link", &["forward", "\"env\"", "robot"]),
    (Toolchain::Zig, "examples/wasm/mistakes/zig-run-signature.zig", Flags::Recipe, "link", &["\"run\""]),
    (Toolchain::AssemblyScript, "examples/wasm/mistakes/as-default-abort.ts", Flags::Without(&["--use", "abort="]), "link", &["abort", "\"env\"", "robot"]),
    (Toolchain::AssemblyScript, "examples/wasm/mistakes/as-no-external.ts", Flags::Recipe, "link", &["forward", "\"as-no-external\"", "robot"]),
    (Toolchain::AssemblyScript, "examples/wasm/mistakes/as-utf16.ts", Flags::Recipe, "runtime", &["front"]),
    (Toolchain::Emscripten, "examples/wasm/mistakes/emscripten-wait.c", Flags::Recipe, "runtime", &["unreachable"]),
    (Toolchain::Emscripten, "examples/wasm/mistakes/emscripten-printf.c", Flags::Recipe, "link", &["fd_write", "wasi_snapshot_preview1", "robot"]),
];

#[test]
fn typical_mistakes_end_in_errors_that_name_the_culprit() {
    let dir = out_dir("mistakes");
    let mut checked: Vec<(&str, bool)> = Vec::new();
    for (tc, source, flags, kind, words) in MISTAKES {
        let here = match checked.iter().find(|(n, _)| *n == tc.name()) {
            Some(&(_, here)) => here,
            None => {
                let here = present(*tc);
                checked.push((tc.name(), here));
                here
            }
        };
        if !here {
            continue;
        }
        let stem = Path::new(source).file_stem().unwrap().to_str().unwrap();
        let out = dir.join(format!("{stem}.wasm"));
        let mut args = tc.args(source, &out);
        match flags {
            Flags::Recipe => {}
            Flags::Plus(more) => args.extend(more.iter().map(OsString::from)),
            Flags::Without(less) => {
                let at = args.windows(less.len()).position(|w| w.iter().zip(*less).all(|(a, b)| a == b)).expect("the recipe has those flags");
                args.drain(at..at + less.len());
            }
        }
        let done = tc.command().args(&args).current_dir(&dir).output().expect("run the compiler");
        assert!(done.status.success(), "{} failed on {source}:\n{}", tc.name(), String::from_utf8_lossy(&done.stderr));
        let v = qiming(&["run", out.to_str().unwrap(), "--scenario", "sim/scenarios/wall.toml", "--json"]);
        assert_eq!(v["outcome"], "error", "{source}: {v}");
        assert_eq!(v["error"]["kind"], *kind, "{source}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        for w in *words {
            assert!(message.contains(w), "{source}: the message should name {w}: {message}");
        }
        eprintln!("{source}: {kind} error: {message}");
    }
}

/// The "Qiming" column of the features table in docs/wasm-abi.md: a module
/// using each feature, and whether Qiming runs it (`finished`) or refuses it
/// before running (a compile error, or a limit for a fifth table).
const FEATURES: &[(&str, &str, bool)] = &[
    ("mutable globals", r#"(global (export "sp") (mut i32) (i32.const 0)) (func (export "run") (global.set 0 (i32.const 1)))"#, true),
    ("sign extension", r#"(func (export "run") (drop (i32.extend8_s (i32.const 255))))"#, true),
    ("non-trapping float-to-int", r#"(func (export "run") (drop (i32.trunc_sat_f64_s (f64.const 1e30))))"#, true),
    (
        "bulk memory",
        r#"(memory 1) (data $d "abc") (table $t 2 funcref) (elem $e func $f) (func $f)
           (func (export "run")
             (memory.fill (i32.const 0) (i32.const 1) (i32.const 10)) (memory.copy (i32.const 20) (i32.const 0) (i32.const 5))
             (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3)) (data.drop $d)
             (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1)) (elem.drop $e))"#,
        true,
    ),
    ("multi-value", r#"(func $two (result f64 f64) (f64.const 1) (f64.const 2)) (func (export "run") (call $two) (drop) (drop))"#, true),
    (
        "funcref tables",
        r#"(type $v (func)) (table $a 1 funcref) (table $b 1 funcref) (func $f) (elem declare func $f)
           (func (export "run") (table.set $b (i32.const 0) (ref.func $f)) (drop (table.grow $a (ref.null func) (i32.const 1)))
             (call_indirect $b (type $v) (i32.const 0)))"#,
        true,
    ),
    ("externref", r#"(table $b 1 externref) (func (export "run") (drop (table.get $b (i32.const 0))))"#, false),
    ("extended constant expressions", r#"(global i32 (i32.add (i32.const 1) (i32.const 2))) (func (export "run"))"#, true),
    ("128-bit SIMD", r#"(func (export "run") (drop (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 1 2 3 4))))"#, true),
    (
        "relaxed SIMD",
        r#"(func (export "run") (drop (f32x4.relaxed_madd (v128.const f32x4 1 2 3 4) (v128.const f32x4 1 2 3 4) (v128.const f32x4 1 2 3 4))))"#,
        true,
    ),
    ("tail calls", r#"(func $t) (func (export "run") (return_call $t))"#, true),
    ("start function", r#"(memory 1) (func $s (i32.store (i32.const 0) (i32.const 1))) (start $s) (func (export "run"))"#, true),
    ("shared memory", r#"(memory 1 1 shared) (func (export "run") (drop (i32.atomic.load (i32.const 0))))"#, false),
    ("exception handling", r#"(tag $e) (func (export "run") (block $h (try_table (catch_all $h) (throw $e))))"#, false),
    ("64-bit memory", r#"(memory i64 1) (func (export "run"))"#, false),
    ("several memories", r#"(memory 1) (memory $m2 1) (func (export "run"))"#, false),
    ("GC types", r#"(type $s (struct (field i32))) (func (export "run") (drop (struct.new $s (i32.const 1))))"#, false),
    ("wide arithmetic", r#"(func (export "run") (i64.add128 (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)) (drop) (drop))"#, false),
    ("custom page sizes", r#"(memory 1 (pagesize 1)) (func (export "run"))"#, false),
];

/// `call_indirect` with its table index in the 5-byte form that Zig emits by
/// default (LLVM's call-indirect-overlong): `(module (type (func)) (func $f)
/// (table 1 funcref) (elem (i32.const 0) $f) (func (export "run") (call_indirect (i32.const 0))))`.
const LONG_CALL_INDIRECT: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x00, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01, 0x07,
    0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x01, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00, 0x0a, 0x10, 0x02, 0x02, 0x00, 0x0b, 0x0b, 0x00, 0x41,
    0x00, 0x11, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b,
];

#[test]
fn the_features_table_of_the_wasm_abi_holds() {
    for (feature, body, accepted) in FEATURES {
        let outcome = wat(&format!("(module {body})"), "empty").report.outcome;
        if *accepted {
            assert_eq!(outcome, Outcome::Finished, "{feature} should be accepted");
        } else {
            let refused = matches!(&outcome, Outcome::Error(e) if e.kind == ErrorKind::Compile);
            assert!(refused, "{feature} should be refused as a compile error: {outcome:?}");
        }
    }
    let long = run_with(Program::wasm(LONG_CALL_INDIRECT.to_vec()), "empty", 0, Limits::default());
    assert_eq!(long.report.outcome, Outcome::Finished, "the long call_indirect encoding should be accepted");
    let five_tables = r#"(module (table 1 funcref) (table 1 funcref) (table 1 funcref) (table 1 funcref) (table 1 funcref) (func (export "run")))"#;
    let outcome = wat(five_tables, "empty").report.outcome;
    assert!(matches!(outcome, Outcome::Limit { .. }), "a fifth table is over the limit: {outcome:?}");
}
