//! Assessment reports from student to city (issue 10): the input model, scoring per literacy,
//! student reports with the mistake notebook (错题本), class/school/district/city reports with
//! small-cell suppression, student profiles (k-means), the teachers' reports and the region's
//! annual monitoring report — as JSON, PDF (krilla, CJK fonts, drawn charts) and XLSX (native
//! charts), in zh-CN and en. docs/assessment-reports.md documents it; `qiming assess report`
//! (server/src/assess_cmd.rs) drives it.

pub mod group;
pub mod input;
pub mod layout;
pub mod pdf;
pub mod profiles;
pub mod scoring;
pub mod simulate;
pub mod student;
pub mod text;
pub mod xlsx;

use std::collections::BTreeMap;

use qiming_curriculum::Catalogue;
use serde::Serialize;

pub use group::{AnnualReport, GroupLevel, GroupReport};
pub use input::{Input, InputError, Locality, Population, Taker};
pub use scoring::{Scored, ScoringError, score, score_with};
pub use student::StudentReport;
pub use text::Lang;

/// Groups (and profile cells) smaller than this are never shown.
pub const MIN_CELL: usize = 10;

/// Everything a report is built from.
pub struct Context<'a> {
    pub input: &'a Input,
    pub catalogue: &'a Catalogue,
    pub scored: &'a Scored,
    pub lang: Lang,
    /// The report year.
    pub year: i32,
    /// Profiles per population (fitted on the report year's takers with all four scores).
    pub profiles: BTreeMap<Population, profiles::Profiles>,
    /// Each taker's profile, when they have one.
    pub profile_of: Vec<Option<usize>>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("year", &self.year).field("lang", &self.lang).finish()
    }
}

impl<'a> Context<'a> {
    /// A context for `year` (default: the latest year in the input); fits the profiles with `seed`.
    pub fn new(input: &'a Input, catalogue: &'a Catalogue, scored: &'a Scored, lang: Lang, year: Option<i32>, seed: u64) -> Context<'a> {
        let year = year.unwrap_or_else(|| input.takers.iter().map(|t| t.year).max().unwrap_or(0));
        let mut profiles = BTreeMap::new();
        let mut profile_of = vec![None; input.takers.len()];
        for population in [Population::Students, Population::Teachers] {
            let members: Vec<usize> = (0..input.takers.len())
                .filter(|&i| input.takers[i].population == population && input.takers[i].year == year && scored.scores[i].iter().all(Option::is_some))
                .collect();
            let points: Vec<[f64; 4]> = members.iter().map(|&i| scored.scores[i].map(|s| s.map_or(0.0, |s| s.scale))).collect();
            if let Some(p) = profiles::fit(&points, seed) {
                for (&i, &l) in members.iter().zip(&p.labels) {
                    profile_of[i] = Some(l);
                }
                profiles.insert(population, p);
            }
        }
        Context { input, catalogue, scored, lang, year, profiles, profile_of }
    }

    /// Text for a key in the report's language.
    pub fn t(&self, key: &str) -> &'static str {
        text::t(self.lang, key)
    }
}

/// Any report, for the output writers.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Report {
    Student(Box<StudentReport>),
    Group(Box<GroupReport>),
    Annual(Box<AnnualReport>),
}

impl Report {
    /// Stable, pretty JSON (no timestamps; the same input gives the same bytes).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Nobody matches the id.
    #[error("no {level} {id:?} among the {population} of {year} (ids: {known})")]
    NotFound { level: String, id: String, population: String, year: i32, known: String },
    /// The id names more than one group.
    #[error("{id:?} names more than one {level}: give the full path, e.g. {example:?}")]
    Ambiguous { level: String, id: String, example: String },
    /// A level needs an id.
    #[error("--id is required for a {0} report")]
    NeedsId(String),
    /// The PDF could not be written.
    #[error("PDF: {0}")]
    Pdf(String),
    /// The XLSX could not be written.
    #[error("XLSX: {0}")]
    Xlsx(String),
}

/// What report to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportLevel {
    Student,
    Group(GroupLevel),
    Annual,
}

impl ReportLevel {
    /// `student`, `class`, `school`, `district`, `city` or `annual`.
    pub fn parse(s: &str) -> Option<ReportLevel> {
        match s {
            "student" | "teacher" => Some(ReportLevel::Student),
            "annual" => Some(ReportLevel::Annual),
            other => GroupLevel::parse(other).map(ReportLevel::Group),
        }
    }
}

/// Builds the report `level` for `id` (a taker id, a group's path or last name, or a city).
pub fn build(cx: &Context<'_>, level: ReportLevel, id: Option<&str>, population: Population) -> Result<Report, ReportError> {
    match level {
        ReportLevel::Student => {
            let id = id.ok_or_else(|| ReportError::NeedsId("student".into()))?;
            Ok(Report::Student(Box::new(student::student_report(cx, id)?)))
        }
        ReportLevel::Group(g) => {
            let path = group::find_group(cx, g, id, population)?;
            Ok(Report::Group(Box::new(group::group_report(cx, g, &path, population))))
        }
        ReportLevel::Annual => Ok(Report::Annual(Box::new(group::annual_report(cx, id)?))),
    }
}
