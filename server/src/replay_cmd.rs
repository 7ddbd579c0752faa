//! `qiming replay FILE`: inspect a replay file (for appeals, debugging and web players).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use qiming_sim::replay::ReplayEvent;
use qiming_sim::{PaletteColor, Replay};
use serde_json::{Value, json};

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The replay file (.qreplay).
    pub file: PathBuf,
    /// Print the whole replay as one JSON object (header, frames, events).
    #[arg(long)]
    pub json: bool,
}

fn event_json(e: &ReplayEvent) -> Value {
    match e {
        ReplayEvent::Contact { tick, solid, x, y } => json!({"type": "contact", "tick": tick, "solid": solid, "x": x, "y": y}),
        ReplayEvent::ZoneEnter { tick, zone } => json!({"type": "zone_enter", "tick": tick, "zone": zone}),
        ReplayEvent::ZoneLeave { tick, zone } => json!({"type": "zone_leave", "tick": tick, "zone": zone}),
        ReplayEvent::Checkpoint { tick, name } => json!({"type": "checkpoint", "tick": tick, "name": name}),
        ReplayEvent::Output { tick, text } => json!({"type": "output", "tick": tick, "text": text}),
    }
}

/// The replay as JSON: the same content as the binary file, for tools that
/// cannot decode postcard.
pub fn replay_json(r: &Replay) -> Value {
    let h = &r.header;
    json!({
        "format": h.format,
        "version": h.version,
        "scenario_name": h.scenario_name,
        "scenario_source": h.scenario_source,
        "seed": h.seed,
        "tick_hz": h.tick_hz,
        "program_sha256": h.program_sha256,
        "robot_radius": h.robot_radius,
        "sensors": {"distance": h.distance_sensors, "line": h.line_sensors, "color": h.color_sensors, "bumpers": h.bumpers},
        "frames": r.frames.iter().map(|f| json!({
            "pose": f.pose,
            "motors": f.motors,
            "distance": f.distance,
            "line": f.line,
            "color": f.color.iter().map(|&c| PaletteColor(c).name()).collect::<Vec<_>>(),
            "bumpers": f.bumpers,
        })).collect::<Vec<_>>(),
        "events": r.events.iter().map(event_json).collect::<Vec<_>>(),
        "state_digest": r.state_digest,
    })
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let replay = Replay::from_bytes(&bytes).with_context(|| format!("{}", args.file.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&replay_json(&replay))?);
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
        println!("  {}", event_json(e));
    }
    println!("digest:     {}", replay.state_digest);
    Ok(ExitCode::SUCCESS)
}
