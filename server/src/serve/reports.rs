//! Assessment reports on the school server: the report engine (`crate::report`,
//! docs/assessment-reports.md) fed with an assessment's submitted sittings, served as JSON,
//! PDF or XLSX in zh-CN or en, under the privacy rule.
//!
//! Who reads what (docs/assessment-delivery.md, "Reports"; `tests/all/reports_server.rs`):
//!
//! - **student** (one taker's results and mistake notebook): the taker themself, the teacher of
//!   the class they are in, and their school's admins — nobody else, not even organisers or the
//!   platform admin (404: the report is not theirs to see).
//! - **class** (names and every student's scores): the class's teacher and its school's admins.
//! - **school** (aggregates only): the school's admins, organisers whose region holds the
//!   school, the platform admin.
//! - **district**, **city** and **annual** (aggregates only): organisers whose region holds the
//!   target region, the platform admin.
//!
//! A role that may never read a level answers 403; a target outside the caller's reach, or one
//! without submitted sittings, answers 404. Every group under 10 is suppressed by the engine
//! (`report::MIN_CELL`, with complementary suppression in breakdowns). Reports with personal
//! data (student, class) are written to the audit log with ids only.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use qiming_curriculum::item::{Item as BankItem, ItemKind};
use qiming_grading::irt::Levels;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::assessments::{self, Assessment};
use super::auth::ActiveCaller;
use super::db::User;
use super::http::{AppError, AppState};
use crate::report::group::GroupLevel;
use crate::report::input::{INPUT_FORMAT_VERSION, Input, ItemResponse, LabFailure, Locality, Population, Taker};
use crate::report::{Context, Lang, Report, ReportError, ReportLevel, layout, pdf, score_with, xlsx};

/// Which item parameters scored the report: `prior` (the bank's) or `v<version>` of the calibration.
pub const CALIBRATION_HEADER: &str = "x-qiming-calibration";

/// The seed of the k-means profiles (as `qiming assess report`'s default).
const PROFILE_SEED: u64 = 2026;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/assessments/{id}/reports", get(list_reports)).route("/api/assessments/{id}/reports/{level}/{target}", get(report))
}

// ---------------------------------------------------------------- the organisation, as reports name it

/// A region row.
#[derive(Clone, Debug)]
struct Region {
    name: String,
    kind: String,
    parent: Option<i64>,
}

/// Regions, schools and classes with the names reports print.
struct Places {
    regions: BTreeMap<i64, Region>,
    /// id → (name, region id).
    schools: BTreeMap<i64, (String, i64)>,
    /// id → urban or rural, where recorded.
    localities: BTreeMap<i64, Locality>,
    /// id → (name, school id, teacher id).
    classes: BTreeMap<i64, (String, i64, i64)>,
}

/// A group's name as a path component: `/` separates the engine's path, so it is replaced by
/// the full-width `／`; a name shared by two siblings gets its id, so they stay two groups.
fn label(name: &str, id: i64, shared: bool) -> String {
    let n = name.replace('/', "／");
    if shared { format!("{n} #{id}") } else { n }
}

impl Places {
    async fn load(state: &AppState) -> Result<Places, AppError> {
        let mut regions = BTreeMap::new();
        for r in sqlx::query("SELECT id, name, kind, parent_id FROM regions ORDER BY id").fetch_all(&state.db.pool).await? {
            regions.insert(r.try_get::<i64, _>("id")?, Region { name: r.try_get("name")?, kind: r.try_get("kind")?, parent: r.try_get("parent_id")? });
        }
        let mut schools = BTreeMap::new();
        let mut localities = BTreeMap::new();
        for r in sqlx::query("SELECT id, name, region_id, locality FROM schools ORDER BY id").fetch_all(&state.db.pool).await? {
            let id: i64 = r.try_get("id")?;
            schools.insert(id, (r.try_get("name")?, r.try_get("region_id")?));
            match r.try_get::<Option<String>, _>("locality")?.as_deref() {
                Some("urban") => localities.insert(id, Locality::Urban),
                Some("rural") => localities.insert(id, Locality::Rural),
                _ => None,
            };
        }
        let mut classes = BTreeMap::new();
        for r in sqlx::query("SELECT id, name, school_id, teacher_id FROM classes ORDER BY id").fetch_all(&state.db.pool).await? {
            classes.insert(r.try_get::<i64, _>("id")?, (r.try_get("name")?, r.try_get("school_id")?, r.try_get("teacher_id")?));
        }
        Ok(Places { regions, schools, localities, classes })
    }

