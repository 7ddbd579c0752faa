//! Tidy checks that keep the code base's invariants (ARCHITECTURE.md) mechanical.

use std::path::{Path, PathBuf};

use crate::support::repo;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn files_of(krate: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&repo().join(krate), &mut files);
    files.sort();
    files
}

#[test]
fn every_module_starts_with_a_doc_line() {
    for krate in ["runtime", "sim", "grading", "server", "tests/all"] {
        for f in files_of(krate) {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(text.starts_with("//!"), "{} must start with a `//!` line saying what it is for", f.display());
        }
    }
}

#[test]
fn sim_and_grading_never_read_the_clock_or_unseeded_randomness() {
    let banned = ["Instant::now", "SystemTime", "thread_rng", "rand::random", "std::env::", "HashMap", "HashSet"];
    for krate in ["sim", "grading"] {
        for f in files_of(krate) {
            let text = std::fs::read_to_string(&f).unwrap();
            for b in banned {
                assert!(!text.contains(b), "{} uses {b}: sim and grading must be deterministic", f.display());
            }
        }
    }
}

#[test]
fn only_runtime_links_the_interpreters() {
    for krate in ["sim", "grading", "server"] {
        let manifest = std::fs::read_to_string(repo().join(krate).join("Cargo.toml")).unwrap();
        for dep in ["wasmtime", "rhai"] {
            assert!(!manifest.lines().any(|l| l.trim_start().starts_with(dep)), "{krate} must not depend on {dep}");
        }
    }
    let sim = std::fs::read_to_string(repo().join("sim/Cargo.toml")).unwrap();
    assert!(!sim.contains("qiming-runtime"), "sim must not depend on runtime (grading composes them)");
    let runtime = std::fs::read_to_string(repo().join("runtime/Cargo.toml")).unwrap();
    assert!(!runtime.contains("qiming-sim"), "runtime knows the robot interface, not the world");
    // The sandbox stays small: models reach a run through grading's adapter, never by linking.
    assert!(!dependencies(&runtime).iter().any(|d| d == "qiming-ai"), "runtime must not depend on qiming-ai");
    for dep in ["wasmtime", "rhai", "qiming-runtime", "qiming-sim"] {
        let ai = std::fs::read_to_string(repo().join("grading/ai/Cargo.toml")).unwrap();
        assert!(!dependencies(&ai).iter().any(|d| d == dep), "qiming-ai must not depend on {dep}: it knows models, not programs or worlds");
    }
}

#[test]
fn server_modules_never_import_cli_command_modules() {
    // The engine pieces the CLI, the server and the studio share live in the
    // engine crates; the server's modules reach them there, not through `qiming run`'s code.
    for f in files_of("server/src/serve") {
        let text = std::fs::read_to_string(&f).unwrap();
        for banned in ["run_cmd", "grade_cmd", "curriculum_cmd", "replay_cmd", "crate::bench", "crate::cli"] {
            assert!(!text.contains(banned), "{} uses {banned}: server modules must not import CLI command modules", f.display());
        }
    }
}

/// Dependency names of a Cargo.toml's `[dependencies]` table.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.', ' ']).next().unwrap_or("").trim().to_string();
            deps.push(name);
        }
    }
    deps
}

#[test]
fn clients_never_link_the_server() {
    // The studio talks to a server over HTTP only, through the API types crate:
    // neither may pull in the web framework, the database or the server package.
    for krate in ["studio", "server/api"] {
        let Ok(manifest) = std::fs::read_to_string(repo().join(krate).join("Cargo.toml")) else { continue };
        let deps = dependencies(&manifest);
        assert!(!deps.is_empty() || krate == "studio", "{krate}/Cargo.toml: no [dependencies] found");
        for banned in ["axum", "sqlx", "hyper", "qiming", "krilla"] {
            assert!(!deps.iter().any(|d| d == banned), "{krate} must not depend on {banned}");
        }
    }
}

#[test]
fn inference_in_runs_is_plain_single_threaded_rust() {
    // A run's `classify` must give bit-identical results on every machine and
    // thread count (ARCHITECTURE.md): the forward pass on the grading path may
    // not reach for burn, parallelism or SIMD.
    let text = std::fs::read_to_string(repo().join("grading/ai/src/infer.rs")).unwrap();
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for banned in ["burn", "rayon", "thread", "std::arch", "simd", "mul_add", "par_iter", "crate::train"] {
            assert!(!code.contains(banned), "grading/ai/src/infer.rs:{}: uses {banned}: inference in runs must be plain single-threaded Rust", n + 1);
        }
    }
}
