//! The `qiming` binary's library: command-line commands (and, later, the server).

pub mod bench;
pub mod cli;
pub mod run_cmd;
