//! Scenario files: the TOML format, its validation, and seeded resolution.
//!
//! A scenario describes an arena (walls, obstacles, floor drawings, zones,
//! checkpoints), the robot and its start pose, and the duration of a run. The
//! format is documented in `docs/scenarios.md`. Parsing is strict: unknown keys
//! are errors and every error names the file, line and column.
//!
//! Numbers marked "seedable" in the docs may be written as `{ min = a, max = b }`;
//! [`Scenario::resolve`] samples them from the run's seed, so hidden test cases
//! can vary with the seed while staying reproducible.

use std::ops::Range;
use std::path::Path;

use rand_core::{RngCore, SeedableRng};
use serde::Deserialize;
use toml::Spanned;

use crate::color::PaletteColor;
use crate::maze::{Maze, MazeSpec};
use crate::robot::{BumperSpec, ColorSensorSpec, DistanceSensorSpec, LineSensorSpec, RobotSpec};
use crate::sign::{self, SignKind};

/// The only scenario format version this build reads.
pub const FORMAT_VERSION: u32 = 1;
/// Longest run a scenario may ask for, in simulated seconds.
pub const MAX_DURATION: f64 = 600.0;
/// Largest arena side, in metres.
pub const MAX_ARENA_SIDE: f64 = 50.0;

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: cannot read scenario: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid scenario.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid { path: String, line: usize, column: usize, message: String },
}

/// A number that is either fixed or drawn uniformly from `[min, max]` by the seed.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(untagged, deny_unknown_fields)]
pub enum Num {
    Fixed(f64),
    Range { min: f64, max: f64 },
}

impl Num {
    fn sample(self, rng: &mut rand_pcg::Pcg64Mcg) -> f64 {
        match self {
            Num::Fixed(v) => v,
            Num::Range { min, max } => {
                // 53 random bits → [0, 1): exact and platform-independent.
                let unit = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                min + (max - min) * unit
            }
        }
    }

