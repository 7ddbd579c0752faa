//! The robot interface programs drive: implemented by the simulator's adapter.

/// Largest distance `forward` accepts (m): anything larger is a mistake, and
/// at such magnitudes a step would not change the remaining distance at all.
pub const MAX_FORWARD: f64 = 10_000.0;
/// Largest angle `turn` accepts (degrees).
pub const MAX_TURN: f64 = 1_000_000.0;

/// Checks a blocking helper's argument, returning the student-facing message.
pub(crate) fn check_magnitude(func: &str, value: f64, max: f64) -> Result<f64, String> {
    if value.abs() > max { Err(format!("{func} accepts at most ±{max}, got {value}")) } else { Ok(value) }
}

/// Width of the robot's camera image (pixels).
pub const CAMERA_WIDTH: usize = 32;
/// Height of the robot's camera image (pixels).
pub const CAMERA_HEIGHT: usize = 24;
/// Bytes of one camera image: RGB, row-major, top row first.
pub const CAMERA_BYTES: usize = CAMERA_WIDTH * CAMERA_HEIGHT * 3;
/// Virtual time one `camera()` (or `record`, which takes a picture) costs,
/// in ticks: a 100 frames-per-second camera.
pub const CAMERA_TICKS: u64 = 1;
/// The virtual AI accelerator: multiply-adds of model inference per
/// simulated second. `classify` costs its model's multiply-adds at this rate,
/// rounded up to whole ticks (at least one), so a model call takes the same
/// simulated time on every machine.
pub const MACS_PER_SECOND: u64 = 10_000_000;
/// Samples one run may `record`.
pub const MAX_RECORDS: usize = 1_000;
/// Longest label `record` accepts, in characters (and at most
/// [`MAX_LABEL_BYTES`] bytes of UTF-8: 21 Chinese characters).
pub const MAX_LABEL_CHARS: usize = 32;
/// Longest label `record` accepts, in bytes (the dataset format's limit).
pub const MAX_LABEL_BYTES: usize = 64;
/// Longest sensor vector `classify` accepts (numbers).
pub const MAX_VECTOR: usize = 4_096;

/// Ticks a model call of `macs` multiply-adds costs at `tick_hz` ticks per second.
pub fn classify_ticks(macs: u64, tick_hz: u32) -> u64 {
    let per_tick = (MACS_PER_SECOND / u64::from(tick_hz.max(1))).max(1);
    macs.div_ceil(per_tick).max(1)
}

/// What a program asks the run's model to classify.
#[derive(Clone, Copy, Debug)]
pub enum ModelInput<'a> {
    /// A camera image as `camera()` returns it ([`CAMERA_BYTES`] bytes).
    Image(&'a [u8]),
    /// A vector of numbers (for example sensor readings).
    Vector(&'a [f32]),
}

/// A model's answer, with its price in virtual time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    /// Index of the label in the model's label list.
    pub index: usize,
    pub label: String,
    /// Multiply-adds the model spent (its fixed cost per call).
    pub macs: u64,
}

/// Why an AI function of the robot could not do what the program asked.
/// The text is for teachers; `diagnose.rs` explains each case to the student.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AiError {
    /// This robot has no camera.
    #[error("this robot has no camera")]
    NoCamera,
    /// No model was deployed with this run.
    #[error("this run has no model: classify needs a model trained and deployed with the lab")]
    NoModel,
    /// The input does not have the length the model expects.
    #[error("the model expects {expected} numbers, but got {got}")]
    WrongLength { expected: usize, got: usize },
    /// A label index the model does not have.
    #[error("the model has {count} labels; there is no label number {index}")]
    NoSuchLabel { index: i64, count: usize },
    /// This robot cannot record samples.
    #[error("this run does not record samples")]
    NoDataset,
}

/// Whether a blocking call let the program continue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The scenario's duration is over: the run ends with `time_up`.
    TimeUp,
}

/// What a student program can do to and learn from its robot.
///
/// Units: metres, seconds, degrees (counter-clockwise positive). Sensor
/// methods return `Err(message)` for a sensor name the robot does not have;
/// the message lists the sensors it does have.
pub trait Robot {
    /// Simulation ticks per second.
    fn tick_hz(&self) -> u32;
    /// Ticks run so far.
    fn ticks(&self) -> u64;
    /// The tick at which the scenario's duration ends.
    fn max_ticks(&self) -> u64;
    /// Runs up to `ticks` ticks (fewer when the duration ends).
    fn advance(&mut self, ticks: u64);
    /// Wheel commands in [-1, 1] (already validated as finite).
    fn motors(&mut self, left: f64, right: f64);
    fn wait(&mut self, seconds: f64) -> Flow;
    fn forward(&mut self, metres: f64) -> Flow;
    fn turn(&mut self, degrees: f64) -> Flow;
    fn distance(&mut self, name: &str) -> Result<f64, String>;
    fn line(&mut self, name: &str) -> Result<f64, String>;
    fn color(&mut self, name: &str) -> Result<&'static str, String>;
    fn bumper(&mut self, name: &str) -> Result<bool, String>;
    /// Gyro: degrees turned since the start.
    fn heading(&mut self) -> f64;
    /// Text the program printed (already limited), for replays.
    fn output(&mut self, text: &str);
    /// The names of the robot's sensors of one kind (`distance`, `line`,
    /// `color`, `bumper`), so a misspelt name can be answered with the nearest
    /// real one. Robots that do not say get the starter bot's names suggested.
    fn sensor_names(&self, _kind: &str) -> Vec<String> {
        Vec::new()
    }
    /// The camera's image: [`CAMERA_BYTES`] bytes of RGB, row-major, top row
    /// first. The runtime charges [`CAMERA_TICKS`] for it.
    fn camera(&mut self) -> Result<Vec<u8>, AiError> {
        Err(AiError::NoCamera)
    }
    /// The label the run's model gives `input`. The runtime charges the
    /// returned multiply-adds at [`MACS_PER_SECOND`].
    fn classify(&mut self, _input: ModelInput<'_>) -> Result<Classified, AiError> {
        Err(AiError::NoModel)
    }
    /// The run's model's labels, in index order.
    fn model_labels(&self) -> Result<Vec<String>, AiError> {
        Err(AiError::NoModel)
    }
    /// Keeps the current sensor readings and camera image with `label` (the
    /// runtime has already checked the label and the count against
    /// [`MAX_LABEL_CHARS`] and [`MAX_RECORDS`]).
    fn record(&mut self, _label: &str) -> Result<(), AiError> {
        Err(AiError::NoDataset)
    }
}

/// Checks a label for `record`: the student-facing reason when it is refused.
pub(crate) fn check_label(label: &str) -> Result<(), LabelProblem> {
    if label.trim().is_empty() {
        return Err(LabelProblem::Empty);
    }
    if label.chars().count() > MAX_LABEL_CHARS || label.len() > MAX_LABEL_BYTES {
        return Err(LabelProblem::TooLong);
    }
    if label.trim() != label || label.chars().any(|c| c.is_control() || matches!(c, '/' | '\\' | '"')) {
        return Err(LabelProblem::BadCharacter);
    }
    Ok(())
}

/// Why a label was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelProblem {
    Empty,
    TooLong,
    BadCharacter,
}

/// A robot of any concrete type behind a trait object, recoverable as that
/// type after the run (both engines hand the robot back to the caller).
pub(crate) trait AnyRobot: Robot + Send {
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any>;
}

impl<R: Robot + Send + 'static> AnyRobot for R {
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}
