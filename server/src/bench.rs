//! `qiming bench`: measures the engine on this machine and prints a table.
//!
//! Benchmarks live here rather than in tests because timing assertions do not
//! belong in tests; the figures go into README.md's performance table.

use std::hint::black_box;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use qiming_grading::{RunOptions, SimRobot, run_program};
use qiming_runtime::{Flow, Limits, Program, Robot};
use qiming_sim::{Scenario, Sim, SimOptions};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Fewer repetitions (for a smoke test; figures are noisier).
    #[arg(long)]
    pub quick: bool,
    /// Directory holding the shipped scenarios.
    #[arg(long, default_value = "sim/scenarios")]
    pub scenarios: std::path::PathBuf,
    /// Measure only a contest leaderboard with this many teams, served by the HTTP API.
    #[arg(long)]
    pub leaderboard_teams: Option<usize>,
    /// The database for `--leaderboard-teams` (default: a temporary SQLite file); an empty one.
    #[arg(long)]
    pub leaderboard_db: Option<String>,
    /// The curriculum folder (for `--leaderboard-teams` and `--city-db`).
    #[arg(long, default_value = "curriculum")]
    pub curriculum: std::path::PathBuf,
    /// Measure only a city-wide contest on this empty PostgreSQL database: HTTP intake,
    /// queue wait, leaderboard under load and grading per core with a fleet of `qiming worker`s.
    #[arg(long, value_name = "URL")]
    pub city_db: Option<String>,
    /// Students registered in the city event (`--city-db`).
    #[arg(long, default_value_t = 100_000)]
    pub city_students: usize,
    /// Teams they form, 1–4 students each (`--city-db`).
    #[arg(long, default_value_t = 40_000)]
    pub city_teams: usize,
    /// Submissions over the whole window (`--city-db`).
    #[arg(long, default_value_t = 400_000)]
    pub city_submissions: usize,
    /// The round's length in minutes (`--city-db`).
    #[arg(long, default_value_t = 120.0)]
    pub city_window_minutes: f64,
    /// Share of all submissions that arrive in the last 10 minutes (`--city-db`).
    #[arg(long, default_value_t = 0.3)]
    pub city_spike_share: f64,
    /// Seconds of the steady and the spike phase each; the capacity phase takes half (`--city-db`).
    #[arg(long, default_value_t = 60.0)]
    pub city_phase_seconds: f64,
    /// Seconds of draining the queue after the arrivals stop (`--city-db`).
    #[arg(long, default_value_t = 60.0)]
    pub city_drain_seconds: f64,
    /// `qiming worker` processes to start, one grading thread each (`--city-db`).
    #[arg(long, default_value_t = 2)]
    pub city_workers: usize,
    /// Submissions per second of the first phase, which the local workers keep up with (`--city-db`).
    #[arg(long, default_value_t = 4.0)]
    pub city_queue_rate: f64,
}

/// A robot with no world behind it: isolates the runtime's own costs.
struct NullRobot {
    ticks: u64,
}

impl Robot for NullRobot {
    fn tick_hz(&self) -> u32 {
        100
    }
    fn ticks(&self) -> u64 {
        self.ticks
    }
    fn max_ticks(&self) -> u64 {
        u64::MAX / 2
    }
    fn advance(&mut self, ticks: u64) {
        self.ticks += ticks;
    }
    fn motors(&mut self, _: f64, _: f64) {}
    fn wait(&mut self, s: f64) -> Flow {
        self.ticks += (s * 100.0).round() as u64;
        Flow::Continue
    }
    fn forward(&mut self, _: f64) -> Flow {
        Flow::Continue
    }
    fn turn(&mut self, _: f64) -> Flow {
        Flow::Continue
    }
    fn distance(&mut self, _: &str) -> Result<f64, String> {
        Ok(1.0)
    }
    fn line(&mut self, _: &str) -> Result<f64, String> {
        Ok(0.0)
    }
    fn color(&mut self, _: &str) -> Result<&'static str, String> {
        Ok("white")
    }
    fn bumper(&mut self, _: &str) -> Result<bool, String> {
        Ok(false)
    }
    fn heading(&mut self) -> f64 {
        0.0
    }
    fn output(&mut self, _: &str) {}
}

/// The small controller of the per-tick benchmark: read a sensor, steer, wait a tick.
pub const RHAI_CONTROLLER: &str = r#"
loop {
    let d = distance("front");
    if d < 0.3 { motors(-0.5, 0.5); } else { motors(0.5, 0.5); }
    wait(0.01);
}
"#;

