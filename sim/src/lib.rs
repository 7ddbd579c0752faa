//! Qiming's simulated world: arenas, differential-drive robots and their sensors.
//!
//! Start with [`Scenario`] (load and validate a scenario file), then build a
//! [`Sim`] from it with a seed and step it. The world is a headless Bevy ECS
//! world on a fixed 100 Hz tick; geometry comes from parry2d. Everything is
//! deterministic: same scenario + seed + inputs ⇒ bit-identical trajectory.

pub mod arena;
pub mod camera;
pub mod color;
pub mod lap;
pub mod maze;
pub mod replay;
pub mod robot;
pub mod scenario;
pub mod sign;
pub mod view;
pub mod world;

pub use color::PaletteColor;
pub use replay::{Replay, ReplayError};
pub use robot::RobotSpec;
pub use scenario::{ResolvedScenario, Scenario, ScenarioError};
pub use sign::SignKind;
pub use world::{Blocking, EndTrigger, FinalPose, Sim, SimEvent, SimOptions, SimSummary, TICK, TICK_HZ, UnknownSensor};
