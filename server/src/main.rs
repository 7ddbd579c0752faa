//! The `qiming` command: thin argument parsing over the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = qiming::cli::Cli::parse();
    match qiming::cli::main(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("qiming: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
