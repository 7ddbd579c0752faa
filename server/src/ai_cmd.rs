//! `qiming ai train|eval`: train a model on a dataset folder and evaluate a
//! model file on one (docs/ai.md, docs/cli.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use qiming_ai::{Dataset, ModelKind};

#[derive(Debug, clap::Args)]
pub struct AiArgs {
    #[command(subcommand)]
    pub command: AiCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AiCommand {
    /// Train a model on a dataset folder and write it as a .qmodel file.
    Train(TrainArgs),
    /// Evaluate a model on a dataset: accuracy, per-class precision/recall, confusion matrix.
    Eval(EvalArgs),
    /// Run a program and append the samples it record()s (camera image, sensors, label) to a dataset folder.
    Record(crate::ai_record_cmd::RecordArgs),
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The dataset folder (with manifest.json and images/).
    pub dataset: PathBuf,
    /// The kind of model: cnn, mlp, perceptron, logistic or kmeans.
    #[arg(long = "model", value_parser = parse_kind)]
    pub kind: ModelKind,
    /// Seed for initial weights and shuffling: the same seed and data give the same model.
    #[arg(long)]
    pub seed: u64,
    /// Write the model file here (.qmodel).
    #[arg(long)]
    pub out: PathBuf,
    /// Passes over the training data (default: the kind's own).
    #[arg(long)]
    pub epochs: Option<u32>,
    /// Print one JSON object with the final metrics instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The model file (.qmodel).
    pub model: PathBuf,
    /// The dataset folder to evaluate it on.
    pub dataset: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_kind(s: &str) -> Result<ModelKind, String> {
    ModelKind::parse(s).ok_or_else(|| format!("unknown model kind {s:?}; choose one of {}", ModelKind::ALL.map(ModelKind::name).join(", ")))
}

pub fn run(args: AiArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AiCommand::Train(args) => train(args),
        AiCommand::Eval(args) => eval(args),
        AiCommand::Record(args) => crate::ai_record_cmd::run(args),
    }
}

fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let ds = Dataset::open(&args.dataset).with_context(|| format!("reading the dataset {}", args.dataset.display()))?;
    anyhow::bail!("{} samples read from {}; training {} models is not built yet", ds.samples().len(), args.dataset.display(), args.kind)
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let ds = Dataset::open(&args.dataset).with_context(|| format!("reading the dataset {}", args.dataset.display()))?;
    anyhow::bail!("{} samples read from {}; reading model files is not built yet", ds.samples().len(), args.dataset.display())
}
