//! `qiming run`: one program, one scenario, one seed → outcome, summary, replay.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use qiming_ai::Model;
use qiming_grading::{Bundle, RunOptions, RunResult, on_run_thread, run_program, sensor_vector_names};
use qiming_runtime::{Outcome, Program};
use qiming_sim::{Scenario, SimEvent};
use serde_json::{Value, json};

use crate::cli::RunArgs;

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let bundle = Bundle::load(&args.program).with_context(|| format!("cannot use {} as a submission", args.program.display()))?;
    let scenario = Scenario::load(&args.scenario)?;
    let model = match (&args.model, bundle.model) {
        (Some(_), Some(_)) => {
            anyhow::bail!(
                "{} already holds a model ({}); give --model or the bundle's model, not both",
                args.program.display(),
                bundle.model_name.unwrap_or_default()
            )
        }
        (Some(path), None) => Some(Arc::new(Model::read(path).with_context(|| format!("cannot use the model {}", path.display()))?)),
        (None, model) => model,
    };
    if let Some(m) = &model {
        let sensors = sensor_vector_names(&scenario.resolve(args.seed).robot);
        if let Err(misfit) = m.fits_robot(&sensors) {
            anyhow::bail!("the model does not fit this scenario: {misfit}\n  模型与这个场景不符：{}", misfit.zh_cn());
        }
    }
    let program: Program = bundle.program;
    let options =
        RunOptions { seed: args.seed, replay: args.replay.is_some(), model: model.map(|m| m as Arc<dyn qiming_ai::Classifier>), ..RunOptions::default() };
    let (result, scenario) = on_run_thread(move || {
        let result = run_program(&program, &scenario, &options);
        (result, scenario)
    })?;
    if let (Some(path), Some(replay)) = (&args.replay, &result.replay) {
        std::fs::write(path, replay.to_bytes()).with_context(|| format!("cannot write replay to {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&run_json(&result, &scenario, args.seed))?);
    } else {
        print!("{}", human_summary(&result, &scenario, args.seed));
    }
    Ok(ExitCode::SUCCESS)
}

/// Rounds for display without changing what is stored.
fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

pub fn event_json(e: &SimEvent) -> Value {
    match e {
        SimEvent::Contact { tick, solid, point } => json!({"type": "contact", "tick": tick, "solid": solid, "x": round(point[0], 4), "y": round(point[1], 4)}),
        SimEvent::ZoneEnter { tick, zone } => json!({"type": "zone_enter", "tick": tick, "zone": zone}),
        SimEvent::ZoneLeave { tick, zone } => json!({"type": "zone_leave", "tick": tick, "zone": zone}),
        SimEvent::Checkpoint { tick, name } => json!({"type": "checkpoint", "tick": tick, "name": name}),
        SimEvent::Output { tick, text } => json!({"type": "output", "tick": tick, "text": text}),
    }
}

/// The `--json` object; field names are a documented contract (docs/cli.md).
pub fn run_json(result: &RunResult, scenario: &Scenario, seed: u64) -> Value {
    let r = &result.report;
    let s = &result.sim;
    let (limit, limit_message) = match &r.outcome {
        Outcome::Limit { limit, message } => (Value::from(limit.as_str()), Value::from(message.as_str())),
        _ => (Value::Null, Value::Null),
    };
    let error = match &r.outcome {
        // `message` is the engine's own text (for teachers); `code`,
        // `explanation` and `suggestion` are what a student is shown.
        Outcome::Error(e) => json!({
            "kind": e.kind, "message": e.message, "line": e.line, "column": e.column,
            "code": e.diagnostic.code, "explanation": e.diagnostic.explanation, "suggestion": e.diagnostic.suggestion,
        }),
        _ => Value::Null,
    };
    json!({
        "outcome": r.outcome.as_str(),
        "limit": limit,
        "limit_message": limit_message,
        "error": error,
        "sim_time": round(s.sim_time, 6),
        "ticks": s.ticks,
        "collisions": s.collisions,
        "final_pose": {"x": round(s.final_pose.x, 6), "y": round(s.final_pose.y, 6), "heading": round(s.final_pose.heading, 4)},
        "output": r.output,
        "output_truncated": r.output_truncated,
        "scenario": scenario.name,
        "seed": seed,
        "work": r.work,
        "events": s.events.iter().filter(|e| !matches!(e, SimEvent::Output { .. })).map(event_json).collect::<Vec<_>>(),
        "state_digest": s.state_digest,
    })
}

fn human_summary(result: &RunResult, scenario: &Scenario, seed: u64) -> String {
    let r = &result.report;
    let s = &result.sim;
    let mut out = String::new();
    let outcome = match &r.outcome {
        Outcome::Finished => "finished".to_string(),
        Outcome::TimeUp => "time up (the scenario's time ran out while the program was running)".to_string(),
        Outcome::Cancelled => "cancelled".to_string(),
        Outcome::Limit { limit, message } => format!("stopped by the {} limit: {message}", limit.as_str()),
        Outcome::Error(e) => {
            let at = match (e.line, e.column) {
                (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
                (Some(l), None) => format!(" at line {l}"),
                _ => String::new(),
            };
            let mut text = format!("{} error{at}: {}", e.kind.as_str(), e.diagnostic.explanation.en);
            if let Some(s) = &e.diagnostic.suggestion {
                text.push_str(&format!(" {}", s.en));
            }
            format!("{text}\n            (engine: {})", e.message)
        }
    };
    out.push_str(&format!("outcome:    {outcome}\n"));
    out.push_str(&format!("scenario:   {} (seed {seed})\n", scenario.name));
    out.push_str(&format!("sim time:   {:.2} s ({} ticks)\n", s.sim_time, s.ticks));
    out.push_str(&format!("final pose: x = {:.3} m, y = {:.3} m, heading = {:.1}°\n", s.final_pose.x, s.final_pose.y, s.final_pose.heading));
    out.push_str(&format!("collisions: {}\n", s.collisions));
    if !r.output.is_empty() {
        out.push_str("output:\n");
        for line in r.output.lines().take(20) {
            out.push_str(&format!("  | {line}\n"));
        }
        if r.output.lines().count() > 20 {
            out.push_str("  | …\n");
        }
    }
    out
}