    /// `region` and the regions above it, nearest first (bounded: a cycle cannot hang it).
    fn chain(&self, region: i64) -> Vec<i64> {
        let mut out = vec![region];
        let mut at = self.regions.get(&region).and_then(|r| r.parent);
        while let Some(r) = at {
            if out.contains(&r) || out.len() > 16 {
                break;
            }
            out.push(r);
            at = self.regions.get(&r).and_then(|x| x.parent);
        }
        out
    }

    /// The district and city a region stands for: the nearest regions of kind `district` and
    /// `city` at or above it; without a district, the region itself; without a city, the top.
    fn district_city(&self, region: i64) -> (i64, i64) {
        let chain = self.chain(region);
        let kind = |k: &str| chain.iter().copied().find(|r| self.regions.get(r).is_some_and(|x| x.kind == k));
        let city = kind("city").unwrap_or_else(|| *chain.last().unwrap_or(&region));
        let district = kind("district").filter(|d| *d != city).unwrap_or(region);
        (district, city)
    }

    fn region_label(&self, id: i64) -> String {
        let Some(r) = self.regions.get(&id) else { return format!("#{id}") };
        let shared = self.regions.iter().any(|(&o, x)| o != id && x.name == r.name && x.parent == r.parent);
        label(&r.name, id, shared)
    }

    fn school_label(&self, id: i64) -> String {
        let Some((name, region)) = self.schools.get(&id) else { return format!("#{id}") };
        let shared = self.schools.iter().any(|(&o, (n, r))| o != id && n == name && r == region);
        label(name, id, shared)
    }

    fn class_label(&self, id: i64) -> String {
        let Some((name, school, _)) = self.classes.get(&id) else { return format!("#{id}") };
        let shared = self.classes.iter().any(|(&o, (n, s, _))| o != id && n == name && s == school);
        label(name, id, shared)
    }

    /// The report path of a school: city, district, school.
    fn school_path(&self, school: i64) -> Option<[String; 3]> {
        let (_, region) = self.schools.get(&school)?;
        let (district, city) = self.district_city(*region);
        Some([self.region_label(city), self.region_label(district), self.school_label(school)])
    }
}

// ---------------------------------------------------------------- the input, from the sittings

/// The engine's input built from an assessment's submitted sittings, and each taker's user id.
struct Built {
    input: Input,
    /// taker index → (user id, class id, school id), for this assessment's takers, which come
    /// first in `input.takers`; the followed assessment's (last year's) come after them.
    who: Vec<(i64, Option<i64>, i64)>,
}

/// The year a Unix time falls in, in China Standard Time (UTC+8, no daylight saving).
pub fn year_of(unix: i64) -> i32 {
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = (unix + 8 * 3600).div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2)) as i32
}

