//! Serializable views of worlds and replays for clients (the web player, the studio, `qiming replay --json`).
//!
//! The binary replay format (postcard) is for storage; these views are what a
//! client draws from: colours by name, events tagged by `type`, a world as
//! shapes in metres with y up. One definition, so the server's JSON and the
//! studio's player cannot drift apart.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::color::PALETTE;
use crate::replay::{Frame, ReplayEvent, ReplayHeader};
use crate::scenario::{Area, SolidShape};
use crate::{PaletteColor, Replay, ResolvedScenario, TICK, TICK_HZ};

/// A scenario's world as shapes to draw.
#[derive(Clone, Debug, Serialize)]
pub struct WorldView<'a> {
    pub arena_size: [f64; 2],
    pub floor: &'static str,
    pub solids: Vec<SolidView<'a>>,
    pub paint: Vec<PaintView<'a>>,
    pub lines: Vec<LineView<'a>>,
    pub zones: Vec<ZoneView<'a>>,
    pub checkpoints: Vec<CheckpointView<'a>>,
    pub robot_radius: f32,
    /// Start pose: x, y (m), heading (radians).
    pub start: [f64; 3],
    /// The palette as CSS colours by name, so players draw what the colour sensor reads.
    pub palette: BTreeMap<&'static str, String>,
    /// The engine's tick rate: one replay frame per tick.
    pub tick_rate: u32,
    /// Seconds per tick.
    pub dt: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SolidView<'a> {
    Box {
        center: [f64; 2],
        half_extents: [f64; 2],
        angle: f64,
        color: &'static str,
        label: &'a str,
        /// A sign's kind (`stop`, `go`, `left`, `right`, `slow`): the box is
        /// a thin panel whose `angle` is the direction its face looks.
        #[serde(skip_serializing_if = "Option::is_none")]
        sign: Option<&'static str>,
    },
    Circle {
        center: [f64; 2],
        radius: f64,
        color: &'static str,
        label: &'a str,
    },
}

/// An area of the floor: a polygon, a disc, or a thick segment.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AreaView<'a> {
    Polygon { points: &'a [[f64; 2]] },
    Circle { center: [f64; 2], radius: f64 },
    Stroke { a: [f64; 2], b: [f64; 2], half_width: f64 },
}

#[derive(Clone, Debug, Serialize)]
pub struct PaintView<'a> {
    #[serde(flatten)]
    pub area: AreaView<'a>,
    pub color: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct LineView<'a> {
    pub points: &'a [[f64; 2]],
    pub closed: bool,
    pub width: f64,
    pub color: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct ZoneView<'a> {
    #[serde(flatten)]
    pub area: AreaView<'a>,
    pub name: &'a str,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckpointView<'a> {
    pub name: &'a str,
    pub center: [f64; 2],
    pub radius: f64,
}

impl<'a> AreaView<'a> {
    pub fn of(area: &'a Area) -> Self {
        match area {
            Area::Polygon(points) => AreaView::Polygon { points },
            Area::Circle { center, radius } => AreaView::Circle { center: *center, radius: *radius },
            Area::Stroke { a, b, half_width } => AreaView::Stroke { a: *a, b: *b, half_width: *half_width },
        }
    }
}

impl<'a> WorldView<'a> {
    /// The world of `scenario`, with a robot of `robot_radius` metres (from the replay header).
    pub fn of(scenario: &'a ResolvedScenario, robot_radius: f32) -> Self {
        WorldView {
            arena_size: scenario.arena_size,
            floor: scenario.floor.name(),
            solids: scenario
                .solids
                .iter()
                .map(|s| match &s.shape {
                    SolidShape::Box(b) => SolidView::Box {
                        center: b.center,
                        half_extents: b.half_extents,
                        angle: b.angle,
                        color: s.color.name(),
                        label: &s.label,
                        sign: s.sign.map(crate::SignKind::name),
                    },
                    SolidShape::Circle { center, radius } => SolidView::Circle { center: *center, radius: *radius, color: s.color.name(), label: &s.label },
                })
                .collect(),
            paint: scenario.paint.iter().map(|p| PaintView { area: AreaView::of(&p.area), color: p.color.name() }).collect(),
            lines: scenario.lines.iter().map(|l| LineView { points: &l.points, closed: l.closed, width: l.width, color: l.color.name() }).collect(),
            zones: scenario.zones.iter().map(|z| ZoneView { area: AreaView::of(&z.area), name: &z.name }).collect(),
            checkpoints: scenario.checkpoints.iter().map(|c| CheckpointView { name: &c.name, center: c.center, radius: c.radius }).collect(),
            robot_radius,
            start: scenario.start,
            palette: PALETTE.iter().map(|(name, [r, g, b])| (*name, format!("#{r:02x}{g:02x}{b:02x}"))).collect(),
            tick_rate: TICK_HZ,
            dt: TICK,
        }
    }
}

