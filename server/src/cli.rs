//! Command-line interface: subcommands and their arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "qiming", version, about = "Qiming (启明): robot and AI labs for schools — run, grade, serve")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a student program (.rhai, .wasm, .wat, or a bundle with a model) in a scenario and report the outcome.
    Run(RunArgs),
    /// Run the school server (embedded SQLite by default, or PostgreSQL).
    Serve(crate::serve::ServeArgs),
    /// Run grading workers against a server's database (for more grading capacity).
    Worker(crate::serve::WorkerArgs),
    /// Grade a program (or every program in a folder) against a lab.
    Grade(crate::grade_cmd::GradeArgs),
    /// Inspect a replay file, or convert it to JSON.
    Replay(crate::replay_cmd::ReplayArgs),
    /// Check or list the curriculum catalogue.
    Curriculum(crate::curriculum_cmd::CurriculumArgs),
    /// Export or import the assessment item bank as QTI 3.0.
    Bank(crate::bank_cmd::BankArgs),
    /// Assemble test forms from the item bank to a blueprint (自动组卷).
    Assemble(crate::assemble_cmd::AssembleArgs),
    /// Find programs in a folder that look copied from each other (for judges; never an automatic penalty).
    Similarity(crate::similarity_cmd::SimilarityArgs),
    /// Psychometrics for assessments: calibrate items (Rasch/2PL/3PL/GPCM), simulate data and adaptive tests, DIF, linking.
    Assess(crate::assess_cmd::AssessArgs),
    /// AI experiments: train a model on a dataset, evaluate it.
    Ai(crate::ai_cmd::AiArgs),
    /// Measure simulation and runtime performance on this machine.
    Bench(crate::bench::BenchArgs),
    /// Back up a server's SQLite database and data directory (safe while it runs).
    Backup(crate::serve::backup::BackupArgs),
    /// Restore a backup into a new, empty data directory.
    Restore(crate::serve::backup::RestoreArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The program file (.rhai, .wasm, .wat), or a bundle: a folder or .zip
    /// holding one program and at most one model (.qmodel).
    pub program: PathBuf,
    /// The model `classify` asks (.qmodel); refused when it does not fit the robot.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The scenario file (TOML).
    #[arg(long)]
    pub scenario: PathBuf,
    /// Seed for everything random in the scenario and sensors.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write a replay file here.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Print one JSON object instead of a human-readable summary.
    #[arg(long)]
    pub json: bool,
}

pub fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => crate::run_cmd::run(args),
        Command::Serve(args) => crate::serve::run(args),
        Command::Worker(args) => crate::serve::run_worker_cmd(args),
        Command::Grade(args) => crate::grade_cmd::run(args),
        Command::Curriculum(args) => crate::curriculum_cmd::run(args),
        Command::Bank(args) => crate::bank_cmd::run(args),
        Command::Replay(args) => crate::replay_cmd::run(args),
        Command::Assemble(args) => crate::assemble_cmd::run(args),
        Command::Similarity(args) => crate::similarity_cmd::run(args),
        Command::Assess(args) => crate::assess_cmd::run(args),
        Command::Ai(args) => crate::ai_cmd::run(args),
        Command::Bench(args) => crate::bench::run(args),
        Command::Backup(args) => crate::serve::backup::run_backup_cmd(args),
        Command::Restore(args) => crate::serve::backup::run_restore_cmd(args),
    }
}
