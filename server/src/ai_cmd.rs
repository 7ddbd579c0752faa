//! `qiming ai train|eval`: train a model on a dataset folder and evaluate a
//! model file on one (docs/ai.md, docs/cli.md).

use std::path::PathBuf;
use std::process::ExitCode;

use std::ops::ControlFlow;

use anyhow::Context;
use qiming_ai::dataset::Split;
use qiming_ai::model::Input;
use qiming_ai::{Dataset, EpochReport, InputChoice, Model, ModelKind, TrainOptions};

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
    /// What the model reads: image or sensors (default: images for cnn, mlp and logistic when the dataset has them, sensors otherwise).
    #[arg(long, value_parser = parse_input)]
    pub input: Option<InputChoice>,
    /// Print one JSON object with the final metrics instead of a summary.
    #[arg(long)]
    pub json: bool,
}

fn parse_input(s: &str) -> Result<InputChoice, String> {
    match s {
        "image" => Ok(InputChoice::Image),
        "sensors" => Ok(InputChoice::Sensors),
        _ => Err(format!("--input must be image or sensors, not {s:?}")),
    }
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

/// A one-line progress bar on stderr, redrawn each epoch.
fn draw_progress(r: &EpochReport) {
    let width = 20;
    let done = (r.epoch as usize * width) / r.epochs.max(1) as usize;
    let val = r.validation_accuracy.map(|v| format!("  val acc {:5.1}%", v * 100.0)).unwrap_or_default();
    eprint!(
        "\repoch {:>3}/{:<3} [{}{}] loss {:.4}  acc {:5.1}%{val}",
        r.epoch,
        r.epochs,
        "#".repeat(done),
        ".".repeat(width - done),
        r.loss,
        r.accuracy * 100.0
    );
    if r.epoch == r.epochs {
        eprintln!();
    }
}

fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let ds = Dataset::open(&args.dataset).with_context(|| format!("reading the dataset {}", args.dataset.display()))?;
    let options = TrainOptions { kind: args.kind, seed: args.seed, epochs: args.epochs, input: args.input };
    let started = std::time::Instant::now();
    let (model, reports) = qiming_ai::train(&ds, &options, &mut |r| {
        draw_progress(r);
        ControlFlow::Continue(())
    })
    .with_context(|| format!("training a {} model on {}", args.kind, args.dataset.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    model.write(&args.out)?;
    let predict_us = predict_latency(&model, &ds);
    let Some(last) = reports.last() else { anyhow::bail!("training ran no epoch") };
    let test_samples = ds.samples().iter().filter(|s| s.split == Split::Test).count();
    let input = match model.header().input {
        Input::Image { .. } => "image",
        Input::Sensors { .. } => "sensors",
    };
    if args.json {
        let out = serde_json::json!({
            "model_kind": args.kind,
            "dataset_sha256": model.dataset_sha256(),
            "input": input,
            "epochs": last.epoch,
            "seed": args.seed,
            "samples": {"train": ds.samples().len() - test_samples, "test": test_samples},
            "parameters": model.weights().len(),
            "training": {"accuracy": last.accuracy, "loss": last.loss},
            "validation": last.validation_accuracy.map(|a| serde_json::json!({"accuracy": a, "loss": last.validation_loss})),
            "seconds": seconds,
            "predict_microseconds": predict_us,
            "out": args.out.display().to_string(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "trained a {} model ({input} input, {} parameters) on {} samples in {:.1} s: training accuracy {:.1}%{}",
            args.kind,
            model.weights().len(),
            ds.samples().len() - test_samples,
            seconds,
            last.accuracy * 100.0,
            last.validation_accuracy
                .map(|v| format!(", validation accuracy {:.1}% ({test_samples} test samples)", v * 100.0))
                .unwrap_or_else(|| ", no test samples to validate on".into())
        );
        println!("one prediction takes {predict_us:.1} µs (deterministic path, one thread); wrote {}", args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Mean wall-clock microseconds of one `predict` (the path runs use) over
/// the dataset's first samples, repeated to at least 0.2 s.
fn predict_latency(model: &Model, ds: &Dataset) -> f64 {
    use qiming_ai::Classifier;
    let inputs: Vec<Vec<f32>> = (0..ds.samples().len().min(64)).map(|i| qiming_ai::train::sample_input(ds, &model.header().input, i)).collect();
    let started = std::time::Instant::now();
    let mut calls = 0u64;
    let mut sink = 0usize;
    while started.elapsed().as_secs_f64() < 0.2 || calls == 0 {
        for x in &inputs {
            sink = sink.wrapping_add(model.predict(std::hint::black_box(x)));
            calls += 1;
        }
    }
    std::hint::black_box(sink);
    started.elapsed().as_secs_f64() * 1e6 / calls.max(1) as f64
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let model = Model::read(&args.model).with_context(|| format!("reading the model {}", args.model.display()))?;
    let ds = Dataset::open(&args.dataset).with_context(|| format!("reading the dataset {}", args.dataset.display()))?;
    let ev = qiming_ai::eval::evaluate(&model, &ds).with_context(|| format!("{} cannot be evaluated on {}", args.model.display(), args.dataset.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&ev)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} model on {} ({} samples, {}): accuracy {:.1}%", ev.model_kind, args.dataset.display(), ev.samples, ev.evaluated, ev.accuracy * 100.0);
    let w = ev.labels.iter().map(|l| l.chars().count()).max().unwrap_or(5).max(5);
    println!("{:<w$}  precision  recall  support", "label");
    for (label, m) in &ev.per_class {
        println!("{label:<w$}  {:>8.1}%  {:>5.1}%  {:>7}", m.precision * 100.0, m.recall * 100.0, m.support);
    }
    println!("confusion matrix (rows: true label, columns: predicted):");
    println!("{:<w$}  {}", "", ev.labels.iter().map(|l| format!("{l:>w$}")).collect::<Vec<_>>().join(" "));
    for (label, row) in ev.labels.iter().zip(&ev.confusion) {
        println!("{label:<w$}  {}", row.iter().map(|c| format!("{c:>w$}")).collect::<Vec<_>>().join(" "));
    }
    Ok(ExitCode::SUCCESS)
}
