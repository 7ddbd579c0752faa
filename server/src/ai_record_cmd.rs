//! `qiming ai record`: run a program and append the samples it `record`s to a dataset folder (docs/ai.md).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use qiming_ai::{Dataset, Recorded, RunSource, dataset::append_recording};
use qiming_grading::{RunOptions, on_run_thread, run_program, sensor_vector_names};
use qiming_runtime::{Outcome, Program};
use qiming_sim::Scenario;
use sha2::{Digest, Sha256};

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The program file: .rhai, .wasm or .wat. It calls record(label) for every sample.
    pub program: PathBuf,
    /// The scenario file (TOML).
    #[arg(long)]
    pub scenario: PathBuf,
    /// Seed for the scenario's layout and noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The dataset folder: created if missing, appended to if it holds a dataset.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: RecordArgs) -> anyhow::Result<ExitCode> {
    if args.out.is_file() {
        anyhow::bail!("{}: is a file; --out must be a dataset folder (new or existing)", args.out.display());
    }
    let program = Program::load(&args.program)?;
    let scenario = Scenario::load(&args.scenario)?;
    let scenario_sha256 = hex::encode(Sha256::digest(scenario.source.as_bytes()));
    let program_sha256 = program.sha256_hex();
    let names = sensor_vector_names(&scenario.resolve(args.seed).robot);
    let options = RunOptions { seed: args.seed, ..RunOptions::default() };
    let result = on_run_thread(move || run_program(&program, &scenario, &options))?;

    let outcome = &result.report.outcome;
    let failed = !matches!(outcome, Outcome::Finished | Outcome::TimeUp);
    if let Outcome::Error(e) = outcome {
        let at = e.line.map_or(String::new(), |l| format!(" (line {l})"));
        eprintln!("the program stopped with an error{at}: {}", e.diagnostic.explanation.en);
        eprintln!("程序出错停下了{at}：{}", e.diagnostic.explanation.zh);
    } else if failed {
        eprintln!("the program ended with {}", outcome.as_str());
    }
    if result.samples.is_empty() {
        anyhow::bail!(
            "{}: the program recorded nothing, so {} was not changed; call record(\"label\") where the robot sees what that label names",
            args.program.display(),
            args.out.display()
        );
    }
    // Samples recorded before an error are kept: they were what the program meant to record.
    let recorded: Vec<Recorded> = result
        .samples
        .iter()
        .map(|s| Recorded { label: s.label.clone(), sensors: s.sensors.clone(), sensor_names: names.clone(), image: s.image.clone(), tick: s.tick })
        .collect();
    let file_name = args.scenario.file_name().map_or_else(|| args.scenario.display().to_string(), |n| n.to_string_lossy().into_owned());
    let source = RunSource { scenario: file_name, scenario_sha256, seed: args.seed, program_sha256 };
    let ids = append_recording(&args.out, &recorded, &source).with_context(|| format!("cannot add the recording to the dataset in {}", args.out.display()))?;
    let dataset = Dataset::open(&args.out).with_context(|| format!("reading back the dataset in {}", args.out.display()))?;

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &result.samples {
        *counts.entry(s.label.as_str()).or_default() += 1;
    }
    let by_label: Vec<String> = counts.iter().map(|(l, n)| format!("{l} ×{n}")).collect();
    println!(
        "recorded {} samples ({}) at seed {} into {}: ids {}…{}",
        ids.len(),
        by_label.join(", "),
        args.seed,
        args.out.display(),
        ids.first().map_or("", String::as_str),
        ids.last().map_or("", String::as_str)
    );
    println!("the dataset now has {} samples, labels {}, sha256 {}", dataset.samples().len(), dataset.labels().join(", "), dataset.sha256());
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