/// A stored response as the mistake notebook shows it: option ids as `a,c` (the engine spells
/// them out), true/false, the number, the text, or the matching pairs.
fn answer_text(item: &BankItem, response: &str) -> Option<String> {
    let v: Value = serde_json::from_str(response).ok()?;
    let ids = |key: &str| -> Option<String> { Some(v.get(key)?.as_array()?.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")) };
    match &item.kind {
        ItemKind::Single { .. } | ItemKind::Multiple { .. } => ids("choices"),
        ItemKind::Ordering { .. } => ids("order"),
        ItemKind::TrueFalse { .. } => v.get("value")?.as_bool().map(|b| b.to_string()),
        ItemKind::Numeric { .. } => v.get("number").map(Value::to_string),
        ItemKind::Text { .. } => v.get("text")?.as_str().map(str::to_string),
        ItemKind::Matching { .. } => Some(
            v.get("pairs")?.as_array()?.iter().filter_map(|p| Some(format!("{}→{}", p.get(0)?.as_str()?, p.get(1)?.as_str()?))).collect::<Vec<_>>().join(", "),
        ),
        ItemKind::Performance { .. } => None,
    }
}

/// Reads every submitted and scored sitting of `a` (closing expired ones first) into the
/// engine's input — a sitting whose program is still being graded waits for its score — then
/// those of the assessment it follows as the year before (the reports' growth rows). A taker's
/// placement is where they are now (their class, its school, the school's regions, its
/// locality); gender where the school recorded it.
async fn build_input(state: &AppState, a: &Assessment, places: &Places) -> Result<Built, AppError> {
    assessments::finish_expired(state, Some(a.id)).await?;
    let population = if a.population == "teachers" { Population::Teachers } else { Population::Students };
    let year = year_of(a.opens_at);
    let mut built = Built { input: Input { format_version: INPUT_FORMAT_VERSION, takers: Vec::new() }, who: Vec::new() };
    add_sittings(state, a.id, year, population, places, &mut built, true).await?;
    // Last year's, when this assessment follows one (checked at creation to open the year
    // before; the year is this one's minus one whatever the clock says now).
    if let Some(prev) = a.follows_id
        && assessments::load(state, prev).await?.is_some_and(|p| p.population == a.population)
    {
        assessments::finish_expired(state, Some(prev)).await?;
        add_sittings(state, prev, year - 1, population, places, &mut built, false).await?;
    }
    Ok(built)
}

/// Appends assessment `id`'s submitted sittings to `built` as takers of `year`; `current`
/// records who they are (the report targets), else their ids are suffixed with the year so a
/// student who sat both stays two takers.
async fn add_sittings(state: &AppState, id: i64, year: i32, population: Population, places: &Places, built: &mut Built, current: bool) -> Result<(), AppError> {
    let rows = sqlx::query(
        "SELECT s.id, s.taker_id, u.display_name, u.class_id, u.school_id, u.gender FROM sittings s JOIN users u ON u.id = s.taker_id \
         WHERE s.assessment_id = $1 AND s.submitted_at IS NOT NULL AND s.points IS NOT NULL ORDER BY s.id",
    )
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?;
    let takers = &mut built.input.takers;
    let mut index = BTreeMap::new();
    for r in &rows {
        let (sitting, user): (i64, i64) = (r.try_get("id")?, r.try_get("taker_id")?);
        let class: Option<i64> = r.try_get("class_id")?;
        let school: Option<i64> = match (population, class) {
            // A student's school is their class's.
            (Population::Students, Some(c)) => places.classes.get(&c).map(|x| x.1),
            (Population::Students, None) => None,
            (Population::Teachers, _) => r.try_get("school_id")?,
        };
        // Someone no longer placed (a student removed from every class) has no group to count in.
        let (Some(school), Some(path)) = (school, school.and_then(|s| places.school_path(s))) else { continue };
        let [city, district, school_name] = path;
        index.insert(sitting, takers.len());
        if current {
            built.who.push((user, class.filter(|_| population == Population::Students), school));
        }
        takers.push(Taker {
            id: if current { user.to_string() } else { format!("{user}@{year}") },
            name: r.try_get("display_name")?,
            class: match (population, class) {
                (Population::Students, Some(c)) => places.class_label(c),
                _ => String::new(),
            },
            school: school_name,
            district,
            city,
            locality: places.localities.get(&school).copied().unwrap_or(Locality::Unknown),
            gender: r.try_get::<Option<String>, _>("gender")?.filter(|g| g == "f" || g == "m"),
            year,
            population,
            responses: Vec::new(),
            lab_failures: Vec::new(),
        });
    }
    let items = sqlx::query(
        "SELECT si.sitting_id, si.item_id, si.response, si.points FROM sitting_items si JOIN sittings s ON s.id = si.sitting_id \
         WHERE s.assessment_id = $1 AND s.submitted_at IS NOT NULL AND s.points IS NOT NULL ORDER BY si.sitting_id, si.position",
    )
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?;
    // The bank's lookup is a scan: index it once for the thousands of rows.
    let bank: BTreeMap<&str, &BankItem> = state.catalogue.items.population(population.bank_name()).map(|i| (i.id.as_str(), i)).collect();
    for r in &items {
        let Some(&t) = index.get(&r.try_get::<i64, _>("sitting_id")?) else { continue };
        let item_id: String = r.try_get("item_id")?;
        // An item that has left the bank (or changed population) cannot be scored on its scale.
        let Some(&item) = bank.get(item_id.as_str()) else { continue };
        let points = r.try_get::<Option<i64>, _>("points")?.unwrap_or(0).clamp(0, i64::from(item.max_points()));
        let response: Option<String> = r.try_get("response")?;
        takers[t].responses.push(ItemResponse {
            item: item_id,
            points: points as u32,
            max: None,
            answer: response.as_deref().and_then(|resp| answer_text(item, resp)),
        });
    }
    // Performance items: the lab checks the taker's best graded program failed, for the
    // mistake notebook (hidden cases by name and their generic hint only, as the report has them).
    let programs = sqlx::query(
        "SELECT p.sitting_id, p.lab_id, p.score, p.report FROM submissions p JOIN sittings s ON s.id = p.sitting_id \
         WHERE s.assessment_id = $1 AND s.points IS NOT NULL AND p.status = 'done' ORDER BY p.sitting_id, p.item_id, p.score DESC, p.id DESC",
    )
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut best: BTreeMap<(i64, String), Option<String>> = BTreeMap::new();
    for r in &programs {
        let lab: Option<String> = r.try_get("lab_id")?;
        // Ordered best first: the first row of each (sitting, lab) is the one that counts.
        best.entry((r.try_get("sitting_id")?, lab.unwrap_or_default())).or_insert(r.try_get("report")?);
    }
    for ((sitting, lab), report) in best {
        let Some(&t) = index.get(&sitting) else { continue };
        for failure in lab_failures(&lab, report.as_deref()) {
            if !takers[t].lab_failures.iter().any(|f| f.lab == failure.lab && f.check == failure.check) {
                takers[t].lab_failures.push(failure);
            }
        }
    }
    Ok(())
}

/// The failed checks of a stored (redacted) grade report: a visible case's failed checks
/// with their feedback, a failed hidden case by its name with the lab's generic hint.
fn lab_failures(lab: &str, report: Option<&str>) -> Vec<LabFailure> {
    let Some(v) = report.and_then(|r| serde_json::from_str::<Value>(r).ok()) else { return Vec::new() };
    let text = |v: &Value| serde_json::from_value::<qiming_curriculum::Text>(v.clone()).ok();
    let mut out = Vec::new();
    for case in v["cases"].as_array().into_iter().flatten() {
        if case["passed"].as_bool() != Some(false) {
            continue;
        }
        let checks: Vec<&Value> = case["checks"].as_array().into_iter().flatten().filter(|c| c["passed"].as_bool() == Some(false)).collect();
        if checks.is_empty() {
            if let (Some(name), Some(feedback)) = (case["name"].as_str(), case["feedback"].get(0).and_then(text)) {
                out.push(LabFailure { lab: lab.to_string(), check: name.to_string(), feedback });
            }
            continue;
        }
        for c in checks {
            if let (Some(code), Some(feedback)) = (c["code"].as_str(), text(&c["feedback"])) {
                out.push(LabFailure { lab: lab.to_string(), check: code.to_string(), feedback });
            }
        }
    }
    out
}

// ---------------------------------------------------------------- who may read what

/// The report levels of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Student,
    Group(GroupLevel),
    Annual,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        match s {
            "student" => Some(Level::Student),
            "annual" => Some(Level::Annual),
            other => GroupLevel::parse(other).map(Level::Group),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Student => "student",
            Level::Group(g) => g.name(),
            Level::Annual => "annual",
        }
    }

    /// Reports naming people: audited, and never above the school.
    fn personal(self) -> bool {
        matches!(self, Level::Student | Level::Group(GroupLevel::Class))
    }
}

