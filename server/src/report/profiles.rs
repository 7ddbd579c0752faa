//! Student profiles: k-means (smartcore's seeded k-means++ and Lloyd iterations) over the four
//! literacy scale scores of a population's takers in the report year, with k chosen by the mean
//! silhouette, clusters put in a canonical order and each described in words.
//!
//! Profiles are fitted once for the whole region, so a class, a school and the city speak of the
//! same profiles and a group report gives its share of each.

use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::scoring::LITERACY_COUNT;
use super::text::{Lang, literacy_name, t};

/// k is chosen from this range.
pub const K_RANGE: std::ops::RangeInclusive<usize> = 2..=5;
/// The silhouette is computed on at most this many points (evenly spaced through the input): it
/// costs n², and a few thousand points estimate it closely.
pub const SILHOUETTE_SAMPLE: usize = 1500;
/// No profile may hold fewer than this share of takers: a profile of a handful is no profile.
pub const MIN_SHARE: f64 = 0.05;

/// A fitted set of profiles.
#[derive(Clone, Debug, PartialEq)]
pub struct Profiles {
    pub k: usize,
    /// Centroids (scale scores), in canonical order: highest mean first.
    pub centroids: Vec<[f64; LITERACY_COUNT]>,
    /// Each point's profile.
    pub labels: Vec<usize>,
    /// Mean silhouette of the chosen k (on the sample).
    pub silhouette: f64,
    /// Mean silhouette of every k tried (NaN where a profile was too small).
    pub tried: Vec<(usize, f64)>,
}

/// Fits profiles to `points` (four scale scores each); None with fewer than 20 points.
pub fn fit(points: &[[f64; LITERACY_COUNT]], seed: u64) -> Option<Profiles> {
    if points.len() < 20 {
        return None;
    }
    let rows: Vec<Vec<f64>> = points.iter().map(|p| p.to_vec()).collect();
    let matrix = DenseMatrix::from_2d_vec(&rows).ok()?;
    let step = points.len().div_ceil(SILHOUETTE_SAMPLE).max(1);
    let sample: Vec<usize> = (0..points.len()).step_by(step).collect();
    let mut best: Option<(f64, usize, Vec<usize>)> = None;
    let mut tried = Vec::new();
    for k in K_RANGE {
        let params = KMeansParameters { k, max_iter: 100, seed: Some(seed) };
        let Ok(model) = KMeans::<f64, usize, DenseMatrix<f64>, Vec<usize>>::fit(&matrix, params) else { continue };
        let Ok(labels) = model.predict(&matrix) else { continue };
        let mut sizes = vec![0usize; k];
        for &l in &labels {
            sizes[l] += 1;
        }
        if sizes.iter().any(|&s| (s as f64) < MIN_SHARE * points.len() as f64) {
            tried.push((k, f64::NAN));
            continue;
        }
        let s = silhouette(points, &labels, &sample, k);
        tried.push((k, s));
        // Ties go to the smaller k (a simpler description of the same structure).
        if best.as_ref().is_none_or(|b| s > b.0 + 1e-12) {
            best = Some((s, k, labels));
        }
    }
    let (silhouette, k, labels) = best?;
    // Centroids from the assignment, then a canonical order (highest mean first) so labels do
    // not depend on the initialisation's numbering.
    let mut sums = vec![[0.0; LITERACY_COUNT]; k];
    let mut counts = vec![0usize; k];
    for (p, &l) in points.iter().zip(&labels) {
        counts[l] += 1;
        for d in 0..LITERACY_COUNT {
            sums[l][d] += p[d];
        }
    }
    let centroids: Vec<[f64; LITERACY_COUNT]> = sums.iter().zip(&counts).map(|(s, &c)| s.map(|v| v / c.max(1) as f64)).collect();
    let mut order: Vec<usize> = (0..k).collect();
    let mean = |c: &[f64; LITERACY_COUNT]| c.iter().sum::<f64>() / LITERACY_COUNT as f64;
    order.sort_by(|&a, &b| mean(&centroids[b]).total_cmp(&mean(&centroids[a])).then(a.cmp(&b)));
    let mut rank = vec![0; k];
    for (r, &o) in order.iter().enumerate() {
        rank[o] = r;
    }
    Some(Profiles {
        k,
        centroids: order.iter().map(|&o| centroids[o].map(|v| (v * 10.0).round() / 10.0)).collect(),
        labels: labels.iter().map(|&l| rank[l]).collect(),
        silhouette: (silhouette * 1e4).round() / 1e4,
        tried: tried.into_iter().map(|(k, s)| (k, (s * 1e4).round() / 1e4)).collect(),
    })
}

/// Mean silhouette over the sample: (b − a) / max(a, b), a the mean distance to the point's own
/// cluster, b to the nearest other cluster (distances within the sample).
fn silhouette(points: &[[f64; LITERACY_COUNT]], labels: &[usize], sample: &[usize], k: usize) -> f64 {
    let dist = |a: &[f64; LITERACY_COUNT], b: &[f64; LITERACY_COUNT]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt();
    let mut total = 0.0;
    let mut n = 0usize;
    for &i in sample {
        let mut sum = vec![0.0; k];
        let mut count = vec![0usize; k];
        for &j in sample {
            if i != j {
                sum[labels[j]] += dist(&points[i], &points[j]);
                count[labels[j]] += 1;
            }
        }
        let own = labels[i];
        if count[own] == 0 {
            continue;
        }
        let a = sum[own] / count[own] as f64;
        let b = (0..k).filter(|&c| c != own && count[c] > 0).map(|c| sum[c] / count[c] as f64).fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b).max(1e-12);
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { total / n as f64 }
}

/// A profile's short name and description from its centroid: its overall height (mean above 540,
/// below 460 or between) and the literacy furthest from its own mean when that is 20 points or more.
pub fn describe(lang: Lang, centroid: &[f64; LITERACY_COUNT]) -> (String, String) {
    let mean = centroid.iter().sum::<f64>() / LITERACY_COUNT as f64;
    let overall = t(
        lang,
        if mean >= 540.0 {
            "overall_high"
        } else if mean <= 460.0 {
            "overall_low"
        } else {
            "overall_mid"
        },
    );
    let (d, dev) = centroid.iter().map(|v| v - mean).enumerate().fold((0, 0.0f64), |acc, (d, v)| if v.abs() > acc.1.abs() { (d, v) } else { acc });
    let pattern = if dev.abs() < 20.0 {
        t(lang, "balanced").to_string()
    } else {
        let name = literacy_name(lang, d);
        match (lang, dev > 0.0) {
            (Lang::Zh, true) => format!("{name}{}", t(lang, "relatively_strong")),
            (Lang::Zh, false) => format!("{name}{}", t(lang, "relatively_weak")),
            (Lang::En, true) => format!("{} {name}", t(lang, "relatively_strong")),
            (Lang::En, false) => format!("{} {name}", t(lang, "relatively_weak")),
        }
    };
    let name = match lang {
        Lang::Zh => format!("{overall}·{pattern}"),
        Lang::En => format!("{overall}, {pattern}"),
    };
    let scores: Vec<String> = (0..LITERACY_COUNT).map(|d| format!("{} {:.0}", literacy_name(lang, d), centroid[d])).collect();
    let description = match lang {
        Lang::Zh => format!("平均量表分{mean:.0}；{}。", scores.join("，")),
        Lang::En => format!("Mean scale score {mean:.0}; {}.", scores.join(", ")),
    };
    (name, description)
}
