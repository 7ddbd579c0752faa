//! Computerised adaptive testing, simulated: maximum-information selection with randomesque exposure control and content balancing, EAP updates, stopping at a target standard error.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::Item;
use super::random::Rng;
use super::score::Grid;

/// How the simulation runs.
#[derive(Clone, Debug)]
pub struct CatOptions {
    /// Simulated students (θ ~ N(0, 1)).
    pub students: usize,
    /// Seed for abilities, responses and the randomesque choice.
    pub seed: u64,
    /// Stop once the posterior SD is at or below this.
    pub se_target: f64,
    /// Stop after this many items whatever the SE.
    pub max_items: usize,
    /// Choose at random among this many most informative items (1 = pure maximum information).
    pub randomesque: usize,
    /// Quadrature points over ±6 for the EAP updates.
    pub grid_points: usize,
}

impl CatOptions {
    /// The defaults of `qiming assess simulate-cat`.
    pub fn new() -> CatOptions {
        CatOptions { students: 1000, seed: 1, se_target: 0.3, max_items: 40, randomesque: 5, grid_points: 81 }
    }
}

impl Default for CatOptions {
    fn default() -> CatOptions {
        CatOptions::new()
    }
}

/// A content category's share of the bank and of the items given.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContentShare {
    /// Category label.
    pub category: String,
    /// Its share of the bank (the target).
    pub target: f64,
    /// Its share of all items given.
    pub administered: f64,
}

/// What a CAT simulation measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatReport {
    /// Simulated students.
    pub students: usize,
    /// Items in the bank.
    pub bank_size: usize,
    /// The SE stopping rule.
    pub se_target: f64,
    /// The length limit.
    pub max_items: usize,
    /// Randomesque group size.
    pub randomesque: usize,
    /// Mean number of items given.
    pub mean_length: f64,
    /// Shortest test.
    pub min_length: usize,
    /// Longest test.
    pub max_length: usize,
    /// Share of students who reached the SE target.
    pub reached_se_target: f64,
    /// Mean final posterior SD.
    pub mean_se: f64,
    /// Root mean square error of the final EAP against the true θ.
    pub rmse: f64,
    /// Mean (EAP − true θ).
    pub bias: f64,
    /// Highest share of students who saw any one item.
    pub max_exposure: f64,
    /// The item with that exposure.
    pub max_exposure_item: String,
    /// Bank items nobody saw.
    pub unused_items: usize,
    /// Content balance (one entry per category; a single "" category when the bank has none).
    pub content: Vec<ContentShare>,
    /// Items a fixed form needs for the same mean SE: the bank's items ordered by information
    /// at θ = 0 (the best single form for the average student), same students; `None` when even
    /// the whole bank does not reach it.
    pub fixed_length_for_equal_se: Option<usize>,
    /// RMSE of that fixed form.
    pub fixed_rmse: Option<f64>,
    /// Item selections made (for the caller's latency average).
    pub selections: usize,
}

