//! Differential item functioning between two groups by the Mantel–Haenszel procedure, matched on total score (or on strata the caller gives, such as θ bands), with the ETS A/B/C classes.

use serde::Serialize;

use super::data::{MISSING, Responses};

/// MH statistics for one item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DifItem {
    /// Item id.
    pub id: String,
    /// Reference-group students in the analysis.
    pub n_reference: usize,
    /// Focal-group students in the analysis.
    pub n_focal: usize,
    /// MH common odds ratio (reference vs focal); above 1 favours the reference group.
    pub odds_ratio: Option<f64>,
    /// ETS delta: −2.35·ln(odds ratio); negative means the item is harder for the focal group.
    pub delta: Option<f64>,
    /// Standard error of delta (Robins–Breslow–Greenland).
    pub se: Option<f64>,
    /// MH chi-square with continuity correction (1 df).
    pub chi_square: f64,
    /// Its p-value.
    pub p_value: f64,
    /// ETS class: "A" negligible, "B" moderate, "C" large; "-" when not estimable.
    pub class: &'static str,
    /// "reference", "focal" or "neither" (for class A).
    pub favours: &'static str,
}

/// A DIF analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DifReport {
    /// The reference group's label.
    pub reference: String,
    /// The focal group's label.
    pub focal: String,
    /// Students matched (both a group and every analysed item answered).
    pub students: usize,
    /// Students left out: no group, or an analysed item not presented.
    pub left_out: usize,
    /// Dichotomous items analysed, in header order.
    pub items: Vec<DifItem>,
    /// Items not analysed (polytomous), by id.
    pub not_analysed: Vec<String>,
}

/// Mantel–Haenszel DIF. `focal[i]` is `Some(true)` for a focal-group student, `Some(false)`
/// for the reference group, `None` for a student in neither. Students are matched on their
/// total score over the dichotomous items (studied item included, as Holland and Thayer
/// recommend); only students who answered all of them are matched, because a total over
/// different items is not a common yardstick.
pub fn mantel_haenszel(responses: &Responses, focal: &[Option<bool>], reference: &str, focal_label: &str) -> DifReport {
    let j_count = responses.items.len();
    let n = responses.persons.len();
    let dich = dichotomous(responses);
    let members: Vec<(usize, bool, usize)> = (0..n)
        .filter_map(|i| {
            let g = focal[i]?;
            let row = &responses.scores[i * j_count..(i + 1) * j_count];
            if dich.iter().any(|&j| row[j] == MISSING) {
                return None;
            }
            Some((i, g, dich.iter().map(|&j| usize::from(row[j])).sum()))
        })
        .collect();
    report(responses, &dich, &members, dich.len() + 1, reference, focal_label)
}

/// Mantel–Haenszel DIF matched on a stratum the caller gives each student (`stratum[i]`,
/// e.g. a band of EAP θ on the calibrated scale) instead of the total score. For data where
/// students were given different items — adaptive tests, several forms — a total is no common
/// yardstick but θ is. Each item is analysed over the grouped students who were presented it,
/// so `n_reference` and `n_focal` are per item, and nobody is left out for a missing item;
/// `left_out` counts students in neither group. Same statistics and ETS classes as
/// [`mantel_haenszel`].
pub fn mantel_haenszel_matched(responses: &Responses, focal: &[Option<bool>], stratum: &[usize], reference: &str, focal_label: &str) -> DifReport {
    let n = responses.persons.len();
    let dich = dichotomous(responses);
    let members: Vec<(usize, bool, usize)> = (0..n).filter_map(|i| Some((i, focal[i]?, stratum[i]))).collect();
    let strata = members.iter().map(|m| m.2 + 1).max().unwrap_or(1);
    report(responses, &dich, &members, strata, reference, focal_label)
}

/// The columns whose scores are all 0/1 (or missing).
fn dichotomous(responses: &Responses) -> Vec<usize> {
    let (j_count, n) = (responses.items.len(), responses.persons.len());
    (0..j_count).filter(|&j| (0..n).all(|i| responses.scores[i * j_count + j] == MISSING || responses.scores[i * j_count + j] <= 1)).collect()
}

