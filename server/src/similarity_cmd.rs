//! `qiming similarity DIR`: finds submissions that look copied from each other, for judges to review.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use qiming_grading::similarity::{Fingerprints, base_fingerprints, compare, fingerprint};
use qiming_runtime::{Language, Program};

#[derive(Debug, clap::Args)]
pub struct SimilarityArgs {
    /// A folder of programs (.rhai, .wat, .wasm), searched recursively; names are reported relative to it.
    pub dir: PathBuf,
    /// Print one JSON object: {"pairs": [{"a", "b", "score", "compared_as"}], "clusters": [[…]], "unparsed": […], "too_short": […]}.
    #[arg(long)]
    pub json: bool,
    /// Pairs at or above this score link programs into a cluster.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Base code every program may contain (the lab's starter program): what it shares with a program does not count.
    #[arg(long)]
    pub base: Vec<PathBuf>,
    /// Pairs below this score are not listed.
    #[arg(long, default_value_t = 0.1)]
    pub min_score: f64,
}

fn program_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            program_files(&path, out)?;
        } else if path.extension().and_then(|e| e.to_str()).and_then(Language::from_extension).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

pub fn run(args: SimilarityArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!((0.0..=1.0).contains(&args.threshold), "--threshold must be between 0 and 1");
    anyhow::ensure!((0.0..=1.0).contains(&args.min_score), "--min-score must be between 0 and 1");
    let mut files = Vec::new();
    program_files(&args.dir, &mut files)?;
    files.sort();
    let named: Vec<(String, PathBuf)> = files.into_iter().map(|f| (f.strip_prefix(&args.dir).unwrap_or(&f).to_string_lossy().replace('\\', "/"), f)).collect();
    // Fingerprinting is independent per file: spread it over the cores.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(named.len().max(1));
    let chunk = named.len().div_ceil(workers).max(1);
    let prints: Vec<Fingerprints> = std::thread::scope(|scope| {
        let handles: Vec<_> = named
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|(name, path)| Program::load(path).map(|p| fingerprint(name, &p)).map_err(anyhow::Error::from)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("fingerprint thread")).collect::<anyhow::Result<Vec<_>>>()
    })?;
    let base = args.base.iter().map(Program::load).collect::<Result<Vec<_>, _>>()?;
    let report = compare(&prints, &base_fingerprints(&base), args.threshold, args.min_score);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} programs compared; {} pairs at or above {:.2}", prints.len(), report.pairs.len(), args.min_score);
    for p in report.pairs.iter().take(50) {
        println!("  {:.3}  {}  {}{}", p.score, p.a, p.b, if p.compared_as == "text" { "  (compared as text)" } else { "" });
    }
    if report.pairs.len() > 50 {
        println!("  … {} more (use --json for all)", report.pairs.len() - 50);
    }
    for (i, c) in report.clusters.iter().enumerate() {
        println!("cluster {} ({} programs): {}", i + 1, c.len(), c.join(", "));
    }
    if !report.unparsed.is_empty() {
        println!("did not parse (compared as text): {}", report.unparsed.join(", "));
    }
    println!("Similarity is evidence for a person to review, never a verdict.");
    Ok(ExitCode::SUCCESS)
}