/// Runs the simulation. `time_selection` wraps every item selection (the caller may time
/// it: this crate never reads a clock); it must call the closure it is given once and
/// return its result.
pub fn simulate_cat(
    bank: &[(String, Item, Option<String>)],
    options: &CatOptions,
    mut time_selection: impl FnMut(&mut dyn FnMut() -> Option<usize>) -> Option<usize>,
) -> CatReport {
    let grid = Grid::normal(options.grid_points.max(11), 6.0);
    let q = grid.points.len();
    let ln_prior: Vec<f64> = grid.weights.iter().map(|&w| libm::log(w)).collect();
    let top = bank.iter().map(|b| b.1.steps.len()).max().unwrap_or(1);
    // ln P(X = k | θ_q) per item, k-major, computed once.
    let mut scratch = vec![0.0; top + 1];
    let ln_tables: Vec<Vec<f64>> = bank
        .iter()
        .map(|(_, it, _)| {
            let k1 = it.steps.len() + 1;
            let mut t = vec![0.0; k1 * q];
            for (qi, &theta) in grid.points.iter().enumerate() {
                it.probs(theta, &mut scratch[..k1]);
                for k in 0..k1 {
                    t[k * q + qi] = libm::log(scratch[k].max(1e-300));
                }
            }
            t
        })
        .collect();
    // Content categories in name order; each item's category index.
    let mut cat_index: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, _, c) in bank {
        let len = cat_index.len();
        cat_index.entry(c.as_deref().unwrap_or("")).or_insert(len);
    }
    let names: Vec<&str> = {
        let mut v: Vec<(&str, usize)> = cat_index.iter().map(|(k, v)| (*k, *v)).collect();
        v.sort_by_key(|e| e.1);
        v.into_iter().map(|e| e.0).collect()
    };
    let item_cat: Vec<usize> = bank.iter().map(|(_, _, c)| cat_index[c.as_deref().unwrap_or("")]).collect();
    let mut in_bank = vec![0usize; names.len()];
    for &c in &item_cat {
        in_bank[c] += 1;
    }
    let target: Vec<f64> = in_bank.iter().map(|&c| c as f64 / bank.len().max(1) as f64).collect();

    let mut theta_rng = Rng::new(options.seed, 11);
    let thetas: Vec<f64> = (0..options.students).map(|_| theta_rng.normal()).collect();
    let mut rng = Rng::new(options.seed, 12);
    let mut exposure = vec![0usize; bank.len()];
    let mut given_by_cat = vec![0usize; names.len()];
    let (mut sum_len, mut min_len, mut max_len) = (0usize, usize::MAX, 0usize);
    let (mut sum_se, mut sum_err, mut sum_err2, mut reached) = (0.0, 0.0, 0.0, 0usize);
    let mut selections = 0;
    let mut log_post = vec![0.0; q];
    let mut like = vec![0.0; q];
    let mut used = vec![false; bank.len()];
    let mut cand: Vec<(f64, usize)> = Vec::with_capacity(bank.len());
    let mut probs = vec![0.0; top + 1];
    let max_items = options.max_items.min(bank.len());
    for &theta in &thetas {
        log_post.copy_from_slice(&ln_prior);
        used.fill(false);
        let mut given = vec![0usize; names.len()];
        let (mut est, mut se) = (0.0, 1.0);
        let mut length = 0;
        while length < max_items && se > options.se_target {
            let next = time_selection(&mut || {
                // Content balancing (Kingsbury–Zara): the category furthest below its share.
                let mut best_cat = None;
                let mut best_gap = f64::NEG_INFINITY;
                for c in 0..names.len() {
                    let available = (0..bank.len()).any(|j| item_cat[j] == c && !used[j]);
                    let gap = target[c] * (length + 1) as f64 - given[c] as f64;
                    if available && gap > best_gap {
                        best_gap = gap;
                        best_cat = Some(c);
                    }
                }
                let c = best_cat?;
                cand.clear();
                for (j, (_, it, _)) in bank.iter().enumerate() {
                    if item_cat[j] == c && !used[j] {
                        cand.push((it.information(est, &mut probs[..it.steps.len() + 1]), j));
                    }
                }
                // Most informative first; ties by bank order, so the choice is reproducible.
                let n = options.randomesque.max(1).min(cand.len());
                cand.select_nth_unstable_by(n - 1, |x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
                cand[..n].sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
                Some(cand[rng.below(n)].1)
            });
            selections += 1;
            let Some(j) = next else { break };
            used[j] = true;
            given[item_cat[j]] += 1;
            exposure[j] += 1;
            length += 1;
            let it = &bank[j].1;
            let k = draw(it, theta, &mut rng, &mut probs);
            for (lp, &l) in log_post.iter_mut().zip(&ln_tables[j][k * q..][..q]) {
                *lp += l;
            }
            (est, se) = eap(&log_post, &grid, &mut like);
        }
        sum_len += length;
        min_len = min_len.min(length);
        max_len = max_len.max(length);
        sum_se += se;
        sum_err += est - theta;
        sum_err2 += (est - theta) * (est - theta);
        reached += usize::from(se <= options.se_target);
        for (t, g) in given_by_cat.iter_mut().zip(&given) {
            *t += g;
        }
    }
    let n = options.students.max(1) as f64;
    let mean_se = sum_se / n;

    // The fixed form at equal SE.
    let mut order: Vec<usize> = (0..bank.len()).collect();
    let info0: Vec<f64> = bank.iter().map(|(_, it, _)| it.information(0.0, &mut probs[..it.steps.len() + 1])).collect();
    order.sort_by(|&x, &y| info0[y].total_cmp(&info0[x]).then(x.cmp(&y)));
    let mut fixed_rng = Rng::new(options.seed, 13);
    let mut se_at = vec![0.0; bank.len() + 1];
    let mut err2_at = vec![0.0; bank.len() + 1];
    for &theta in &thetas {
        log_post.copy_from_slice(&ln_prior);
        for (l, &j) in order.iter().enumerate() {
            let k = draw(&bank[j].1, theta, &mut fixed_rng, &mut probs);
            for (lp, &v) in log_post.iter_mut().zip(&ln_tables[j][k * q..][..q]) {
                *lp += v;
            }
            let (e, s) = eap(&log_post, &grid, &mut like);
            se_at[l + 1] += s;
            err2_at[l + 1] += (e - theta) * (e - theta);
        }
    }
    let fixed = (1..=bank.len()).find(|&l| se_at[l] / n <= mean_se);

    let total_given = given_by_cat.iter().sum::<usize>().max(1) as f64;
    let (max_j, max_count) = exposure.iter().enumerate().fold((0, 0), |m, (j, &c)| if c > m.1 { (j, c) } else { m });
    CatReport {
        students: options.students,
        bank_size: bank.len(),
        se_target: options.se_target,
        max_items,
        randomesque: options.randomesque.max(1),
        mean_length: sum_len as f64 / n,
        min_length: if options.students == 0 { 0 } else { min_len },
        max_length: max_len,
        reached_se_target: reached as f64 / n,
        mean_se,
        rmse: (sum_err2 / n).sqrt(),
        bias: sum_err / n,
        max_exposure: max_count as f64 / n,
        max_exposure_item: bank.get(max_j).map(|b| b.0.clone()).unwrap_or_default(),
        unused_items: exposure.iter().filter(|&&c| c == 0).count(),
        content: names
            .iter()
            .enumerate()
            .map(|(c, name)| ContentShare { category: name.to_string(), target: target[c], administered: given_by_cat[c] as f64 / total_given })
            .collect(),
        fixed_length_for_equal_se: fixed,
        fixed_rmse: fixed.map(|l| (err2_at[l] / n).sqrt()),
        selections,
    }
}

