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
