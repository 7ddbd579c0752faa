//! Ability estimates (EAP with posterior SDs), the reporting scale (mean 500, SD 100 on a reference cohort) and proficiency levels.

use serde::Serialize;

use super::data::MISSING;
use super::model::Item;
use super::parallel::chunked;

/// Equally spaced quadrature points with normalised N(0, 1) weights.
///
/// The trapezoid rule on an equally spaced grid converges exponentially for smooth,
/// Gaussian-like integrands, so 41 points over ±6 integrate the marginal likelihood and
/// 81 points the individual posteriors to far below the estimates' standard errors.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// θ at each point.
    pub points: Vec<f64>,
    /// Prior weight at each point (sums to 1).
    pub weights: Vec<f64>,
}

impl Grid {
    /// `count` points over −range..=range weighted by the standard normal density.
    pub fn normal(count: usize, range: f64) -> Grid {
        let points: Vec<f64> = (0..count).map(|q| -range + 2.0 * range * q as f64 / (count - 1) as f64).collect();
        let raw: Vec<f64> = points.iter().map(|t| libm::exp(-0.5 * t * t)).collect();
        let sum: f64 = raw.iter().sum();
        Grid { points, weights: raw.iter().map(|w| w / sum).collect() }
    }
}

/// EAP estimate, posterior SD and number of answered items for every student (rows of `x`,
/// `j_count` items each). A student who answered nothing gets the prior: θ = 0, SE = 1.
pub fn eap_scores(x: &[u8], j_count: usize, items: &[Item], grid: &Grid, threads: usize) -> Vec<(f64, f64, usize)> {
    let q = grid.points.len();
    // log P(X = k | θ_q) per item, k-major.
    let tables: Vec<Vec<f64>> = items
        .iter()
        .map(|it| {
            let k1 = it.steps.len() + 1;
            let mut t = vec![0.0; k1 * q];
            let mut p = vec![0.0; k1];
            for (qi, &theta) in grid.points.iter().enumerate() {
                it.probs(theta, &mut p);
                for (k, &pk) in p.iter().enumerate() {
                    t[k * q + qi] = pk.max(1e-12);
                }
            }
            t
        })
        .collect();
    let n = x.len() / j_count.max(1);
    let parts = chunked(n, threads, |range| {
        let mut like = vec![0.0; q];
        let mut out = Vec::with_capacity(range.len());
        for i in range {
            like.fill(1.0);
            let mut answered = 0usize;
            for (jj, &s) in x[i * j_count..(i + 1) * j_count].iter().enumerate() {
                if s == MISSING {
                    continue;
                }
                for (l, &p) in like.iter_mut().zip(&tables[jj][s as usize * q..][..q]) {
                    *l *= p;
                }
                answered += 1;
                if answered.is_multiple_of(16) {
                    let m = like.iter().fold(0.0f64, |a, &b| a.max(b));
                    if m < 1e-100 {
                        let inv = 1.0 / m;
                        like.iter_mut().for_each(|l| *l *= inv);
                    }
                }
            }
            let (theta, se) = posterior_moments(&like, grid);
            out.push((theta, se, answered));
        }
        out
    });
    parts.into_iter().flatten().collect()
}

/// Posterior mean and SD from a likelihood on the grid (times the grid's prior weights).
pub fn posterior_moments(like: &[f64], grid: &Grid) -> (f64, f64) {
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for ((&l, &w), &t) in like.iter().zip(&grid.weights).zip(&grid.points) {
        let p = l * w;
        s0 += p;
        s1 += p * t;
        s2 += p * t * t;
    }
    let mean = s1 / s0;
    (mean, (s2 / s0 - mean * mean).max(0.0).sqrt())
}

/// The reporting scale: score = scale_mean + scale_sd · (θ − reference mean) / reference SD.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportingScale {
    /// Mean θ of the reference cohort.
    pub reference_mean: f64,
    /// SD of θ in the reference cohort.
    pub reference_sd: f64,
    /// Reported mean (500).
    pub scale_mean: f64,
    /// Reported SD (100).
    pub scale_sd: f64,
}

impl ReportingScale {
    /// The calibration cohort as reference: its ability distribution is N(0, 1) by the
    /// model's identification, so θ maps to 500 + 100·θ.
    pub fn calibration_cohort() -> ReportingScale {
        ReportingScale { reference_mean: 0.0, reference_sd: 1.0, scale_mean: 500.0, scale_sd: 100.0 }
    }

    /// Another reference cohort from its EAP estimates and their standard errors. EAPs are
    /// shrunk towards the prior mean, so the cohort's θ variance is Var(EAP) + mean(SE²)
    /// (the law of total variance), not Var(EAP) alone.
    pub fn from_estimates(estimates: &[(f64, f64)]) -> Option<ReportingScale> {
        if estimates.len() < 2 {
            return None;
        }
        let n = estimates.len() as f64;
        let mean = estimates.iter().map(|e| e.0).sum::<f64>() / n;
        let var_eap = estimates.iter().map(|e| (e.0 - mean) * (e.0 - mean)).sum::<f64>() / n;
        let mean_se2 = estimates.iter().map(|e| e.1 * e.1).sum::<f64>() / n;
        let sd = (var_eap + mean_se2).sqrt();
        (sd > 0.0).then_some(ReportingScale { reference_mean: mean, reference_sd: sd, scale_mean: 500.0, scale_sd: 100.0 })
    }

    /// θ on the reporting scale.
    pub fn score(&self, theta: f64) -> f64 {
        self.scale_mean + self.scale_sd * (theta - self.reference_mean) / self.reference_sd
    }

    /// A standard error on the reporting scale.
    pub fn se(&self, se: f64) -> f64 {
        self.scale_sd * se / self.reference_sd
    }
}

/// Five proficiency levels cut on the reporting scale.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Levels {
    /// Four increasing cut scores: level n + 1 starts at `cuts[n]`.
    pub cuts: [f64; 4],
}

/// Level names for reports, zh-CN and en: teachers and students read them.
pub const LEVEL_NAMES: [(&str, &str); 5] =
    [("起步", "Emerging"), ("发展", "Developing"), ("达标", "Proficient"), ("良好", "Accomplished"), ("优秀", "Advanced")];

impl Default for Levels {
    /// Cuts at the reference cohort's quintiles (θ = ±0.84, ±0.25), rounded: each level
    /// holds a fifth of the reference cohort until a standard-setting study sets real cuts.
    fn default() -> Levels {
        Levels { cuts: [416.0, 475.0, 525.0, 584.0] }
    }
}

impl Levels {
    /// Cut scores must increase.
    pub fn new(cuts: [f64; 4]) -> Option<Levels> {
        cuts.windows(2).all(|w| w[0] < w[1]).then_some(Levels { cuts })
    }

    /// The level (1..=5) of a reporting-scale score.
    pub fn level(&self, score: f64) -> u8 {
        1 + self.cuts.iter().filter(|&&c| score >= c).count() as u8
    }
}
