//! The robot interface programs drive: implemented by the simulator's adapter.

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
}
