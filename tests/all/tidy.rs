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
}