/// A recorded run as clients read it: the same content as the binary file.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayView<'a> {
    pub format: &'a str,
    pub version: u32,
    pub scenario_name: &'a str,
    pub scenario_source: &'a str,
    pub seed: u64,
    pub tick_hz: u32,
    pub program_sha256: &'a str,
    pub robot_radius: f32,
    pub sensors: SensorNames<'a>,
    pub frames: Vec<FrameView<'a>>,
    pub events: Vec<EventView<'a>>,
    pub state_digest: &'a str,
}

/// The robot's sensors by name, in the order of each frame's readings.
#[derive(Clone, Debug, Serialize)]
pub struct SensorNames<'a> {
    pub distance: &'a [String],
    pub line: &'a [String],
    pub color: &'a [String],
    pub bumpers: &'a [String],
}

/// One tick: pose (x, y, heading), motor powers and sensor readings.
#[derive(Clone, Debug, Serialize)]
pub struct FrameView<'a> {
    pub pose: [f32; 3],
    pub motors: [f32; 2],
    pub distance: &'a [f32],
    pub line: &'a [f32],
    /// Colour sensor readings by palette name.
    pub color: Vec<&'static str>,
    /// One bit per bumper, in header order.
    pub bumpers: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventView<'a> {
    Contact { tick: u64, solid: &'a str, x: f32, y: f32 },
    ZoneEnter { tick: u64, zone: &'a str },
    ZoneLeave { tick: u64, zone: &'a str },
    Checkpoint { tick: u64, name: &'a str },
    Output { tick: u64, text: &'a str },
}

impl<'a> EventView<'a> {
    pub fn of(e: &'a ReplayEvent) -> Self {
        match e {
            ReplayEvent::Contact { tick, solid, x, y } => EventView::Contact { tick: *tick, solid, x: *x, y: *y },
            ReplayEvent::ZoneEnter { tick, zone } => EventView::ZoneEnter { tick: *tick, zone },
            ReplayEvent::ZoneLeave { tick, zone } => EventView::ZoneLeave { tick: *tick, zone },
            ReplayEvent::Checkpoint { tick, name } => EventView::Checkpoint { tick: *tick, name },
            ReplayEvent::Output { tick, text } => EventView::Output { tick: *tick, text },
        }
    }
}

impl<'a> FrameView<'a> {
    pub fn of(f: &'a Frame) -> Self {
        FrameView {
            pose: f.pose,
            motors: f.motors,
            distance: &f.distance,
            line: &f.line,
            color: f.color.iter().map(|&c| PaletteColor(c).name()).collect(),
            bumpers: f.bumpers,
        }
    }
}

impl<'a> ReplayView<'a> {
    pub fn of(replay: &'a Replay) -> Self {
        let h: &'a ReplayHeader = &replay.header;
        ReplayView {
            format: &h.format,
            version: h.version,
            scenario_name: &h.scenario_name,
            scenario_source: &h.scenario_source,
            seed: h.seed,
            tick_hz: h.tick_hz,
            program_sha256: &h.program_sha256,
            robot_radius: h.robot_radius,
            sensors: SensorNames { distance: &h.distance_sensors, line: &h.line_sensors, color: &h.color_sensors, bumpers: &h.bumpers },
            frames: replay.frames.iter().map(FrameView::of).collect(),
            events: replay.events.iter().map(EventView::of).collect(),
            state_digest: &replay.state_digest,
        }
    }
}
