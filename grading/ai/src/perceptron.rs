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
}
