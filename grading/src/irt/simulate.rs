//! Simulated response matrices with known item and ability parameters, for recovery tests and benchmarks.

use super::data::{MISSING, Responses};
use super::model::{Item, Model};
use super::random::Rng;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimulationOptions {
    /// The generating model.
    pub model: Model,
    /// Number of students.
    pub students: usize,
    /// Mean of the students' θ (0: the calibration's own scale).
    pub ability_mean: f64,
    /// SD of the students' θ (1: the calibration's own scale).
    pub ability_sd: f64,
    /// Number of items.
    pub items: usize,
    /// Seed for everything random.
    pub seed: u64,
    /// GPCM: highest score of a polytomous item (every fourth item is dichotomous).
    pub max_score: usize,
    /// Share of cells left empty (not presented), completely at random.
    pub missing: f64,
}

impl SimulationOptions {
    /// Complete data, GPCM items scored 0..3.
    pub fn new(model: Model, students: usize, items: usize, seed: u64) -> SimulationOptions {
        SimulationOptions { model, students, items, seed, ability_mean: 0.0, ability_sd: 1.0, max_score: 3, missing: 0.0 }
    }
}

/// Item ids `i01`, `i02`, … (zero-padded to sort in order).
pub fn item_id(j: usize, count: usize) -> String {
    format!("i{:0width$}", j + 1, width = count.to_string().len().max(2))
}

/// Student ids `s0001`, … (zero-padded).
pub fn person_id(i: usize, count: usize) -> String {
    format!("s{:0width$}", i + 1, width = count.to_string().len().max(4))
}

/// Simulates responses; returns them with the generating item parameters and abilities
/// (θ ~ N(`ability_mean`, `ability_sd`²): another cohort than the reference, for linking).
///
/// Item parameters come from their own PCG stream, abilities and responses from others, so
/// the same seed with more students keeps the same items. Discriminations are log-normal
/// (ln a ~ N(0, 0.3²), kept in 0.5..2.5), difficulties N(0, 1) kept in ±2.5, 3PL
/// asymptotes uniform in 0.1..0.3; GPCM steps spread around the item's location.
pub fn simulate(options: &SimulationOptions) -> (Responses, Vec<Item>, Vec<f64>) {
    let mut item_rng = Rng::new(options.seed, 1);
    let max_score = options.max_score.clamp(1, usize::from(super::model::MAX_CATEGORY));
    let items: Vec<Item> = (0..options.items)
        .map(|j| {
            let a = if options.model == Model::Rasch { 1.0 } else { libm::exp(0.3 * item_rng.normal()).clamp(0.5, 2.5) };
            let b = item_rng.normal().clamp(-2.5, 2.5);
            match options.model {
                Model::ThreePl => Item::dichotomous(a, b, 0.1 + 0.2 * item_rng.uniform()),
                Model::Gpcm if j % 4 != 3 && max_score > 1 => {
                    let k = max_score;
                    let steps = (0..k)
                        .map(|v| {
                            let spread = if k == 1 { 0.0 } else { -1.0 + 2.0 * v as f64 / (k - 1) as f64 };
                            b + 0.9 * spread + 0.2 * item_rng.normal()
                        })
                        .collect();
                    Item { a, steps, c: 0.0 }
                }
                _ => Item::dichotomous(a, b, 0.0),
            }
        })
        .collect();
    let mut theta_rng = Rng::new(options.seed, 2);
    let thetas: Vec<f64> = (0..options.students).map(|_| options.ability_mean + options.ability_sd * theta_rng.normal()).collect();
    let mut rng = Rng::new(options.seed, 3);
    let mut scores = Vec::with_capacity(options.students * options.items);
    let mut probs = vec![0.0; max_score + 1];
    for &theta in &thetas {
        for it in &items {
            let p = &mut probs[..it.steps.len() + 1];
            it.probs(theta, p);
            let u = rng.uniform();
            let mut k = 0;
            let mut acc = p[0];
            while u >= acc && k + 1 < p.len() {
                k += 1;
                acc += p[k];
            }
            // The missing draw is taken for every cell so the pattern does not shift the responses.
            let hide = rng.uniform() < options.missing;
            scores.push(if hide { MISSING } else { k as u8 });
        }
    }
    let responses = Responses {
        persons: (0..options.students).map(|i| person_id(i, options.students)).collect(),
        items: (0..options.items).map(|j| item_id(j, options.items)).collect(),
        scores,
        lines: (0..options.students as u64).map(|i| i + 2).collect(),
    };
    (responses, items, thetas)
}