/// A simulated response to `it` from a student at `theta`.
fn draw(it: &Item, theta: f64, rng: &mut Rng, probs: &mut [f64]) -> usize {
    let p = &mut probs[..it.steps.len() + 1];
    it.probs(theta, p);
    let u = rng.uniform();
    let mut k = 0;
    let mut acc = p[0];
    while u >= acc && k + 1 < p.len() {
        k += 1;
        acc += p[k];
    }
    k
}

/// EAP and posterior SD from a log posterior on the grid.
fn eap(log_post: &[f64], grid: &Grid, like: &mut [f64]) -> (f64, f64) {
    let m = log_post.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for ((l, &lp), &t) in like.iter_mut().zip(log_post).zip(&grid.points) {
        *l = libm::exp(lp - m);
        s0 += *l;
        s1 += *l * t;
        s2 += *l * t * t;
    }
    let mean = s1 / s0;
    (mean, (s2 / s0 - mean * mean).max(0.0).sqrt())
}

/// One step of a live adaptive test: what a server asks between a taker's answers.
///
/// The same rules as [`simulate_cat`] (content balancing by category, maximum information
/// at the current EAP with a randomesque choice), plus exposure control by counts: an item
/// already given in more than `max_exposure_rate` of all sittings is left out while
/// another item of the category is left.
#[derive(Clone, Debug, PartialEq)]
pub struct StepOptions {
    /// Stop once the posterior SD is at or below this.
    pub se_target: f64,
    /// Stop after this many items whatever the SE.
    pub max_items: usize,
    /// Choose at random among this many most informative items (1 = pure maximum information).
    pub randomesque: usize,
    /// Items given in more than this share of sittings are held back (Sympson–Hetter's
    /// target rate used as a hard ceiling); `None`: no ceiling.
    pub max_exposure_rate: Option<f64>,
    /// Quadrature points over ±6 for the EAP.
    pub grid_points: usize,
}

impl Default for StepOptions {
    fn default() -> StepOptions {
        StepOptions { se_target: 0.3, max_items: 30, randomesque: 5, max_exposure_rate: Some(0.25), grid_points: 81 }
    }
}

/// Why an adaptive test ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The posterior SD reached the target.
    SeTarget,
    /// The maximum length was reached.
    MaxLength,
    /// No unused item is left in the pool.
    PoolExhausted,
}

/// The answer to "what next?": the next item's index in the bank or why the test ends,
/// with the EAP ability and its posterior SD from the answers so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    pub next: Option<usize>,
    pub stop: Option<StopReason>,
    pub theta: f64,
    pub se: f64,
}

