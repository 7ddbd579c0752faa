//! A low-resolution first-person camera for the AI labs (32×24 RGB).
//!
//! A simple ray caster: one ray per image column finds the nearest solid;
//! each pixel row then sees the floor (projected onto the ground plane),
//! the solid's face, or the sky above it. Computed on demand only. A sign's
//! face shows its pattern (looked up by where the ray hits it); the optional
//! lighting noise scales each frame's brightness and colour channels by
//! amounts drawn from the run's seed and the tick, never from the host.

use rand_core::{RngCore, SeedableRng};

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

/// A uniform sample in [-1, 1): 53 random bits, identical everywhere.
fn unit(rng: &mut rand_pcg::Pcg64Mcg) -> f64 {
    (rng.next_u64() >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
}

/// Scales the frame by the lighting of `tick`: brightness and each channel
/// by up to ± `noise` (channels by a third of it), from a stream of its own
/// seeded with the run's seed and the tick, so asking for the same frame
/// twice gives the same pixels and the sensors' noise stream is untouched.
fn light(rgb: &mut [u8], noise: f64, seed: u64, tick: u64) {
    if noise <= 0.0 {
        return;
    }
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ 0xCA3E_0000_0000_0005 ^ tick.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let brightness = 1.0 + noise * unit(&mut rng);
    let gains: [f64; 3] = std::array::from_fn(|_| brightness * (1.0 + noise / 3.0 * unit(&mut rng)));
    for px in rgb.chunks_exact_mut(3) {
        for (c, g) in px.iter_mut().zip(gains) {
            *c = libm::round(f64::from(*c) * g).clamp(0.0, 255.0) as u8;
        }
    }
}

pub(crate) fn render(arena: &Arena, spec: &RobotSpec, pose: [f64; 3], seed: u64, tick: u64) -> Image {
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
                let solid = &arena.solids[i];
                let c = match &solid.sign {
                    Some(face) => {
                        let h = EYE + elev * t;
                        match face.across([x0 + dir[0] * t, y0 + dir[1] * t]) {
                            Some(u) => face.kind.face(u, h / SOLID_HEIGHT),
                            None => crate::sign::BACK,
                        }
                    }
                    None => solid.color.rgb(),
                };
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
    light(&mut rgb, spec.camera_noise, seed, tick);
    Image { width: WIDTH, height: HEIGHT, rgb }
}
