//! Shared helpers: repository paths, scenarios by name, runs on a big-stack thread.

use std::path::PathBuf;

use qiming_grading::{RunOptions, RunResult, run_program};
use qiming_runtime::{Limits, Program};
use qiming_sim::Scenario;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

pub fn scenario(stem: &str) -> Scenario {
    Scenario::load(repo().join("sim/scenarios").join(format!("{stem}.toml"))).expect("shipped scenario loads")
}

/// Runs on a thread with the same stack the CLI and graders give student code.
pub fn on_run_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(qiming_grading::grade::RUN_STACK).spawn(f).expect("spawn").join().expect("run thread must not panic")
}

pub fn run_with(program: Program, stem: &str, seed: u64, limits: Limits) -> RunResult {
    let scenario = scenario(stem);
    on_run_thread(move || run_program(&program, &scenario, &RunOptions { seed, limits, ..RunOptions::default() }))
}

pub fn rhai(src: &str, stem: &str) -> RunResult {
    run_with(Program::rhai(src), stem, 0, Limits::default())
}

pub fn wat(src: &str, stem: &str) -> RunResult {
    run_with(Program::wasm(src.as_bytes().to_vec()), stem, 0, Limits::default())
}
