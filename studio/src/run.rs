//! Runs off the UI thread, and their playback: what the Run, Pause, Step and speed controls drive.
//!
//! A run is the engine's own `run_program` with the lab's options
//! (`grading::grade::lab_run_options`), on a thread with the engine's big
//! run stack, so a student watches exactly the run the grader scores. The
//! UI never waits for it: a hostile program ends at the engine's limits or at
//! the Stop button (a `Cancel` handle), while the window stays responsive.
//! Playback walks the recorded frames at 1×–20× real time, or jumps to the end.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use qiming_grading::grade::RUN_STACK;
use qiming_grading::run::{RunOptions, run_program};
use qiming_runtime::{Cancel, Program, RunReport};
use qiming_sim::{Replay, ResolvedScenario, Scenario, TICK_HZ};

/// A finished run, ready to play.
pub struct Finished {
    pub report: RunReport,
    pub replay: Replay,
    pub world: ResolvedScenario,
}

/// A run in progress on its own thread.
pub struct Job {
    rx: Receiver<Finished>,
    cancel: Cancel,
}

impl Job {
    /// Starts `program` in `scenario` with `options` (whose replay flag is forced on).
    pub fn start(program: Program, scenario: Arc<Scenario>, mut options: RunOptions) -> std::io::Result<Job> {
        let (tx, rx) = channel();
        let cancel = Cancel::new();
        options.cancel = cancel.clone();
        options.replay = true;
        std::thread::Builder::new().name("studio-run".into()).stack_size(RUN_STACK).spawn(move || {
            let result = run_program(&program, &scenario, &options);
            let world = scenario.resolve(options.seed);
            let replay = result.replay.expect("a replay was asked for");
            // The receiver may be gone (the student closed the lab): nothing to do then.
            let _ = tx.send(Finished { report: result.report, replay, world });
        })?;
        Ok(Job { rx, cancel })
    }

    /// Asks the run to stop; its outcome will be `cancelled`.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The run's result once it has one.
    pub fn poll(&self) -> Option<Finished> {
        match self.rx.try_recv() {
            Ok(f) => Some(f),
            Err(TryRecvError::Empty) => None,
            // The run thread died without an answer: a bug of ours, already logged by the panic hook.
            Err(TryRecvError::Disconnected) => None,
        }
    }

    /// Waits for the result (tests, `--screenshot`).
    pub fn wait(self) -> Option<Finished> {
        self.rx.recv().ok()
    }
}

/// Playback speeds offered: multiples of real time, or as fast as possible.
pub const SPEEDS: &[u32] = &[1, 2, 5, 10, 20];

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Speed {
    Times(u32),
    Fastest,
}

/// Where playback of a recorded run is.
pub struct Player {
    pub world: ResolvedScenario,
    pub replay: Replay,
    /// The run's report (none for a replay opened from a file).
    pub report: Option<RunReport>,
    /// Position in ticks (fractional while playing smoothly).
    pub position: f64,
    pub playing: bool,
}

impl Player {
    pub fn new(world: ResolvedScenario, replay: Replay, report: Option<RunReport>) -> Player {
        Player { world, replay, report, position: 0.0, playing: true }
    }

    /// The last frame's index.
    pub fn last(&self) -> usize {
        self.replay.frames.len().saturating_sub(1)
    }

    /// The frame shown now.
    pub fn frame_index(&self) -> usize {
        (self.position.max(0.0) as usize).min(self.last())
    }

    pub fn at_end(&self) -> bool {
        self.frame_index() >= self.last()
    }

    /// Moves playback on by `seconds` of real time at `speed`.
    pub fn advance(&mut self, seconds: f64, speed: Speed) {
        if !self.playing {
            return;
        }
        match speed {
            Speed::Fastest => self.position = self.last() as f64,
            Speed::Times(k) => self.position += seconds * f64::from(TICK_HZ) * f64::from(k),
        }
        if self.position >= self.last() as f64 {
            self.position = self.last() as f64;
            self.playing = false;
        }
    }

    /// One tick forward, paused.
    pub fn step(&mut self) {
        self.playing = false;
        self.position = (self.frame_index() + 1).min(self.last()) as f64;
    }

    pub fn reset(&mut self) {
        self.playing = false;
        self.position = 0.0;
    }

    /// Jumps to `seconds` of simulated time (for `--run-for`).
    pub fn seek_seconds(&mut self, seconds: f64) {
        self.position = (seconds * f64::from(TICK_HZ)).clamp(0.0, self.last() as f64);
        self.playing = self.position < self.last() as f64;
    }

    /// Simulated seconds at the current frame.
    pub fn time(&self) -> f64 {
        self.frame_index() as f64 / f64::from(self.replay.header.tick_hz.max(1))
    }

    /// Printed output up to the current frame.
    pub fn output_so_far(&self) -> String {
        let now = self.frame_index() as u64;
        let mut out = String::new();
        for e in &self.replay.events {
            if let qiming_sim::replay::ReplayEvent::Output { tick, text } = e
                && *tick <= now
            {
                out.push_str(text);
            }
        }
        out
    }
}