/// EAP ability and posterior SD (N(0, 1) prior) from `(item, score)` pairs.
pub fn eap_estimate(answers: &[(&Item, usize)], grid_points: usize) -> (f64, f64) {
    let grid = Grid::normal(grid_points.max(11), 6.0);
    let top = answers.iter().map(|(it, _)| it.steps.len()).max().unwrap_or(1);
    let mut probs = vec![0.0; top + 1];
    let mut log_post: Vec<f64> = grid.weights.iter().map(|&w| libm::log(w)).collect();
    for (it, k) in answers {
        let p = &mut probs[..it.steps.len() + 1];
        for (lp, &theta) in log_post.iter_mut().zip(&grid.points) {
            it.probs(theta, p);
            *lp += libm::log(p[(*k).min(it.steps.len())].max(1e-300));
        }
    }
    let mut like = vec![0.0; grid.points.len()];
    eap(&log_post, &grid, &mut like)
}

/// The next step of one taker's adaptive test.
///
/// `bank`: `(id, parameters, content category)` in a fixed order (the caller's pool);
/// `answered`: `(bank index, score)` in the order given; `exposure`: how many sittings
/// have been given each bank item so far, and `sittings` how many sittings there were;
/// `seed`: the randomesque draw's seed (the caller derives it from the sitting, so a
/// repeated request gives the same item). Deterministic: no clock, no hash map.
pub fn next_step(
    bank: &[(String, Item, Option<String>)],
    answered: &[(usize, usize)],
    exposure: &[u64],
    sittings: u64,
    options: &StepOptions,
    seed: u64,
) -> Step {
    let given: Vec<(&Item, usize)> = answered.iter().filter_map(|&(j, k)| bank.get(j).map(|b| (&b.1, k))).collect();
    let (theta, se) = eap_estimate(&given, options.grid_points);
    let stop = |why| Step { next: None, stop: Some(why), theta, se };
    if !answered.is_empty() && se <= options.se_target {
        return stop(StopReason::SeTarget);
    }
    if answered.len() >= options.max_items.min(bank.len()) {
        return stop(if answered.len() >= options.max_items { StopReason::MaxLength } else { StopReason::PoolExhausted });
    }
    let mut used = vec![false; bank.len()];
    for &(j, _) in answered {
        if let Some(u) = used.get_mut(j) {
            *u = true;
        }
    }
    // Content categories in name order, each item's category, the bank's shares.
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, _, c) in bank {
        let len = names.len();
        names.entry(c.as_deref().unwrap_or("")).or_insert(len);
    }
    let item_cat: Vec<usize> = bank.iter().map(|(_, _, c)| names[c.as_deref().unwrap_or("")]).collect();
    let mut in_bank = vec![0usize; names.len()];
    let mut given_cat = vec![0usize; names.len()];
    for &c in &item_cat {
        in_bank[c] += 1;
    }
    for &(j, _) in answered {
        if let Some(&c) = item_cat.get(j) {
            given_cat[c] += 1;
        }
    }
    let over_exposed = |j: usize| match options.max_exposure_rate {
        Some(rate) if sittings > 0 => exposure.get(j).copied().unwrap_or(0) as f64 / sittings as f64 > rate,
        _ => false,
    };
    // Kingsbury–Zara: the category furthest below its share of the bank.
    let mut best_cat = None;
    let mut best_gap = f64::NEG_INFINITY;
    for c in 0..names.len() {
        let available = (0..bank.len()).any(|j| item_cat[j] == c && !used[j]);
        let gap = in_bank[c] as f64 / bank.len() as f64 * (answered.len() + 1) as f64 - given_cat[c] as f64;
        if available && gap > best_gap {
            best_gap = gap;
            best_cat = Some(c);
        }
    }
    let Some(c) = best_cat else { return stop(StopReason::PoolExhausted) };
    let top = bank.iter().map(|b| b.1.steps.len()).max().unwrap_or(1);
    let mut probs = vec![0.0; top + 1];
    let candidates = |skip_exposed: bool, probs: &mut Vec<f64>| -> Vec<(f64, usize)> {
        bank.iter()
            .enumerate()
            .filter(|&(j, _)| item_cat[j] == c && !used[j] && !(skip_exposed && over_exposed(j)))
            .map(|(j, (_, it, _))| (it.information(theta, &mut probs[..it.steps.len() + 1]), j))
            .collect()
    };
    let mut cand = candidates(true, &mut probs);
    if cand.is_empty() {
        // Every item left in the category is over-exposed: better one of them than none.
        cand = candidates(false, &mut probs);
    }
    // Most informative first; ties by bank order, so the choice is reproducible.
    cand.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let n = options.randomesque.max(1).min(cand.len());
    let mut rng = Rng::new(seed, 14 + answered.len() as u64);
    Step { next: Some(cand[rng.below(n)].1), stop: None, theta, se }
}