/// The region an organiser works in (NULL for everyone else).
async fn organiser_region(state: &AppState, user: &User) -> Result<Option<i64>, AppError> {
    if user.role != "organiser" {
        return Ok(None);
    }
    let row = sqlx::query("SELECT region_id FROM users WHERE id = $1").bind(user.id).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|r| r.try_get::<Option<i64>, _>(0)).transpose()?.flatten())
}

/// Whether the caller reads aggregates of a group whose region chain is `chain`.
fn reads_region(caller: &User, own_region: Option<i64>, chain: &[i64]) -> bool {
    match caller.role.as_str() {
        "platform_admin" => true,
        "organiser" => own_region.is_some_and(|r| chain.contains(&r)),
        _ => false,
    }
}

/// Whether the caller may read taker `t`'s individual report.
fn reads_student(caller: &User, who: (i64, Option<i64>, i64), places: &Places) -> bool {
    let (user, class, school) = who;
    match caller.role.as_str() {
        _ if caller.id == user => true,
        "teacher" => class.and_then(|c| places.classes.get(&c)).is_some_and(|c| c.2 == caller.id),
        "school_admin" => caller.school_id == Some(school),
        _ => false,
    }
}

/// Whether the caller may read class `class`'s report.
fn reads_class(caller: &User, class: i64, places: &Places) -> bool {
    let Some((_, school, teacher)) = places.classes.get(&class) else { return false };
    match caller.role.as_str() {
        "teacher" => *teacher == caller.id,
        "school_admin" => caller.school_id == Some(*school),
        _ => false,
    }
}

