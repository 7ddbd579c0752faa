//! Rosenblatt's perceptron, by hand: the `ai-perceptron` lab draws the
//! decision boundary after every step, so training is a public step API
//! ([`Perceptron::step`]) rather than a library call. Multi-class: one weight
//! vector per label; a mistake moves the right label's vector towards the
//! sample and the predicted label's away from it.

use std::ops::ControlFlow;

use crate::dataset::SplitMix64;
use crate::model::{Layer, Model};
use crate::train::{EpochReport, Prepared, TrainError, measure, network_input};

/// A perceptron over `inputs` values for `labels` labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Perceptron {
    /// `[label][input]` weights.
    pub weights: Vec<Vec<f32>>,
    /// One bias per label.
    pub bias: Vec<f32>,
    /// Step size (1 is Rosenblatt's).
    pub learning_rate: f32,
}

/// What one step did, for drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The label the perceptron predicted before the step.
    pub predicted: usize,
    /// The sample's label.
    pub target: usize,
    /// Whether the weights changed (only on a mistake).
    pub changed: bool,
}

impl Perceptron {
    /// All-zero weights.
    pub fn new(inputs: usize, labels: usize) -> Perceptron {
        Perceptron { weights: vec![vec![0.0; inputs]; labels], bias: vec![0.0; labels], learning_rate: 1.0 }
    }

    /// Each label's score for `x`.
    pub fn scores(&self, x: &[f32]) -> Vec<f32> {
        self.weights
            .iter()
            .zip(&self.bias)
            .map(|(w, &b)| {
                let mut acc = b;
                for (wv, xv) in w.iter().zip(x) {
                    acc += wv * xv;
                }
                acc
            })
            .collect()
    }

    /// The predicted label.
    pub fn predict(&self, x: &[f32]) -> usize {
        crate::infer::argmax(&self.scores(x))
    }

    /// Shows the perceptron one sample: on a mistake, adds it to the right
    /// label's weights and subtracts it from the predicted label's.
    pub fn step(&mut self, x: &[f32], target: usize) -> Update {
        let predicted = self.predict(x);
        let changed = predicted != target && target < self.weights.len();
        if changed {
            let lr = self.learning_rate;
            for (w, &v) in self.weights[target].iter_mut().zip(x) {
                *w += lr * v;
            }
            for (w, &v) in self.weights[predicted].iter_mut().zip(x) {
                *w -= lr * v;
            }
            self.bias[target] += lr;
            self.bias[predicted] -= lr;
        }
        Update { predicted, target, changed }
    }
}

/// Mean and 1/standard deviation of each value over `points` (a constant
/// value gets scale 1), as a `standardize` layer holds them: the step views
/// standardize their points the way training does.
pub fn standardization(points: &[Vec<f32>]) -> (Vec<f32>, Vec<f32>) {
    let n = points.first().map_or(0, Vec::len);
    let count = points.len().max(1) as f64;
    let mut mean = vec![0.0f64; n];
    for p in points {
        for (m, &v) in mean.iter_mut().zip(p) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= count);
    let mut var = vec![0.0f64; n];
    for p in points {
        for ((s, &v), m) in var.iter_mut().zip(p).zip(&mean) {
            *s += (f64::from(v) - m).powi(2);
        }
    }
    let scale = var.iter().map(|s| (s / count).sqrt()).map(|sd| if sd > 1e-9 { (1.0 / sd) as f32 } else { 1.0 }).collect();
    (mean.iter().map(|&m| m as f32).collect(), scale)
}

/// `(x - mean) * scale`, value by value.
pub fn standardize(x: &[f32], mean: &[f32], scale: &[f32]) -> Vec<f32> {
    x.iter().zip(mean).zip(scale).map(|((&v, &m), &s)| (v - m) * s).collect()
}

/// Training one sample at a time, for the studio's live view of the
/// decision boundary: standardized points, zero weights, and a shuffle of
/// the points seeded with the seed at every pass (the same algorithm as
/// `qiming ai train --model perceptron`). The same seed and points give the
/// same sequence of steps on every machine.
#[derive(Clone, Debug)]
pub struct Stepper {
    /// The weights so far (over standardized values).
    pub perceptron: Perceptron,
    /// The standardization's means.
    pub mean: Vec<f32>,
    /// The standardization's scales.
    pub scale: Vec<f32>,
    points: Vec<Vec<f32>>,
    targets: Vec<usize>,
    order: Vec<usize>,
    rng: SplitMix64,
    position: usize,
    /// Passes over the points completed.
    pub epoch: u32,
    /// Steps taken.
    pub steps: u64,
    /// Mistakes (weight changes) in the current pass.
    pub mistakes: usize,
    /// The point shown last and what it did.
    pub last: Option<(usize, Update)>,
}

impl Stepper {
    /// A stepper over raw `points` with label indices `targets` (below `labels`).
    pub fn new(points: &[Vec<f32>], targets: Vec<usize>, labels: usize, seed: u64) -> Stepper {
        let (mean, scale) = standardization(points);
        let standardized: Vec<Vec<f32>> = points.iter().map(|p| standardize(p, &mean, &scale)).collect();
        let mut rng = SplitMix64::new(seed);
        let mut order: Vec<usize> = (0..points.len()).collect();
        rng.shuffle(&mut order);
        let inputs = mean.len();
        Stepper {
            perceptron: Perceptron::new(inputs, labels.max(1)),
            mean,
            scale,
            points: standardized,
            targets,
            order,
            rng,
            position: 0,
            epoch: 0,
            steps: 0,
            mistakes: 0,
            last: None,
        }
    }

