//! `qiming curriculum check|list`: validate the catalogue (lessons, labs and
//! the assessment item bank), print it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use qiming_curriculum::Catalogue;
use qiming_grading::{check_lab, on_run_thread};

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

pub fn run(args: CurriculumArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        CurriculumCommand::List { dir } => {
            let cat = Catalogue::open(&dir.unwrap_or_else(qiming_curriculum::find_dir))?;
            println!("{:<22} {:<6} {:<18} title", "id", "grade", "module");
            for lab in &cat.labs {
                println!("{:<22} {:<6} {:<18} {} / {}", lab.id, lab.grade_band, lab.module, lab.title.zh, lab.title.en);
            }
            println!("\n{} labs, {} lessons, {} items", cat.labs.len(), cat.lessons.len(), cat.items.items.len());
            print!("\n{}", cat.items.summary());
            Ok(ExitCode::SUCCESS)
        }
        CurriculumCommand::Check { dir } => {
            let dir = dir.unwrap_or_else(qiming_curriculum::find_dir);
            // Check every lab that loads, even when others do not.
            let (cat, load_errors) = Catalogue::load_all(&dir);
            let labs = cat.labs.clone();
            let graded = on_run_thread(move || labs.iter().flat_map(check_lab).collect::<Vec<_>>()).context("checking labs")?;
            let problems: Vec<String> = load_errors.iter().map(|e| e.to_string()).chain(graded).collect();
            if problems.is_empty() {
                println!("curriculum OK: {} labs, {} lessons, {} items in {}", cat.labs.len(), cat.lessons.len(), cat.items.items.len(), dir.display());
                print!("{}", cat.items.summary());
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
