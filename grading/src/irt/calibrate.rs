//! Marginal maximum likelihood calibration by EM over a fixed quadrature grid (Bock–Aitkin), then EAP scores and item fit.

use super::data::{MISSING, Responses};
use super::model::{Item, Model, logistic};
use super::parallel::chunked;
use super::score::{Grid, eap_scores};

/// How a calibration runs. The defaults are what `qiming assess calibrate` uses.
#[derive(Clone, Debug)]
pub struct CalibrationOptions {
    /// The model to fit.
    pub model: Model,
    /// Quadrature points for the EM (equally spaced; weights from the N(0, 1) density).
    pub quadrature_points: usize,
    /// The grid spans −range..=range.
    pub quadrature_range: f64,
    /// Points of the (finer) grid used for the final EAP scores.
    pub scoring_points: usize,
    /// EM cycles at most.
    pub max_iterations: usize,
    /// Converged when no item parameter (a, b or step, c) moved more than this in a cycle.
    pub tolerance: f64,
    /// Worker threads (results do not depend on it).
    pub threads: usize,
    /// 3PL: Beta(α, β) prior on the lower asymptote c.
    pub guessing_prior: (f64, f64),
    /// 3PL: standard deviation of the normal prior on ln a (mean 0).
    pub log_slope_prior_sd: f64,
    /// Compute item parameter standard errors (cross-product information; costs about two EM cycles
    /// plus students × parameters² / 2).
    pub standard_errors: bool,
}

impl CalibrationOptions {
    /// The documented defaults for `model` (docs/assessment.md).
    pub fn new(model: Model) -> CalibrationOptions {
        CalibrationOptions {
            model,
            quadrature_points: 41,
            quadrature_range: 6.0,
            scoring_points: 81,
            max_iterations: 500,
            tolerance: 1e-4,
            threads: 1,
            guessing_prior: (5.0, 17.0),
            log_slope_prior_sd: 0.5,
            standard_errors: false,
        }
    }
}

/// One calibrated item.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibratedItem {
    /// Item id (header name).
    pub id: String,
    /// Estimated parameters.
    pub item: Item,
    /// Students who were presented the item.
    pub n: usize,
    /// Information-weighted mean square residual (expected 1).
    pub infit: f64,
    /// Unweighted mean square of standardised residuals (expected 1; sensitive to outliers).
    pub outfit: f64,
    /// Standard errors, when asked for and the information matrix could be inverted.
    pub se: Option<ItemSe>,
}

/// Standard errors of one item's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSe {
    /// Of the discrimination (none for Rasch: fixed).
    pub a: Option<f64>,
    /// Of the difficulty (GPCM: of the mean of the steps).
    pub b: f64,
    /// Of the asymptote (3PL only).
    pub c: Option<f64>,
    /// Of each step difficulty.
    pub steps: Vec<f64>,
}

/// An item left out of the calibration and why.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ExcludedItem {
    /// Item id.
    pub id: String,
    /// Why (English, for specialists).
    pub reason: String,
}

/// One student's ability estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonEstimate {
    /// Student id.
    pub id: String,
    /// EAP estimate of θ.
    pub theta: f64,
    /// Posterior standard deviation (the standard error of the EAP).
    pub se: f64,
    /// Items the student answered (among calibrated items).
    pub answered: usize,
}

/// The result of a calibration.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The model fitted.
    pub model: Model,
    /// Calibrated items, in header order.
    pub items: Vec<CalibratedItem>,
    /// Items that could not be calibrated.
    pub excluded: Vec<ExcludedItem>,
    /// Students, in file order.
    pub persons: Vec<PersonEstimate>,
    /// EM cycles run.
    pub iterations: usize,
    /// Whether the tolerance was reached within `max_iterations`.
    pub converged: bool,
    /// Marginal log-likelihood at the last E-step (priors not included).
    pub log_likelihood: f64,
    /// Things a specialist should look at (empty categories, parameters at their bounds).
    pub warnings: Vec<String>,
}

impl Calibration {
    /// Free item parameters: Rasch 1, 2PL 2, 3PL 3 per item, GPCM 1 + k for an item scored 0..k.
    pub fn parameters(&self) -> usize {
        self.items
            .iter()
            .map(|ci| match self.model {
                Model::Rasch => 1,
                Model::TwoPl => 2,
                Model::ThreePl => 3,
                Model::Gpcm => 1 + ci.item.steps.len(),
            })
            .sum()
    }

    /// Akaike's information criterion, −2·log L + 2·parameters (smaller is better; compares models on the same data).
    pub fn aic(&self) -> f64 {
        -2.0 * self.log_likelihood + 2.0 * self.parameters() as f64
    }

    /// Schwarz's Bayesian information criterion, −2·log L + parameters·ln(students who answered anything).
    pub fn bic(&self) -> f64 {
        let n = self.persons.iter().filter(|p| p.answered > 0).count().max(1);
        -2.0 * self.log_likelihood + self.parameters() as f64 * libm::log(n as f64)
    }