/// Whether the caller's role may ever read `level` (else 403).
fn role_reads(caller: &User, level: Level) -> bool {
    match level {
        Level::Student => true,
        Level::Group(GroupLevel::Class) => matches!(caller.role.as_str(), "teacher" | "school_admin"),
        Level::Group(GroupLevel::School) => matches!(caller.role.as_str(), "school_admin" | "organiser" | "platform_admin"),
        Level::Group(_) | Level::Annual => matches!(caller.role.as_str(), "organiser" | "platform_admin"),
    }
}

/// One report the caller may read: its level, target id and name.
fn entry(level: Level, target: i64, name: String) -> Value {
    json!({"level": level.name(), "target": target, "name": name})
}

/// The reports the caller may read for this assessment (what the web page links to).
async fn list_reports(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let u = &caller.user;
    let a = assessments::load(&state, id).await?.ok_or(AppError::NotFound)?;
    let places = Places::load(&state).await?;
    let built = build_input(&state, &a, &places).await?;
    let own_region = organiser_region(&state, u).await?;
    let mut out = Vec::new();
    let mut classes = BTreeSet::new();
    let mut schools = BTreeSet::new();
    // (0 district / 1 city, region id): districts listed before cities.
    let mut regions: BTreeSet<(u8, i64)> = BTreeSet::new();
    for (t, &(user, class, school)) in built.input.takers.iter().zip(&built.who) {
        if reads_student(u, (user, class, school), &places) {
            out.push(entry(Level::Student, user, t.name.clone()));
        }
        if let Some(c) = class
            && reads_class(u, c, &places)
        {
            classes.insert(c);
        }
        if let Some((_, region)) = places.schools.get(&school) {
            let chain = places.chain(*region);
            if role_reads(u, Level::Group(GroupLevel::School))
                && ((u.school_id == Some(school) && u.role == "school_admin") || reads_region(u, own_region, &chain))
            {
                schools.insert(school);
            }
            let (district, city) = places.district_city(*region);
            for (r, kind) in [(district, "district"), (city, "city")] {
                if places.regions.get(&r).is_some_and(|x| x.kind == kind) && reads_region(u, own_region, &places.chain(r)) {
                    regions.insert((u8::from(kind == "city"), r));
                }
            }
        }
    }
    for c in classes {
        out.push(entry(Level::Group(GroupLevel::Class), c, places.class_label(c)));
    }
    for s in schools {
        out.push(entry(Level::Group(GroupLevel::School), s, places.school_label(s)));
    }
    for (city, r) in regions {
        let level = if city == 1 { GroupLevel::City } else { GroupLevel::District };
        out.push(entry(Level::Group(level), r, places.region_label(r)));
        if city == 1 {
            out.push(entry(Level::Annual, r, places.region_label(r)));
        }
    }
    if out.is_empty() {
        // Nothing to read: as if the assessment did not exist, unless the caller sees it.
        let visible = assessments::visible_to(&state, u, &a).await?;
        if !visible {
            return Err(AppError::NotFound);
        }
    }
    // Closed sittings whose programs are still being graded: counted when scored, said meanwhile.
    let grading: i64 = sqlx::query("SELECT COUNT(*) FROM sittings WHERE assessment_id = $1 AND submitted_at IS NOT NULL AND points IS NULL")
        .bind(a.id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get(0)?;
    Ok(Json(json!({"assessment_id": a.id, "takers": built.who.len(), "grading": grading, "reports": out})))
}

/// A rendered report (bytes, characters no font had), or why the engine made none.
type Made = Result<(Vec<u8>, Vec<char>), ReportError>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    /// `json` (default), `pdf` or `xlsx`.
    format: Option<String>,
    /// `zh-CN` or `en` (default: the language cookie, then Accept-Language).
    lang: Option<String>,
}

