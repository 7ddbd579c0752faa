//! Real WebAssembly toolchains build the recipes of docs/wasm-abi.md
//! (`examples/wasm/`), and `qiming grade` gives each full marks on `wall-stop`;
//! the typical mistakes of each toolchain (`examples/wasm/mistakes/`) end in an
//! `error` outcome that names the culprit.
//!
//! Toolchains: clang and lld (Debian), Zig (`python3 -m pip install ziglang`),
//! AssemblyScript (`npm ci` in tests/toolchains) and Emscripten (Debian);
//! `.ci/run` installs them all. Elsewhere a missing toolchain is skipped with a
//! notice — except under CI (`CI` set), where it is a failure.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::repo;

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
            Toolchain::ClangXx => ["--target=wasm32", "-O2", "-nostdlib", "-fno-exceptions", "-fno-rtti", "-Wl,--no-entry", "-Wl,--export=run"]
                .map(Into::into)
                .to_vec(),
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
            Toolchain::Emscripten => {
                ["-O2", "--no-entry", "-sERROR_ON_UNDEFINED_SYMBOLS=0", "-sWARN_ON_UNDEFINED_SYMBOLS=0"].map(Into::into).to_vec()
            }
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