    /// Shows the perceptron the next point (a new pass reshuffles). Returns
    /// the point's index and what the step did; `None` without points.
    pub fn step(&mut self) -> Option<(usize, Update)> {
        if self.points.is_empty() {
            return None;
        }
        if self.position == self.order.len() {
            self.epoch += 1;
            self.position = 0;
            self.mistakes = 0;
            self.rng.shuffle(&mut self.order);
        }
        let i = self.order[self.position];
        self.position += 1;
        self.steps += 1;
        let update = self.perceptron.step(&self.points[i], self.targets[i]);
        self.mistakes += usize::from(update.changed);
        self.last = Some((i, update.clone()));
        Some((i, update))
    }

    /// The label predicted for a raw point.
    pub fn predict(&self, raw: &[f32]) -> usize {
        self.perceptron.predict(&standardize(raw, &self.mean, &self.scale))
    }

    /// The fraction of the points predicted right now.
    pub fn accuracy(&self) -> f64 {
        let right = self.points.iter().zip(&self.targets).filter(|(p, t)| self.perceptron.predict(p) == **t).count();
        right as f64 / self.points.len().max(1) as f64
    }

    /// Where labels `a` and `b` score the same, in raw coordinates: `coef`
    /// and `constant` with `coef · x + constant = 0` (a line for two values).
    pub fn boundary(&self, a: usize, b: usize) -> Option<(Vec<f32>, f32)> {
        let (wa, wb) = (self.perceptron.weights.get(a)?, self.perceptron.weights.get(b)?);
        let mut constant = self.perceptron.bias[a] - self.perceptron.bias[b];
        let mut coef = Vec::with_capacity(wa.len());
        for k in 0..wa.len() {
            let w = (wa[k] - wb[k]) * self.scale[k];
            coef.push(w);
            constant -= w * self.mean[k];
        }
        Some((coef, constant))
    }
}

pub(crate) fn train(
    mut model: Model,
    data: &Prepared,
    epochs: u32,
    rng: &mut SplitMix64,
    progress: &mut dyn FnMut(&EpochReport) -> ControlFlow<()>,
) -> Result<(Model, Vec<EpochReport>), TrainError> {
    let n_labels = model.header.labels.len();
    let inputs: Vec<Vec<f32>> = data.raw.iter().map(|x| network_input(&model, x)).collect();
    let n = inputs.first().map_or(0, Vec::len);
    let mut p = Perceptron::new(n, n_labels);
    let mut order = data.train.clone();
    let mut reports = Vec::new();
    for epoch in 1..=epochs {
        rng.shuffle(&mut order);
        let mistakes = order.iter().filter(|&&i| p.step(&inputs[i], data.targets[i]).changed).count();
        // The dense layer after `standardize` holds [label][input] then the biases.
        let start = match model.header.layers.first() {
            Some(Layer::Standardize { n }) => 2 * n,
            _ => 0,
        };
        let dense: Vec<f32> = p.weights.iter().flatten().chain(&p.bias).copied().collect();
        model.weights.truncate(start);
        model.weights.extend(dense);
        let (accuracy, _) = measure(&model, data, &data.train);
        let validation_accuracy = (!data.test.is_empty()).then(|| measure(&model, data, &data.test).0);
        let report = EpochReport { epoch, epochs, loss: mistakes as f64 / order.len() as f64, accuracy, validation_accuracy, validation_loss: None };
        let flow = progress(&report);
        reports.push(report);
        if flow.is_break() {
            return Err(TrainError::Cancelled);
        }
    }
    if model.weights.iter().any(|w| !w.is_finite()) {
        return Err(TrainError::Diverged);
    }
    Ok((model, reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistake_moves_the_boundary_and_a_right_answer_does_not() {
        let mut p = Perceptron::new(2, 2);
        let u = p.step(&[1.0, 2.0], 1);
        assert_eq!(u, Update { predicted: 0, target: 1, changed: true });
        assert_eq!(p.weights, vec![vec![-1.0, -2.0], vec![1.0, 2.0]]);
        assert_eq!(p.bias, vec![-1.0, 1.0]);
        let u = p.step(&[1.0, 2.0], 1);
        assert!(!u.changed);
        assert_eq!(p.predict(&[-1.0, -1.0]), 0);
    }

    #[test]
    fn the_stepper_separates_two_groups_and_is_seeded() {
        let mut points = Vec::new();
        let mut targets = Vec::new();
        for i in 0..20 {
            let e = i as f32 * 0.01;
            points.push(vec![0.2 + e, 0.3]);
            targets.push(0);
            points.push(vec![0.8 + e, 0.6]);
            targets.push(1);
        }
        let run = |seed| {
            let mut s = Stepper::new(&points, targets.clone(), 2, seed);
            let shown: Vec<usize> = (0..120).filter_map(|_| s.step().map(|(i, _)| i)).collect();
            (s, shown)
        };
        let (s, shown) = run(7);
        assert_eq!(s.epoch, 2);
        assert_eq!(s.accuracy(), 1.0);
        assert_eq!(s.predict(&[0.1, 0.3]), 0);
        assert_eq!(s.predict(&[0.9, 0.6]), 1);
        // The boundary in raw coordinates separates the groups too.
        let (coef, c) = s.boundary(1, 0).unwrap();
        let side = |p: &[f32]| coef[0] * p[0] + coef[1] * p[1] + c;
        assert!(side(&[0.2, 0.3]) < 0.0 && side(&[0.8, 0.6]) > 0.0);
        assert_eq!(run(7).1, shown);
        assert_ne!(run(8).1, shown);
    }
}
