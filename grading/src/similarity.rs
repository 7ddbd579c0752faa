//! Similar submissions across a whole event: winnowing fingerprints over normalised tokens, pairs and clusters for judges to review.
//!
//! Each program's normalised token stream (identifiers, numbers and strings
//! abstracted; comments and layout gone — see `qiming_runtime::tokens`) is
//! cut into k-grams; winnowing keeps the smallest hash of every window of
//! `w` k-grams, so two programs that share a run of at least `k + w − 1`
//! tokens share a fingerprint wherever it sits. A pair's score is the
//! Jaccard index of the two fingerprint sets, so moving independent
//! statements around changes only the few k-grams that span their edges.
//! Fingerprints of the base code (the lab's starter program, given with
//! `--base`) and those that more than half of a folder of eight or more
//! programs share (the lab's unavoidable idioms) are ignored, as MOSS ignores
//! base code; a passage that a group of students copied stays, however large
//! the group.
//!
//! Programs that do not parse are compared on their raw lexemes instead and
//! marked. Scores are evidence for a person to look at, never a verdict.
//!
//! Cost: tokenising and fingerprinting are linear in the total size; pairs
//! are found through an index from fingerprint to programs, so only programs
//! that share something are ever compared: the work grows with the total size
//! plus the number of (pair, shared fingerprint) matches, not with the number
//! of all pairs — thousands of submissions of a lab take well under a second
//! (README's performance table), not the hours that comparing every pair would.

use std::collections::{BTreeMap, BTreeSet};

use qiming_runtime::Program;
use qiming_runtime::tokens::tokens;
use sha2::{Digest, Sha256};

/// Tokens per k-gram.
pub const K: usize = 5;
/// K-grams per winnowing window.
pub const WINDOW: usize = 4;

/// One program's fingerprints.
#[derive(Clone, Debug)]
pub struct Fingerprints {
    pub name: String,
    /// Whether the program parsed; when not, its fingerprints come from raw text.
    pub parsed: bool,
    set: BTreeSet<u64>,
}

/// A pair of similar programs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    /// Jaccard index of the fingerprint sets, 0.0–1.0 (rounded to 3 decimals).
    pub score: f64,
    /// `tokens` (both parsed) or `text` (at least one did not parse).
    pub compared_as: &'static str,
}

/// The report: pairs (highest score first) and clusters of programs linked by
/// pairs at or above the threshold.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Report {
    pub pairs: Vec<Pair>,
    pub clusters: Vec<Vec<String>>,
    /// Programs that did not parse (compared as text).
    pub unparsed: Vec<String>,
    /// Programs too short to fingerprint (fewer than k tokens).
    pub too_short: Vec<String>,
}

fn hash(gram: &[String]) -> u64 {
    let mut h = Sha256::new();
    for t in gram {
        h.update(t.as_bytes());
        h.update([0]);
    }
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

/// Winnowing: the minimum hash of every window of `WINDOW` consecutive k-grams.
fn winnow(tokens: &[String]) -> BTreeSet<u64> {
    if tokens.len() < K {
        return BTreeSet::new();
    }
    let grams: Vec<u64> = tokens.windows(K).map(hash).collect();
    if grams.len() <= WINDOW {
        return grams.iter().min().into_iter().copied().collect();
    }
    grams.windows(WINDOW).filter_map(|w| w.iter().min().copied()).collect()
}

/// Fingerprints a program under `name`.
pub fn fingerprint(name: &str, program: &Program) -> Fingerprints {
    let t = tokens(program);
    let stream = if t.parses { &t.normalised } else { &t.raw };
    Fingerprints { name: name.to_string(), parsed: t.parses, set: winnow(stream) }
}

/// The fingerprints of base code (a starter program) that every submission may contain.
pub fn base_fingerprints(base: &[Program]) -> BTreeSet<u64> {
    base.iter().flat_map(|p| fingerprint("", p).set).collect()
}

/// Compares every program with every other through a fingerprint index,
/// ignoring `base` fingerprints. `threshold` links programs into clusters;
/// pairs below `min_score` are left out.
pub fn compare(programs: &[Fingerprints], base: &BTreeSet<u64>, threshold: f64, min_score: f64) -> Report {
    // Base code, and in a folder of eight or more a fingerprint that more than
    // half of the programs share, say nothing about copying.
    let mut frequency: BTreeMap<u64, usize> = BTreeMap::new();
    for p in programs {
        for f in &p.set {
            *frequency.entry(*f).or_default() += 1;
        }
    }
    let n = programs.len();
    let common = |f: &u64| base.contains(f) || (n >= 8 && frequency[f] * 2 > n);
    let sets: Vec<BTreeSet<u64>> = programs.iter().map(|p| p.set.iter().filter(|f| !common(f)).copied().collect()).collect();
    let mut index: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, set) in sets.iter().enumerate() {
        for f in set {
            index.entry(*f).or_default().push(i);
        }
    }
    let mut shared: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for holders in index.values() {
        for (x, &i) in holders.iter().enumerate() {
            for &j in &holders[x + 1..] {
                *shared.entry((i, j)).or_default() += 1;
            }
        }
    }
    let mut pairs: Vec<Pair> = shared
        .into_iter()
        .filter_map(|((i, j), n)| {
            let union = sets[i].len() + sets[j].len() - n;
            let score = (n as f64 / union.max(1) as f64 * 1000.0).round() / 1000.0;
            let compared_as = if programs[i].parsed && programs[j].parsed { "tokens" } else { "text" };
            (score >= min_score && score > 0.0).then(|| Pair { a: programs[i].name.clone(), b: programs[j].name.clone(), score, compared_as })
        })
        .collect();
    pairs.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| x.a.cmp(&y.a)).then_with(|| x.b.cmp(&y.b)));

    // Clusters: connected components over pairs at or above the threshold.
    let names: BTreeMap<&str, usize> = programs.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
    let mut parent: Vec<usize> = (0..programs.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for p in pairs.iter().filter(|p| p.score >= threshold) {
        let (a, b) = (root(&mut parent, names[p.a.as_str()]), root(&mut parent, names[p.b.as_str()]));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, p) in programs.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(p.name.clone());
    }
    let mut clusters: Vec<Vec<String>> = groups.into_values().filter(|g| g.len() > 1).collect();
    for c in &mut clusters {
        c.sort();
    }
    clusters.sort_by(|x, y| y.len().cmp(&x.len()).then_with(|| x.cmp(y)));
    Report {
        pairs,
        clusters,
        unparsed: programs.iter().filter(|p| !p.parsed).map(|p| p.name.clone()).collect(),
        too_short: programs.iter().filter(|p| p.set.is_empty()).map(|p| p.name.clone()).collect(),
    }
}
