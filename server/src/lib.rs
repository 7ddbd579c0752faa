//! The `qiming` binary's library: the command-line commands and the server.
#![recursion_limit = "256"]

pub mod ai_cmd;
pub mod ai_record_cmd;
pub mod assemble_cmd;
pub mod assess_cmd;
pub mod bank_cmd;
pub mod bench;
pub mod city_bench;
pub mod cli;
pub mod curriculum_cmd;
pub mod fonts;
pub mod grade_cmd;
pub mod leaderboard_bench;
pub mod replay_cmd;
pub mod report;
pub mod report_cmd;
pub mod run_cmd;
pub mod serve;
pub mod similarity_cmd;
