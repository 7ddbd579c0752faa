//! A low-resolution first-person camera for the AI labs (32×24 RGB).
//!
//! A simple ray caster: one ray per image column finds the nearest solid;
//! each pixel row then sees the floor (projected onto the ground plane),
//! the solid's face, or the sky above it. Computed on demand only.

use crate::arena::Arena;
use crate::robot::RobotSpec;

pub const WIDTH: usize = 32;
pub const HEIGHT: usize = 24;
/// Horizontal field of view (radians): 60°.
const HFOV: f64 = std::f64::consts::FRAC_PI_3;
/// Camera height above the floor and height of every solid (m).
const EYE: f64 = 0.10;
const SOLID_HEIGHT: f64 = 0.20;
const SKY: [u8; 3] = [200, 220, 240];

/// A camera frame: `WIDTH × HEIGHT` RGB pixels, row-major, top row first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

pub(crate) fn render(arena: &Arena, spec: &RobotSpec, pose: [f64; 3]) -> Image {
    let mut rgb = vec![0u8; WIDTH * HEIGHT * 3];
    let focal = (WIDTH as f64 / 2.0) / libm::tan(HFOV / 2.0);
    let (x0, y0) = (pose[0] + libm::cos(pose[2]) * spec.radius, pose[1] + libm::sin(pose[2]) * spec.radius);
    for col in 0..WIDTH {
        let offset = (WIDTH as f64 / 2.0 - (col as f64 + 0.5)) / focal; // tan of the column's angle
        let rel = libm::atan(offset);
        let a = pose[2] + rel;
        let dir = [libm::cos(a), libm::sin(a)];
        let hit = arena.cast_ray([x0, y0], dir, 10.0);
        for row in 0..HEIGHT {
            // tan of the pixel's elevation (positive up), corrected for the column angle.
            let elev = ((HEIGHT as f64 / 2.0) - (row as f64 + 0.5)) / focal * libm::cos(rel);
            let px = &mut rgb[(row * WIDTH + col) * 3..][..3];
            let wall = hit.and_then(|(t, i)| {
                let h = EYE + elev * t;
                (0.0..=SOLID_HEIGHT).contains(&h).then_some((t, i))
            });
            if let Some((t, i)) = wall {
                let shade = (1.0 - (t / 6.0)).clamp(0.35, 1.0);
                let c = arena.solids[i].color.rgb();
                px.copy_from_slice(&[(c[0] as f64 * shade) as u8, (c[1] as f64 * shade) as u8, (c[2] as f64 * shade) as u8]);
            } else if elev < 0.0 {
                let ground = EYE / -elev;
                let p = [x0 + dir[0] * ground, y0 + dir[1] * ground];
                px.copy_from_slice(&arena.floor.color_at(p).rgb());
            } else {
                px.copy_from_slice(&SKY);
            }
        }
    }
    Image { width: WIDTH, height: HEIGHT, rgb }
}
