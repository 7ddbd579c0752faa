//! One run: a program driving the simulated robot in a scenario with a seed.

use std::sync::Arc;

use qiming_ai::Classifier;
use qiming_runtime::{AiError, Classified, Flow, Limits, ModelInput, Program, Robot, RunReport};
use qiming_sim::{Blocking, EndTrigger, Replay, Scenario, Sim, SimOptions, SimSummary};

/// One sample a program `record`ed: what the robot sensed, with the program's label.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub label: String,
    /// The tick it was taken at.
    pub tick: u64,
    /// Sensor readings in the order of [`sensor_vector_names`].
    pub sensors: Vec<f64>,
    /// The camera image: RGB, row-major, top row first.
    pub image: Vec<u8>,
}

/// The names of the sensor vector `record` keeps, in order: every distance
/// sensor (`distance:front`, metres), line sensor (`line:center`, 0–1) and
/// bumper (`bumper:front`, 0 or 1) of the robot, in scenario order.
pub fn sensor_vector_names(spec: &qiming_sim::RobotSpec) -> Vec<String> {
    let d = spec.distance.iter().map(|s| format!("distance:{}", s.name));
    let l = spec.line.iter().map(|s| format!("line:{}", s.name));
    let b = spec.bumpers.iter().map(|s| format!("bumper:{}", s.name));
    d.chain(l).chain(b).collect()
}

/// The readings named by [`sensor_vector_names`].
pub fn sensor_vector(sim: &Sim) -> Vec<f64> {
    let spec = &sim.scenario().robot;
    let d = spec.distance.iter().map(|s| sim.distance(&s.name).unwrap_or(0.0));
    let l = spec.line.iter().map(|s| sim.line(&s.name).unwrap_or(0.0));
    let b = spec.bumpers.iter().map(|s| f64::from(u8::from(sim.bumper(&s.name).unwrap_or(false))));
    d.chain(l).chain(b).collect()
}

/// The simulator seen through the runtime's robot interface.
pub struct SimRobot {
    pub sim: Sim,
    /// The model `classify` asks, when one is deployed with the run.
    pub model: Option<Arc<dyn Classifier>>,
    /// Samples the program `record`ed, in order.
    pub samples: Vec<Sample>,
}

impl SimRobot {
    pub fn new(sim: Sim) -> SimRobot {
        SimRobot { sim, model: None, samples: Vec::new() }
    }
}

fn flow(b: Blocking) -> Flow {
    match b {
        Blocking::Done => Flow::Continue,
        Blocking::TimeUp => Flow::TimeUp,
    }
}

