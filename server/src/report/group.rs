//! Group reports — class, school, district, city — for students or teachers, and the region's
//! annual monitoring report: participation, scale-score distributions and level percentages per
//! literacy, the region above, urban/rural and gender gaps, subgroups, growth since last year and
//! profile shares.
//!
//! Privacy: a group with fewer than 10 takers gets no figures at all; in every breakdown a row
//! under 10 is hidden, and when exactly one row would be hidden another (the smallest) is hidden
//! with it, so no hidden row can be recovered by subtracting the shown ones from the total.
//! Names appear only in class reports (and student reports).

use serde::Serialize;

use super::input::{Locality, Population};
use super::scoring::LITERACY_COUNT;
use super::text::{Lang, level_name, literacy_name};
use super::{Context, MIN_CELL, ReportError};
use qiming_curriculum::meta::LITERACIES;

/// The level of a group report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupLevel {
    Class,
    School,
    District,
    City,
}

impl GroupLevel {
    /// How many path components name a group of this level (city / district / school / class).
    pub fn depth(self) -> usize {
        match self {
            GroupLevel::City => 1,
            GroupLevel::District => 2,
            GroupLevel::School => 3,
            GroupLevel::Class => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GroupLevel::Class => "class",
            GroupLevel::School => "school",
            GroupLevel::District => "district",
            GroupLevel::City => "city",
        }
    }

    pub fn parse(s: &str) -> Option<GroupLevel> {
        match s {
            "class" => Some(GroupLevel::Class),
            "school" => Some(GroupLevel::School),
            "district" => Some(GroupLevel::District),
            "city" => Some(GroupLevel::City),
            _ => None,
        }
    }

    fn parent(self) -> Option<GroupLevel> {
        match self {
            GroupLevel::Class => Some(GroupLevel::School),
            GroupLevel::School => Some(GroupLevel::District),
            GroupLevel::District => Some(GroupLevel::City),
            GroupLevel::City => None,
        }
    }

    fn child(self) -> Option<GroupLevel> {
        match self {
            GroupLevel::Class => None,
            GroupLevel::School => Some(GroupLevel::Class),
            GroupLevel::District => Some(GroupLevel::School),
            GroupLevel::City => Some(GroupLevel::District),
        }
    }
}

/// A taker's path: city, district, school, class.
fn path_of(t: &super::Taker) -> [&str; 4] {
    [&t.city, &t.district, &t.school, &t.class]
}

/// Takers of `population` in `year` whose path starts with `path` (`level.depth()` components).
pub fn members_at(cx: &Context<'_>, level: GroupLevel, path: &[String], population: Population, year: i32) -> Vec<usize> {
    let d = level.depth().min(path.len());
    (0..cx.input.takers.len())
        .filter(|&i| {
            let t = &cx.input.takers[i];
            t.population == population && t.year == year && path_of(t)[..d].iter().zip(&path[..d]).all(|(a, b)| *a == b.as_str())
        })
        .collect()
}

/// The mean scale score of `members` on literacy `l` (None with no scores).
pub fn mean_of(cx: &Context<'_>, members: &[usize], l: usize) -> Option<f64> {
    let v: Vec<f64> = members.iter().filter_map(|&i| cx.scored.scores[i][l].map(|s| s.scale)).collect();
    (!v.is_empty()).then(|| round1(v.iter().sum::<f64>() / v.len() as f64))
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A figure, or why it is hidden.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Shown<T> {
    Value(T),
    Hidden(Hidden),
}

impl<T> Shown<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Shown::Value(v) => Some(v),
            Shown::Hidden(_) => None,
        }
    }
}

/// A hidden figure: `fewer_than_10` or `complementary`, with the words for it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hidden {
    pub suppressed: &'static str,
    pub note: &'static str,
}

impl Hidden {
    fn new(lang: Lang, reason: &'static str) -> Hidden {
        Hidden { suppressed: reason, note: super::text::t(lang, reason) }
    }
}

