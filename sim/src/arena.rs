//! The static world: solids the robot collides with and sees, and the painted floor.
//!
//! Built once per run from a [`ResolvedScenario`]; all geometry queries go
//! through parry2d (f64, enhanced determinism), with a uniform grid over the
//! floor so floor lookups stay cheap however many line segments are drawn.

use bevy_ecs::prelude::Resource;
use parry2d_f64::math::{Pose, Vector};
use parry2d_f64::query::Ray;
use parry2d_f64::shape::{Ball, Capsule, Cuboid, Shape, SharedShape};

use crate::color::PaletteColor;
use crate::scenario::{Area, Checkpoint, ResolvedScenario, SolidShape};
use crate::sign::SignFace;

/// Axis-aligned bounding box, [min, max].
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub min: [f64; 2],
    pub max: [f64; 2],
}

impl Bounds {
    pub fn overlaps(&self, other: &Bounds) -> bool {
        self.min[0] <= other.max[0] && other.min[0] <= self.max[0] && self.min[1] <= other.max[1] && other.min[1] <= self.max[1]
    }
    pub fn contains(&self, p: [f64; 2]) -> bool {
        p[0] >= self.min[0] && p[0] <= self.max[0] && p[1] >= self.min[1] && p[1] <= self.max[1]
    }
    fn of_shape(shape: &dyn Shape, pose: &Pose) -> Bounds {
        let aabb = shape.compute_aabb(pose);
        Bounds { min: [aabb.mins.x, aabb.mins.y], max: [aabb.maxs.x, aabb.maxs.y] }
    }
}

/// A solid (wall, boundary or obstacle) with its collision shape.
pub struct SolidCollider {
    pub shape: SharedShape,
    pub pose: Pose,
    pub bounds: Bounds,
    pub color: PaletteColor,
    pub label: String,
    /// The face the camera sees, when the solid is a sign.
    pub sign: Option<SignFace>,
}

/// A floor region (paint, or a zone) usable for point queries.
pub enum Region {
    /// Any simple polygon; containment by parry's winding test.
    Polygon(Vec<Vector>),
    Circle(Ball, Pose),
    Stroke(Capsule),
}

impl Region {
    fn from_area(area: &Area) -> (Region, Bounds) {
        match area {
            Area::Polygon(points) => {
                let pts: Vec<Vector> = points.iter().map(|p| Vector::new(p[0], p[1])).collect();
                let mut b = Bounds { min: [f64::INFINITY; 2], max: [f64::NEG_INFINITY; 2] };
                for p in points {
                    for (k, &v) in p.iter().enumerate() {
                        b.min[k] = b.min[k].min(v);
                        b.max[k] = b.max[k].max(v);
                    }
                }
                (Region::Polygon(pts), b)
            }
            Area::Circle { center, radius } => {
                let ball = Ball::new(*radius);
                let pose = Pose::translation(center[0], center[1]);
                let b = Bounds::of_shape(&ball, &pose);
                (Region::Circle(ball, pose), b)
            }
            Area::Stroke { a, b, half_width } => {
                let cap = Capsule::new(Vector::new(a[0], a[1]), Vector::new(b[0], b[1]), *half_width);
                let bounds = Bounds::of_shape(&cap, &Pose::IDENTITY);
                (Region::Stroke(cap), bounds)
            }
        }
    }

