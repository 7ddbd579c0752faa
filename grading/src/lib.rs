//! Composes the sandbox (`qiming-runtime`), the world (`qiming-sim`) and the
//! curriculum (`qiming-curriculum`) into runs and grades.
//!
//! [`run_program`] runs one program in one scenario; [`grade`] grades a
//! submission against a lab: every case, every check, one stable report.
//! This crate is the only place that knows both the runtime and the world.

pub mod assembly;
pub mod bundle;
pub mod check;
pub mod checks;
pub mod grade;
pub mod irt;
pub mod pool;
pub mod run;
pub mod similarity;

pub use bundle::{Bundle, BundleError};
pub use check::check_lab;
pub use grade::{GradeOptions, GradeReport, grade, grade_bundle};
pub use pool::{RunThreadError, grade_many, on_run_thread};
pub use run::{RunOptions, RunResult, Sample, SimRobot, run_program, sensor_vector, sensor_vector_names};
