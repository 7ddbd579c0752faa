//! Linking a new calibration onto a base scale through anchor items: mean–sigma and Stocking–Lord.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::Item;
use super::score::Grid;

/// How the linking constants are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LinkMethod {
    /// Matches the mean and SD of the anchors' difficulties (all steps of polytomous anchors).
    #[serde(rename = "mean-sigma")]
    MeanSigma,
    /// Minimises the squared difference of the anchors' test characteristic curves over N(0, 1).
    #[serde(rename = "stocking-lord")]
    StockingLord,
}

/// θ on the base scale = slope · θ on the new scale + intercept.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Link {
    /// The method.
    pub method: LinkMethod,
    /// A.
    pub slope: f64,
    /// B.
    pub intercept: f64,
    /// Anchor item ids used, in the new calibration's order.
    pub anchors: Vec<String>,
}

/// Why linking failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Too few common items.
    #[error("linking needs at least 2 anchor items (items with the same id in both calibrations); found {0}")]
    TooFewAnchors(usize),
    /// The anchors' difficulties do not vary.
    #[error("the anchor items' difficulties do not vary; the scales cannot be linked")]
    Degenerate,
}

impl Link {
    /// An item of the new calibration on the base scale: a/A, b·A + B, c unchanged.
    pub fn item(&self, it: &Item) -> Item {
        Item { a: it.a / self.slope, steps: it.steps.iter().map(|b| self.slope * b + self.intercept).collect(), c: it.c }
    }

    /// A θ of the new calibration on the base scale.
    pub fn theta(&self, theta: f64) -> f64 {
        self.slope * theta + self.intercept
    }
}

/// Links `new` onto `base` through the items they share (same id, same number of steps).
pub fn link(base: &[(String, Item)], new: &[(String, Item)], method: LinkMethod) -> Result<Link, LinkError> {
    let base_by_id: BTreeMap<&str, &Item> = base.iter().map(|(id, it)| (id.as_str(), it)).collect();
    let pairs: Vec<(&str, &Item, &Item)> =
        new.iter().filter_map(|(id, it)| base_by_id.get(id.as_str()).filter(|b| b.steps.len() == it.steps.len()).map(|b| (id.as_str(), *b, it))).collect();
    if pairs.len() < 2 {
        return Err(LinkError::TooFewAnchors(pairs.len()));
    }
    let xs: Vec<f64> = pairs.iter().flat_map(|p| p.1.steps.iter().copied()).collect();
    let ys: Vec<f64> = pairs.iter().flat_map(|p| p.2.steps.iter().copied()).collect();
    let (mx, sx) = mean_sd(&xs);
    let (my, sy) = mean_sd(&ys);
    if !(sx > 1e-9 && sy > 1e-9) {
        return Err(LinkError::Degenerate);
    }
    let slope = sx / sy;
    let mut link = Link { method: LinkMethod::MeanSigma, slope, intercept: mx - slope * my, anchors: pairs.iter().map(|p| p.0.to_string()).collect() };
    if method == LinkMethod::StockingLord {
        let base_items: Vec<Item> = pairs.iter().map(|p| p.1.clone()).collect();
        let new_items: Vec<Item> = pairs.iter().map(|p| p.2.clone()).collect();
        let (a, b) = stocking_lord(&base_items, &new_items, link.slope, link.intercept);
        link = Link { method, slope: a, intercept: b, ..link };
    }
    Ok(link)
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (m, (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt())
}

/// The Stocking–Lord criterion: Σ_q w_q (TCC_base(θ_q) − TCC_new→base(θ_q))² over a N(0, 1) grid on the base scale.
fn criterion(base: &[Item], new: &[Item], slope: f64, intercept: f64, grid: &Grid, scratch: &mut [f64]) -> f64 {
    let link = Link { method: LinkMethod::StockingLord, slope, intercept, anchors: Vec::new() };
    let moved: Vec<Item> = new.iter().map(|it| link.item(it)).collect();
    let mut f = 0.0;
    for (&t, &w) in grid.points.iter().zip(&grid.weights) {
        let tb: f64 = base.iter().map(|it| it.moments(t, &mut scratch[..it.steps.len() + 1]).0).sum();
        let tn: f64 = moved.iter().map(|it| it.moments(t, &mut scratch[..it.steps.len() + 1]).0).sum();
        f += w * (tb - tn) * (tb - tn);
    }
    f
}

/// Minimises the criterion from the mean–sigma start: Newton with central-difference
/// derivatives, a Levenberg term when the Hessian is not positive definite, and halving.
fn stocking_lord(base: &[Item], new: &[Item], slope0: f64, intercept0: f64) -> (f64, f64) {
    let grid = Grid::normal(41, 4.0);
    let top = base.iter().chain(new).map(|it| it.steps.len()).max().unwrap_or(1);
    let mut scratch = vec![0.0; top + 1];
    let mut x = [slope0.max(0.05), intercept0];
    let mut f = |p: [f64; 2]| criterion(base, new, p[0], p[1], &grid, &mut scratch);
    let mut fx = f(x);
    let h = 1e-4;
    for _ in 0..100 {
        let e = |i: usize, d: f64| {
            let mut p = x;
            p[i] += d;
            p
        };
        let g = [(f(e(0, h)) - f(e(0, -h))) / (2.0 * h), (f(e(1, h)) - f(e(1, -h))) / (2.0 * h)];
        let h00 = (f(e(0, h)) - 2.0 * fx + f(e(0, -h))) / (h * h);
        let h11 = (f(e(1, h)) - 2.0 * fx + f(e(1, -h))) / (h * h);
        let pp = [x[0] + h, x[1] + h];
        let pm = [x[0] + h, x[1] - h];
        let mp = [x[0] - h, x[1] + h];
        let mm = [x[0] - h, x[1] - h];
        let h01 = (f(pp) - f(pm) - f(mp) + f(mm)) / (4.0 * h * h);
        let mut lambda = 0.0;
        let mut step = [0.0; 2];
        for _ in 0..20 {
            let (a, d) = (h00 + lambda, h11 + lambda);
            let det = a * d - h01 * h01;
            if a > 0.0 && det > 0.0 {
                step = [-(d * g[0] - h01 * g[1]) / det, -(a * g[1] - h01 * g[0]) / det];
                break;
            }
            lambda = if lambda == 0.0 { 1e-6 + h00.abs().max(h11.abs()) * 1e-3 } else { lambda * 10.0 };
        }
        let mut t = 1.0;
        let mut improved = false;
        while t > 1e-8 {
            let trial = [(x[0] + t * step[0]).max(0.01), x[1] + t * step[1]];
            let ft = f(trial);
            if ft < fx {
                let moved = (trial[0] - x[0]).abs().max((trial[1] - x[1]).abs());
                x = trial;
                fx = ft;
                improved = moved > 1e-10;
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    (x[0], x[1])
}