    pub fn contains(&self, p: [f64; 2]) -> bool {
        use parry2d_f64::query::PointQuery;
        let v = Vector::new(p[0], p[1]);
        match self {
            Region::Polygon(pts) => parry2d_f64::utils::point_in_poly2d(v, pts),
            Region::Circle(ball, pose) => ball.contains_point(pose, v),
            Region::Stroke(cap) => {
                // Distance to the segment, compared squared: the hot path of
                // line sensors (27 samples a tick), so no parry call here.
                let (a, b) = (cap.segment.a, cap.segment.b);
                let (dx, dy) = (b.x - a.x, b.y - a.y);
                let (px, py) = (v.x - a.x, v.y - a.y);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 { ((px * dx + py * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
                let (ex, ey) = (px - t * dx, py - t * dy);
                ex * ex + ey * ey <= cap.radius * cap.radius
            }
        }
    }
}

struct Paint {
    region: Region,
    bounds: Bounds,
    color: PaletteColor,
}

/// Floor paint with a uniform-grid index: each cell lists the paint items
/// whose bounds overlap it, in drawing order.
pub struct Floor {
    base: PaletteColor,
    paint: Vec<Paint>,
    origin: [f64; 2],
    cell: f64,
    cols: usize,
    rows: usize,
    cells: Vec<Vec<u32>>,
}

impl Floor {
    /// Small enough that a cell on a finely drawn curve lists few segments.
    const CELL: f64 = 0.05;

    fn new(scenario: &ResolvedScenario) -> Floor {
        let margin = 1.0;
        let origin = [-margin, -margin];
        let cols = ((scenario.arena_size[0] + 2.0 * margin) / Self::CELL).ceil() as usize;
        let rows = ((scenario.arena_size[1] + 2.0 * margin) / Self::CELL).ceil() as usize;
        let mut floor = Floor { base: scenario.floor, paint: Vec::new(), origin, cell: Self::CELL, cols, rows, cells: vec![Vec::new(); cols * rows] };
        for (i, p) in scenario.paint.iter().enumerate() {
            let (region, b) = Region::from_area(&p.area);
            floor.paint.push(Paint { region, bounds: b, color: p.color });
            let (c0, r0) = floor.cell_of(b.min);
            let (c1, r1) = floor.cell_of(b.max);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    floor.cells[r * cols + c].push(i as u32);
                }
            }
        }
        floor
    }

    fn cell_of(&self, p: [f64; 2]) -> (usize, usize) {
        // Clamped at 0 first, truncation is floor (and NaN becomes 0).
        let c = (((p[0] - self.origin[0]) / self.cell).max(0.0) as usize).min(self.cols - 1);
        let r = (((p[1] - self.origin[1]) / self.cell).max(0.0) as usize).min(self.rows - 1);
        (c, r)
    }

    /// The colours at several points that all lie within `b`: what
    /// [`Floor::color_at`] gives for each, found with one walk of the grid
    /// (a line sensor samples nine points within a few millimetres).
    pub fn colors_within<const N: usize>(&self, b: &Bounds, points: &[[f64; 2]; N]) -> [PaletteColor; N] {
        let (c0, r0) = self.cell_of(b.min);
        let (c1, r1) = self.cell_of(b.max);
        // Every paint that could contain a point in `b`, top-most first (on
        // the stack: this runs for every line sensor on every tick).
        const MAX: usize = 32;
        let mut buf = [0u32; MAX];
        let mut n = 0;
        for r in r0..=r1 {
            for c in c0..=c1 {
                for &i in &self.cells[r * self.cols + c] {
                    if self.paint[i as usize].bounds.overlaps(b) {
                        if n == MAX {
                            // A crowded spot: look each point up on its own (same answers).
                            return points.map(|p| self.color_at(p));
                        }
                        buf[n] = i;
                        n += 1;
                    }
                }
            }
        }
        let candidates = &mut buf[..n];
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        let mut unique = 0;
        for k in 0..candidates.len() {
            if k == 0 || candidates[k] != candidates[unique - 1] {
                candidates[unique] = candidates[k];
                unique += 1;
            }
        }
        let candidates = &candidates[..unique];
        points.map(|p| {
            candidates
                .iter()
                .map(|&i| &self.paint[i as usize])
                .find(|paint| paint.bounds.contains(p) && paint.region.contains(p))
                .map_or(self.base, |paint| paint.color)
        })
    }

    /// The colour painted at `p`: the top-most paint containing it, else the floor.
    pub fn color_at(&self, p: [f64; 2]) -> PaletteColor {
        let (c, r) = self.cell_of(p);
        for &i in self.cells[r * self.cols + c].iter().rev() {
            let paint = &self.paint[i as usize];
            if paint.bounds.contains(p) && paint.region.contains(p) {
                return paint.color;
            }
        }
        self.base
    }
}

/// A named floor zone (for events and grading); may or may not be painted.
pub struct ZoneRegion {
    pub name: String,
    pub region: Region,
}

/// The static world of one run.
#[derive(Resource)]
pub struct Arena {
    pub size: [f64; 2],
    pub solids: Vec<SolidCollider>,
    pub floor: Floor,
    pub zones: Vec<ZoneRegion>,
    pub checkpoints: Vec<Checkpoint>,
}

impl Arena {
    pub fn new(scenario: &ResolvedScenario) -> Arena {
        let solids = scenario
            .solids
            .iter()
            .map(|s| {
                let (shape, pose) = match &s.shape {
                    SolidShape::Box(b) => (
                        SharedShape::new(Cuboid::new(Vector::new(b.half_extents[0], b.half_extents[1]))),
                        Pose::new(Vector::new(b.center[0], b.center[1]), b.angle),
                    ),
                    SolidShape::Circle { center, radius } => (SharedShape::new(Ball::new(*radius)), Pose::translation(center[0], center[1])),
                };
                let bounds = Bounds::of_shape(&*shape, &pose);
                let sign = match (&s.shape, s.sign) {
                    (SolidShape::Box(b), Some(kind)) => {
                        Some(SignFace { kind, center: b.center, normal: [libm::cos(b.angle), libm::sin(b.angle)], width: 2.0 * b.half_extents[1] })
                    }
                    _ => None,
                };
                SolidCollider { shape, pose, bounds, color: s.color, label: s.label.clone(), sign }
            })
            .collect();
        let zones = scenario.zones.iter().map(|z| ZoneRegion { name: z.name.clone(), region: Region::from_area(&z.area).0 }).collect();
        Arena { size: scenario.arena_size, solids, floor: Floor::new(scenario), zones, checkpoints: scenario.checkpoints.clone() }
    }

    /// Casts a ray from `origin` along the unit vector `dir`; returns the
    /// distance to the first solid within `max`, and that solid's index.
    pub fn cast_ray(&self, origin: [f64; 2], dir: [f64; 2], max: f64) -> Option<(f64, usize)> {
        let end = [origin[0] + dir[0] * max, origin[1] + dir[1] * max];
        let ray_bounds = Bounds { min: [origin[0].min(end[0]), origin[1].min(end[1])], max: [origin[0].max(end[0]), origin[1].max(end[1])] };
        let ray = Ray::new(Vector::new(origin[0], origin[1]), Vector::new(dir[0], dir[1]));
        let mut best: Option<(f64, usize)> = None;
        for (i, s) in self.solids.iter().enumerate() {
            if !s.bounds.overlaps(&ray_bounds) {
                continue;
            }
            let limit = best.map_or(max, |b| b.0);
            if let Some(t) = s.shape.cast_ray(&s.pose, &ray, limit, true)
                && best.is_none_or(|b| t < b.0)
            {
                best = Some((t, i));
            }
        }
        best
    }
}
