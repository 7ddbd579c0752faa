//! The `qiming` binary's library: command-line commands (and, later, the server).

pub mod bench;
pub mod cli;
pub mod curriculum_cmd;
pub mod grade_cmd;
pub mod replay_cmd;
pub mod run_cmd;
pub mod serve;
