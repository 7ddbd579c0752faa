//! Item response theory for the information-literacy assessment: calibration (Rasch, 2PL, 3PL, GPCM by
//! marginal maximum likelihood), EAP scores, item fit, Mantel–Haenszel DIF, the reporting scale and
//! levels, linking through anchor items, response simulation and computerised adaptive testing.
//!
//! Everything here is deterministic: fixed iteration order, no hash maps, seeded PCG streams, and
//! parallel loops over a fixed chunk layout whose partial sums are reduced in chunk order, so a
//! result is bit-identical whatever the thread count. `docs/assessment.md` documents the methods.

pub mod calibrate;
pub mod cat;
pub mod data;
pub mod dif;
pub mod file;
pub mod link;
pub mod model;
mod parallel;
pub mod score;
pub mod simulate;

pub use calibrate::{Calibration, CalibrationError, CalibrationOptions, ItemSe, calibrate};
pub use cat::{CatOptions, CatReport, Step, StepOptions, StopReason, eap_estimate, next_step, prior_item, simulate_cat};
pub use data::{DataError, MISSING, Responses};
pub use dif::{DifItem, DifReport, mantel_haenszel, mantel_haenszel_matched};
pub use file::{CalibrationFile, ItemEntry, PersonEntry};
pub use link::{Link, LinkMethod, link};
pub use model::{Item, Model};
pub use score::{Levels, ReportingScale};
pub use simulate::{SimulationOptions, simulate};

/// Seeded random numbers: a PCG stream, uniform and normal draws.
pub(crate) mod random {
    use rand_core::{RngCore, SeedableRng};

    /// A PCG stream; `stream` separates independent uses of one seed.
    pub struct Rng(rand_pcg::Pcg64Mcg);

    impl Rng {
        pub fn new(seed: u64, stream: u64) -> Rng {
            Rng(rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        }

        /// Uniform on [0, 1) with 53 random bits.
        pub fn uniform(&mut self) -> f64 {
            (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
        }

        /// Standard normal (Box–Muller, one draw per call for a simple, fixed draw order).
        pub fn normal(&mut self) -> f64 {
            let u1 = 1.0 - self.uniform();
            let u2 = self.uniform();
            libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
        }

        /// Uniform integer in 0..n.
        pub fn below(&mut self, n: usize) -> usize {
            ((self.uniform() * n as f64) as usize).min(n - 1)
        }
    }
}
