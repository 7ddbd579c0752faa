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

/// Lloyd's iterations one at a time, for the studio's live view of clusters
/// and centroids: standardized points (as training standardizes them),
/// seeded k-means++ initialisation. The same seed and points give the same
/// steps on every machine.
#[derive(Clone, Debug)]
pub struct Stepper {
    /// Centroids (over standardized values) and assignments so far.
    pub kmeans: KMeans,
    /// The standardization's means.
    pub mean: Vec<f32>,
    /// The standardization's scales.
    pub scale: Vec<f32>,
    points: Vec<Vec<f32>>,
    /// Iterations taken.
    pub iterations: u32,
    /// What the last iteration did.
    pub last: Option<KMeansStep>,
}

impl Stepper {
    /// `k` clusters over raw `points`; `None` without points or clusters.
    pub fn new(points: &[Vec<f32>], k: usize, seed: u64) -> Option<Stepper> {
        if points.is_empty() || k == 0 {
            return None;
        }
        let (mean, scale) = crate::perceptron::standardization(points);
        let standardized: Vec<Vec<f32>> = points.iter().map(|p| crate::perceptron::standardize(p, &mean, &scale)).collect();
        let kmeans = KMeans::init(&standardized, k.min(points.len()), &mut SplitMix64::new(seed));
        Some(Stepper { kmeans, mean, scale, points: standardized, iterations: 0, last: None })
    }

    /// One iteration: assign, then move the centroids.
    pub fn step(&mut self) -> KMeansStep {
        let step = self.kmeans.step(&self.points);
        self.iterations += 1;
        self.last = Some(step.clone());
        step
    }

    /// Whether the last iteration moved no point to another cluster.
    pub fn converged(&self) -> bool {
        self.last.as_ref().is_some_and(|s| s.changed == 0)
    }

    /// The centroids in raw coordinates.
    pub fn centroids(&self) -> Vec<Vec<f32>> {
        self.kmeans.centroids.iter().map(|c| c.iter().zip(&self.mean).zip(&self.scale).map(|((&v, &m), &s)| v / s + m).collect()).collect()
    }

    /// The cluster of each point (`usize::MAX` before the first step).
    pub fn assignments(&self) -> &[usize] {
        &self.kmeans.assignments
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

    #[test]
    fn the_stepper_moves_centroids_to_the_blobs_in_raw_units() {
        let pts: Vec<Vec<f32>> = (0..20).map(|i| if i % 2 == 0 { vec![0.2, 1.0] } else { vec![0.8, 3.0] }).collect();
        let mut s = Stepper::new(&pts, 2, 3).unwrap();
        assert!(s.assignments().iter().all(|&a| a == usize::MAX));
        while !s.converged() && s.iterations < 10 {
            s.step();
        }
        assert!(s.converged());
        let mut c = s.centroids();
        c.sort_by(|a, b| a[0].total_cmp(&b[0]));
        assert!((c[0][0] - 0.2).abs() < 1e-5 && (c[0][1] - 1.0).abs() < 1e-5, "{c:?}");
        assert!((c[1][0] - 0.8).abs() < 1e-5 && (c[1][1] - 3.0).abs() < 1e-5, "{c:?}");
        assert!(Stepper::new(&[], 2, 1).is_none());
    }
}
