//! Determinism: the same program, scenario and seed give one replay, bit for
//! bit, however many runs and threads.

use std::collections::BTreeSet;
use std::sync::Arc;

use qiming_grading::{RunOptions, run_program};
use qiming_runtime::{Outcome, Program};
use qiming_sim::Scenario;
use sha2::{Digest, Sha256};

use crate::support::repo;

/// A right-hand wall follower with noisy sensors and motors: exercises
/// collisions, every sensor kind, blocking calls and busy polling.
const WALL_FOLLOWER: &str = r#"
let turns = 0;
while time() < 40.0 {
    let front = distance("front");
    let right = distance("right");
    if bumper("front") {
        motors(-0.4, -0.4); wait(0.3); turn(60); turns += 1;
    } else if front < 0.12 {
        stop(); turn(90); turns += 1;
    } else if right > 0.30 {
        motors(0.6, 0.25);
    } else if right < 0.12 {
        motors(0.3, 0.6);
    } else {
        motors(0.6, 0.6);
    }
    if color("floor") == "green" { print(`exit at ${time()}`); break; }
    let reading = line("center") + heading();
}
print(`turns: ${turns}`);
"#;

fn noisy_maze() -> Scenario {
    let text = std::fs::read_to_string(repo().join("sim/scenarios/maze.toml"))
        .unwrap()
        .replace("heading = 0.0", "heading = 0.0\nmotor_noise = 0.05\ndistance_noise = 0.005");
    Scenario::parse(&text, "maze-noisy.toml").unwrap()
}

fn replay_hashes(program: Program, runs: usize, threads: usize) -> BTreeSet<String> {
    let scenario = Arc::new(noisy_maze());
    let program = Arc::new(program);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (scenario, program) = (scenario.clone(), program.clone());
            std::thread::Builder::new()
                .stack_size(qiming_grading::grade::RUN_STACK)
                .spawn(move || {
                    (t..runs)
                        .step_by(threads)
                        .map(|_| {
                            let r = run_program(&program, &scenario, &RunOptions { seed: 42, replay: true, ..Default::default() });
                            assert!(
                                matches!(r.report.outcome, Outcome::Finished | Outcome::TimeUp),
                                "the determinism program must run properly: {:?}",
                                r.report.outcome
                            );
                            assert!(r.sim.ticks > 1000 && r.sim.collisions > 0, "it must drive and bump: {:?}", r.sim.ticks);
                            hex::encode(Sha256::digest(r.replay.expect("replay recorded").to_bytes()))
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap()
        })
        .collect();
    handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
}

#[test]
fn one_hundred_rhai_runs_across_threads_give_one_replay_hash() {
    let hashes = replay_hashes(Program::rhai(WALL_FOLLOWER), 100, 4);
    assert_eq!(hashes.len(), 1, "runs diverged: {hashes:?}");
}

#[test]
fn wasm_runs_across_threads_give_one_replay_hash() {
    let wat = std::fs::read(repo().join("examples/wall-follower.wat")).unwrap();
    let hashes = replay_hashes(Program::wasm(wat), 24, 3);
    assert_eq!(hashes.len(), 1, "runs diverged: {hashes:?}");
}

#[test]
fn different_seeds_give_different_runs() {
    let scenario = noisy_maze();
    let program = Program::rhai(WALL_FOLLOWER);
    let digest = |seed| {
        crate::support::on_run_thread({
            let (scenario, program) = (Scenario::parse(&scenario.source, "m.toml").unwrap(), program.clone());
            move || run_program(&program, &scenario, &RunOptions { seed, ..Default::default() }).sim.state_digest
        })
    };
    assert_ne!(digest(1), digest(2));
}
