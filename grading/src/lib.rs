//! Composes the sandbox (`qiming-runtime`) and the world (`qiming-sim`) into runs.
//!
//! This crate is the only place that knows both sides: it adapts a [`Sim`] to
//! the runtime's [`Robot`] interface and turns one program + scenario + seed
//! into a [`RunResult`]. Grading labs (checks, scores, reports) builds on it.

pub mod run;

pub use run::{RunOptions, RunResult, SimRobot, run_program};
