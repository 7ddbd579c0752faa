//! `qiming curriculum check|list`: validate the catalogue, print it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use qiming_curriculum::{Catalogue, Lab};
use qiming_grading::grade::{GradeOptions, grade};
use qiming_runtime::{Language, Program};

#[derive(Debug, clap::Args)]
pub struct CurriculumArgs {
    #[command(subcommand)]
    pub command: CurriculumCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CurriculumCommand {
    /// Validate everything: schemas, ids, references; reference solutions must
    /// score full marks, do-nothing and known-wrong programs below half.
    Check {
        /// The catalogue folder (default: the shipped curriculum).
        dir: Option<PathBuf>,
    },
    /// Print the catalogue: id, grade band, module, title.
    List { dir: Option<PathBuf> },
}

/// The shipped catalogue: `QIMING_CURRICULUM`, else `./curriculum`, else the
/// source tree this binary was built from.
pub fn default_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("QIMING_CURRICULUM") {
        return PathBuf::from(dir);
    }
    let local = Path::new("curriculum");
    if local.join("labs").is_dir() {
        return local.to_path_buf();
    }
    qiming_curriculum::default_dir()
}

pub fn load(dir: &Path) -> anyhow::Result<Catalogue> {
    Catalogue::load(dir).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        anyhow::anyhow!("the curriculum in {} has {} problem(s):\n{}", dir.display(), errors.len(), list.join("\n"))
    })
}

/// Programs that do nothing, per language: every lab must score them below half.
pub fn do_nothing(language: &str) -> Program {
    match language {
        "wasm" => Program::wasm(b"(module (func (export \"run\")))".to_vec()),
        _ => Program::rhai(""),
    }
}

fn program_of(file: &qiming_curriculum::ProgramFile) -> Program {
    let language = if file.language == "wasm" { Language::Wasm } else { Language::Rhai };
    Program { language, source: file.source.clone() }
}

/// Runs the grader over a lab's own programs; returns the problems found.
pub fn check_lab(lab: &Lab) -> Vec<String> {
    let mut problems = Vec::new();
    let options = GradeOptions::default();
    let toml = lab.dir.join("lab.toml").display().to_string();
    for r in &lab.reference {
        let report = grade(lab, &program_of(r), &options);
        if report.score < 100.0 {
            let failing: Vec<String> =
                report.cases.iter().filter(|c| c.score < c.max_score).map(|c| format!("{} ({}/{})", c.name, c.score, c.max_score)).collect();
            problems.push(format!("{toml}: reference solution {} scores {} instead of 100; cases: {}", r.path.display(), report.score, failing.join(", ")));
        }
    }
    for lang in &lab.languages {
        let report = grade(lab, &do_nothing(lang), &options);
        if report.score >= 50.0 {
            problems.push(format!("{toml}: a do-nothing {lang} program scores {} (must be below 50)", report.score));
        }
    }
    for w in &lab.wrong {
        let report = grade(lab, &program_of(w), &options);
        if report.score >= 50.0 {
            problems.push(format!("{toml}: known-wrong solution {} scores {} (must be below 50)", w.path.display(), report.score));
        }
    }
    problems
}

pub fn run(args: CurriculumArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        CurriculumCommand::List { dir } => {
            let cat = load(&dir.unwrap_or_else(default_dir))?;
            println!("{:<22} {:<6} {:<18} title", "id", "grade", "module");
            for lab in &cat.labs {
                println!("{:<22} {:<6} {:<18} {} / {}", lab.id, lab.grade_band, lab.module, lab.title.zh, lab.title.en);
            }
            println!("\n{} labs, {} lessons", cat.labs.len(), cat.lessons.len());
            Ok(ExitCode::SUCCESS)
        }
        CurriculumCommand::Check { dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            // Check every lab that loads, even when others do not.
            let (cat, load_errors) = Catalogue::load_all(&dir);
            let labs = cat.labs.clone();
            let graded = crate::run_cmd::on_run_thread(move || labs.iter().flat_map(check_lab).collect::<Vec<_>>()).context("checking labs")?;
            let problems: Vec<String> = load_errors.iter().map(|e| e.to_string()).chain(graded).collect();
            if problems.is_empty() {
                println!("curriculum OK: {} labs, {} lessons in {}", cat.labs.len(), cat.lessons.len(), dir.display());
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &problems {
                    eprintln!("{p}");
                }
                eprintln!("curriculum check failed: {} problem(s)", problems.len());
                Ok(ExitCode::from(1))
            }
        }
    }
}