    /// Marginal (EAP) reliability: Var(EAP) / (Var(EAP) + mean SE²), over students who answered anything.
    pub fn reliability(&self) -> f64 {
        let answered: Vec<&PersonEstimate> = self.persons.iter().filter(|p| p.answered > 0).collect();
        let n = answered.len().max(1) as f64;
        let mean = answered.iter().map(|p| p.theta).sum::<f64>() / n;
        let var = answered.iter().map(|p| (p.theta - mean) * (p.theta - mean)).sum::<f64>() / n;
        let err = answered.iter().map(|p| p.se * p.se).sum::<f64>() / n;
        if var + err > 0.0 { var / (var + err) } else { 0.0 }
    }
}

/// Why a calibration could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalibrationError {
    /// A score the model does not take.
    #[error(transparent)]
    Data(#[from] super::data::DataError),
    /// Every item was excluded.
    #[error("no item can be calibrated: {0}")]
    NoItems(String),
    /// Options out of range.
    #[error("invalid options: {0}")]
    Options(&'static str),
}

/// Bounds that keep a runaway estimate finite; hitting one produces a warning.
const A_BOUNDS: (f64, f64) = (0.02, 20.0);
const B_BOUNDS: (f64, f64) = (-12.0, 12.0);
const C_BOUNDS: (f64, f64) = (1e-4, 0.6);

/// Calibrates `responses` under `options.model`.
pub fn calibrate(responses: &Responses, options: &CalibrationOptions) -> Result<Calibration, CalibrationError> {
    let model = options.model;
    responses.check_model(model)?;
    if options.quadrature_points < 5 || options.scoring_points < 5 {
        return Err(CalibrationError::Options("at least 5 quadrature points"));
    }
    if options.quadrature_range.is_nan() || options.quadrature_range <= 1.0 || options.tolerance.is_nan() || options.tolerance <= 0.0 {
        return Err(CalibrationError::Options("the quadrature range must be above 1 and the tolerance positive"));
    }
    let j_all = responses.items.len();
    let n = responses.persons.len();

    // Which items can be calibrated: at least two different scores observed.
    let mut kept = Vec::new();
    let mut excluded = Vec::new();
    let mut warnings = Vec::new();
    for j in 0..j_all {
        let mut counts = [0usize; 256];
        for i in 0..n {
            counts[responses.scores[i * j_all + j] as usize] += 1;
        }
        let answered = n - counts[MISSING as usize];
        let distinct = counts[..MISSING as usize].iter().filter(|&&c| c > 0).count();
        let id = &responses.items[j];
        if answered == 0 {
            excluded.push(ExcludedItem { id: id.clone(), reason: "no student was presented this item".into() });
        } else if distinct < 2 {
            let only = counts.iter().position(|&c| c > 0).unwrap_or(0);
            excluded.push(ExcludedItem { id: id.clone(), reason: format!("every answer scored {only}: the item carries no information") });
        } else {
            let top = counts[..MISSING as usize].iter().rposition(|&c| c > 0).unwrap_or(1);
            let empty: Vec<String> = (0..=top).filter(|&k| counts[k] == 0).map(|k| k.to_string()).collect();
            if !empty.is_empty() {
                warnings.push(format!("item {id}: nobody scored {}; the neighbouring step difficulties are poorly determined", empty.join(", ")));
            }
            kept.push((j, top, answered, counts));
        }
    }
    if kept.is_empty() {
        return Err(CalibrationError::NoItems(excluded.iter().map(|e| format!("{}: {}", e.id, e.reason)).collect::<Vec<_>>().join("; ")));
    }

    // The compact matrix over the kept items.
    let j_count = kept.len();
    let mut x = vec![MISSING; n * j_count];
    for i in 0..n {
        for (jj, &(j, ..)) in kept.iter().enumerate() {
            x[i * j_count + jj] = responses.scores[i * j_all + j];
        }
    }
    let cats: Vec<usize> = kept.iter().map(|&(_, top, ..)| top).collect();
    let items: Vec<Item> = kept.iter().map(|(_, top, answered, counts)| start_values(model, *top, *answered, counts)).collect();

    let grid = Grid::normal(options.quadrature_points, options.quadrature_range);
    let q = grid.points.len();
    let mut offsets = Vec::with_capacity(j_count);
    let mut len = 0;
    for &k in &cats {
        offsets.push(len);
        len += (k + 1) * q;
    }
    let layout = Layout { offsets, len, q, j_count };

    // One EM cycle: the E-step at `params`, then every item's M-step from there. Returns the
    // new parameters, the marginal log-likelihood and the EM objective (plus log-priors) at
    // `params`, and the largest parameter change.
    let em = |params: &[Vec<f64>]| {
        let items: Vec<Item> = params.iter().zip(&cats).map(|(p, &k)| unpack(model, p, k)).collect();
        let table = prob_table(&items, &grid, &layout);
        let (counts, ll) = e_step(&x, &table, &grid, &layout, options.threads);
        let mut change = 0.0f64;
        let next: Vec<Vec<f64>> = params
            .iter()
            .enumerate()
            .map(|(jj, start)| {
                let c = &counts[layout.offsets[jj]..layout.offsets[jj] + (cats[jj] + 1) * q];
                let mut p = start.clone();
                m_step(model, options, &grid.points, c, cats[jj], &mut p);
                change = change.max(max_change(&items[jj], &unpack(model, &p, cats[jj])));
                p
            })
            .collect();
        let prior: f64 = params.iter().map(|p| log_prior(model, options, p)).sum();
        (next, ll, ll + prior, change)
    };

    // EM accelerated by SQUAREM (Varadhan and Roland 2008, scheme S3): two EM cycles give a
    // direction and a step length, one extrapolated point is taken when it does not lower the
    // objective, and one more cycle from it keeps the iteration stable. EM alone crawls along
    // the scale of the latent variable (about 40 cycles for 60 items); this needs a third of that.
    let mut iterations = 0;
    let mut converged = false;
    let mut log_likelihood = f64::NEG_INFINITY;
    let mut p0: Vec<Vec<f64>> = items.iter().map(|it| pack(model, it)).collect();
    let mut step_max = 4.0f64;
    while iterations < options.max_iterations {
        let (p1, ll0, obj0, change) = em(&p0);
        iterations += 1;
        log_likelihood = ll0;
        if change < options.tolerance || iterations >= options.max_iterations {
            converged = change < options.tolerance;
            p0 = p1;
            break;
        }
        let (p2, ll1, obj1, change) = em(&p1);
        iterations += 1;
        log_likelihood = ll1;
        if change < options.tolerance || iterations >= options.max_iterations || !obj0.is_finite() {
            converged = change < options.tolerance;
            p0 = p2;
            break;
        }
        let (mut rr, mut vv) = (0.0, 0.0);
        for ((a, b), c) in p0.iter().zip(&p1).zip(&p2) {
            for ((&a, &b), &c) in a.iter().zip(b).zip(c) {
                rr += (b - a) * (b - a);
                vv += (c - 2.0 * b + a) * (c - 2.0 * b + a);
            }
        }
        let alpha = if vv > 0.0 { -(rr / vv).sqrt() } else { -1.0 };
        let alpha = alpha.clamp(-step_max, -1.0);
        if alpha == -step_max {
            step_max *= 4.0;
        }
        let jumped: Vec<Vec<f64>> = p0
            .iter()
            .zip(&p1)
            .zip(&p2)
            .map(|((a, b), c)| {
                let bounds = bounds(model, a.len());
                (0..a.len())
                    .map(|i| {
                        let r = b[i] - a[i];
                        let v = c[i] - 2.0 * b[i] + a[i];
                        (a[i] - 2.0 * alpha * r + alpha * alpha * v).clamp(bounds[i].0, bounds[i].1)
                    })
                    .collect()
            })
            .collect();
        let (p3, ll3, obj3, change) = em(&jumped);
        iterations += 1;
        if obj3.is_finite() && obj3 >= obj1 {
            log_likelihood = ll3;
            p0 = p3;
            if change < options.tolerance {
                converged = true;
                break;
            }
        } else {
            // The jump went downhill: fall back to plain EM from the second cycle and be more careful.
            step_max = (step_max / 4.0).max(1.0);
            p0 = p2;
        }
    }
    let items: Vec<Item> = p0.iter().zip(&cats).map(|(p, &k)| unpack(model, p, k)).collect();

    for (jj, it) in items.iter().enumerate() {
        let id = &responses.items[kept[jj].0];
        let at = |v: f64, (lo, hi): (f64, f64)| v - lo < 1e-3 * (1.0 + lo.abs()) || hi - v < 1e-3 * (1.0 + hi.abs());
        if model != Model::Rasch && at(it.a, A_BOUNDS) {
            warnings.push(format!("item {id}: discrimination reached its bound ({:.3})", it.a));
        }
        if it.steps.iter().any(|&b| at(b, B_BOUNDS)) {
            warnings.push(format!("item {id}: a difficulty reached its bound (±{})", B_BOUNDS.1));
        }
    }
    if !converged {
        warnings.push(format!("EM did not converge within {} cycles (tolerance {})", options.max_iterations, options.tolerance));
    }

    // EAP scores on a finer grid, then fit at the estimates.
    let scoring = Grid::normal(options.scoring_points, options.quadrature_range);
    let scores = eap_scores(&x, j_count, &items, &scoring, options.threads);
    let fit = item_fit(&x, &items, &scores, options.threads);

    let ses: Vec<Option<ItemSe>> = if !options.standard_errors {
        vec![None; j_count]
    } else {
        let dims: usize = p0.iter().map(Vec::len).sum();
        match (dims <= MAX_SE_PARAMETERS).then(|| standard_errors(&x, &items, &p0, &cats, model, options, &grid, &layout)).flatten() {
            Some(ses) => ses.into_iter().map(Some).collect(),
            None => {
                warnings.push(if dims > MAX_SE_PARAMETERS {
                    format!("no standard errors: {dims} item parameters is more than the {MAX_SE_PARAMETERS} the cross-product method handles")
                } else {
                    "no standard errors: the information matrix is singular (an item at a bound, or too few students)".to_string()
                });
                vec![None; j_count]
            }
        }
    };
    let calibrated = kept
        .iter()
        .zip(items)
        .zip(fit)
        .zip(ses)
        .map(|(((&(j, _, answered, _), item), (infit, outfit)), se)| CalibratedItem { id: responses.items[j].clone(), item, n: answered, infit, outfit, se })
        .collect();
    let persons = responses.persons.iter().zip(scores).map(|(id, (theta, se, answered))| PersonEstimate { id: id.clone(), theta, se, answered }).collect();
    Ok(Calibration { model, items: calibrated, excluded, persons, iterations, converged, log_likelihood, warnings })
}

/// Where each item's block of (categories × quadrature points) starts in the tables.
struct Layout {
    offsets: Vec<usize>,
    len: usize,
    q: usize,
    j_count: usize,
}

/// Smallest probability the E-step multiplies by: keeps a likelihood from becoming exactly
/// zero everywhere when an estimate is extreme, far below anything that changes a result.
const P_FLOOR: f64 = 1e-12;

fn prob_table(items: &[Item], grid: &Grid, layout: &Layout) -> Vec<f64> {
    let mut table = vec![0.0; layout.len];
    let mut scratch = Vec::new();
    for (jj, it) in items.iter().enumerate() {
        let k1 = it.steps.len() + 1;
        scratch.resize(k1, 0.0);
        for (qi, &t) in grid.points.iter().enumerate() {
            it.probs(t, &mut scratch);
            for (k, &p) in scratch.iter().enumerate() {
                table[layout.offsets[jj] + k * layout.q + qi] = p.max(P_FLOOR);
            }
        }
    }
    table
}

/// Products of up to this many probabilities cannot underflow (each is ≥ 1e-12) before a rescale.
const RESCALE_EVERY: usize = 16;

/// One E-step: expected counts r[j][k][q] (posterior mass of students scoring k on item j at
/// each point) and the marginal log-likelihood. Likelihoods are products, rescaled now and
/// then, which is exact and saves an exp per point per student over log-space sums.
fn e_step(x: &[u8], table: &[f64], grid: &Grid, layout: &Layout, threads: usize) -> (Vec<f64>, f64) {
    let (q, j_count) = (layout.q, layout.j_count);
    let n = x.len() / j_count;
    let partials = chunked(n, threads, |range| {
        let mut counts = vec![0.0; layout.len];
        let mut ll = 0.0;
        let mut like = vec![0.0; q];
        let mut post = vec![0.0; q];
        let mut rows: Vec<usize> = Vec::with_capacity(j_count);
        for i in range {
            // Where each answered item's probability row starts in the table.
            rows.clear();
            for (jj, &s) in x[i * j_count..(i + 1) * j_count].iter().enumerate() {
                if s != MISSING {
                    rows.push(layout.offsets[jj] + s as usize * q);
                }
            }
            if rows.is_empty() {
                continue;
            }
            like.fill(1.0);
            let mut log_scale = 0.0;
            // Four items per pass over the likelihood: a quarter of the loads and stores of
            // `like`, which is what bounds this loop.
            for (n, group) in rows.chunks(4).enumerate() {
                match *group {
                    [a, b, c, d] => {
                        let (pa, pb, pc, pd) = (&table[a..][..q], &table[b..][..q], &table[c..][..q], &table[d..][..q]);
                        for ((((l, &va), &vb), &vc), &vd) in like.iter_mut().zip(pa).zip(pb).zip(pc).zip(pd) {
                            *l *= (va * vb) * (vc * vd);
                        }
                    }
                    _ => {
                        for &r in group {
                            for (l, &pv) in like.iter_mut().zip(&table[r..][..q]) {
                                *l *= pv;
                            }
                        }
                    }
                }
                if (n + 1).is_multiple_of(RESCALE_EVERY / 4) {
                    let m = like.iter().fold(0.0f64, |a, &b| a.max(b));
                    if m < 1e-100 {
                        let inv = 1.0 / m;
                        like.iter_mut().for_each(|l| *l *= inv);
                        log_scale += libm::log(m);
                    }
                }
            }
            let mut sum = 0.0;
            for ((p, &l), &w) in post.iter_mut().zip(&like).zip(&grid.weights) {
                *p = l * w;
                sum += *p;
            }
            let inv = 1.0 / sum;
            post.iter_mut().for_each(|p| *p *= inv);
            ll += libm::log(sum) + log_scale;
            for &r in &rows {
                for (cv, &pv) in counts[r..][..q].iter_mut().zip(&post) {
                    *cv += pv;
                }
            }
        }
        (counts, ll)
    });
    let mut counts = vec![0.0; layout.len];
    let mut ll = 0.0;
    for (c, l) in partials {
        for (t, v) in counts.iter_mut().zip(c) {
            *t += v;
        }
        ll += l;
    }
    (counts, ll)
}

/// Starting values from classical statistics: difficulty from the proportion scoring at
/// least each step (on the logit scale, widened for θ's spread), discrimination 1, c at the prior's mode.
fn start_values(model: Model, top: usize, answered: usize, counts: &[usize; 256]) -> Item {
    let c = if model == Model::ThreePl { 0.2 } else { 0.0 };
    let steps = (1..=top)
        .map(|v| {
            let at_least: usize = counts[v..=top].iter().sum();
            let at_least_prev: usize = counts[v - 1..=top].iter().sum();
            let mut p = (at_least as f64 + 0.5) / (at_least_prev as f64 + 1.0);
            if top == 1 {
                p = (at_least as f64 + 0.5) / (answered as f64 + 1.0);
                p = ((p - c) / (1.0 - c)).clamp(0.02, 0.98);
            }
            (-1.7 * libm::log(p / (1.0 - p))).clamp(-4.0, 4.0)
        })
        .collect();
    Item { a: 1.0, steps, c }
}

/// The parameter vector the M-step moves: Rasch [b]; 2PL [ln a, b]; 3PL [ln a, b, logit c];
/// GPCM [ln a, b_1..b_k]. Logs and logits keep a and c inside their ranges without constraints.
fn pack(model: Model, it: &Item) -> Vec<f64> {
    match model {
        Model::Rasch => it.steps.clone(),
        Model::TwoPl | Model::Gpcm => std::iter::once(libm::log(it.a)).chain(it.steps.iter().copied()).collect(),
        Model::ThreePl => vec![libm::log(it.a), it.steps[0], libm::log(it.c / (1.0 - it.c))],
    }
}

fn unpack(model: Model, p: &[f64], top: usize) -> Item {
    match model {
        Model::Rasch => Item { a: 1.0, steps: p.to_vec(), c: 0.0 },
        Model::TwoPl | Model::Gpcm => Item { a: libm::exp(p[0]), steps: p[1..=top].to_vec(), c: 0.0 },
        Model::ThreePl => Item::dichotomous(libm::exp(p[0]), p[1], logistic(p[2])),
    }
}

fn bounds(model: Model, len: usize) -> Vec<(f64, f64)> {
    let la = (libm::log(A_BOUNDS.0), libm::log(A_BOUNDS.1));
    let lc = (libm::log(C_BOUNDS.0 / (1.0 - C_BOUNDS.0)), libm::log(C_BOUNDS.1 / (1.0 - C_BOUNDS.1)));
    match model {
        Model::Rasch => vec![B_BOUNDS; len],
        Model::TwoPl | Model::Gpcm => std::iter::once(la).chain(std::iter::repeat_n(B_BOUNDS, len - 1)).collect(),
        Model::ThreePl => vec![la, B_BOUNDS, lc],
    }
}

fn max_change(old: &Item, new: &Item) -> f64 {
    let mut m = (old.a - new.a).abs().max((old.c - new.c).abs());
    for (a, b) in old.steps.iter().zip(&new.steps) {
        m = m.max((a - b).abs());
    }
    m
}

/// The expected complete-data log-likelihood of one item (plus log priors) and its gradient
/// with respect to the packed parameters. `counts` is r[k][q], k-major.
fn objective(model: Model, options: &CalibrationOptions, grid: &[f64], counts: &[f64], top: usize, p: &[f64], grad: &mut [f64]) -> f64 {
    let it = unpack(model, p, top);
    let q = grid.len();
    let (a, c) = (it.a, it.c);
    let mut f = 0.0;
    let mut ga = 0.0;
    let mut gc = 0.0;
    let mut gb = vec![0.0; top];
    if top == 1 {
        let b = it.steps[0];
        for (qi, &t) in grid.iter().enumerate() {
            let (r0, r1) = (counts[qi], counts[q + qi]);
            if r0 + r1 == 0.0 {
                continue;
            }
            let z = a * (t - b);
            let s = logistic(z);
            let ln_s = -softplus(-z);
            let ln_1s = -softplus(z);
            let (ln_p, ln_q, pr) = if c == 0.0 {
                (ln_s, ln_1s, s)
            } else {
                let pr = c + (1.0 - c) * s;
                (libm::log(pr), libm::log(1.0 - c) + ln_1s, pr)
            };
            f += r1 * ln_p + r0 * ln_q;
            // dℓ/dP·dP/dz, written so that c = 0 has no division by a vanishing P·Q.
            let dz = if c == 0.0 { r1 * (1.0 - s) - r0 * s } else { (r1 / pr - r0 / (1.0 - pr)) * (1.0 - c) * s * (1.0 - s) };
            ga += dz * (t - b);
            gb[0] -= dz * a;
            if c != 0.0 {
                gc += (r1 / pr - r0 / (1.0 - pr)) * (1.0 - s);
            }
        }
    } else {
        let k1 = top + 1;
        let mut z = vec![0.0; k1];
        let mut pr = vec![0.0; k1];
        for (qi, &t) in grid.iter().enumerate() {
            let nq: f64 = (0..k1).map(|k| counts[k * q + qi]).sum();
            if nq == 0.0 {
                continue;
            }
            z[0] = 0.0;
            for v in 0..top {
                z[v + 1] = z[v] + (t - it.steps[v]);
            }
            let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(a * v));
            let mut sum = 0.0;
            for k in 0..k1 {
                pr[k] = libm::exp(a * z[k] - max);
                sum += pr[k];
            }
            let lse = max + libm::log(sum);
            let mut ez = 0.0;
            for k in 0..k1 {
                pr[k] /= sum;
                let r = counts[k * q + qi];
                f += r * (a * z[k] - lse);
                ga += r * z[k];
                ez += pr[k] * z[k];
            }
            ga -= nq * ez;
            // dℓ/db_v = −a Σ_q (r(X ≥ v) − n·P(X ≥ v)).
            let (mut tail_r, mut tail_p) = (0.0, 0.0);
            for v in (1..k1).rev() {
                tail_r += counts[v * q + qi];
                tail_p += pr[v];
                gb[v - 1] -= a * (tail_r - nq * tail_p);
            }
        }
    }
    match model {
        Model::Rasch => grad.copy_from_slice(&gb),
        Model::TwoPl | Model::Gpcm => {
            grad[0] = a * ga;
            grad[1..].copy_from_slice(&gb);
        }
        Model::ThreePl => {
            let (alpha, beta) = options.guessing_prior;
            let sd = options.log_slope_prior_sd;
            f += -p[0] * p[0] / (2.0 * sd * sd) + (alpha - 1.0) * libm::log(c) + (beta - 1.0) * libm::log(1.0 - c);
            grad[0] = a * ga - p[0] / (sd * sd);
            grad[1] = gb[0];
            grad[2] = gc * c * (1.0 - c) + (alpha - 1.0) * (1.0 - c) - (beta - 1.0) * c;
        }
    }
    f
}

