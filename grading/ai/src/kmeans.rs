//! k-means clustering, by hand: the `ai-kmeans` lab draws the clusters and
//! centroids as they move, so each Lloyd iteration is a public step
//! ([`KMeans::step`]). Written here rather than taken from linfa because the
//! step is the lesson and linfa's API fits to convergence in one call; it is
//! seeded k-means++ initialisation plus Lloyd's algorithm in a fixed order.
//! Each cluster is named by the majority label of its training members.

use std::ops::ControlFlow;

use crate::dataset::SplitMix64;
use crate::model::{Layer, Model};
use crate::train::{EpochReport, Prepared, TrainError, measure, network_input};

/// Clusters of points.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeans {
    /// `[cluster][value]`.
    pub centroids: Vec<Vec<f32>>,
    /// The cluster of each point after the last step.
    pub assignments: Vec<usize>,
}

/// What one step did, for drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansStep {
    /// Points that changed cluster.
    pub changed: usize,
    /// Mean squared distance of the points to their centroids (before moving them).
    pub inertia: f64,
}

fn dist2(a: &[f32], b: &[f32]) -> f32 {
    let mut d = 0.0;
    for (x, y) in a.iter().zip(b) {
        d += (x - y) * (x - y);
    }
    d
}

fn nearest(centroids: &[Vec<f32>], x: &[f32]) -> (usize, f32) {
    let mut best = (0, f32::INFINITY);
    for (j, c) in centroids.iter().enumerate() {
        let d = dist2(c, x);
        if d < best.1 {
            best = (j, d);
        }
    }
    best
}

impl KMeans {
    /// k-means++: the first centroid a random point, each next one a point
    /// drawn with probability proportional to its squared distance to the
    /// nearest centroid so far. `points` must not be empty.
    pub fn init(points: &[Vec<f32>], k: usize, rng: &mut SplitMix64) -> KMeans {
        let mut centroids = vec![points[rng.below(points.len())].clone()];
        while centroids.len() < k {
            let d: Vec<f64> = points.iter().map(|p| f64::from(nearest(&centroids, p).1)).collect();
            let total: f64 = d.iter().sum();
            let next = if total > 0.0 {
                let mut r = rng.unit_f64() * total;
                d.iter()
                    .position(|&di| {
                        r -= di;
                        r < 0.0
                    })
                    .unwrap_or(points.len() - 1)
            } else {
                rng.below(points.len())
            };
            centroids.push(points[next].clone());
        }
        KMeans { centroids, assignments: vec![usize::MAX; points.len()] }
    }

    /// One Lloyd iteration: assign each point to its nearest centroid, then
    /// move each centroid to the mean of its points (an empty cluster stays put).
    pub fn step(&mut self, points: &[Vec<f32>]) -> KMeansStep {
        let (mut changed, mut inertia) = (0, 0.0f64);
        self.assignments.resize(points.len(), usize::MAX);
        for (p, a) in points.iter().zip(self.assignments.iter_mut()) {
            let (j, d) = nearest(&self.centroids, p);
            changed += usize::from(*a != j);
            *a = j;
            inertia += f64::from(d);
        }
        let dim = self.centroids.first().map_or(0, Vec::len);
        let mut sums = vec![vec![0.0f64; dim]; self.centroids.len()];
        let mut counts = vec![0usize; self.centroids.len()];
        for (p, &a) in points.iter().zip(&self.assignments) {
            counts[a] += 1;
            for (s, &v) in sums[a].iter_mut().zip(p) {
                *s += f64::from(v);
            }
        }
        for ((c, s), &n) in self.centroids.iter_mut().zip(&sums).zip(&counts) {
            if n > 0 {
                for (cv, sv) in c.iter_mut().zip(s) {
                    *cv = (sv / n as f64) as f32;
                }
            }
        }
        KMeansStep { changed, inertia: inertia / points.len().max(1) as f64 }
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
    let points: Vec<Vec<f32>> = data.train.iter().map(|&i| network_input(&model, &data.raw[i])).collect();
    let targets: Vec<usize> = data.train.iter().map(|&i| data.targets[i]).collect();
    let k = n_labels.min(points.len());
    let mut km = KMeans::init(&points, k, rng);
    let start = match model.header.layers.first() {
        Some(Layer::Standardize { n }) => 2 * n,
        _ => 0,
    };
    let mut reports = Vec::new();
    for epoch in 1..=epochs {
        let step = km.step(&points);
        // Name each cluster by its members' majority label (lowest label on a
        // tie); an empty cluster takes the label of the point nearest to it.
        let mut votes = vec![vec![0usize; n_labels]; k];
        for (&a, &t) in km.assignments.iter().zip(&targets) {
            votes[a][t] += 1;
        }
        let cluster_labels: Vec<usize> = (0..k)
            .map(|j| {
                if votes[j].iter().all(|&v| v == 0) {
                    let (i, _) = nearest(&points, &km.centroids[j]);
                    return targets[i];
                }
                let max = votes[j].iter().copied().max().unwrap_or(0);
                votes[j].iter().position(|&v| v == max).unwrap_or(0)
            })
            .collect();
        let dim = points.first().map_or(0, Vec::len);
        model.header.layers.retain(|l| !matches!(l, Layer::Nearest { .. }));
        model.header.layers.push(Layer::Nearest { k, dim, cluster_labels });
        model.weights.truncate(start);
        model.weights.extend(km.centroids.iter().flatten());
        model.header.parameters = model.weights.len() as u64;
        let (accuracy, _) = measure(&model, data, &data.train);
        let validation_accuracy = (!data.test.is_empty()).then(|| measure(&model, data, &data.test).0);
        let report = EpochReport { epoch, epochs, loss: step.inertia, accuracy, validation_accuracy, validation_loss: None };
        let flow = progress(&report);
        reports.push(report);
        if flow.is_break() {
            return Err(TrainError::Cancelled);
        }
        if step.changed == 0 {
            break;
        }
    }
    let model = Model::new(model.header, model.weights)?;
    Ok((model, reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_blobs_separate_and_steps_converge() {
        let mut pts = Vec::new();
        for i in 0..10 {
            let e = i as f32 * 0.01;
            pts.push(vec![0.0 + e, 0.0]);
            pts.push(vec![5.0 + e, 5.0]);
        }
        let mut km = KMeans::init(&pts, 2, &mut SplitMix64::new(1));
        let first = km.step(&pts);
        assert_eq!(first.changed, 20);
        let mut last = first;
        for _ in 0..10 {
            last = km.step(&pts);
        }
        assert_eq!(last.changed, 0);
        assert_ne!(km.assignments[0], km.assignments[1]);
        assert!(km.assignments.iter().step_by(2).all(|&a| a == km.assignments[0]));
    }
}
