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

/// A closed polyline with cumulative arc lengths.
#[derive(Clone, Debug)]
pub struct Loop {
    pts: Vec<[f64; 2]>,
    cum: Vec<f64>,
    pub length: f64,
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
        Loop { pts, cum, length }
    }

    /// (distance from the line, arc position of the nearest point).
    pub fn project(&self, p: [f64; 2]) -> (f64, f64) {
        let mut best = (f64::INFINITY, 0.0);
        for i in 0..self.pts.len().saturating_sub(1) {
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
        best
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
