//! Traffic signs: thin panels in the arena whose face pattern the camera sees (for the AI labs).
//!
//! A sign is a solid like any obstacle (robots bump into it, distance sensors
//! see it); its front face carries a pattern the camera renders, looked up by
//! where along the face and how high a camera ray hits it. Patterns are plain
//! functions of those two numbers, so every machine draws the same pixels.

use crate::color::PaletteColor;

/// Thickness of a sign's panel (m).
pub const THICKNESS: f64 = 0.02;
/// Default width of a sign's face (m).
pub const DEFAULT_WIDTH: f64 = 0.2;

const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [20, 20, 20];
const RED: [u8; 3] = [220, 40, 40];
const GREEN: [u8; 3] = [40, 170, 70];
const BLUE: [u8; 3] = [40, 90, 220];
const YELLOW: [u8; 3] = [245, 210, 40];
/// The back of every sign.
pub const BACK: [u8; 3] = [150, 150, 150];

/// What a sign shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SignKind {
    /// Red, with a white bar: stop here.
    Stop,
    /// Green: go on.
    Go,
    /// White arrow on blue, pointing left (as the robot sees it).
    Left,
    /// White arrow on blue, pointing right.
    Right,
    /// Yellow with a black bar: slow down.
    Slow,
}

impl SignKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [SignKind; 5] = [SignKind::Stop, SignKind::Go, SignKind::Left, SignKind::Right, SignKind::Slow];

    /// The name scenario files and world views use.
    pub fn name(self) -> &'static str {
        match self {
            SignKind::Stop => "stop",
            SignKind::Go => "go",
            SignKind::Left => "left",
            SignKind::Right => "right",
            SignKind::Slow => "slow",
        }
    }

    pub fn from_name(name: &str) -> Option<SignKind> {
        SignKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The palette colour a top-down view draws the sign in.
    pub fn color(self) -> PaletteColor {
        let name = match self {
            SignKind::Stop => "red",
            SignKind::Go => "green",
            SignKind::Left | SignKind::Right => "blue",
            SignKind::Slow => "yellow",
        };
        PaletteColor::from_name(name).unwrap_or(PaletteColor::GRAY)
    }

    /// The face's colour at `u` across (0 at the viewer's left, 1 at the
    /// right) and `v` up (0 at the floor, 1 at the top edge).
    pub fn face(self, u: f64, v: f64) -> [u8; 3] {
        // A white rim, as on real signs: it keeps the sign distinct from a
        // wall of the same colour.
        if !(0.08..=0.92).contains(&u) || !(0.08..=0.92).contains(&v) {
            return WHITE;
        }
        let (du, dv) = (u - 0.5, v - 0.5);
        match self {
            SignKind::Stop => {
                if du.abs() < 0.3 && dv.abs() < 0.08 {
                    WHITE
                } else {
                    RED
                }
            }
            SignKind::Go => GREEN,
            SignKind::Slow => {
                if du.abs() < 0.3 && dv.abs() < 0.06 {
                    BLACK
                } else {
                    YELLOW
                }
            }
            SignKind::Left | SignKind::Right => {
                // Arrow pointing towards smaller `a`: a shaft and a triangular head.
                let a = if self == SignKind::Left { u } else { 1.0 - u };
                let head = (0.18..0.48).contains(&a) && dv.abs() <= (a - 0.18) * 0.9;
                let shaft = (0.40..0.82).contains(&a) && dv.abs() < 0.09;
                if head || shaft { WHITE } else { BLUE }
            }
        }
    }
}

/// A sign's front face in the world, for the camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignFace {
    pub kind: SignKind,
    pub center: [f64; 2],
    /// Unit vector the face looks along.
    pub normal: [f64; 2],
    pub width: f64,
}

impl SignFace {
    /// Where a hit at `p` lies across the face as seen from the front (0 at
    /// the viewer's left, 1 at the right), or `None` when `p` is on the back.
    pub fn across(&self, p: [f64; 2]) -> Option<f64> {
        let (dx, dy) = (p[0] - self.center[0], p[1] - self.center[1]);
        let front = dx * self.normal[0] + dy * self.normal[1];
        if front <= 0.0 {
            return None;
        }
        // The viewer looks along −normal; their right is (−n.y, n.x).
        let right = -dx * self.normal[1] + dy * self.normal[0];
        Some((0.5 + right / self.width).clamp(0.0, 1.0))
    }
}