/// One group's figures on one literacy.
#[derive(Clone, Debug, Serialize)]
pub struct GroupLiteracy {
    pub literacy: &'static str,
    pub name: &'static str,
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    /// 10th, 50th and 90th percentiles.
    pub percentiles: [f64; 3],
    /// Percent of takers at levels 1..=5.
    pub levels: [f64; 5],
    /// Percent of takers per 50-point band (see [`BINS`]).
    pub distribution: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionComparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<Shown<Growth>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RegionComparison {
    pub name: String,
    pub mean: f64,
    /// This group's mean minus the region's.
    pub difference: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Growth {
    pub previous_year: i32,
    pub previous_n: usize,
    pub previous_mean: f64,
    pub change: f64,
}

/// Lower edges of the distribution's bands: below 300, 300–350, …, 700 and above.
pub const BINS: [f64; 10] = [f64::NEG_INFINITY, 300.0, 350.0, 400.0, 450.0, 500.0, 550.0, 600.0, 650.0, 700.0];

/// The label of band `b`.
pub fn bin_label(b: usize) -> String {
    match b {
        0 => "<300".into(),
        9 => "≥700".into(),
        _ => format!("{}–{}", BINS[b], BINS[b] + 50.0),
    }
}

/// One row of a breakdown (a subgroup).
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub value: Shown<RowStats>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowStats {
    pub n: usize,
    /// Mean per literacy (None where fewer than 10 of the row have a score on it).
    pub means: [Option<f64>; LITERACY_COUNT],
}

/// Subgroups of a group whose rows add up to it.
#[derive(Clone, Debug, Serialize)]
pub struct Breakdown {
    /// `locality`, `gender`, `classes`, `schools`, `districts`, `profiles`.
    pub kind: &'static str,
    pub title: &'static str,
    pub rows: Vec<Row>,
    /// First row minus second, per literacy, when both are shown (urban − rural, female − male).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<[Option<f64>; LITERACY_COUNT]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_title: Option<&'static str>,
}

/// A profile and the group's share of it.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileShare {
    pub profile: usize,
    pub name: String,
    pub description: String,
    pub centroid: [f64; LITERACY_COUNT],
    #[serde(flatten)]
    pub value: Shown<Share>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Share {
    pub n: usize,
    pub percent: f64,
}

/// A taker in a class report.
#[derive(Clone, Debug, Serialize)]
pub struct StudentRow {
    pub id: String,
    pub name: String,
    pub scores: [Option<f64>; LITERACY_COUNT],
    pub levels: [Option<u8>; LITERACY_COUNT],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<usize>,
}

/// A class, school, district or city report.
#[derive(Clone, Debug, Serialize)]
pub struct GroupReport {
    pub kind: GroupLevel,
    pub lang: Lang,
    pub title: String,
    pub year: i32,
    pub population: &'static str,
    pub population_name: &'static str,
    /// The group's name and the names of the groups it is in (city first).
    pub name: String,
    pub path: Vec<String>,
    pub takers: Shown<usize>,
    /// Figures per literacy (empty when the group is suppressed).
    pub literacies: Vec<GroupLiteracy>,
    pub breakdowns: Vec<Breakdown>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileShare>,
    /// Class reports only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub students: Vec<StudentRow>,
    pub level_names: Vec<&'static str>,
    pub notes: Vec<String>,
}

/// Finds the group `id` names: a full path (`city/district/school[/class]`) or its last part
/// when that is unique. Returns the path.
pub fn find_group(cx: &Context<'_>, level: GroupLevel, id: Option<&str>, population: Population) -> Result<Vec<String>, ReportError> {
    let d = level.depth();
    let mut paths: Vec<Vec<String>> = cx
        .input
        .takers
        .iter()
        .filter(|t| t.population == population && t.year == cx.year)
        .map(|t| path_of(t)[..d].iter().map(|s| s.to_string()).collect::<Vec<String>>())
        .collect();
    paths.sort();
    paths.dedup();
    let Some(id) = id else {
        if level == GroupLevel::City && paths.len() == 1 {
            return Ok(paths.remove(0));
        }
        return Err(ReportError::NeedsId(level.name().into()));
    };
    let matching: Vec<&Vec<String>> = paths.iter().filter(|p| p.join("/") == id || p.last().is_some_and(|l| l == id)).collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ReportError::NotFound {
            level: level.name().into(),
            id: id.into(),
            population: population.name().into(),
            year: cx.year,
            known: paths.iter().take(6).map(|p| p.join("/")).collect::<Vec<_>>().join(", "),
        }),
        [first, ..] => Err(ReportError::Ambiguous { level: level.name().into(), id: id.into(), example: first.join("/") }),
    }
}

