//! `qiming bank export-qti|import-qti`: move the assessment item bank to and
//! from QTI 3.0 content packages (TAO and other e-testing systems).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use qiming_curriculum::item::{ItemBank, to_toml};
use qiming_curriculum::{Catalogue, qti};

#[derive(Debug, clap::Args)]
pub struct BankArgs {
    #[command(subcommand)]
    pub command: BankCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum BankCommand {
    /// Write every item of the bank as QTI 3.0 XML (OUT_DIR/items/<id>.xml) with an imsmanifest.xml.
    ExportQti {
        /// The folder to write the content package into.
        out_dir: PathBuf,
        /// The catalogue folder (default: the shipped curriculum).
        #[arg(long)]
        curriculum: Option<PathBuf>,
        /// Only items of this population (student or teacher).
        #[arg(long)]
        population: Option<String>,
    },
    /// Read a QTI 3.0 content package (a folder with imsmanifest.xml) into a bank file.
    ImportQti {
        /// The unpacked content package.
        dir: PathBuf,
        /// Write the items here as a bank file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The catalogue whose lessons and labs the items are checked against.
        #[arg(long)]
        curriculum: Option<PathBuf>,
    },
}

pub fn run(args: BankArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        BankCommand::ExportQti { out_dir, curriculum, population } => {
            let dir = curriculum.unwrap_or_else(qiming_curriculum::find_dir);
            let cat = Catalogue::open(&dir)?;
            if let Some(p) = &population
                && !qiming_curriculum::item::POPULATIONS.contains(&p.as_str())
            {
                anyhow::bail!("--population must be student or teacher, not {p:?}");
            }
            let items: Vec<_> = cat.items.items.iter().filter(|i| population.as_ref().is_none_or(|p| &i.population == p)).cloned().collect();
            let n = qti::export_package(&items, &out_dir)?;
            println!("exported {n} items to {} (imsmanifest.xml + items/)", out_dir.display());
            Ok(ExitCode::SUCCESS)
        }
        BankCommand::ImportQti { dir, out, curriculum } => {
            let items = qti::import_package(&dir)?;
            let text = to_toml(&items);
            // Check what was read against the catalogue, the way the bank is
            // checked: a problem is reported with the line of the written file.
            let cat = Catalogue::open(&curriculum.unwrap_or_else(qiming_curriculum::find_dir))?;
            match &out {
                Some(path) => {
                    std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
                    match ItemBank::load_file(path, &cat.lessons, &cat.labs) {
                        Ok(bank) => {
                            println!("imported {} items into {}", bank.items.len(), path.display());
                            Ok(ExitCode::SUCCESS)
                        }
                        Err(errors) => {
                            for e in &errors {
                                eprintln!("{e}");
                            }
                            eprintln!(
                                "imported {} items into {}; {} need(s) fixing before the bank check passes (items from other systems lack Qiming's literacy, module, grade band and lessons)",
                                items.len(),
                                path.display(),
                                errors.len()
                            );
                            Ok(ExitCode::from(1))
                        }
                    }
                }
                None => {
                    print!("{text}");
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}
