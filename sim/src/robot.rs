//! Robot models: body, drive train and sensor layout.
//!
//! Coordinates in the robot frame: x forward, y to the left, metres; angles
//! in radians, counter-clockwise positive, 0 = straight ahead.

/// A ray-cast distance sensor on the body edge.
#[derive(Clone, Debug, PartialEq)]
pub struct DistanceSensorSpec {
    pub name: String,
    /// Direction of the ray relative to the robot's heading (radians).
    pub angle: f64,
    /// Maximum range in metres; reads this when nothing is closer.
    pub range: f64,
}

/// A downward-looking reflectance sensor measuring floor darkness.
#[derive(Clone, Debug, PartialEq)]
pub struct LineSensorSpec {
    pub name: String,
    /// Position in the robot frame (m).
    pub at: [f64; 2],
}

/// A downward-looking colour sensor.
#[derive(Clone, Debug, PartialEq)]
pub struct ColorSensorSpec {
    pub name: String,
    pub at: [f64; 2],
}

/// A bumper covering an arc of the body edge.
#[derive(Clone, Debug, PartialEq)]
pub struct BumperSpec {
    pub name: String,
    /// Centre of the arc relative to the heading (radians).
    pub angle: f64,
    /// Half the arc's width (radians).
    pub half_width: f64,
}

/// Everything about a robot that does not change during a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RobotSpec {
    pub model: String,
    /// Body radius (m); the body is a disc.
    pub radius: f64,
    /// Distance between the wheels (m).
    pub wheel_base: f64,
    /// Wheel speed at motor command 1.0 (m/s).
    pub top_speed: f64,
    /// Largest change of a wheel's speed per second (m/s²).
    pub acceleration: f64,
    /// Standard deviation of the relative wheel-speed error, per tick.
    pub motor_noise: f64,
    /// Standard deviation of distance readings (m).
    pub distance_noise: f64,
    /// Lighting jitter of camera frames: each frame's brightness and each
    /// colour channel are scaled by up to ± this fraction (seeded per tick).
    pub camera_noise: f64,
    pub distance: Vec<DistanceSensorSpec>,
    pub line: Vec<LineSensorSpec>,
    pub color: Vec<ColorSensorSpec>,
    pub bumpers: Vec<BumperSpec>,
}

/// Radius of a line sensor's footprint on the floor (m): it averages the
/// darkness over this disc, like the spot of a real reflectance sensor.
pub const LINE_SENSOR_SPOT: f64 = 0.005;

impl RobotSpec {
    /// The default "starter bot": a 18 cm disc with three distance sensors
    /// (front, left, right), a row of three line sensors under its front, a
    /// floor colour sensor under its centre and a front bumper.
    pub fn starter() -> RobotSpec {
        let d = |name: &str, deg: f64| DistanceSensorSpec { name: name.into(), angle: deg.to_radians(), range: 3.0 };
        let l = |name: &str, y: f64| LineSensorSpec { name: name.into(), at: [0.06, y] };
        RobotSpec {
            model: "starter".into(),
            radius: 0.09,
            wheel_base: 0.15,
            top_speed: 0.5,
            acceleration: 2.0,
            motor_noise: 0.0,
            distance_noise: 0.0,
            camera_noise: 0.0,
            distance: vec![d("front", 0.0), d("left", 90.0), d("right", -90.0)],
            line: vec![l("left", 0.02), l("center", 0.0), l("right", -0.02)],
            color: vec![ColorSensorSpec { name: "floor".into(), at: [0.0, 0.0] }],
            bumpers: vec![BumperSpec { name: "front".into(), angle: 0.0, half_width: 60f64.to_radians() }],
        }
    }
}