/// One report: `level` is student, class, school, district, city or annual; `target` the id of
/// the taker (a user), class, school or region.
async fn report(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, level, target)): Path<(i64, String, i64)>,
    Query(q): Query<ReportQuery>,
    parts: Parts,
) -> Result<Response, AppError> {
    let u = &caller.user;
    let level = Level::parse(&level).ok_or_else(|| AppError::invalid("level", "choice", "level must be student, class, school, district, city or annual"))?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "pdf" | "xlsx") {
        return Err(AppError::invalid("format", "choice", "format must be json, pdf or xlsx"));
    }
    let a = assessments::load(&state, id).await?.ok_or(AppError::NotFound)?;
    if !role_reads(u, level) {
        return Err(AppError::Forbidden(format!("your role may not read {} reports", level.name())));
    }
    let population = if a.population == "teachers" { Population::Teachers } else { Population::Students };
    let places = Places::load(&state).await?;
    let own_region = organiser_region(&state, u).await?;
    let built = build_input(&state, &a, &places).await?;
    // The engine's id of the target, once the caller may read it.
    let engine_id: String = match level {
        Level::Student => {
            let t = built.who.iter().position(|w| w.0 == target).ok_or(AppError::NotFound)?;
            if !reads_student(u, built.who[t], &places) {
                return Err(AppError::NotFound);
            }
            built.input.takers[t].id.clone()
        }
        Level::Group(GroupLevel::Class) => {
            if population == Population::Teachers || !reads_class(u, target, &places) || !built.who.iter().any(|w| w.1 == Some(target)) {
                return Err(AppError::NotFound);
            }
            let school = places.classes[&target].1;
            let [city, district, school_name] = places.school_path(school).ok_or(AppError::NotFound)?;
            [city, district, school_name, places.class_label(target)].join("/")
        }
        Level::Group(GroupLevel::School) => {
            let (_, region) = places.schools.get(&target).ok_or(AppError::NotFound)?;
            let reads = (u.role == "school_admin" && u.school_id == Some(target)) || reads_region(u, own_region, &places.chain(*region));
            if !reads || !built.who.iter().any(|w| w.2 == target) {
                return Err(AppError::NotFound);
            }
            places.school_path(target).ok_or(AppError::NotFound)?.join("/")
        }
        Level::Group(g) => {
            let region = places.regions.get(&target).ok_or(AppError::NotFound)?;
            if !reads_region(u, own_region, &places.chain(target)) {
                return Err(AppError::NotFound);
            }
            let kind = if g == GroupLevel::District { "district" } else { "city" };
            if region.kind != kind {
                return Err(AppError::invalid("level", "report_region", format!("region {target} is a {}, not a {kind}", region.kind)));
            }
            if g == GroupLevel::District {
                let (_, city) = places.district_city(target);
                [places.region_label(city), places.region_label(target)].join("/")
            } else {
                places.region_label(target)
            }
        }
        Level::Annual => {
            let region = places.regions.get(&target).ok_or(AppError::NotFound)?;
            if !reads_region(u, own_region, &places.chain(target)) {
                return Err(AppError::NotFound);
            }
            if region.kind != "city" {
                return Err(AppError::invalid("level", "report_region", format!("an annual report is a city's; region {target} is a {}", region.kind)));
            }
            places.region_label(target)
        }
    };
    let lang_name = super::web::choose_lang(&parts, q.lang.as_deref()).0;
    let lang = Lang::parse(lang_name).unwrap_or(Lang::Zh);
    // The parameters delivery scores with: the newest calibration, the bank's priors elsewhere.
    let calibrated = super::calibrations::parameters(&state, &a.population).await?;
    let calibration = calibrated.calibration.map_or_else(|| "prior".to_string(), |(_, v)| format!("v{v}"));
    let source = calibrated.source();
    let params = calibrated.items;
    let catalogue = state.catalogue.clone();
    let font = state.slip_font.clone();
    let format_owned = format.to_string();
    let engine_level = match level {
        Level::Student => ReportLevel::Student,
        Level::Group(g) => ReportLevel::Group(g),
        Level::Annual => ReportLevel::Annual,
    };
    // Scoring, profiles and the PDF take CPU time: off the async threads.
    let made = tokio::task::spawn_blocking(move || -> Result<Made, crate::report::ScoringError> {
        let input = built.input;
        let scored = score_with(&input, &catalogue.items, Some((&params, source.as_str())), &Levels::default(), 1)?;
        let cx = Context::new(&input, &catalogue, &scored, lang, None, PROFILE_SEED);
        Ok(crate::report::build(&cx, engine_level, Some(&engine_id), population).and_then(|report: Report| match format_owned.as_str() {
            "pdf" => pdf::render(&layout::doc(&report), font.as_deref()),
            "xlsx" => xlsx::render(&layout::doc(&report)).map(|b| (b, Vec::new())),
            _ => Ok((report.to_json().into_bytes(), Vec::new())),
        }))
    })
    .await
    .map_err(|e| anyhow::anyhow!("report task: {e}"))?
    .map_err(|e| anyhow::anyhow!("scoring: {e}"))?;
    let (bytes, missing) = match made {
        Ok(x) => x,
        // The engine found no takers of the group in the report year.
        Err(ReportError::NotFound { .. } | ReportError::Ambiguous { .. } | ReportError::NeedsId(_)) => return Err(AppError::NotFound),
        Err(ReportError::Pdf(message)) => return Err(AppError::conflict("pdf_unavailable", message)),
        Err(e) => return Err(AppError::Internal(anyhow::anyhow!("report: {e}"))),
    };
    if level.personal() {
        state.db.audit_action(u, "assessment_report", format!("assessment_id={} level={} target={target} format={format}", a.id, level.name())).await?;
    }
    let content_type = match format {
        "pdf" => "application/pdf",
        "xlsx" => super::roster::XLSX_TYPE,
        _ => "application/json",
    };
    let disposition = format!("attachment; filename=\"report-{}-{}-{target}.{format}\"", a.id, level.name());
    let mut response = ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response();
    if !missing.is_empty()
        && let Ok(v) = HeaderValue::from_str(&missing.iter().map(|c| format!("U+{:04X}", *c as u32)).collect::<Vec<_>>().join(","))
    {
        response.headers_mut().insert(super::org::MISSING_GLYPHS_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&calibration) {
        response.headers_mut().insert(CALIBRATION_HEADER, v);
    }
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}
