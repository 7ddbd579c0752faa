//! `qiming replay FILE`: inspect a replay file (for appeals, debugging and web players).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use qiming_sim::Replay;
use qiming_sim::view::{EventView, ReplayView};

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The replay file (.qreplay).
    pub file: PathBuf,
    /// Print the whole replay as one JSON object (header, frames, events).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let replay = Replay::from_bytes(&bytes).with_context(|| format!("{}", args.file.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&serde_json::to_value(ReplayView::of(&replay))?)?);
        return Ok(ExitCode::SUCCESS);
    }
    let h = &replay.header;
    let ticks = replay.frames.len().saturating_sub(1);
    println!("scenario:   {} (seed {})", h.scenario_name, h.seed);
    println!("program:    sha256 {}", h.program_sha256);
    println!("length:     {ticks} ticks ({:.2} s at {} Hz)", ticks as f64 / h.tick_hz.max(1) as f64, h.tick_hz);
    if let (Some(first), Some(last)) = (replay.frames.first(), replay.frames.last()) {
        println!("start pose: x = {:.3}, y = {:.3}, heading = {:.1}°", first.pose[0], first.pose[1], first.pose[2].to_degrees());
        println!("end pose:   x = {:.3}, y = {:.3}, heading = {:.1}°", last.pose[0], last.pose[1], last.pose[2].to_degrees());
    }
    println!("events:     {}", replay.events.len());
    for e in replay.events.iter().take(30) {
        println!("  {}", serde_json::to_value(EventView::of(e))?);
    }
    println!("digest:     {}", replay.state_digest);
    Ok(ExitCode::SUCCESS)
}