impl Robot for SimRobot {
    fn tick_hz(&self) -> u32 {
        qiming_sim::TICK_HZ
    }
    fn ticks(&self) -> u64 {
        self.sim.tick()
    }
    fn max_ticks(&self) -> u64 {
        self.sim.max_ticks()
    }
    fn advance(&mut self, ticks: u64) {
        self.sim.step_n(ticks);
    }
    fn motors(&mut self, left: f64, right: f64) {
        self.sim.set_motors(left, right);
    }
    fn wait(&mut self, seconds: f64) -> Flow {
        flow(self.sim.wait(seconds))
    }
    fn forward(&mut self, metres: f64) -> Flow {
        flow(self.sim.forward(metres))
    }
    fn turn(&mut self, degrees: f64) -> Flow {
        flow(self.sim.turn(degrees))
    }
    fn distance(&mut self, name: &str) -> Result<f64, String> {
        self.sim.distance(name).map_err(|e| e.to_string())
    }
    fn line(&mut self, name: &str) -> Result<f64, String> {
        self.sim.line(name).map_err(|e| e.to_string())
    }
    fn color(&mut self, name: &str) -> Result<&'static str, String> {
        self.sim.color(name).map_err(|e| e.to_string())
    }
    fn bumper(&mut self, name: &str) -> Result<bool, String> {
        self.sim.bumper(name).map_err(|e| e.to_string())
    }
    fn heading(&mut self) -> f64 {
        self.sim.heading()
    }
    fn output(&mut self, text: &str) {
        self.sim.record_output(text);
    }
    fn sensor_names(&self, kind: &str) -> Vec<String> {
        let spec = &self.sim.scenario().robot;
        match kind {
            "distance" => spec.distance.iter().map(|s| s.name.clone()).collect(),
            "line" => spec.line.iter().map(|s| s.name.clone()).collect(),
            "color" => spec.color.iter().map(|s| s.name.clone()).collect(),
            "bumper" => spec.bumpers.iter().map(|s| s.name.clone()).collect(),
            _ => Vec::new(),
        }
    }
    fn camera(&mut self) -> Result<Vec<u8>, AiError> {
        Ok(self.sim.camera().rgb)
    }
    fn classify(&mut self, input: ModelInput<'_>) -> Result<Classified, AiError> {
        let model = self.model.as_ref().ok_or(AiError::NoModel)?;
        let image;
        let x: &[f32] = match input {
            ModelInput::Image(bytes) => {
                image = qiming_ai::image_input(bytes);
                &image
            }
            ModelInput::Vector(v) => v,
        };
        if x.len() != model.input_len() {
            return Err(AiError::WrongLength { expected: model.input_len(), got: x.len() });
        }
        let index = model.predict(x);
        // A model answering outside its own labels is a broken model file, not
        // the student's doing; it reads as the last label rather than a crash.
        let labels = model.labels();
        let label = labels.get(index).or(labels.last()).cloned().unwrap_or_default();
        Ok(Classified { index: index.min(labels.len().saturating_sub(1)), label, macs: model.cost() })
    }
    fn model_labels(&self) -> Result<Vec<String>, AiError> {
        self.model.as_ref().map(|m| m.labels().to_vec()).ok_or(AiError::NoModel)
    }
    fn record(&mut self, label: &str) -> Result<(), AiError> {
        let sample = Sample { label: label.to_string(), tick: self.sim.tick(), sensors: sensor_vector(&self.sim), image: self.sim.camera().rgb };
        self.samples.push(sample);
        Ok(())
    }
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The model deployed with the run, which `classify` asks.
    pub model: Option<Arc<dyn Classifier>>,
    pub seed: u64,
    pub limits: Limits,
    /// Record a full replay.
    pub replay: bool,
    /// After the program ends (for any reason but `time_up`), stop the motors
    /// and let the world run one more second so the robot comes to rest. The
    /// grader judges where the robot *ends up*, as a referee would.
    pub settle: bool,
    /// End the run early (after a grace second) when the task is done.
    pub end_when: Vec<EndTrigger>,
    /// Stops the run promptly from another thread (the outcome is `cancelled`).
    pub cancel: qiming_runtime::Cancel,
}

/// How long the world runs on after the program ends, when settling (ticks).
pub const SETTLE_TICKS: u64 = qiming_sim::TICK_HZ as u64;

/// A finished run: the runtime's report, the world's summary, maybe a replay.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub report: RunReport,
    pub sim: SimSummary,
    pub replay: Option<Replay>,
    /// Samples the program `record`ed.
    pub samples: Vec<Sample>,
}

/// Runs `program` in `scenario`. Never fails: a bad program is an outcome.
pub fn run_program(program: &Program, scenario: &Scenario, options: &RunOptions) -> RunResult {
    let mut sim = Sim::new(scenario, options.seed, SimOptions { record_replay: options.replay });
    if !options.end_when.is_empty() {
        sim.set_end_triggers(options.end_when.clone());
    }
    let robot = SimRobot { model: options.model.clone(), ..SimRobot::new(sim) };
    let (report, mut robot) = qiming_runtime::run_cancellable(program, robot, &options.limits, &options.cancel);
    if options.settle && !robot.sim.is_over() {
        robot.sim.set_motors(0.0, 0.0);
        robot.sim.step_n(SETTLE_TICKS);
    }
    let (summary, replay) = robot.sim.finish(Some(program.sha256_hex()));
    RunResult { report, sim: summary, replay, samples: robot.samples }
}

/// Parses a lab's `end_when` entries (validated when the lab was loaded).
pub fn end_triggers(entries: &[String]) -> Vec<EndTrigger> {
    entries
        .iter()
        .filter_map(|e| {
            if e == "lap" {
                Some(EndTrigger::Lap { line: 0 })
            } else if let Some(n) = e.strip_prefix("lap:") {
                n.parse().ok().map(|line| EndTrigger::Lap { line })
            } else {
                e.strip_prefix("zone:").map(|z| EndTrigger::Zone { zone: z.to_string() })
            }
        })
        .collect()
}