/// The report for the group at `path`.
pub fn group_report(cx: &Context<'_>, level: GroupLevel, path: &[String], population: Population) -> GroupReport {
    let lang = cx.lang;
    let members = members_at(cx, level, path, population, cx.year);
    let title_key = match level {
        GroupLevel::Class => "class_report",
        GroupLevel::School => "school_report",
        GroupLevel::District => "district_report",
        GroupLevel::City => "city_report",
    };
    let population_name = cx.t(population.name());
    let mut report = GroupReport {
        kind: level,
        lang,
        title: match lang {
            Lang::Zh => format!("{}（{population_name}）", cx.t(title_key)),
            Lang::En => format!("{} ({})", cx.t(title_key), population_name.to_lowercase()),
        },
        year: cx.year,
        population: population.name(),
        population_name,
        name: path.last().cloned().unwrap_or_default(),
        path: path.to_vec(),
        takers: Shown::Value(members.len()),
        literacies: Vec::new(),
        breakdowns: Vec::new(),
        profiles: Vec::new(),
        students: Vec::new(),
        level_names: (1..=5).map(|l| level_name(lang, l)).collect(),
        notes: vec![cx.t("scale_note").to_string(), cx.t("privacy_note").to_string()],
    };
    if level == GroupLevel::Class {
        report.students = members
            .iter()
            .map(|&i| {
                let t = &cx.input.takers[i];
                let s = cx.scored.scores[i];
                StudentRow {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    scores: s.map(|s| s.map(|s| s.scale)),
                    levels: s.map(|s| s.map(|s| s.level)),
                    profile: cx.profile_of[i].map(|p| p + 1),
                }
            })
            .collect();
    }
    if members.len() < MIN_CELL {
        report.takers = Shown::Hidden(Hidden::new(lang, "fewer_than_10"));
        report.notes.insert(0, cx.t("group_suppressed").to_string());
        return report;
    }
    let parent = level.parent().map(|p| {
        let pp = &path[..p.depth()];
        (pp.last().cloned().unwrap_or_default(), members_at(cx, p, pp, population, cx.year))
    });
    let previous = members_at(cx, level, path, population, cx.year - 1);
    let has_previous = cx.input.takers.iter().any(|t| t.population == population && t.year == cx.year - 1);
    for l in 0..LITERACY_COUNT {
        let Some(lit) = literacy_figures(cx, &members, l) else { continue };
        let mut lit = lit;
        if let Some((name, pm)) = &parent
            && let Some(m) = mean_of(cx, pm, l)
        {
            lit.region = Some(RegionComparison { name: name.clone(), mean: m, difference: round1(lit.mean - m) });
        }
        if has_previous {
            let n_prev = previous.iter().filter(|&&i| cx.scored.scores[i][l].is_some()).count();
            lit.growth = Some(if n_prev < MIN_CELL {
                Shown::Hidden(Hidden::new(lang, "fewer_than_10"))
            } else {
                let pm = mean_of(cx, &previous, l).unwrap_or(0.0);
                Shown::Value(Growth { previous_year: cx.year - 1, previous_n: n_prev, previous_mean: pm, change: round1(lit.mean - pm) })
            });
        }
        report.literacies.push(lit);
    }
    if !has_previous {
        report.notes.push(cx.t("no_previous_year").to_string());
    }
    // Breakdowns: the level below, urban/rural, gender.
    if let Some(child) = level.child() {
        let d = child.depth();
        let mut keys: Vec<String> = members.iter().map(|&i| path_of(&cx.input.takers[i])[d - 1].to_string()).collect();
        keys.sort();
        keys.dedup();
        let rows = keys
            .iter()
            .map(|k| {
                let sub: Vec<usize> = members.iter().copied().filter(|&i| path_of(&cx.input.takers[i])[d - 1] == k.as_str()).collect();
                (k.clone(), k.clone(), sub)
            })
            .collect();
        let (kind, title) = match child {
            GroupLevel::Class => ("classes", cx.t("classes")),
            GroupLevel::School => ("schools", cx.t("schools")),
            _ => ("districts", cx.t("districts")),
        };
        // A class has no separate teachers' rows (teachers have no class).
        if !(population == Population::Teachers && child == GroupLevel::Class) {
            report.breakdowns.push(breakdown(cx, kind, title, rows, None));
        }
    }
    let by = |f: &dyn Fn(&super::Taker) -> bool| members.iter().copied().filter(|&i| f(&cx.input.takers[i])).collect::<Vec<usize>>();
    let mut localities = vec![
        ("urban".into(), cx.t("urban").into(), by(&|t| t.locality == Locality::Urban)),
        ("rural".into(), cx.t("rural").into(), by(&|t| t.locality == Locality::Rural)),
    ];
    // Takers whose locality is not recorded (reports from the school server) get a row of
    // their own, so the rows still add up to the group and complementary suppression holds.
    let unknown = by(&|t| t.locality == Locality::Unknown);
    if !unknown.is_empty() {
        localities.push(("unknown".into(), cx.t("locality_unknown").into(), unknown));
    }
    report.breakdowns.push(breakdown(cx, "locality", cx.t("locality"), localities, Some(cx.t("urban_rural_gap"))));
    report.breakdowns.push(breakdown(
        cx,
        "gender",
        cx.t("gender"),
        vec![
            ("f".into(), cx.t("female").into(), by(&|t| t.gender.as_deref() == Some("f"))),
            ("m".into(), cx.t("male").into(), by(&|t| t.gender.as_deref() == Some("m"))),
            ("unknown".into(), cx.t("gender_unknown").into(), by(&|t| t.gender.is_none())),
        ],
        Some(cx.t("gender_gap")),
    ));
    report.profiles = profile_shares(cx, &members, population);
    report
}

