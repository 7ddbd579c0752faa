//! Qiming's sandbox: runs untrusted student programs against a robot, in virtual time.
//!
//! A [`Program`] is Rhai source or a WebAssembly module (binary or text). [`run`]
//! executes it against anything implementing [`Robot`] — the runtime knows the
//! robot *interface*, not the world behind it — under hard [`Limits`], and
//! always returns a [`RunReport`] whose [`Outcome`] says how the run ended. A
//! student's failing program is an outcome, never an `Err` and never a panic.
//!
//! ## Virtual time
//! Simulated time advances only in lockstep with the program. Blocking calls
//! (`wait`, `forward`, `turn`) advance it explicitly; in between, executing
//! code advances it at a fixed rate — a *virtual CPU* of
//! [`Limits::rhai_ops_per_tick`] Rhai operations or [`Limits::wasm_fuel_per_tick`]
//! units of WebAssembly fuel per simulation tick. The world is caught up inside
//! the program's own host calls (a program cannot observe the world between
//! calls), so a run is single-threaded, needs no handshakes and costs the same
//! on every machine whatever its load.
//!
//! ## No ambient authority
//! Programs get the robot functions and nothing else: no files, network,
//! environment, clock or randomness. See `docs/programs.md` for the student
//! API and `docs/wasm-abi.md` for the WebAssembly ABI.

mod cache;
mod diagnose;
mod limits;
mod outcome;
mod program;
mod rhai_run;
mod robot;
pub mod tokens;
mod wasm_run;

pub use diagnose::{Diagnostic, Message, lint, never_moved, reserved_words};
pub use limits::Limits;

/// WebAssembly runs one process can hold at once (the engine's instance
/// pool is this big). Callers running more grading threads than this must
/// refuse the configuration: an exhausted pool is our fault, not the student's.
pub const MAX_PARALLEL_WASM_RUNS: usize = 128;
pub use outcome::{Cancel, ErrorKind, LimitKind, Outcome, ProgramError, RunReport};
pub use program::{Language, Program, ProgramLoadError, StoredProgramError};
pub use robot::{
    AiError, CAMERA_BYTES, CAMERA_HEIGHT, CAMERA_TICKS, CAMERA_WIDTH, Classified, Flow, MACS_PER_SECOND, MAX_LABEL_CHARS, MAX_RECORDS, MAX_VECTOR, ModelInput,
    Robot, classify_ticks,
};

/// Runs `program` against `robot` until it finishes, its time is up, it hits a
/// limit or fails. Never panics on account of the program; the robot is
/// handed back so the caller can read the world's final state.
pub fn run<R: Robot + Send + 'static>(program: &Program, robot: R, limits: &Limits) -> (RunReport, R) {
    run_cancellable(program, robot, limits, &Cancel::new())
}

/// [`run`], stopping promptly with [`Outcome::Cancelled`] once `cancel` is cancelled.
pub fn run_cancellable<R: Robot + Send + 'static>(program: &Program, robot: R, limits: &Limits, cancel: &Cancel) -> (RunReport, R) {
    if let Some(outcome) = too_big(program, limits) {
        return (RunReport::new(outcome), robot);
    }
    if cancel.is_cancelled() {
        return (RunReport::new(Outcome::Cancelled), robot);
    }
    match program.language {
        Language::Rhai => rhai_run::run(program, robot, limits, cancel),
        Language::Wasm => wasm_run::run(program, robot, limits, cancel),
    }
}

/// The `program_size` outcome, if the program is over its language's size limit.
fn too_big(program: &Program, limits: &Limits) -> Option<Outcome> {
    let max = match program.language {
        Language::Rhai => limits.script_bytes,
        Language::Wasm => limits.program_bytes,
    };
    (program.source.len() > max)
        .then(|| Outcome::Limit { limit: LimitKind::ProgramSize, message: format!("the program is {} bytes; the limit is {max} bytes", program.source.len()) })
}

/// Compiles (or fetches from the cache) without running: lets graders and
/// benches pay compilation once, and reports problems early. Returns the
/// outcome a run would end with before starting (a compile or link error, or a
/// limit), or `None` when the program is ready to run.
pub fn prepare(program: &Program, limits: &Limits) -> Option<Outcome> {
    if let Some(outcome) = too_big(program, limits) {
        return Some(outcome);
    }
    match program.language {
        Language::Rhai => rhai_run::prepare(program, limits),
        Language::Wasm => wasm_run::prepare(program, limits),
    }
}
