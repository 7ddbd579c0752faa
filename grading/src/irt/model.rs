//! Item response models: category probabilities, Fisher information and the item parameters every part of `irt` shares.

use serde::{Deserialize, Serialize};

/// The item response model a calibration fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Model {
    /// One-parameter logistic: discrimination fixed at 1, θ ~ N(0, 1).
    #[serde(rename = "rasch")]
    Rasch,
    /// Two-parameter logistic: discrimination and difficulty per item.
    #[serde(rename = "2pl")]
    TwoPl,
    /// Three-parameter logistic: adds a lower asymptote (guessing) with a Beta prior.
    #[serde(rename = "3pl")]
    ThreePl,
    /// Generalised partial credit: a discrimination and k step difficulties for an item scored 0..k.
    #[serde(rename = "gpcm")]
    Gpcm,
}

impl Model {
    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Model::Rasch => "rasch",
            Model::TwoPl => "2pl",
            Model::ThreePl => "3pl",
            Model::Gpcm => "gpcm",
        }
    }

    /// Parses a command-line name (`rasch`, `1pl`, `2pl`, `3pl`, `gpcm`).
    pub fn parse(name: &str) -> Option<Model> {
        match name.to_ascii_lowercase().as_str() {
            "rasch" | "1pl" => Some(Model::Rasch),
            "2pl" => Some(Model::TwoPl),
            "3pl" => Some(Model::ThreePl),
            "gpcm" | "pcm" => Some(Model::Gpcm),
            _ => None,
        }
    }

    /// The largest score a cell may hold under this model (GPCM: the loader's cap).
    pub fn max_score(self) -> u8 {
        match self {
            Model::Gpcm => MAX_CATEGORY,
            _ => 1,
        }
    }
}

/// The largest item score the engine accepts: an item with more than 21 categories is
/// a rating scale with too little data per category to estimate, not a test item.
pub const MAX_CATEGORY: u8 = 20;

/// One item's parameters on the logistic metric (no 1.7 scaling constant).
///
/// Every model is written as a generalised partial credit item with an optional lower
/// asymptote: P(X = k | θ) ∝ exp(Σ_{v≤k} a(θ − b_v)). A dichotomous item has one step,
/// so P(X = 1) = 1 / (1 + exp(−a(θ − b))), and a 3PL item then mixes in c:
/// P(X = 1) = c + (1 − c)·that. One formula keeps the E-step, scoring, fit and CAT
/// identical for all models.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Discrimination.
    pub a: f64,
    /// Step difficulties b_1..b_k (one for a dichotomous item: its difficulty).
    pub steps: Vec<f64>,
    /// Lower asymptote (guessing); 0 except for 3PL items.
    pub c: f64,
}

impl Item {
    /// A dichotomous item.
    pub fn dichotomous(a: f64, b: f64, c: f64) -> Item {
        Item { a, steps: vec![b], c }
    }

    /// The highest score (number of steps).
    pub fn max_score(&self) -> usize {
        self.steps.len()
    }

    /// The item's location: its difficulty, or the mean of its step difficulties.
    pub fn location(&self) -> f64 {
        self.steps.iter().sum::<f64>() / self.steps.len() as f64
    }

    /// Category probabilities P(X = 0..=k | θ) into `out` (length k + 1).
    pub fn probs(&self, theta: f64, out: &mut [f64]) {
        debug_assert_eq!(out.len(), self.steps.len() + 1);
        if self.steps.len() == 1 {
            // The dichotomous case in closed form: one exp instead of a softmax.
            let s = logistic(self.a * (theta - self.steps[0]));
            let p = self.c + (1.0 - self.c) * s;
            out[0] = 1.0 - p;
            out[1] = p;
            return;
        }
        let mut z = 0.0;
        let mut max = 0.0f64;
        out[0] = 0.0;
        for (k, b) in self.steps.iter().enumerate() {
            z += self.a * (theta - b);
            out[k + 1] = z;
            max = max.max(z);
        }
        let mut sum = 0.0;
        for v in out.iter_mut() {
            *v = libm::exp(*v - max);
            sum += *v;
        }
        for v in out.iter_mut() {
            *v /= sum;
        }
    }

    /// Expected score and its variance at θ.
    pub fn moments(&self, theta: f64, scratch: &mut [f64]) -> (f64, f64) {
        self.probs(theta, scratch);
        let mut mean = 0.0;
        let mut second = 0.0;
        for (k, p) in scratch.iter().enumerate() {
            mean += k as f64 * p;
            second += (k * k) as f64 * p;
        }
        (mean, (second - mean * mean).max(0.0))
    }

    /// Fisher information at θ.
    pub fn information(&self, theta: f64, scratch: &mut [f64]) -> f64 {
        if self.steps.len() == 1 {
            let s = logistic(self.a * (theta - self.steps[0]));
            let p = self.c + (1.0 - self.c) * s;
            // 3PL information (Birnbaum); with c = 0 it is a²·P·Q.
            let dp = self.a * (1.0 - self.c) * s * (1.0 - s);
            return if p <= 0.0 || p >= 1.0 { 0.0 } else { dp * dp / (p * (1.0 - p)) };
        }
        // GPCM: a² times the variance of the score.
        let (_, var) = self.moments(theta, scratch);
        self.a * self.a * var
    }
}

/// The logistic function, stable for large |x|.
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + libm::exp(-x))
    } else {
        let e = libm::exp(x);
        e / (1.0 + e)
    }
}