/// The report over `members` — (student, focal?, stratum) — for the dichotomous columns `dich`:
/// per item, the 2×2 table of every stratum over the members who were presented it.
fn report(responses: &Responses, dich: &[usize], members: &[(usize, bool, usize)], strata: usize, reference: &str, focal_label: &str) -> DifReport {
    let j_count = responses.items.len();
    let n = responses.persons.len();
    let not_analysed = (0..j_count).filter(|j| !dich.contains(j)).map(|j| responses.items[j].clone()).collect();
    let items = dich
        .iter()
        .map(|&j| {
            // Per stratum: [reference right, reference wrong, focal right, focal wrong].
            let mut table = vec![[0.0f64; 4]; strata];
            let (mut n_ref, mut n_foc) = (0, 0);
            for &(i, g, s) in members {
                let x = responses.scores[i * j_count + j];
                if x == MISSING {
                    continue;
                }
                if g {
                    n_foc += 1;
                } else {
                    n_ref += 1;
                }
                table[s][usize::from(g) * 2 + usize::from(x != 1)] += 1.0;
            }
            DifItem { n_reference: n_ref, n_focal: n_foc, ..item_stats(&responses.items[j], &table) }
        })
        .collect();
    DifReport { reference: reference.to_string(), focal: focal_label.to_string(), students: members.len(), left_out: n - members.len(), items, not_analysed }
}

fn item_stats(id: &str, table: &[[f64; 4]]) -> DifItem {
    let (mut num, mut den) = (0.0, 0.0);
    let (mut pr, mut psqr, mut qs) = (0.0, 0.0, 0.0);
    let (mut sum_a, mut sum_e, mut sum_v) = (0.0, 0.0, 0.0);
    for &[a, b, c, d] in table {
        let t = a + b + c + d;
        if t < 2.0 {
            continue;
        }
        let (r, s) = (a * d / t, b * c / t);
        let (p, q) = ((a + d) / t, (b + c) / t);
        num += r;
        den += s;
        pr += p * r;
        psqr += p * s + q * r;
        qs += q * s;
        let (n_ref, n_foc, m1, m0) = (a + b, c + d, a + c, b + d);
        sum_a += a;
        sum_e += n_ref * m1 / t;
        sum_v += n_ref * n_foc * m1 * m0 / (t * t * (t - 1.0));
    }
    let chi_square = if sum_v > 0.0 { ((sum_a - sum_e).abs() - 0.5).max(0.0).powi(2) / sum_v } else { 0.0 };
    // Upper tail of chi-square with 1 df: erfc(√(x/2)).
    let p_value = libm::erfc(libm::sqrt(chi_square / 2.0));
    let estimable = num > 0.0 && den > 0.0;
    let (odds, delta, se) = if estimable {
        let alpha = num / den;
        let var_ln = pr / (2.0 * num * num) + psqr / (2.0 * num * den) + qs / (2.0 * den * den);
        (Some(alpha), Some(-2.35 * libm::log(alpha)), Some(2.35 * libm::sqrt(var_ln)))
    } else {
        (None, None, None)
    };
    let (class, favours) = match (delta, se) {
        (Some(d), Some(se)) => {
            let class = if d.abs() < 1.0 || p_value >= 0.05 {
                "A"
            } else if d.abs() >= 1.5 && (d.abs() - 1.0) / se > 1.645 {
                "C"
            } else {
                "B"
            };
            (
                class,
                if class == "A" {
                    "neither"
                } else if d < 0.0 {
                    "reference"
                } else {
                    "focal"
                },
            )
        }
        _ => ("-", "neither"),
    };
    let r = |v: f64| super::file::round(v, 4);
    DifItem {
        id: id.to_string(),
        n_reference: 0,
        n_focal: 0,
        odds_ratio: odds.map(r),
        delta: delta.map(r),
        se: se.map(r),
        chi_square: r(chi_square),
        p_value: r(p_value),
        class,
        favours,
    }
}
