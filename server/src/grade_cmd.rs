//! `qiming grade LAB PROGRAM`: grade one program, or every program in a folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use qiming_curriculum::{Catalogue, Lab};
use qiming_grading::grade::{GradeOptions, GradeReport, grade_bundle};
use qiming_grading::{Bundle, grade_many, on_run_thread};
use qiming_runtime::{Language, Program};

#[derive(Debug, clap::Args)]
pub struct GradeArgs {
    /// A lab id from the catalogue, or a path to a lab folder.
    pub lab: String,
    /// A submission: a program file (.rhai, .wasm, .wat), or a bundle (a
    /// .zip, or a folder with one program and at most one .qmodel model).
    /// A folder of several programs and no model is graded as a batch.
    pub program: PathBuf,
    /// Print the JSON report (one JSON object per line in a batch).
    #[arg(long)]
    pub json: bool,
    /// Write replays of visible cases into this folder.
    #[arg(long)]
    pub replay_dir: Option<PathBuf>,
    /// The catalogue folder (default: the shipped curriculum).
    #[arg(long)]
    pub curriculum: Option<PathBuf>,
}

pub fn resolve_lab(spec: &str, curriculum: Option<PathBuf>) -> anyhow::Result<Lab> {
    let as_path = Path::new(spec);
    if as_path.join("lab.toml").is_file() {
        return Lab::load(as_path).map_err(|e| anyhow::anyhow!("{e}"));
    }
    let dir = curriculum.unwrap_or_else(qiming_curriculum::find_dir);
    // A lab of the catalogue loads on its own, so one broken lab elsewhere
    // does not stop grading.
    let own = dir.join("labs").join(spec);
    if !spec.contains(['/', '\\']) && own.join("lab.toml").is_file() {
        return Lab::load(&own).map_err(|e| anyhow::anyhow!("{e}"));
    }
    let cat = Catalogue::open(&dir)?;
    cat.lab(spec).cloned().ok_or_else(|| {
        let ids: Vec<&str> = cat.labs.iter().map(|l| l.id.as_str()).collect();
        anyhow::anyhow!("no lab {spec:?} in {} (and no lab folder at that path); labs: {}", dir.display(), ids.join(", "))
    })
}

fn human(report: &GradeReport) -> String {
    let mut out = format!("{}: {} / {} {}\n", report.lab, report.score, report.max_score, if report.passed { "✓ passed" } else { "" });
    for c in &report.cases {
        let tag = if c.hidden { " (hidden)" } else { "" };
        out.push_str(&format!("  {} {}{}: {} / {}\n", if c.passed { "✓" } else { "✗" }, c.name, tag, c.score, c.max_score));
        if let Some(m) = &c.metric {
            out.push_str(&format!("      {} = {} (full marks at {}, none at {})\n", m.kind, m.value, m.full, m.zero));
        }
        for f in &c.feedback {
            out.push_str(&format!("      {}\n", f.en));
        }
    }
    out
}

/// A folder is one submission (a bundle) when it holds a model or exactly
/// one program; a folder of several programs and no model is a batch.
fn is_bundle_folder(dir: &Path) -> anyhow::Result<bool> {
    let has_model = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .any(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("qmodel")));
    Ok(has_model || program_files(dir)?.len() == 1)
}

fn program_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()).and_then(Language::from_extension).is_some())
        .collect();
    files.sort();
    Ok(files)
}

pub fn run(args: GradeArgs) -> anyhow::Result<ExitCode> {
    let lab = resolve_lab(&args.lab, args.curriculum.clone())?;
    if let Some(dir) = &args.replay_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let options = GradeOptions { replay_dir: args.replay_dir.clone(), ..GradeOptions::default() };
    if args.program.is_dir() && !is_bundle_folder(&args.program)? {
        return batch(lab, &args.program, args.json);
    }
    let bundle = match Bundle::load(&args.program) {
        Ok(b) => b,
        Err(e) => {
            let m = e.user_message();
            anyhow::bail!("{}: {}\n  {}", args.program.display(), m.en, m.zh);
        }
    };
    let report = on_run_thread(move || grade_bundle(&lab, &bundle, &options))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", human(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Grades every program in a folder: submissions spread over all cores, one
/// JSON line per program (with its file name) on stdout in file order,
/// progress on stderr.
fn batch(lab: Lab, dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let files = program_files(dir)?;
    let programs = files.iter().map(Program::load).collect::<Result<Vec<_>, _>>()?;
    let total = files.len();
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut scores = Vec::with_capacity(total);
    let mut failure: Option<anyhow::Error> = None;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    grade_many(&lab, &programs, workers, |i, report| {
        scores.push(report.score);
        let name = files[i].file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let line = if json {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            v["file"] = serde_json::Value::from(name);
            serde_json::to_string(&v).unwrap_or_default()
        } else {
            format!("{name}: {} / {}", report.score, report.max_score)
        };
        if let Err(e) = writeln!(stdout.lock(), "{line}") {
            failure.get_or_insert(e.into());
        }
        let done = i + 1;
        if done % 10 == 0 || done == total {
            let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let width = 30;
            let filled = width * done / total.max(1);
            eprint!("\r[{}{}] {done}/{total} ({rate:.1} submissions/s)   ", "#".repeat(filled), " ".repeat(width - filled));
        }
    });
    if let Some(e) = failure {
        return Err(e.context("cannot write results"));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "\ngraded {total} submissions in {secs:.1} s ({:.1}/s); mean score {:.1}",
        total as f64 / secs.max(1e-9),
        scores.iter().sum::<f64>() / total.max(1) as f64
    );
    Ok(ExitCode::SUCCESS)
}