/// Figures of `members` on literacy `l` (None when fewer than 10 have a score).
fn literacy_figures(cx: &Context<'_>, members: &[usize], l: usize) -> Option<GroupLiteracy> {
    let mut v: Vec<(f64, u8)> = members.iter().filter_map(|&i| cx.scored.scores[i][l].map(|s| (s.scale, s.level))).collect();
    if v.len() < MIN_CELL {
        return None;
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = v.len() as f64;
    let mean = v.iter().map(|x| x.0).sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x.0 - mean) * (x.0 - mean)).sum::<f64>() / n).sqrt();
    // Percentiles by the nearest-rank method: always a score someone has, never interpolated.
    let pct = |p: f64| v[((p * n).ceil() as usize).clamp(1, v.len()) - 1].0;
    let mut levels = [0.0; 5];
    let mut distribution = vec![0.0; BINS.len()];
    for &(s, level) in &v {
        levels[usize::from(level) - 1] += 1.0;
        let b = BINS.iter().rposition(|&edge| s >= edge).unwrap_or(0);
        distribution[b] += 1.0;
    }
    let percent = |c: f64| round1(100.0 * c / n);
    Some(GroupLiteracy {
        literacy: LITERACIES[l].0,
        name: literacy_name(cx.lang, l),
        n: v.len(),
        mean: round1(mean),
        sd: round1(sd),
        percentiles: [pct(0.1), pct(0.5), pct(0.9)],
        levels: levels.map(percent),
        distribution: distribution.into_iter().map(percent).collect(),
        region: None,
        growth: None,
    })
}

/// A breakdown with small-cell and complementary suppression. Empty rows are left out.
fn breakdown(cx: &Context<'_>, kind: &'static str, title: &'static str, rows: Vec<(String, String, Vec<usize>)>, gap_title: Option<&'static str>) -> Breakdown {
    let keys: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let rows: Vec<(String, String, Vec<usize>)> = rows.into_iter().filter(|r| !r.2.is_empty()).collect();
    let sizes: Vec<usize> = rows.iter().map(|r| r.2.len()).collect();
    let hidden = suppress(&sizes);
    let rows: Vec<Row> = rows
        .into_iter()
        .zip(hidden)
        .map(|((key, label, sub), h)| Row {
            key,
            label,
            value: match h {
                Some(reason) => Shown::Hidden(Hidden::new(cx.lang, reason)),
                None => Shown::Value(RowStats {
                    n: sub.len(),
                    means: std::array::from_fn(|l| {
                        let n = sub.iter().filter(|&&i| cx.scored.scores[i][l].is_some()).count();
                        if n >= MIN_CELL { mean_of(cx, &sub, l) } else { None }
                    }),
                }),
            },
        })
        .collect();
    let gap = gap_title.and_then(|_| {
        // The first two keys given (urban and rural, female and male), when both are shown.
        let (ka, kb) = (keys.first()?, keys.get(1)?);
        let find = |k: &String| rows.iter().find(|r| &r.key == k).and_then(|r| r.value.value());
        let (a, b) = (find(ka)?, find(kb)?);
        Some(std::array::from_fn(|l| Some(round1(a.means[l]? - b.means[l]?))))
    });
    Breakdown { kind, title, rows, gap, gap_title: gap.and(gap_title) }
}