pub const WAT_CONTROLLER: &str = r#"
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "wait" (func $wait (param f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (loop $l
      (if (f64.lt (call $distance (i32.const 0) (i32.const 5)) (f64.const 0.3))
        (then (call $motors (f64.const -0.5) (f64.const 0.5)))
        (else (call $motors (f64.const 0.5) (f64.const 0.5))))
      (call $wait (f64.const 0.01))
      (br $l))))
"#;

/// The trivial controller of the start-up comparison: one sensor read, one motor command.
const RHAI_TRIVIAL: &str = r#"let d = distance("front"); if d < 0.3 { motors(0.0, 0.0); } else { motors(0.5, 0.5); }"#;
const WAT_TRIVIAL: &str = r#"
(module
  (import "robot" "motors" (func $motors (param f64 f64)))
  (import "robot" "distance" (func $distance (param i32 i32) (result f64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "front")
  (func (export "run")
    (if (f64.lt (call $distance (i32.const 0) (i32.const 5)) (f64.const 0.3))
      (then (call $motors (f64.const 0) (f64.const 0)))
      (else (call $motors (f64.const 0.5) (f64.const 0.5))))))
"#;
const PY_TRIVIAL: &str = "import sys\nd = float(sys.stdin.readline())\nprint('0 0' if d < 0.3 else '0.5 0.5')\n";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_each(reps: usize, mut f: impl FnMut()) -> Duration {
    let mut samples = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    median(samples)
}

fn fmt_dur(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.1} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.city_db {
        let options = crate::city_bench::CityOptions {
            database_url: url.clone(),
            students: args.city_students,
            teams: args.city_teams,
            submissions: args.city_submissions,
            window_minutes: args.city_window_minutes,
            spike_share: args.city_spike_share,
            phase_seconds: args.city_phase_seconds,
            drain_seconds: args.city_drain_seconds,
            workers: args.city_workers,
            queue_rate: args.city_queue_rate,
            curriculum: args.curriculum.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().context("start the async runtime")?;
        let rows = runtime.block_on(crate::city_bench::run(options))?;
        print_table(rows);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(teams) = args.leaderboard_teams {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("start the async runtime")?;
        let rows = runtime.block_on(crate::leaderboard_bench::run(teams, args.leaderboard_db.clone(), &args.curriculum))?;
        print_table(rows);
        return Ok(ExitCode::SUCCESS);
    }
    let handle = std::thread::Builder::new().stack_size(qiming_grading::grade::RUN_STACK).spawn(move || bench(args)).context("spawn bench thread")?;
    handle.join().map_err(|_| anyhow::anyhow!("bench panicked"))??;
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: Vec<(String, String, String)>) {
    println!("| measurement | result | target |");
    println!("|---|---|---|");
    for (what, result, target) in rows {
        println!("| {what} | {result} | {target} |");
    }
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let reps = if args.quick { 3 } else { 15 };
    let maze = Scenario::load(args.scenarios.join("maze.toml"))?;
    let empty = Scenario::load(args.scenarios.join("empty.toml"))?;
    let limits = Limits::default();
    let mut rows: Vec<(String, String, String)> = Vec::new();

    // 1. Simulation: ticks per second, maze, all starter-bot sensors, one core.
    let ticks = 12_000u64; // the maze's whole 120 s
    let sim_time = time_each(reps, || {
        let mut sim = Sim::new(&maze, 1, SimOptions::default());
        sim.set_motors(0.8, 0.55); // curves into walls: contacts and sensor changes
        black_box(sim.step_n(ticks));
    });
    let tps = ticks as f64 / sim_time.as_secs_f64();
    rows.push(("sim: ticks per second (maze.toml, starter bot, all sensors, 1 core)".into(), format!("{tps:.0} ticks/s"), "≥ 100,000".into()));
    let build = time_each(reps * 10, || {
        black_box(Sim::new(&maze, 1, SimOptions::default()));
    });
    rows.push(("sim: build a world (maze.toml)".into(), fmt_dur(build), "".into()));

    // 2. Runtime: per-tick overhead of a small controller, Rhai and WebAssembly.
    let bare = time_each(reps, || {
        let mut sim = Sim::new(&empty, 1, SimOptions::default());
        sim.set_motors(0.5, 0.5);
        black_box(sim.step_n(3000));
    });
    for (name, program) in [("Rhai", Program::rhai(RHAI_CONTROLLER)), ("WebAssembly", Program::wasm(WAT_CONTROLLER.as_bytes().to_vec()))] {
        qiming_runtime::prepare(&program, &limits);
        let mut ticks_run = 0;
        let total = time_each(reps, || {
            let r = run_program(&program, &empty, &RunOptions::default());
            ticks_run = r.sim.ticks;
        });
        let per_tick = total.saturating_sub(bare) / ticks_run.max(1) as u32;
        rows.push((format!("runtime: per-tick overhead, small {name} controller (sensor + motors + wait each tick)"), fmt_dur(per_tick), "".into()));
    }

    // 3. Start-up: cached WebAssembly and Rhai in-process vs a python3 process.
    let wasm = Program::wasm(WAT_TRIVIAL.as_bytes().to_vec());
    let rhai = Program::rhai(RHAI_TRIVIAL);
    qiming_runtime::prepare(&wasm, &limits);
    qiming_runtime::prepare(&rhai, &limits);
    let start_reps = if args.quick { 200 } else { 2000 };
    let wasm_start = time_each(start_reps, || {
        black_box(qiming_runtime::run(&wasm, NullRobot { ticks: 0 }, &limits));
    });
    let rhai_start = time_each(start_reps, || {
        black_box(qiming_runtime::run(&rhai, NullRobot { ticks: 0 }, &limits));
    });
    let with_world = time_each(reps * 10, || {
        let sim = Sim::new(&empty, 1, SimOptions::default());
        black_box(qiming_runtime::run(&wasm, SimRobot::new(sim), &limits));
    });
    rows.push(("runtime: start-up of a cached WebAssembly program (trivial controller)".into(), fmt_dur(wasm_start), "≤ 20 µs".into()));
    rows.push(("runtime: start-up of a cached Rhai script (trivial controller)".into(), fmt_dur(rhai_start), "".into()));
    rows.push(("runtime: cached WebAssembly program + a fresh empty.toml world".into(), fmt_dur(with_world), "".into()));
    match python_start(if args.quick { 5 } else { 20 }) {
        Ok(py) => {
            rows.push(("python3: start the same trivial controller as a process".into(), fmt_dur(py), "".into()));
            rows.push(("ratio: python3 process / cached WebAssembly".into(), format!("{:.0}×", py.as_secs_f64() / wasm_start.as_secs_f64()), "".into()));
            rows.push(("ratio: python3 process / cached Rhai".into(), format!("{:.0}×", py.as_secs_f64() / rhai_start.as_secs_f64()), "".into()));
        }
        Err(e) => rows.push(("python3: start the same trivial controller as a process".into(), format!("not measured: {e}"), "".into())),
    }

    // 4. AI: `classify(camera())` inside a run, the sign CNN.
    rows.push(classify_in_run(&empty, &limits, if args.quick { 50 } else { 500 }, reps)?);

    // 5. Grading throughput: whole submissions (every case of the lab), one
    // submission per core at a time, as a batch `qiming grade` does.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let labs_dir = qiming_curriculum::find_dir().join("labs");
    let load_lab = |id: &str| qiming_curriculum::Lab::load(&labs_dir.join(id)).ok();
    let (line_lab, maze_lab) = (load_lab("line-follow"), load_lab("maze"));
    let line_ref = line_lab.as_ref().and_then(|l| l.reference.iter().find(|r| r.language == "rhai")).map(|r| r.source.clone());
    let maze_ref = maze_lab.as_ref().and_then(|l| l.reference.iter().find(|r| r.language == "rhai")).map(|r| r.source.clone());
    let classroom = std::fs::read("examples/line-follow-wait.rhai").ok();
    let workloads = [
        ("line-follow", "classroom-style Rhai follower (sense, act, wait(0.01))", classroom, if args.quick { 8 } else { 60 }),
        ("line-follow", "reference Rhai follower (polls as fast as it can)", line_ref, if args.quick { 4 } else { 20 }),
        ("maze", "reference Rhai right-hand rule", maze_ref, if args.quick { 10 } else { 200 }),
    ];
    for (lab_id, what, source, count) in workloads {
        let lab = if lab_id == "maze" { maze_lab.as_ref() } else { line_lab.as_ref() };
        let (Some(lab), Some(source)) = (lab, source) else { continue };
        let program = Program::rhai(String::from_utf8_lossy(&source).into_owned());
        let started = std::time::Instant::now();
        qiming_grading::grade_many(lab, &vec![program; count], cores, |_, r| {
            black_box(r);
        });
        let elapsed = started.elapsed();
        let per_sec = count as f64 / elapsed.as_secs_f64();
        rows.push((
            format!("grading: {lab_id}, {what}, {} cases per submission, {cores} cores", lab.cases.len()),
            format!("{per_sec:.1} submissions/s ({:.1} per core)", per_sec / cores as f64),
            if lab_id == "line-follow" { "≥ 20 per core".into() } else { "".into() },
        ));
        rows.push((
            format!("grading: 10,000 such {lab_id} submissions in a batch (extrapolated from {count})"),
            format!("{:.1} min", 10_000.0 / per_sec / 60.0),
            "".into(),
        ));
    }

    println!("| measurement | result | target |");
    println!("|---|---|---|");
    for (what, result, target) in rows {
        println!("| {what} | {result} | {target} |");
    }
    println!(
        "\n(machine: {} logical CPUs; median of {reps} runs; `qiming bench{}`)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if args.quick { " --quick" } else { "" }
    );
    Ok(())
}

/// The cost of one `classify(camera())` with the sign CNN inside a Rhai run:
/// the same loop with and without the call, the difference divided by the
/// calls. The loop without it waits as many ticks as `classify` is charged,
/// so both runs step the world equally. The weights are pseudo-random: a
/// prediction costs the same whatever the weights.
fn classify_in_run(scenario: &Scenario, limits: &Limits, calls: usize, reps: usize) -> anyhow::Result<(String, String, String)> {
    use qiming_ai::model::{FORMAT, Header, Input, Training, VERSION};
    use qiming_ai::{Classifier, ModelKind};
    let labels: Vec<String> = ["go", "left", "right", "slow", "stop"].map(String::from).to_vec();
    let layers = qiming_ai::train::architecture(ModelKind::Cnn, &Input::image(), labels.len());
    let mut header = Header {
        format: FORMAT.into(),
        version: VERSION,
        kind: ModelKind::Cnn,
        labels,
        input: Input::image(),
        dataset_sha256: "0".repeat(64),
        layers,
        parameters: 0,
        training: Training { seed: 0, epochs: 0, samples: 0 },
    };
    header.parameters = header.parameter_count()?;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let weights = (0..header.parameters)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.4
        })
        .collect();
    let model = std::sync::Arc::new(qiming_ai::Model::new(header, weights)?);
    let charged = qiming_runtime::classify_ticks(model.cost(), qiming_sim::TICK_HZ);
    let with = Program::rhai(format!("for i in 0..{calls} {{ let c = classify(camera()); }}"));
    let without = Program::rhai(format!("for i in 0..{calls} {{ let c = camera(); wait({}); }}", charged as f64 / f64::from(qiming_sim::TICK_HZ)));
    let options = RunOptions { model: Some(model.clone()), ..RunOptions::default() };
    for program in [&with, &without] {
        qiming_runtime::prepare(program, limits);
        let r = run_program(program, scenario, &options);
        anyhow::ensure!(
            matches!(r.report.outcome, qiming_runtime::Outcome::Finished),
            "the classify benchmark's program did not finish: {:?}",
            r.report.outcome
        );
    }
    let t_with = time_each(reps, || {
        black_box(run_program(&with, scenario, &options));
    });
    let t_without = time_each(reps, || {
        black_box(run_program(&without, scenario, &options));
    });
    let per_call = t_with.saturating_sub(t_without) / calls as u32;
    Ok((
        format!("ai: `classify(camera())` inside a Rhai run, sign CNN ({} multiply-adds, charged {charged} ticks)", model.cost()),
        fmt_dur(per_call),
        "≤ 50 µs".into(),
    ))
}

/// How long it takes to start python3, feed it one reading and get its command.
fn python_start(reps: usize) -> anyhow::Result<Duration> {
    let mut samples = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let mut child = Command::new("python3").args(["-c", PY_TRIVIAL]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().context("python3 not found")?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().context("stdin")?;
            stdin.write_all(b"1.0\n")?;
        }
        let out = child.wait_with_output()?;
        anyhow::ensure!(out.status.success() && out.stdout.starts_with(b"0.5"), "python3 controller failed");
        samples.push(t.elapsed());
    }
    Ok(median(samples))
}