    fn bounds(self) -> (f64, f64) {
        match self {
            Num::Fixed(v) => (v, v),
            Num::Range { min, max } => (min, max),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    format_version: Spanned<u32>,
    name: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    duration: Spanned<f64>,
    arena: Spanned<ArenaDef>,
    #[serde(default)]
    robot: Option<Spanned<RobotDef>>,
    #[serde(default)]
    walls: Vec<Spanned<WallDef>>,
    #[serde(default)]
    obstacles: Vec<Spanned<ObstacleDef>>,
    #[serde(default)]
    lines: Vec<Spanned<LineDef>>,
    #[serde(default)]
    zones: Vec<Spanned<ZoneDef>>,
    #[serde(default)]
    checkpoints: Vec<Spanned<CheckpointDef>>,
    #[serde(default)]
    maze: Option<Spanned<MazeDef>>,
    #[serde(default)]
    signs: Vec<Spanned<SignDef>>,
}

/// Most signs one scenario may place.
pub const MAX_SIGNS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignDef {
    kind: String,
    center: [Num; 2],
    /// Direction the face looks, in degrees (seedable).
    #[serde(default = "default_heading")]
    facing: Num,
    #[serde(default = "default_sign_width")]
    width: f64,
}
fn default_sign_width() -> f64 {
    sign::DEFAULT_WIDTH
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MazeDef {
    cols: u32,
    rows: u32,
    #[serde(default = "default_cell")]
    cell: f64,
    #[serde(default)]
    origin: [f64; 2],
    #[serde(default = "default_wall_thickness")]
    thickness: f64,
    #[serde(default)]
    start: [u32; 2],
    exit: Option<[u32; 2]>,
    #[serde(default = "default_exit_color")]
    exit_color: String,
}
fn default_cell() -> f64 {
    0.5
}
fn default_exit_color() -> String {
    "green".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArenaDef {
    size: [f64; 2],
    #[serde(default = "default_floor")]
    floor: String,
    #[serde(default = "default_true")]
    boundary: bool,
}

fn default_floor() -> String {
    "white".into()
}
fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RobotDef {
    #[serde(default = "default_model")]
    model: String,
    x: Num,
    y: Num,
    #[serde(default = "default_heading")]
    heading: Num,
    radius: Option<f64>,
    wheel_base: Option<f64>,
    top_speed: Option<f64>,
    acceleration: Option<f64>,
    #[serde(default)]
    motor_noise: f64,
    #[serde(default)]
    distance_noise: f64,
    #[serde(default)]
    camera_noise: f64,
    distance_sensors: Option<Vec<DistanceSensorDef>>,
    line_sensors: Option<Vec<PointSensorDef>>,
    color_sensors: Option<Vec<PointSensorDef>>,
    bumpers: Option<Vec<BumperDef>>,
}

fn default_model() -> String {
    "starter".into()
}
fn default_heading() -> Num {
    Num::Fixed(0.0)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DistanceSensorDef {
    name: String,
    angle: f64,
    #[serde(default = "default_range")]
    range: f64,
}
fn default_range() -> f64 {
    3.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointSensorDef {
    name: String,
    x: f64,
    y: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BumperDef {
    name: String,
    angle: f64,
    width: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WallDef {
    from: [Num; 2],
    to: [Num; 2],
    #[serde(default = "default_wall_thickness")]
    thickness: f64,
    #[serde(default)]
    color: Option<String>,
}
fn default_wall_thickness() -> f64 {
    0.02
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObstacleDef {
    shape: String,
    center: [Num; 2],
    size: Option<[f64; 2]>,
    radius: Option<f64>,
    #[serde(default)]
    angle: f64,
    #[serde(default)]
    color: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LineDef {
    points: Vec<[f64; 2]>,
    #[serde(default = "default_line_width")]
    width: f64,
    #[serde(default = "default_line_color")]
    color: String,
    #[serde(default)]
    closed: bool,
}
fn default_line_width() -> f64 {
    0.02
}
fn default_line_color() -> String {
    "black".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneDef {
    name: String,
    rect: Option<[f64; 4]>,
    polygon: Option<Vec<[f64; 2]>>,
    center: Option<[f64; 2]>,
    radius: Option<f64>,
    #[serde(default)]
    color: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointDef {
    name: String,
    center: [f64; 2],
    #[serde(default = "default_checkpoint_radius")]
    radius: f64,
}
fn default_checkpoint_radius() -> f64 {
    0.1
}

/// A parsed, validated scenario whose seedable numbers are not yet sampled.
#[derive(Debug)]
pub struct Scenario {
    /// Where it was loaded from (for messages); `"<inline>"` for strings.
    pub path: String,
    /// The file's text, kept so replays can embed the exact arena.
    pub source: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    file: ScenarioFile,
}

/// A straight wall or a box obstacle, as an oriented rectangle.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxShape {
    pub center: [f64; 2],
    pub half_extents: [f64; 2],
    /// Radians, counter-clockwise.
    pub angle: f64,
}

/// Something the robot collides with and distance sensors see.
#[derive(Clone, Debug, PartialEq)]
pub enum SolidShape {
    Box(BoxShape),
    Circle { center: [f64; 2], radius: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Solid {
    pub shape: SolidShape,
    pub color: PaletteColor,
    /// "wall 3" / "obstacle 1" / "sign 2": how contact events name what was hit.
    pub label: String,
    /// What the face shows, when the solid is a sign (a thin box whose
    /// angle is the direction its face looks).
    pub sign: Option<SignKind>,
}

/// Painted floor area.
#[derive(Clone, Debug, PartialEq)]
pub enum Area {
    Polygon(Vec<[f64; 2]>),
    Circle {
        center: [f64; 2],
        radius: f64,
    },
    /// A stroke of the given half-width along a segment.
    Stroke {
        a: [f64; 2],
        b: [f64; 2],
        half_width: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct FloorPaint {
    pub area: Area,
    pub color: PaletteColor,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    pub name: String,
    pub area: Area,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub name: String,
    pub center: [f64; 2],
    pub radius: f64,
}

/// A polyline as drawn on the floor (kept whole for grading "stay on line").
#[derive(Clone, Debug, PartialEq)]
pub struct FloorLine {
    pub points: Vec<[f64; 2]>,
    pub closed: bool,
    pub width: f64,
    pub color: PaletteColor,
}

/// A scenario with every seedable number drawn: everything needed to build a world.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedScenario {
    pub name: String,
    pub seed: u64,
    pub duration: f64,
    pub arena_size: [f64; 2],
    pub floor: PaletteColor,
    pub solids: Vec<Solid>,
    /// Painted areas in drawing order (later ones on top).
    pub paint: Vec<FloorPaint>,
    pub lines: Vec<FloorLine>,
    pub zones: Vec<Zone>,
    pub checkpoints: Vec<Checkpoint>,
    pub robot: RobotSpec,
    /// Start pose: x, y (m), heading (radians).
    pub start: [f64; 3],
    /// The generated maze, when the scenario has a `[maze]` table.
    pub maze: Option<Maze>,
}

struct Ctx<'a> {
    path: &'a str,
    source: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, column) = line_col(self.source, span.start);
        ScenarioError::Invalid { path: self.path.to_string(), line, column, message: message.into() }
    }

    fn color(&self, span: &Range<usize>, what: &str, name: &str) -> Result<PaletteColor, ScenarioError> {
        PaletteColor::from_name(name)
            .ok_or_else(|| self.err(span.clone(), format!("{what}: unknown colour {name:?}; known colours: {}", PaletteColor::names().join(", "))))
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn finite_positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { path: display.clone(), source })?;
        Scenario::parse(&source, &display)
    }

    /// Parses and validates scenario text; `path` is only used in messages.
    pub fn parse(source: &str, path: &str) -> Result<Scenario, ScenarioError> {
        let ctx = Ctx { path, source };
        let file: ScenarioFile = toml::from_str(source).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            ctx.err(span, e.message().to_string())
        })?;
        let scenario = Scenario {
            path: path.to_string(),
            source: source.to_string(),
            name: file.name.get_ref().clone(),
            title: file.title.clone(),
            description: file.description.clone(),
            file,
        };
        // Validate by resolving with the extreme values of every range, so a
        // scenario that is valid for one seed is valid for all.
        scenario.validate(&ctx)?;
        Ok(scenario)
    }

    fn validate(&self, ctx: &Ctx) -> Result<(), ScenarioError> {
        let f = &self.file;
        if *f.format_version.get_ref() != FORMAT_VERSION {
            return Err(ctx.err(
                f.format_version.span(),
                format!("format_version {} is not supported; this Qiming reads format_version {FORMAT_VERSION}", f.format_version.get_ref()),
            ));
        }
        let name = f.name.get_ref();
        if name.trim().is_empty() {
            return Err(ctx.err(f.name.span(), "name must not be empty"));
        }
        let d = *f.duration.get_ref();
        if !(finite_positive(d) && d <= MAX_DURATION) {
            return Err(ctx.err(f.duration.span(), format!("duration must be a number of seconds in (0, {MAX_DURATION}], got {d}")));
        }
        let [w, h] = f.arena.get_ref().size;
        if !(finite_positive(w) && finite_positive(h) && w <= MAX_ARENA_SIDE && h <= MAX_ARENA_SIDE) {
            return Err(ctx.err(f.arena.span(), format!("arena.size must be two lengths in (0, {MAX_ARENA_SIDE}] metres, got [{w}, {h}]")));
        }
        ctx.color(&f.arena.span(), "arena.floor", &f.arena.get_ref().floor)?;
        let nums_ok = |nums: &[Num]| {
            nums.iter().all(|n| {
                let (lo, hi) = n.bounds();
                lo.is_finite() && hi.is_finite() && lo <= hi
            })
        };
        if let Some(robot) = &f.robot {
            let r = robot.get_ref();
            if !nums_ok(&[r.x, r.y, r.heading]) {
                return Err(ctx.err(robot.span(), "robot: x, y and heading must be finite, and every range needs min <= max"));
            }
        } else {
            return Err(ctx.err(0..0, "missing [robot] table (at least x and y of the start position)"));
        }
        for (i, wall) in f.walls.iter().enumerate() {
            let wd = wall.get_ref();
            if !nums_ok(&[wd.from[0], wd.from[1], wd.to[0], wd.to[1]]) {
                return Err(ctx.err(wall.span(), format!("walls[{i}]: coordinates must be finite, ranges need min <= max")));
            }
            if !finite_positive(wd.thickness) {
                return Err(ctx.err(wall.span(), format!("walls[{i}]: thickness must be > 0")));
            }
            if let Some(c) = &wd.color {
                ctx.color(&wall.span(), &format!("walls[{i}].color"), c)?;
            }
        }
        for (i, o) in f.obstacles.iter().enumerate() {
            let od = o.get_ref();
            if !nums_ok(&od.center) || !od.angle.is_finite() {
                return Err(ctx.err(o.span(), format!("obstacles[{i}]: center and angle must be finite")));
            }
            match od.shape.as_str() {
                "box" => match od.size {
                    Some([a, b]) if finite_positive(a) && finite_positive(b) => {}
                    _ => return Err(ctx.err(o.span(), format!("obstacles[{i}]: a box needs size = [width, height] > 0"))),
                },
                "circle" => match od.radius {
                    Some(r) if finite_positive(r) => {}
                    _ => return Err(ctx.err(o.span(), format!("obstacles[{i}]: a circle needs radius > 0"))),
                },
                other => {
                    return Err(ctx.err(o.span(), format!("obstacles[{i}]: shape must be \"box\" or \"circle\", got {other:?}")));
                }
            }
            if let Some(c) = &od.color {
                ctx.color(&o.span(), &format!("obstacles[{i}].color"), c)?;
            }
        }
        for (i, l) in f.lines.iter().enumerate() {
            let ld = l.get_ref();
            if ld.points.len() < 2 {
                return Err(ctx.err(l.span(), format!("lines[{i}]: needs at least 2 points")));
            }
            if ld.points.iter().flatten().any(|v| !v.is_finite()) || !finite_positive(ld.width) {
                return Err(ctx.err(l.span(), format!("lines[{i}]: points must be finite and width > 0")));
            }
            if ld.points.len() > 10_000 {
                return Err(ctx.err(l.span(), format!("lines[{i}]: at most 10000 points")));
            }
            ctx.color(&l.span(), &format!("lines[{i}].color"), &ld.color)?;
        }
        let mut names: Vec<&str> = Vec::new();
        for (i, z) in f.zones.iter().enumerate() {
            let zd = z.get_ref();
            let shapes = zd.rect.is_some() as u8 + zd.polygon.is_some() as u8 + zd.center.is_some() as u8;
            if shapes != 1 {
                return Err(ctx.err(z.span(), format!("zones[{i}] ({}): give exactly one of rect, polygon, or center + radius", zd.name)));
            }
            if let Some([x0, y0, x1, y1]) = zd.rect
                && !(x0.is_finite() && y0.is_finite() && x1 > x0 && y1 > y0)
            {
                return Err(ctx.err(z.span(), format!("zones[{i}] ({}): rect is [x0, y0, x1, y1] with x1 > x0 and y1 > y0", zd.name)));
            }
            if let Some(p) = &zd.polygon
                && (p.len() < 3 || p.iter().flatten().any(|v| !v.is_finite()))
            {
                return Err(ctx.err(z.span(), format!("zones[{i}] ({}): a polygon needs at least 3 finite points", zd.name)));
            }
            if zd.center.is_some() && !zd.radius.is_some_and(finite_positive) {
                return Err(ctx.err(z.span(), format!("zones[{i}] ({}): a circular zone needs radius > 0", zd.name)));
            }
            if let Some(c) = &zd.color {
                ctx.color(&z.span(), &format!("zones[{i}].color"), c)?;
            }
            if names.contains(&zd.name.as_str()) {
                return Err(ctx.err(z.span(), format!("zones[{i}]: duplicate zone or checkpoint name {:?}", zd.name)));
            }
            names.push(&zd.name);
        }
        for (i, c) in f.checkpoints.iter().enumerate() {
            let cd = c.get_ref();
            if !cd.center.iter().all(|v| v.is_finite()) || !finite_positive(cd.radius) {
                return Err(ctx.err(c.span(), format!("checkpoints[{i}] ({}): center must be finite and radius > 0", cd.name)));
            }
            if names.contains(&cd.name.as_str()) {
                return Err(ctx.err(c.span(), format!("checkpoints[{i}]: duplicate zone or checkpoint name {:?}", cd.name)));
            }
            names.push(&cd.name);
        }
        if let Some(m) = &f.maze {
            let md = m.get_ref();
            let fail = |msg: String| Err(ctx.err(m.span(), format!("maze: {msg}")));
            if !(2..=40).contains(&md.cols) || !(2..=40).contains(&md.rows) {
                return fail(format!("cols and rows must be in 2..=40, got {} × {}", md.cols, md.rows));
            }
            if !(md.cell.is_finite() && md.cell >= 0.25 && md.cell <= 5.0) {
                return fail(format!("cell must be in [0.25, 5] m (the robot must fit), got {}", md.cell));
            }
            if !finite_positive(md.thickness) || md.thickness >= md.cell / 2.0 || !md.origin.iter().all(|v| v.is_finite()) {
                return fail("thickness must be > 0 and < cell / 2, origin finite".into());
            }
            let inside = |p: [u32; 2]| p[0] < md.cols && p[1] < md.rows;
            if !inside(md.start) || md.exit.is_some_and(|e| !inside(e)) {
                return fail("start and exit must be cells [column, row] inside the grid".into());
            }
            ctx.color(&m.span(), "maze.exit_color", &md.exit_color)?;
            if names.contains(&"exit") {
                return fail("a maze makes the zone \"exit\"; remove the other zone or checkpoint of that name".into());
            }
        }
        if f.signs.len() > MAX_SIGNS {
            return Err(ctx.err(f.signs[MAX_SIGNS].span(), format!("at most {MAX_SIGNS} signs")));
        }
        for (i, sg) in f.signs.iter().enumerate() {
            let sd = sg.get_ref();
            if SignKind::from_name(&sd.kind).is_none() {
                let known: Vec<&str> = SignKind::ALL.iter().map(|k| k.name()).collect();
                return Err(ctx.err(sg.span(), format!("signs[{i}]: unknown kind {:?}; known kinds: {}", sd.kind, known.join(", "))));
            }
            if !nums_ok(&[sd.center[0], sd.center[1], sd.facing]) {
                return Err(ctx.err(sg.span(), format!("signs[{i}]: center and facing must be finite, and every range needs min <= max")));
            }
            if !(finite_positive(sd.width) && sd.width <= 2.0) {
                return Err(ctx.err(sg.span(), format!("signs[{i}]: width must be in (0, 2] metres, got {}", sd.width)));
            }
        }
        let robot = f.robot.as_ref().expect("checked above");
        self.robot_spec(ctx, robot)?;
        Ok(())
    }

    fn robot_spec(&self, ctx: &Ctx, robot: &Spanned<RobotDef>) -> Result<RobotSpec, ScenarioError> {
        let r = robot.get_ref();
        let mut spec = match r.model.as_str() {
            "starter" => RobotSpec::starter(),
            other => {
                return Err(ctx.err(robot.span(), format!("robot.model: unknown model {other:?}; known models: starter")));
            }
        };
        let positive = |v: Option<f64>, name: &str, slot: &mut f64| -> Result<(), ScenarioError> {
            if let Some(v) = v {
                if !(finite_positive(v) && v < 100.0) {
                    return Err(ctx.err(robot.span(), format!("robot.{name} must be a positive number, got {v}")));
                }
                *slot = v;
            }
            Ok(())
        };
        positive(r.radius, "radius", &mut spec.radius)?;
        positive(r.wheel_base, "wheel_base", &mut spec.wheel_base)?;
        positive(r.top_speed, "top_speed", &mut spec.top_speed)?;
        positive(r.acceleration, "acceleration", &mut spec.acceleration)?;
        for (name, v) in [("motor_noise", r.motor_noise), ("distance_noise", r.distance_noise)] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(ctx.err(robot.span(), format!("robot.{name} must be in [0, 1], got {v}")));
            }
        }
        if !(r.camera_noise.is_finite() && (0.0..=1.0).contains(&r.camera_noise)) {
            return Err(ctx.err(robot.span(), format!("robot.camera_noise must be in [0, 1], got {}", r.camera_noise)));
        }
        spec.motor_noise = r.motor_noise;
        spec.distance_noise = r.distance_noise;
        spec.camera_noise = r.camera_noise;
        if let Some(ds) = &r.distance_sensors {
            spec.distance = ds.iter().map(|d| DistanceSensorSpec { name: d.name.clone(), angle: d.angle.to_radians(), range: d.range }).collect();
            if ds.iter().any(|d| !d.angle.is_finite() || !finite_positive(d.range) || d.range > 20.0) {
                return Err(ctx.err(robot.span(), "robot.distance_sensors: angle must be finite and range in (0, 20] m"));
            }
        }
        if let Some(ls) = &r.line_sensors {
            spec.line = ls.iter().map(|s| LineSensorSpec { name: s.name.clone(), at: [s.x, s.y] }).collect();
        }
        if let Some(cs) = &r.color_sensors {
            spec.color = cs.iter().map(|s| ColorSensorSpec { name: s.name.clone(), at: [s.x, s.y] }).collect();
        }
        if let Some(bs) = &r.bumpers {
            if bs.iter().any(|b| !b.angle.is_finite() || !finite_positive(b.width)) {
                return Err(ctx.err(robot.span(), "robot.bumpers: angle must be finite and width > 0 (degrees)"));
            }
            spec.bumpers =
                bs.iter().map(|b| BumperSpec { name: b.name.clone(), angle: b.angle.to_radians(), half_width: (b.width / 2.0).to_radians() }).collect();
        }
        for (kind, names) in [
            ("distance_sensors", spec.distance.iter().map(|s| s.name.as_str()).collect::<Vec<_>>()),
            ("line_sensors", spec.line.iter().map(|s| s.name.as_str()).collect()),
            ("color_sensors", spec.color.iter().map(|s| s.name.as_str()).collect()),
            ("bumpers", spec.bumpers.iter().map(|s| s.name.as_str()).collect()),
        ] {
            for (i, n) in names.iter().enumerate() {
                if n.is_empty() || names[..i].contains(n) {
                    return Err(ctx.err(robot.span(), format!("robot.{kind}: sensor names must be non-empty and unique ({n:?})")));
                }
            }
        }
        Ok(spec)
    }

    /// Samples every seedable number from `seed` and builds the concrete world description.
    /// Simulated seconds a run lasts (the same for every seed).
    pub fn duration(&self) -> f64 {
        *self.file.duration.get_ref()
    }

    pub fn resolve(&self, seed: u64) -> ResolvedScenario {
        let ctx = Ctx { path: &self.path, source: &self.source };
        let f = &self.file;
        // A dedicated stream for layout so sensor noise never shifts the layout.
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ 0x5CE7_A210_0000_0001);
        let color = |name: &str| PaletteColor::from_name(name).unwrap_or(PaletteColor::GRAY);
        let arena = f.arena.get_ref();
        let [w, h] = arena.size;
        let mut solids = Vec::new();
        if arena.boundary {
            let t = 0.05;
            for (i, (c, he)) in [
                ([w / 2.0, -t / 2.0], [w / 2.0 + t, t / 2.0]),
                ([w / 2.0, h + t / 2.0], [w / 2.0 + t, t / 2.0]),
                ([-t / 2.0, h / 2.0], [t / 2.0, h / 2.0 + t]),
                ([w + t / 2.0, h / 2.0], [t / 2.0, h / 2.0 + t]),
            ]
            .into_iter()
            .enumerate()
            {
                solids.push(Solid {
                    shape: SolidShape::Box(BoxShape { center: c, half_extents: he, angle: 0.0 }),
                    color: PaletteColor::GRAY,
                    label: format!("boundary {}", ["south", "north", "west", "east"][i]),
                    sign: None,
                });
            }
        }
        for (i, wall) in f.walls.iter().enumerate() {
            let wd = wall.get_ref();
            let a = [wd.from[0].sample(&mut rng), wd.from[1].sample(&mut rng)];
            let b = [wd.to[0].sample(&mut rng), wd.to[1].sample(&mut rng)];
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let len = libm::hypot(dx, dy);
            solids.push(Solid {
                shape: SolidShape::Box(BoxShape {
                    center: [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0],
                    // Walls extend by half their thickness past their end points so
                    // that walls meeting at a corner close the corner.
                    half_extents: [len / 2.0 + wd.thickness / 2.0, wd.thickness / 2.0],
                    angle: libm::atan2(dy, dx),
                }),
                color: wd.color.as_deref().map_or(PaletteColor::GRAY, color),
                label: format!("wall {}", i + 1),
                sign: None,
            });
        }
        for (i, o) in f.obstacles.iter().enumerate() {
            let od = o.get_ref();
            let center = [od.center[0].sample(&mut rng), od.center[1].sample(&mut rng)];
            let shape = if od.shape == "circle" {
                SolidShape::Circle { center, radius: od.radius.unwrap_or(0.1) }
            } else {
                let [sw, sh] = od.size.unwrap_or([0.1, 0.1]);
                SolidShape::Box(BoxShape { center, half_extents: [sw / 2.0, sh / 2.0], angle: od.angle.to_radians() })
            };
            solids.push(Solid { shape, color: od.color.as_deref().map_or(PaletteColor::BROWN, color), label: format!("obstacle {}", i + 1), sign: None });
        }
        // Their own stream: adding signs never shifts the rest of the layout.
        let mut sign_rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ 0x5167_0000_0000_0004);
        for (i, sd) in f.signs.iter().enumerate() {
            let sd = sd.get_ref();
            let kind = SignKind::from_name(&sd.kind).expect("validated");
            let center = [sd.center[0].sample(&mut sign_rng), sd.center[1].sample(&mut sign_rng)];
            let facing = sd.facing.sample(&mut sign_rng).to_radians();
            solids.push(Solid {
                shape: SolidShape::Box(BoxShape { center, half_extents: [sign::THICKNESS / 2.0, sd.width / 2.0], angle: facing }),
                color: kind.color(),
                label: format!("sign {}", i + 1),
                sign: Some(kind),
            });
        }
        let mut paint = Vec::new();
        let mut zones = Vec::new();
        for z in &f.zones {
            let zd = z.get_ref();
            let area = if let Some([x0, y0, x1, y1]) = zd.rect {
                Area::Polygon(vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
            } else if let Some(p) = &zd.polygon {
                Area::Polygon(p.clone())
            } else {
                Area::Circle { center: zd.center.unwrap_or([0.0, 0.0]), radius: zd.radius.unwrap_or(0.1) }
            };
            if let Some(c) = &zd.color {
                paint.push(FloorPaint { area: area.clone(), color: color(c) });
            }
            zones.push(Zone { name: zd.name.clone(), area });
        }
        let mut lines = Vec::new();
        for l in &f.lines {
            let ld = l.get_ref();
            let c = color(&ld.color);
            let mut pts = ld.points.clone();
            if ld.closed {
                pts.push(pts[0]);
            }
            for seg in pts.windows(2) {
                paint.push(FloorPaint { area: Area::Stroke { a: seg[0], b: seg[1], half_width: ld.width / 2.0 }, color: c });
            }
            lines.push(FloorLine { points: ld.points.clone(), closed: ld.closed, width: ld.width, color: c });
        }
        let checkpoints = f
            .checkpoints
            .iter()
            .map(|c| {
                let cd = c.get_ref();
                Checkpoint { name: cd.name.clone(), center: cd.center, radius: cd.radius }
            })
            .collect();
        let maze = f.maze.as_ref().map(|m| {
            let md = m.get_ref();
            // Its own stream: adding a maze never shifts the rest of the layout.
            let mut maze_rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ 0x3A2E_0000_0000_0003);
            let spec = MazeSpec { cols: md.cols, rows: md.rows, cell: md.cell, origin: md.origin, thickness: md.thickness, start: md.start, exit: md.exit };
            let maze = Maze::generate(spec, &mut maze_rng);
            for (i, (a, b)) in maze.walls().into_iter().enumerate() {
                let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                solids.push(Solid {
                    shape: SolidShape::Box(BoxShape {
                        center: [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0],
                        half_extents: [libm::hypot(dx, dy) / 2.0 + md.thickness / 2.0, md.thickness / 2.0],
                        angle: libm::atan2(dy, dx),
                    }),
                    color: PaletteColor::GRAY,
                    label: format!("maze wall {}", i + 1),
                    sign: None,
                });
            }
            let e = maze.center(maze.exit);
            let h = md.cell / 2.0 - md.thickness / 2.0;
            let area = Area::Polygon(vec![[e[0] - h, e[1] - h], [e[0] + h, e[1] - h], [e[0] + h, e[1] + h], [e[0] - h, e[1] + h]]);
            paint.insert(0, FloorPaint { area: area.clone(), color: color(&md.exit_color) });
            zones.push(Zone { name: "exit".into(), area });
            maze
        });
        let robot_def = f.robot.as_ref().expect("validated");
        let robot = self.robot_spec(&ctx, robot_def).expect("validated");
        let rd = robot_def.get_ref();
        let start = [rd.x.sample(&mut rng), rd.y.sample(&mut rng), rd.heading.sample(&mut rng).to_radians()];
        ResolvedScenario {
            name: self.name.clone(),
            seed,
            duration: *f.duration.get_ref(),
            arena_size: [w, h],
            floor: color(&arena.floor),
            solids,
            paint,
            lines,
            zones,
            checkpoints,
            robot,
            start,
            maze,
        }
    }
}