/// Which cells of a breakdown (sizes adding up to a shown total) to hide: every cell under 10,
/// and, when that hides exactly one cell, also the smallest other cell — otherwise the hidden
/// one would be the total minus the shown ones. (With two or more hidden cells only their sum
/// can be worked out.)
pub fn suppress(sizes: &[usize]) -> Vec<Option<&'static str>> {
    let mut out: Vec<Option<&'static str>> = sizes.iter().map(|&n| (n < MIN_CELL).then_some("fewer_than_10")).collect();
    if out.iter().filter(|h| h.is_some()).count() == 1
        && let Some(j) = (0..sizes.len()).filter(|&j| out[j].is_none()).min_by_key(|&j| (sizes[j], j))
    {
        out[j] = Some("complementary");
    }
    out
}

/// The group's share of each profile (suppressed like a breakdown).
fn profile_shares(cx: &Context<'_>, members: &[usize], population: Population) -> Vec<ProfileShare> {
    let Some(p) = cx.profiles.get(&population) else { return Vec::new() };
    let counts: Vec<usize> = (0..p.k).map(|k| members.iter().filter(|&&i| cx.profile_of[i] == Some(k)).count()).collect();
    let total: usize = counts.iter().sum();
    let shown: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
    let mut hidden_of_shown = suppress(&shown).into_iter();
    (0..p.k)
        .map(|k| {
            let (name, description) = super::profiles::describe(cx.lang, &p.centroids[k]);
            let value = if counts[k] == 0 {
                Shown::Value(Share { n: 0, percent: 0.0 })
            } else {
                match hidden_of_shown.next().flatten() {
                    Some(reason) => Shown::Hidden(Hidden::new(cx.lang, reason)),
                    None => Shown::Value(Share { n: counts[k], percent: round1(100.0 * counts[k] as f64 / total.max(1) as f64) }),
                }
            };
            ProfileShare { profile: k + 1, name, description, centroid: p.centroids[k], value }
        })
        .collect()
}

/// The annual monitoring report of a region (a city): for students and for teachers, the city
/// report (with districts, urban/rural and gender), and every school compared.
#[derive(Clone, Debug, Serialize)]
pub struct AnnualReport {
    pub kind: &'static str,
    pub lang: Lang,
    pub title: String,
    pub year: i32,
    pub city: String,
    pub populations: Vec<AnnualPopulation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AnnualPopulation {
    pub population: &'static str,
    pub population_name: &'static str,
    pub districts: usize,
    pub schools_count: usize,
    pub report: GroupReport,
    pub schools: Breakdown,
}

/// The annual report for the city `id` (None: the only city in the input).
pub fn annual_report(cx: &Context<'_>, id: Option<&str>) -> Result<AnnualReport, ReportError> {
    let any_population =
        if cx.input.takers.iter().any(|t| t.population == Population::Students && t.year == cx.year) { Population::Students } else { Population::Teachers };
    let path = find_group(cx, GroupLevel::City, id, any_population)?;
    let mut populations = Vec::new();
    for population in [Population::Students, Population::Teachers] {
        let members = members_at(cx, GroupLevel::City, &path, population, cx.year);
        if members.is_empty() {
            continue;
        }
        let report = group_report(cx, GroupLevel::City, &path, population);
        let mut schools: Vec<(String, String, Vec<usize>)> = Vec::new();
        for &i in &members {
            let t = &cx.input.takers[i];
            let key = format!("{}/{}", t.district, t.school);
            match schools.iter_mut().find(|s| s.0 == key) {
                Some(s) => s.2.push(i),
                None => schools.push((key, format!("{} · {}", t.district, t.school), vec![i])),
            }
        }
        schools.sort_by(|a, b| a.0.cmp(&b.0));
        let districts = {
            let mut d: Vec<&str> = members.iter().map(|&i| cx.input.takers[i].district.as_str()).collect();
            d.sort();
            d.dedup();
            d.len()
        };
        populations.push(AnnualPopulation {
            population: population.name(),
            population_name: cx.t(population.name()),
            districts,
            schools_count: schools.len(),
            report,
            schools: breakdown(cx, "schools", cx.t("schools"), schools, None),
        });
    }
    Ok(AnnualReport {
        kind: "annual",
        lang: cx.lang,
        title: match cx.lang {
            Lang::Zh => format!("{}{}年{}", path[0], cx.year, cx.t("annual_report")),
            Lang::En => format!("{} {}: {}", path[0], cx.year, cx.t("annual_report")),
        },
        year: cx.year,
        city: path[0].clone(),
        populations,
        notes: vec![cx.t("scale_note").to_string(), cx.t("privacy_note").to_string()],
    })
}
