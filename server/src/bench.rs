//! bench
use std::process::ExitCode;
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}
pub fn run(_a: BenchArgs) -> anyhow::Result<ExitCode> { Ok(ExitCode::SUCCESS) }