/// The log-priors of an item's packed parameters (3PL only; the other models have none).
fn log_prior(model: Model, options: &CalibrationOptions, p: &[f64]) -> f64 {
    if model != Model::ThreePl {
        return 0.0;
    }
    let (alpha, beta) = options.guessing_prior;
    let sd = options.log_slope_prior_sd;
    let c = logistic(p[2]);
    -p[0] * p[0] / (2.0 * sd * sd) + (alpha - 1.0) * libm::log(c) + (beta - 1.0) * libm::log(1.0 - c)
}

fn softplus(x: f64) -> f64 {
    if x > 0.0 { x + libm::log1p(libm::exp(-x)) } else { libm::log1p(libm::exp(x)) }
}

/// M-step for one item: damped Newton on the packed parameters, Hessian by forward
/// differences of the analytic gradient, backtracking so the objective never decreases.
fn m_step(model: Model, options: &CalibrationOptions, grid: &[f64], counts: &[f64], top: usize, p: &mut [f64]) {
    let dim = p.len();
    let bounds = bounds(model, dim);
    let eval = |x: &[f64], g: &mut [f64]| objective(model, options, grid, counts, top, x, g);
    let mut g = vec![0.0; dim];
    let mut gh = vec![0.0; dim];
    let mut scratch = vec![0.0; dim];
    let mut hess = vec![0.0; dim * dim];
    let mut trial = p.to_vec();
    for _ in 0..25 {
        let f0 = eval(p, &mut g);
        for i in 0..dim {
            let h = 1e-6 * (1.0 + p[i].abs());
            trial.copy_from_slice(p);
            trial[i] += h;
            eval(&trial, &mut gh);
            for r in 0..dim {
                hess[r * dim + i] = -(gh[r] - g[r]) / h;
            }
        }
        for r in 0..dim {
            for c in 0..r {
                let m = 0.5 * (hess[r * dim + c] + hess[c * dim + r]);
                hess[r * dim + c] = m;
                hess[c * dim + r] = m;
            }
        }
        let mut step = solve_spd(&hess, &g, dim).unwrap_or_else(|| g.clone());
        // A trust region: no parameter moves more than 1 per Newton step.
        let big = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        if big > 1.0 {
            step.iter_mut().for_each(|s| *s /= big);
        }
        let mut t = 1.0;
        let mut moved = 0.0f64;
        let mut accepted = false;
        while t > 1e-6 {
            for i in 0..dim {
                trial[i] = (p[i] + t * step[i]).clamp(bounds[i].0, bounds[i].1);
            }
            if eval(&trial, &mut scratch) >= f0 - 1e-12 * f0.abs() {
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            break;
        }
        for i in 0..dim {
            moved = moved.max((trial[i] - p[i]).abs());
            p[i] = trial[i];
        }
        if moved < 1e-7 {
            break;
        }
    }
}

/// Solves M·x = b for a symmetric matrix M that should be positive definite (the negated
/// Hessian); adds to the diagonal (Levenberg) until Cholesky succeeds.
fn solve_spd(m: &[f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let scale = (0..n).map(|i| m[i * n + i].abs()).fold(0.0f64, f64::max).max(1e-12);
    let mut lambda = 0.0;
    for _ in 0..30 {
        let mut l = vec![0.0; n * n];
        let mut ok = true;
        'outer: for i in 0..n {
            for j in 0..=i {
                let mut s = m[i * n + j] + if i == j { lambda } else { 0.0 };
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                if i == j {
                    if s.is_nan() || s <= 0.0 {
                        ok = false;
                        break 'outer;
                    }
                    l[i * n + i] = s.sqrt();
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        if ok {
            let mut y = vec![0.0; n];
            for i in 0..n {
                let mut s = b[i];
                for k in 0..i {
                    s -= l[i * n + k] * y[k];
                }
                y[i] = s / l[i * n + i];
            }
            let mut x = vec![0.0; n];
            for i in (0..n).rev() {
                let mut s = y[i];
                for k in i + 1..n {
                    s -= l[k * n + i] * x[k];
                }
                x[i] = s / l[i * n + i];
            }
            return Some(x);
        }
        lambda = if lambda == 0.0 { 1e-6 * scale } else { lambda * 10.0 };
    }
    None
}

/// Infit and outfit mean squares per item at the students' EAP estimates.
fn item_fit(x: &[u8], items: &[Item], scores: &[(f64, f64, usize)], threads: usize) -> Vec<(f64, f64)> {
    let j_count = items.len();
    let n = scores.len();
    let top = items.iter().map(|it| it.steps.len()).max().unwrap_or(1);
    // Per item: Σ z², count, Σ (x − E)², Σ W.
    let partials = chunked(n, threads, |range| {
        let mut acc = vec![[0.0f64; 4]; j_count];
        let mut scratch = vec![0.0; top + 1];
        for i in range {
            if scores[i].2 == 0 {
                continue;
            }
            let theta = scores[i].0;
            for (jj, it) in items.iter().enumerate() {
                let s = x[i * j_count + jj];
                if s == MISSING {
                    continue;
                }
                let (e, w) = it.moments(theta, &mut scratch[..it.steps.len() + 1]);
                let w = w.max(1e-12);
                let d = f64::from(s) - e;
                let a = &mut acc[jj];
                a[0] += d * d / w;
                a[1] += 1.0;
                a[2] += d * d;
                a[3] += w;
            }
        }
        acc
    });
    let mut total = vec![[0.0f64; 4]; j_count];
    for part in partials {
        for (t, p) in total.iter_mut().zip(part) {
            for k in 0..4 {
                t[k] += p[k];
            }
        }
    }
    total.iter().map(|t| (if t[3] > 0.0 { t[2] / t[3] } else { 0.0 }, if t[1] > 0.0 { t[0] / t[1] } else { 0.0 })).collect()
}

/// The largest number of item parameters standard errors are computed for: the per-chunk
/// information matrices grow with its square.
const MAX_SE_PARAMETERS: usize = 400;

/// Item standard errors from the empirical cross-product information (Σ over students of the
/// outer product of each student's score vector, the gradient of their marginal log-likelihood),
/// plus the priors' curvature for the 3PL; inverted whole, so the covariances between items that
/// the N(0, 1) identification induces are kept. SEs of a and c follow by the delta method from
/// the packed (ln a, logit c) parameters.
#[allow(clippy::too_many_arguments)]
fn standard_errors(
    x: &[u8],
    items: &[Item],
    packed: &[Vec<f64>],
    cats: &[usize],
    model: Model,
    options: &CalibrationOptions,
    grid: &Grid,
    layout: &Layout,
) -> Option<Vec<ItemSe>> {
    let q = layout.q;
    let j_count = layout.j_count;
    let dims: Vec<usize> = packed.iter().map(Vec::len).collect();
    let mut starts = Vec::with_capacity(j_count);
    let mut total = 0;
    for &d in &dims {
        starts.push(total);
        total += d;
    }
    // ∂ ln P(X = k | θ_q) / ∂ parameters per item, [(k·Q + q)·dim + d]: the objective's gradient for one
    // response at one point, without priors.
    let no_prior = CalibrationOptions { guessing_prior: (1.0, 1.0), log_slope_prior_sd: f64::INFINITY, ..options.clone() };
    let derivs: Vec<Vec<f64>> = (0..j_count)
        .map(|jj| {
            let k1 = cats[jj] + 1;
            let mut out = vec![0.0; k1 * q * dims[jj]];
            let mut counts = vec![0.0; k1 * q];
            let mut g = vec![0.0; dims[jj]];
            for cell in 0..k1 * q {
                counts[cell] = 1.0;
                objective(model, &no_prior, &grid.points, &counts, cats[jj], &packed[jj], &mut g);
                counts[cell] = 0.0;
                out[cell * dims[jj]..(cell + 1) * dims[jj]].copy_from_slice(&g);
            }
            out
        })
        .collect();
    let table = prob_table(items, grid, layout);
    let n = x.len() / j_count;
    let partials = chunked(n, options.threads, |range| {
        let mut info = vec![0.0; total * total];
        let mut like = vec![0.0; q];
        let mut score = vec![0.0; total];
        for i in range {
            let row = &x[i * j_count..(i + 1) * j_count];
            like.fill(1.0);
            let mut answered = 0usize;
            for (jj, &s) in row.iter().enumerate() {
                if s != MISSING {
                    for (l, &p) in like.iter_mut().zip(&table[layout.offsets[jj] + s as usize * q..][..q]) {
                        *l *= p;
                    }
                    answered += 1;
                    if answered.is_multiple_of(RESCALE_EVERY) {
                        let m = like.iter().fold(0.0f64, |a, &b| a.max(b));
                        if m < 1e-100 {
                            like.iter_mut().for_each(|l| *l /= m);
                        }
                    }
                }
            }
            if answered == 0 {
                continue;
            }
            let sum: f64 = like.iter().zip(&grid.weights).map(|(l, w)| l * w).sum();
            score.fill(0.0);
            for (jj, &s) in row.iter().enumerate() {
                if s == MISSING {
                    continue;
                }
                let d = dims[jj];
                let seg = &mut score[starts[jj]..starts[jj] + d];
                let base = s as usize * q * d;
                for (qi, (&l, &w)) in like.iter().zip(&grid.weights).enumerate() {
                    let post = l * w / sum;
                    for (sv, &dv) in seg.iter_mut().zip(&derivs[jj][base + qi * d..base + (qi + 1) * d]) {
                        *sv += post * dv;
                    }
                }
            }
            for r in 0..total {
                let sr = score[r];
                if sr != 0.0 {
                    for (m, &sc) in info[r * total + r..(r + 1) * total].iter_mut().zip(&score[r..]) {
                        *m += sr * sc;
                    }
                }
            }
        }
        info
    });
    let mut info = vec![0.0; total * total];
    for part in partials {
        for (t, v) in info.iter_mut().zip(part) {
            *t += v;
        }
    }
    // The priors' curvature (3PL): −∂² log prior on ln a and logit c.
    if model == Model::ThreePl {
        let (alpha, beta) = options.guessing_prior;
        for (jj, p) in packed.iter().enumerate() {
            let s0 = starts[jj];
            info[s0 * total + s0] += 1.0 / (options.log_slope_prior_sd * options.log_slope_prior_sd);
            let c = logistic(p[2]);
            info[(s0 + 2) * total + s0 + 2] += (alpha + beta - 2.0) * c * (1.0 - c);
        }
    }
    for r in 0..total {
        for c in 0..r {
            info[r * total + c] = info[c * total + r];
        }
    }
    let cov = invert_spd(&info, total)?;
    let var = |r: usize, c: usize| cov[r * total + c];
    Some(
        (0..j_count)
            .map(|jj| {
                let s0 = starts[jj];
                let it = &items[jj];
                let (step0, a, c) = match model {
                    Model::Rasch => (s0, None, None),
                    Model::TwoPl | Model::Gpcm => (s0 + 1, Some(it.a * var(s0, s0).sqrt()), None),
                    Model::ThreePl => (s0 + 1, Some(it.a * var(s0, s0).sqrt()), Some(it.c * (1.0 - it.c) * var(s0 + 2, s0 + 2).sqrt())),
                };
                let k = it.steps.len();
                let steps: Vec<f64> = (0..k).map(|v| var(step0 + v, step0 + v).sqrt()).collect();
                let mut mean_var = 0.0;
                for v in 0..k {
                    for w in 0..k {
                        mean_var += var(step0 + v, step0 + w);
                    }
                }
                ItemSe { a, b: (mean_var / (k * k) as f64).max(0.0).sqrt(), c, steps }
            })
            .collect(),
    )
}

/// The inverse of a symmetric positive definite matrix by Cholesky; `None` when it is not.
fn invert_spd(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = m[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s.is_nan() || s <= 1e-300 {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    // Solve L·Lᵀ·X = I column by column.
    let mut inv = vec![0.0; n * n];
    let mut y = vec![0.0; n];
    for col in 0..n {
        for i in 0..n {
            let mut s = if i == col { 1.0 } else { 0.0 };
            for k in 0..i {
                s -= l[i * n + k] * y[k];
            }
            y[i] = s / l[i * n + i];
        }
        for i in (0..n).rev() {
            let mut s = y[i];
            for k in i + 1..n {
                s -= l[k * n + i] * inv[k * n + col];
            }
            inv[i * n + col] = s / l[i * n + i];
        }
    }
    Some(inv)
}