/// The IRT parameters an item of the bank carries before it is calibrated: its authored
/// prior difficulty b, discrimination a (default 1) and guessing c (default 0). An item
/// worth k > 1 points becomes a partial-credit item whose k step difficulties are spread
/// 0.5 logit apart around b (so its location is b): the bank has one difficulty per item.
pub fn prior_item(item: &qiming_curriculum::Item) -> Item {
    let a = item.discrimination.unwrap_or(1.0);
    let k = item.max_points().max(1) as usize;
    if k == 1 {
        return Item::dichotomous(a, item.difficulty, item.guessing.unwrap_or(0.0));
    }
    let mid = (k as f64 + 1.0) / 2.0;
    Item { a, steps: (1..=k).map(|v| item.difficulty + 0.5 * (v as f64 - mid)).collect(), c: 0.0 }
}

#[cfg(test)]
mod step_tests {
    use super::*;

    fn bank() -> Vec<(String, Item, Option<String>)> {
        (0..60)
            .map(|i| {
                let b = -2.5 + 5.0 * i as f64 / 59.0;
                (format!("i{i:02}"), Item::dichotomous(1.2 + (i % 3) as f64 * 0.3, b, 0.0), Some(["x", "y", "z"][i % 3].to_string()))
            })
            .collect()
    }

    /// A taker who answers by a fixed rule: the test ends at the SE target or the length
    /// limit, never repeats an item, keeps the content balance and gives the same items
    /// for the same seed.
    #[test]
    fn steps_end_at_the_se_target_or_the_length_limit() {
        let bank = bank();
        let exposure = vec![0u64; bank.len()];
        for (se_target, max_items) in [(0.45, 40), (0.01, 12)] {
            let options = StepOptions { se_target, max_items, ..StepOptions::default() };
            let run = |seed| {
                let mut answered: Vec<(usize, usize)> = Vec::new();
                loop {
                    let step = next_step(&bank, &answered, &exposure, 0, &options, seed);
                    match step.next {
                        Some(j) => {
                            assert!(answered.iter().all(|a| a.0 != j), "item {j} given twice");
                            // Right on items easier than θ = 0.7.
                            answered.push((j, usize::from(bank[j].1.steps[0] < 0.7)));
                        }
                        None => return (answered, step),
                    }
                }
            };
            let (answered, step) = run(7);
            if se_target > 0.1 {
                assert_eq!(step.stop, Some(StopReason::SeTarget), "{step:?}");
                assert!(step.se <= se_target && answered.len() < max_items, "{step:?} after {}", answered.len());
            } else {
                assert_eq!((step.stop, answered.len()), (Some(StopReason::MaxLength), max_items));
            }
            assert!(step.theta > 0.0 && step.theta < 1.6, "θ {step:?}");
            let per_cat = |c: &str| answered.iter().filter(|a| bank[a.0].2.as_deref() == Some(c)).count();
            let (x, y, z) = (per_cat("x"), per_cat("y"), per_cat("z"));
            assert!(x.max(y).max(z) - x.min(y).min(z) <= 1, "content balance {x} {y} {z}");
            assert_eq!(run(7).0, answered, "the same seed gives the same test");
        }
    }

    /// Over-exposed items are held back while others of their category are left.
    #[test]
    fn exposure_ceiling_holds_items_back() {
        let bank = bank();
        let options = StepOptions { randomesque: 1, ..StepOptions::default() };
        let first = next_step(&bank, &[], &vec![0; bank.len()], 0, &options, 1).next.unwrap();
        let mut exposure = vec![0u64; bank.len()];
        exposure[first] = 50;
        let second = next_step(&bank, &[], &exposure, 100, &options, 1).next.unwrap();
        assert_ne!(first, second);
        assert_eq!(bank[first].2, bank[second].2, "still the category furthest below its share");
    }
}
