//! Lap progress along a closed floor line, measured the same way everywhere.
//!
//! The grader scores laps with it, and the world uses it to end a run early
//! once a lap is complete; one implementation keeps the two in agreement.
//! Progress is the robot centre's position projected onto the line, unwrapped
//! around the loop; it only counts while the robot is near the line, and a
//! jump of more than 0.25 m in one tick (a shortcut) does not count.

use crate::scenario::FloorLine;

/// Farther than this from the line, progress is not counted (m).
pub const NEAR_LINE: f64 = 0.15;
/// A larger step along the line in one tick is a shortcut (m).
const MAX_STEP: f64 = 0.25;

/// Points farther than this from the line are simply "far" (m): every use of
/// a distance compares it with a threshold at most this large.
pub const FAR: f64 = 0.2;
const CELL: f64 = 0.2;

/// A closed polyline with cumulative arc lengths, and a uniform grid listing
/// the segments within [`FAR`] of each cell so projections stay local.
#[derive(Clone, Debug)]
pub struct Loop {
    pts: Vec<[f64; 2]>,
    cum: Vec<f64>,
    pub length: f64,
    origin: [f64; 2],
    cols: usize,
    rows: usize,
    cells: Vec<Vec<u32>>,
}

impl Loop {
    pub fn new(line: &FloorLine) -> Loop {
        let mut pts = line.points.clone();
        if line.closed {
            pts.push(pts[0]);
        }
        let mut cum = vec![0.0];
        for w in pts.windows(2) {
            let last = *cum.last().unwrap_or(&0.0);
            cum.push(last + libm::hypot(w[1][0] - w[0][0], w[1][1] - w[0][1]));
        }
        let length = *cum.last().unwrap_or(&0.0);
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in &pts {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k] - FAR);
                hi[k] = hi[k].max(p[k] + FAR);
            }
        }
        if pts.is_empty() {
            (lo, hi) = ([0.0; 2], [0.0; 2]);
        }
        let cols = (((hi[0] - lo[0]) / CELL).ceil() as usize).max(1);
        let rows = (((hi[1] - lo[1]) / CELL).ceil() as usize).max(1);
        let mut path = Loop { pts, cum, length, origin: lo, cols, rows, cells: vec![Vec::new(); cols * rows] };
        for i in 0..path.pts.len().saturating_sub(1) {
            let (a, b) = (path.pts[i], path.pts[i + 1]);
            let (c0, r0) = path.cell_clamped([a[0].min(b[0]) - FAR, a[1].min(b[1]) - FAR]);
            let (c1, r1) = path.cell_clamped([a[0].max(b[0]) + FAR, a[1].max(b[1]) + FAR]);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    path.cells[r * cols + c].push(i as u32);
                }
            }
        }
        path
    }

    /// The grid cell of `p`, if it is inside the grid.
    fn cell_of(&self, p: [f64; 2]) -> Option<(usize, usize)> {
        let c = ((p[0] - self.origin[0]) / CELL).floor();
        let r = ((p[1] - self.origin[1]) / CELL).floor();
        (c >= 0.0 && r >= 0.0 && (c as usize) < self.cols && (r as usize) < self.rows).then_some((c as usize, r as usize))
    }

    /// The grid cell nearest to `p` (for building the grid).
    fn cell_clamped(&self, p: [f64; 2]) -> (usize, usize) {
        let c = ((p[0] - self.origin[0]) / CELL).floor().max(0.0) as usize;
        let r = ((p[1] - self.origin[1]) / CELL).floor().max(0.0) as usize;
        (c.min(self.cols - 1), r.min(self.rows - 1))
    }

    /// (distance from the line, arc position of the nearest point). Points
    /// farther than [`FAR`] from the line give `(f64::INFINITY, 0.0)`.
    pub fn project(&self, p: [f64; 2]) -> (f64, f64) {
        let mut best = (f64::INFINITY, 0.0);
        let Some((c, r)) = self.cell_of(p) else { return best };
        for &i in &self.cells[r * self.cols + c] {
            let i = i as usize;
            let (a, b) = (self.pts[i], self.pts[i + 1]);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
            let q = [a[0] + t * dx, a[1] + t * dy];
            let d = libm::hypot(p[0] - q[0], p[1] - q[1]);
            if d < best.0 {
                best = (d, self.cum[i] + t * libm::sqrt(len2));
            }
        }
        if best.0 > FAR { (f64::INFINITY, 0.0) } else { best }
    }
}

/// Incremental lap progress, one position per tick.
#[derive(Clone, Debug)]
pub struct LapTracker {
    pub path: Loop,
    net: f64,
    best_forward: f64,
    best_backward: f64,
    last: Option<f64>,
    /// Index of the update at which a full lap was first completed.
    pub completed_at: Option<usize>,
    updates: usize,
}

impl LapTracker {
    pub fn new(line: &FloorLine) -> LapTracker {
        LapTracker { path: Loop::new(line), net: 0.0, best_forward: 0.0, best_backward: 0.0, last: None, completed_at: None, updates: 0 }
    }

    /// Adds the next position; returns its distance from the line.
    pub fn update(&mut self, p: [f64; 2]) -> f64 {
        let index = self.updates;
        self.updates += 1;
        let length = self.path.length;
        let (d, s) = self.path.project(p);
        if d > NEAR_LINE || length <= 0.0 {
            return d;
        }
        if let Some(prev) = self.last {
            let mut delta = s - prev;
            if delta > length / 2.0 {
                delta -= length;
            } else if delta < -length / 2.0 {
                delta += length;
            }
            if delta.abs() < MAX_STEP {
                self.net += delta;
            }
        }
        self.last = Some(s);
        self.best_forward = self.best_forward.max(self.net);
        self.best_backward = self.best_backward.max(-self.net);
        if self.completed_at.is_none() && self.best_forward.max(self.best_backward) >= length {
            self.completed_at = Some(index);
        }
        d
    }

    /// Share of a lap covered so far, in either direction, in [0, 1].
    pub fn fraction(&self) -> f64 {
        if self.path.length <= 0.0 { 0.0 } else { (self.best_forward.max(self.best_backward) / self.path.length).min(1.0) }
    }
}
