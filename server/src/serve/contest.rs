//! Competitions: events and their divisions, event roles, team registration,
//! rounds, contest submissions on the grading queue, leaderboards and
//! advancement to the next tier (docs/competitions.md).
//!
//! An event is organised by a region (district, city, province tiers) or a
//! school (school tier). Organisers manage the events of their region and of
//! the regions below it; platform admins manage all. Judge, coach and captain
//! are *memberships* of one event (`event_members`), not global roles. A
//! school's teachers, admins and students see the events whose area holds
//! their school; everyone else gets 404.
//!
//! A round's submission is a row of `submissions` like an assignment's, so it
//! goes through the same queue and workers; the row's owner (`round_id`)
//! tells the worker the lab and the round's own hidden-case seeds
//! (`queue::Seeds`). The final ranking inserts one re-grade per team and lab
//! (`final_of`) graded on a key drawn after the round closed.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qiming_api::{LabView, SubmissionRequest};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::db::{Backend, User};
use super::http::{AppError, AppState, body};
use super::now;
use super::org::{audit_in, check_name};

/// Most students in a team.
pub const MAX_TEAM: usize = 4;
/// Most divisions an event may have.
pub const MAX_DIVISIONS: usize = 12;
/// Most submissions a round may allow a team.
pub const MAX_SUBMISSION_LIMIT: i64 = 1000;
/// Most entries of one leaderboard page.
pub const MAX_PER_PAGE: usize = 200;
/// Event tiers, lowest first: teams advance from one to the next.
pub const TIERS: [&str; 4] = ["school", "district", "city", "province"];
pub const KINDS: [&str; 4] = ["robot_sim", "ai", "ct_quiz", "creative"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events", get(list_events).post(create_event))
        .route("/api/events/{id}", get(get_event))
        .route("/api/events/{id}/members", post(add_member))
        .route("/api/events/{id}/teams", get(list_teams).post(register))
        .route("/api/events/{id}/teams/import", post(import_teams))
        .route("/api/events/{id}/teams/{team}/decision", post(decide))
        .route("/api/events/{id}/rounds", post(create_round))
        .route("/api/events/{id}/rounds/{round}", get(get_round))
        .route("/api/events/{id}/rounds/{round}/submissions", get(list_round_submissions).post(submit))
        .route("/api/events/{id}/rounds/{round}/leaderboard", get(leaderboard))
        .route("/api/events/{id}/rounds/{round}/finalise", post(finalise))
        .route("/api/events/{id}/advance", post(advance))
}

// ---------------------------------------------------------------- events and access

/// An event row.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: i64,
    pub name: String,
    pub tier: String,
    pub kind: String,
    pub region_id: Option<i64>,
    pub school_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub registration_deadline: i64,
}

const EVENT_COLUMNS: &str = "e.id, e.name, e.tier, e.kind, e.region_id, e.school_id, e.parent_id, e.registration_deadline";

fn event_of(r: &sqlx::any::AnyRow) -> anyhow::Result<Event> {
    Ok(Event {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        tier: r.try_get("tier")?,
        kind: r.try_get("kind")?,
        region_id: r.try_get("region_id")?,
        school_id: r.try_get("school_id")?,
        parent_id: r.try_get("parent_id")?,
        registration_deadline: r.try_get("registration_deadline")?,
    })
}

/// What the caller is in one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Organiser of the event's region (or above) or platform admin.
    pub manages: bool,
    pub judge: bool,
    /// Coaches at least one team.
    pub coach: bool,
    /// The approved team the caller competes in.
    pub team: Option<i64>,
    /// Their school is inside the event's area (may register, sees the event).
    pub in_area: bool,
}

impl Access {
    pub fn sees(&self) -> bool {
        self.manages || self.judge || self.coach || self.team.is_some() || self.in_area
    }

    /// Sees everything of the event as it is (the live board, every team).
    pub fn officiates(&self) -> bool {
        self.manages || self.judge
    }
}

/// A region and every region above it, nearest first.
async fn region_chain(state: &AppState, region: i64) -> Result<Vec<i64>, AppError> {
    let memo = &state.boards.access;
    if let Some(chain) = memo.remembered(|m| m.chains.get(&region).cloned()) {
        return Ok(chain);
    }
    let epoch = memo.epoch();
    let mut chain = vec![region];
    let mut at = region;
    // Regions nest a few levels deep (province > city > district); the bound stops a cycle.
    for _ in 0..16 {
        let parent: Option<i64> = sqlx::query("SELECT parent_id FROM regions WHERE id = $1")
            .bind(at)
            .fetch_optional(&state.db.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .flatten();
        match parent {
            Some(p) if !chain.contains(&p) => {
                chain.push(p);
                at = p;
            }
            _ => break,
        }
    }
    memo.remember(epoch, |m| {
        m.chains.insert(region, chain.clone());
    });
    Ok(chain)
}

async fn school_region(state: &AppState, school: i64) -> Result<Option<i64>, AppError> {
    let memo = &state.boards.access;
    if let Some(region) = memo.remembered(|m| m.schools.get(&school).copied()) {
        return Ok(region);
    }
    let epoch = memo.epoch();
    let region: Option<i64> = sqlx::query("SELECT region_id FROM schools WHERE id = $1")
        .bind(school)
        .fetch_optional(&state.db.pool)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .flatten();
    memo.remember(epoch, |m| {
        m.schools.insert(school, region);
    });
    Ok(region)
}

/// The organising body's region (a school event's: its school's) and the regions above it.
async fn event_regions(state: &AppState, ev: &Event) -> Result<Vec<i64>, AppError> {
    let region = match (ev.region_id, ev.school_id) {
        (Some(r), _) => Some(r),
        (None, Some(s)) => school_region(state, s).await?,
        (None, None) => None,
    };
    match region {
        Some(r) => region_chain(state, r).await,
        None => Ok(Vec::new()),
    }
}

/// Whether a school lies inside the event's area.
async fn school_in_area(state: &AppState, ev: &Event, school: i64) -> Result<bool, AppError> {
    if let Some(s) = ev.school_id {
        return Ok(s == school);
    }
    let (Some(region), Some(school_region)) = (ev.region_id, school_region(state, school).await?) else { return Ok(false) };
    Ok(region_chain(state, school_region).await?.contains(&region))
}

/// The region an organiser works in.
async fn organiser_region(state: &AppState, user: &User) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query("SELECT region_id FROM users WHERE id = $1").bind(user.id).fetch_optional(&state.db.pool).await?.and_then(|r| r.try_get(0).ok()).flatten())
}

/// Whether the caller may create and manage events organised in `regions` (a region and those above it).
async fn manages_regions(state: &AppState, caller: &User, regions: &[i64]) -> Result<bool, AppError> {
    Ok(match caller.role.as_str() {
        "platform_admin" => true,
        "organiser" => organiser_region(state, caller).await?.is_some_and(|r| regions.contains(&r)),
        _ => false,
    })
}

pub async fn access(state: &AppState, caller: &User, ev: &Event) -> Result<Access, AppError> {
    let mut a = Access { manages: manages_regions(state, caller, &event_regions(state, ev).await?).await?, ..Access::default() };
    // The caller's event roles and approved team in one round trip: every
    // first visit to a leaderboard page of a city event passes through here.
    let rows = sqlx::query(
        "SELECT role, CAST(NULL AS BIGINT) AS team_id FROM event_members WHERE event_id = $1 AND user_id = $2 \
         UNION ALL \
         SELECT CAST(NULL AS TEXT), t.id FROM team_members m JOIN teams t ON t.id = m.team_id \
         WHERE m.event_id = $1 AND m.student_id = $2 AND m.active = 1 AND t.status = 'approved'",
    )
    .bind(ev.id)
    .bind(caller.id)
    .fetch_all(&state.db.pool)
    .await?;
    for r in &rows {
        match r.try_get::<Option<String>, _>(0)?.as_deref() {
            Some("judge") => a.judge = true,
            Some("coach") => a.coach = true,
            _ => {}
        }
        if let Some(team) = r.try_get::<Option<i64>, _>(1)? {
            a.team = Some(team);
        }
    }
    if let Some(s) = caller.school_id {
        a.in_area = school_in_area(state, ev, s).await?;
    }
    Ok(a)
}

/// An event as it is now, or 404.
async fn event_row(state: &AppState, id: i64) -> Result<Event, AppError> {
    let row = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = $1")).bind(id).fetch_optional(&state.db.pool).await?;
    Ok(event_of(&row.ok_or(AppError::NotFound)?)?)
}

/// The event and what the caller is in it, or 404 when they may not see it.
pub async fn visible_event(state: &AppState, caller: &User, id: i64) -> Result<(Event, Access), AppError> {
    let ev = event_row(state, id).await?;
    let a = access(state, caller, &ev).await?;
    if a.sees() { Ok((ev, a)) } else { Err(AppError::NotFound) }
}

/// An event the caller manages: 404 when they cannot see it, 403 when they may not change it.
pub(super) async fn managed_event(state: &AppState, caller: &User, id: i64) -> Result<(Event, Access), AppError> {
    let (ev, a) = visible_event(state, caller, id).await?;
    if a.manages { Ok((ev, a)) } else { Err(AppError::Forbidden("only the event's organisers may do this".into())) }
}

fn tier_rank(tier: &str) -> usize {
    TIERS.iter().position(|t| *t == tier).unwrap_or(0)
}

async fn divisions_of(state: &AppState, event: i64) -> Result<Vec<Value>, AppError> {
    let rows =
        sqlx::query("SELECT id, name, min_grade, max_grade FROM event_divisions WHERE event_id = $1 ORDER BY id").bind(event).fetch_all(&state.db.pool).await?;
    rows.iter()
        .map(|r| {
            Ok(json!({"id": r.try_get::<i64, _>("id")?, "name": r.try_get::<String, _>("name")?,
                "min_grade": r.try_get::<i64, _>("min_grade")?, "max_grade": r.try_get::<i64, _>("max_grade")?}))
        })
        .collect::<Result<_, AppError>>()
}

fn event_json(ev: &Event, a: &Access) -> Value {
    json!({
        "id": ev.id, "name": ev.name, "tier": ev.tier, "kind": ev.kind, "region_id": ev.region_id, "school_id": ev.school_id,
        "parent_id": ev.parent_id, "registration_deadline": ev.registration_deadline,
        "me": {"manages": a.manages, "judge": a.judge, "coach": a.coach, "team_id": a.team},
    })
}

async fn list_events(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller) -> Result<Json<Value>, AppError> {
    let rows = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events e ORDER BY e.id")).fetch_all(&state.db.pool).await?;
    let mut out = Vec::new();
    for r in &rows {
        let ev = event_of(r)?;
        let a = access(&state, &caller.user, &ev).await?;
        if a.sees() {
            out.push(event_json(&ev, &a));
        }
    }
    Ok(Json(json!({ "events": out })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDivision {
    name: String,
    min_grade: i64,
    max_grade: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewEvent {
    name: String,
    tier: String,
    kind: String,
    region_id: Option<i64>,
    school_id: Option<i64>,
    parent_id: Option<i64>,
    registration_deadline: i64,
    divisions: Vec<NewDivision>,
}

async fn create_event(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    req: Result<Json<NewEvent>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let u = &caller.user;
    if !matches!(u.role.as_str(), "organiser" | "platform_admin") {
        return Err(AppError::Forbidden("only organisers create events".into()));
    }
    let name = check_name("name", &req.name, 100)?;
    if !TIERS.contains(&req.tier.as_str()) {
        return Err(AppError::invalid("tier", "choice", format!("tier must be one of {}", TIERS.join(", "))));
    }
    if !KINDS.contains(&req.kind.as_str()) {
        return Err(AppError::invalid("kind", "choice", format!("kind must be one of {}", KINDS.join(", "))));
    }
    // The organising body: a school for a school-tier event, else a region of the tier's kind.
    let regions = match (req.tier.as_str(), req.region_id, req.school_id) {
        ("school", None, Some(s)) => {
            let r = school_region(&state, s).await?.ok_or_else(|| AppError::invalid("school_id", "unknown", format!("school_id {s} is not a school")))?;
            region_chain(&state, r).await?
        }
        ("school", _, _) => {
            return Err(AppError::invalid("school_id", "required", "a school-tier event is organised by a school: send school_id (and no region_id)"));
        }
        (tier, Some(r), None) => {
            let kind: String = sqlx::query("SELECT kind FROM regions WHERE id = $1")
                .bind(r)
                .fetch_optional(&state.db.pool)
                .await?
                .ok_or_else(|| AppError::invalid("region_id", "unknown", format!("region_id {r} is not a region")))?
                .try_get(0)?;
            if kind != tier {
                return Err(AppError::invalid("tier", "region_kind", format!("a {tier}-tier event is organised by a {tier}; region {r} is a {kind}")));
            }
            region_chain(&state, r).await?
        }
        _ => {
            return Err(AppError::invalid(
                "region_id",
                "required",
                "a district, city or province event is organised by a region: send region_id (and no school_id)",
            ));
        }
    };
    if !manages_regions(&state, u, &regions).await? {
        return Err(AppError::Forbidden("organisers create events in their own region (or the regions inside it)".into()));
    }
    if let Some(p) = req.parent_id {
        let parent = sqlx::query("SELECT tier FROM events WHERE id = $1").bind(p).fetch_optional(&state.db.pool).await?;
        let tier: String = parent.ok_or_else(|| AppError::invalid("parent_id", "unknown", format!("parent_id {p} is not an event")))?.try_get(0)?;
        if tier_rank(&tier) <= tier_rank(&req.tier) {
            return Err(AppError::invalid("parent_id", "tier", format!("teams advance to a higher tier: the parent event is {tier}, this one {}", req.tier)));
        }
    }
    if req.divisions.is_empty() || req.divisions.len() > MAX_DIVISIONS {
        return Err(AppError::invalid("divisions", "count", format!("an event has 1–{MAX_DIVISIONS} divisions")).max(MAX_DIVISIONS as i64));
    }
    let mut divisions = Vec::new();
    for d in &req.divisions {
        let dname = check_name("name", &d.name, 50)?;
        if !(1..=12).contains(&d.min_grade) || !(1..=12).contains(&d.max_grade) || d.min_grade > d.max_grade {
            return Err(AppError::invalid("divisions", "grade_band", "a division's grades are min_grade ≤ max_grade within 1–12"));
        }
        divisions.push((dname, d.min_grade, d.max_grade));
    }
    let mut tx = state.db.begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO events (name, tier, kind, region_id, school_id, parent_id, registration_deadline, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&name)
    .bind(&req.tier)
    .bind(&req.kind)
    .bind(req.region_id)
    .bind(req.school_id)
    .bind(req.parent_id)
    .bind(req.registration_deadline)
    .bind(u.id)
    .bind(now())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    for (dname, lo, hi) in &divisions {
        sqlx::query("INSERT INTO event_divisions (event_id, name, min_grade, max_grade) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(dname)
            .bind(lo)
            .bind(hi)
            .execute(&mut *tx)
            .await?;
    }
    audit_in(&mut tx, u, "event_create", &format!("event_id={id} tier={} parent_id={:?}", req.tier, req.parent_id)).await?;
    tx.commit().await?;
    let (ev, a) = visible_event(&state, u, id).await?;
    let mut v = event_json(&ev, &a);
    v["divisions"] = json!(divisions_of(&state, id).await?);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get_event(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (ev, a) = visible_event(&state, &caller.user, id).await?;
    let mut v = event_json(&ev, &a);
    v["divisions"] = json!(divisions_of(&state, id).await?);
    let rounds = sqlx::query(&format!("SELECT {ROUND_COLUMNS} FROM rounds r WHERE r.event_id = $1 ORDER BY r.opens_at, r.id"))
        .bind(id)
        .fetch_all(&state.db.pool)
        .await?;
    v["rounds"] = json!(rounds.iter().map(|r| Ok(round_json(&round_of(r)?))).collect::<Result<Vec<_>, AppError>>()?);
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMember {
    /// The staff account, by id…
    user_id: Option<i64>,
    /// …or by username (organisers cannot list accounts, so the web page names judges this way).
    username: Option<String>,
    role: String,
}

/// Makes a staff member a judge of the event. Coaches and captains come from registrations.
async fn add_member(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewMember>, JsonRejection>,
) -> Result<StatusCode, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    if req.role != "judge" {
        return Err(AppError::invalid("role", "judge_only", "role: organisers name judges; coaches and captains come from registrations"));
    }
    let person = match (req.user_id, req.username.as_deref().map(str::trim)) {
        (Some(id), None) => state.db.user(id).await?,
        (None, Some(name)) if !name.is_empty() => state.db.user_by_name(name).await?.map(|(u, _)| u),
        _ => return Err(AppError::invalid("user_id", "required", "send user_id or username (one of them)")),
    };
    let Some(person) = person.filter(|p| p.role != "student") else {
        return Err(AppError::invalid("user_id", "unknown", "user_id (or username) is not a staff account"));
    };
    let mut tx = state.db.begin_write().await?;
    sqlx::query("INSERT INTO event_members (event_id, user_id, role) VALUES ($1, $2, 'judge') ON CONFLICT DO NOTHING")
        .bind(ev.id)
        .bind(person.id)
        .execute(&mut *tx)
        .await?;
    audit_in(&mut tx, &caller.user, "event_judge_add", &format!("event_id={} user_id={}", ev.id, person.id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- teams and registration

/// A division row.
#[derive(Clone, Debug)]
pub(super) struct Division {
    pub id: i64,
    pub name: String,
    pub min_grade: i64,
    pub max_grade: i64,
}

pub(super) async fn divisions(state: &AppState, event: i64) -> Result<Vec<Division>, AppError> {
    let rows =
        sqlx::query("SELECT id, name, min_grade, max_grade FROM event_divisions WHERE event_id = $1 ORDER BY id").bind(event).fetch_all(&state.db.pool).await?;
    rows.iter()
        .map(|r| Ok(Division { id: r.try_get("id")?, name: r.try_get("name")?, min_grade: r.try_get("min_grade")?, max_grade: r.try_get("max_grade")? }))
        .collect()
}

/// Why a registration is refused: a stable code (with `err_<code>` texts in
/// both languages), the student it concerns, and English for developers.
#[derive(Debug)]
struct Ineligible {
    code: &'static str,
    student_id: Option<i64>,
    message: String,
}

impl Ineligible {
    fn new(code: &'static str, student_id: Option<i64>, message: impl Into<String>) -> Ineligible {
        Ineligible { code, student_id, message: message.into() }
    }

    fn error(self) -> AppError {
        let fields = json!({"student_id": self.student_id});
        match self.code {
            "registration_closed" => AppError::typed(StatusCode::CONFLICT, "registration_closed", self.message, fields),
            "outside_area" => AppError::typed(StatusCode::CONFLICT, "outside_area", self.message, fields),
            "not_your_student" => AppError::typed(StatusCode::CONFLICT, "not_your_student", self.message, fields),
            "grade_unknown" => AppError::typed(StatusCode::CONFLICT, "grade_unknown", self.message, fields),
            "wrong_division" => AppError::typed(StatusCode::CONFLICT, "wrong_division", self.message, fields),
            "already_registered" => AppError::typed(StatusCode::CONFLICT, "already_registered", self.message, fields),
            "team_size" => AppError::typed(StatusCode::BAD_REQUEST, "team_size", self.message, fields),
            "not_a_student" => AppError::typed(StatusCode::BAD_REQUEST, "not_a_student", self.message, fields),
            // `unknown_division`, the one left.
            _ => AppError::typed(StatusCode::BAD_REQUEST, "unknown_division", self.message, fields),
        }
    }
}

/// One team to register, checked.
#[derive(Debug)]
struct Registration {
    name: String,
    division: i64,
    coach: User,
    school_id: i64,
    students: Vec<i64>,
    captain: i64,
}

/// The eligibility rules, in one place for the form and the import: the
/// deadline (unless the organiser imports), team size, the division's
/// grade band (the grade a student's class name states), the student's
/// school inside the event's area and the coach's school, one team per student per event.
#[allow(clippy::too_many_arguments)]
async fn check_registration(
    state: &AppState,
    ev: &Event,
    divs: &[Division],
    coach: &User,
    name: &str,
    division: &str,
    students: &[i64],
    captain: Option<i64>,
    deadline_applies: bool,
) -> Result<Result<Registration, Ineligible>, AppError> {
    macro_rules! refuse {
        ($code:expr, $student:expr, $msg:expr) => {
            return Ok(Err(Ineligible::new($code, $student, $msg)))
        };
    }
    if deadline_applies && state.clock.now() > ev.registration_deadline {
        refuse!("registration_closed", None, "registration for this event has closed (see registration_deadline)");
    }
    let name = check_name("name", name, 50)?;
    let Some(div) = divs.iter().find(|d| d.name == division || d.id.to_string() == division) else {
        refuse!("unknown_division", None, format!("division {division:?} is not one of this event's"));
    };
    if students.is_empty() || students.len() > MAX_TEAM || students.iter().enumerate().any(|(i, s)| students[..i].contains(s)) {
        refuse!("team_size", None, format!("a team has 1–{MAX_TEAM} different students"));
    }
    let Some(coach_school) = coach.school_id else {
        refuse!("not_your_student", None, "the coach must be a teacher of a school");
    };
    if !school_in_area(state, ev, coach_school).await? {
        refuse!("outside_area", None, "the coach's school is outside this event's area");
    }
    for &sid in students {
        let row = sqlx::query(
            "SELECT u.role, u.school_id, u.deactivated_at, c.name AS class_name FROM users u LEFT JOIN classes c ON c.id = u.class_id WHERE u.id = $1",
        )
        .bind(sid)
        .fetch_optional(&state.db.pool)
        .await?;
        let Some(row) = row else {
            refuse!("not_a_student", Some(sid), format!("user {sid} is not a student"));
        };
        let role: String = row.try_get("role")?;
        let deactivated: Option<i64> = row.try_get("deactivated_at")?;
        if role != "student" || deactivated.is_some() {
            refuse!("not_a_student", Some(sid), format!("user {sid} is not an active student"));
        }
        let school: Option<i64> = row.try_get("school_id")?;
        if school != Some(coach_school) {
            refuse!("not_your_student", Some(sid), format!("student {sid} is not at the coach's school"));
        }
        let class_name: Option<String> = row.try_get("class_name")?;
        let Some(grade) = class_name.as_deref().and_then(super::lesson::grade_in_class_name) else {
            refuse!("grade_unknown", Some(sid), format!("the class name of student {sid} does not state a grade (e.g. 五年级（2）班)"));
        };
        if !(div.min_grade..=div.max_grade).contains(&i64::from(grade)) {
            refuse!(
                "wrong_division",
                Some(sid),
                format!("student {sid} is in grade {grade}; division {} is for grades {}–{}", div.name, div.min_grade, div.max_grade)
            );
        }
        let taken = sqlx::query("SELECT team_id FROM team_members WHERE event_id = $1 AND student_id = $2 AND active = 1")
            .bind(ev.id)
            .bind(sid)
            .fetch_optional(&state.db.pool)
            .await?;
        if taken.is_some() {
            refuse!("already_registered", Some(sid), format!("student {sid} is already in a team of this event"));
        }
    }
    let captain = captain.unwrap_or(students[0]);
    if !students.contains(&captain) {
        refuse!("team_size", Some(captain), "the captain must be one of the team's students");
    }
    Ok(Ok(Registration { name, division: div.id, coach: coach.clone(), school_id: coach_school, students: students.to_vec(), captain }))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// Stores a checked registration in `tx`; a unique violation (a student
/// registered meanwhile by someone else) is `already_registered`.
async fn store_team(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ev: &Event,
    r: &Registration,
    status: &str,
    decided_by: Option<i64>,
    advanced_from: Option<i64>,
) -> Result<i64, AppError> {
    let t = now();
    let id: i64 = sqlx::query(
        "INSERT INTO teams (event_id, division_id, name, coach_id, school_id, status, advanced_from, created_at, decided_at, decided_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(ev.id)
    .bind(r.division)
    .bind(&r.name)
    .bind(r.coach.id)
    .bind(r.school_id)
    .bind(status)
    .bind(advanced_from)
    .bind(t)
    .bind(decided_by.map(|_| t))
    .bind(decided_by)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    for s in &r.students {
        let inserted = sqlx::query("INSERT INTO team_members (team_id, event_id, student_id, active) VALUES ($1, $2, $3, 1)")
            .bind(id)
            .bind(ev.id)
            .bind(s)
            .execute(&mut **tx)
            .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(Ineligible::new("already_registered", Some(*s), format!("student {s} is already in a team of this event")).error());
            }
            Err(e) => return Err(e.into()),
        }
    }
    for (user, role) in [(r.coach.id, "coach"), (r.captain, "captain")] {
        sqlx::query("INSERT INTO event_members (event_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(ev.id)
            .bind(user)
            .bind(role)
            .execute(&mut **tx)
            .await?;
    }
    Ok(id)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTeam {
    name: String,
    division_id: i64,
    students: Vec<i64>,
    captain_id: Option<i64>,
}

/// A teacher registers a team of their school's students, with themselves as coach.
async fn register(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewTeam>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, _) = visible_event(&state, &caller.user, id).await?;
    if caller.user.role != "teacher" {
        return Err(AppError::Forbidden("teachers register teams (as their coach)".into()));
    }
    let divs = divisions(&state, ev.id).await?;
    let reg = check_registration(&state, &ev, &divs, &caller.user, &req.name, &req.division_id.to_string(), &req.students, req.captain_id, true)
        .await?
        .map_err(Ineligible::error)?;
    let mut tx = state.db.begin_write().await?;
    let team = store_team(&mut tx, &ev, &reg, "pending", None, None).await?;
    audit_in(&mut tx, &caller.user, "team_register", &format!("event_id={} team_id={team} students={}", ev.id, reg.students.len())).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(team_json(&state, team, true).await?)).into_response())
}

async fn team_json(state: &AppState, team: i64, names: bool) -> Result<Value, AppError> {
    let r = sqlx::query("SELECT id, event_id, division_id, name, coach_id, school_id, status, reason, advanced_from FROM teams WHERE id = $1")
        .bind(team)
        .fetch_one(&state.db.pool)
        .await?;
    let members = sqlx::query("SELECT u.id, u.display_name FROM team_members m JOIN users u ON u.id = m.student_id WHERE m.team_id = $1 ORDER BY u.id")
        .bind(team)
        .fetch_all(&state.db.pool)
        .await?;
    let members: Vec<Value> = members
        .iter()
        .map(|m| {
            let id: i64 = m.try_get("id")?;
            Ok(if names { json!({"id": id, "display_name": m.try_get::<String, _>("display_name")?}) } else { json!({"id": id}) })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(json!({
        "id": r.try_get::<i64, _>("id")?, "event_id": r.try_get::<i64, _>("event_id")?, "division_id": r.try_get::<i64, _>("division_id")?,
        "name": r.try_get::<String, _>("name")?, "coach_id": r.try_get::<i64, _>("coach_id")?, "school_id": r.try_get::<i64, _>("school_id")?,
        "status": r.try_get::<String, _>("status")?, "reason": r.try_get::<Option<String>, _>("reason")?,
        "advanced_from": r.try_get::<Option<i64>, _>("advanced_from")?, "members": members,
    }))
}

/// Organisers and judges see every team; a coach their own; a contestant theirs.
async fn list_teams(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (ev, a) = visible_event(&state, &caller.user, id).await?;
    let rows = if a.officiates() {
        sqlx::query("SELECT id FROM teams WHERE event_id = $1 ORDER BY id").bind(ev.id).fetch_all(&state.db.pool).await?
    } else {
        sqlx::query(
            "SELECT id FROM teams WHERE event_id = $1 AND (coach_id = $2 OR id IN (SELECT team_id FROM team_members WHERE student_id = $2 AND event_id = $1)) ORDER BY id",
        )
        .bind(ev.id)
        .bind(caller.user.id)
        .fetch_all(&state.db.pool)
        .await?
    };
    let mut teams = Vec::new();
    for r in &rows {
        teams.push(team_json(&state, r.try_get(0)?, true).await?);
    }
    Ok(Json(json!({ "teams": teams })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    decision: String,
    reason: Option<String>,
}

/// An organiser approves a team or rejects it with a reason (audited; ids only).
async fn decide(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, team)): Path<(i64, i64)>,
    req: Result<Json<Decision>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    sqlx::query("SELECT id FROM teams WHERE id = $1 AND event_id = $2")
        .bind(team)
        .bind(ev.id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let (status, reason) = match (req.decision.as_str(), req.reason.as_deref().map(str::trim)) {
        ("approve", _) => ("approved", None),
        ("reject", Some(r)) if !r.is_empty() => ("rejected", Some(check_name("reason", r, 500)?)),
        ("reject", _) => return Err(AppError::invalid("reason", "required", "a rejection says why: send reason")),
        _ => return Err(AppError::invalid("decision", "choice", "decision must be \"approve\" or \"reject\"")),
    };
    let mut tx = state.db.begin_write().await?;
    sqlx::query("UPDATE teams SET status = $1, reason = $2, decided_at = $3, decided_by = $4 WHERE id = $5")
        .bind(status)
        .bind(&reason)
        .bind(now())
        .bind(caller.user.id)
        .bind(team)
        .execute(&mut *tx)
        .await?;
    // A rejected team's students may join another team; approving it again takes them back.
    let active = sqlx::query("UPDATE team_members SET active = $1 WHERE team_id = $2").bind(i64::from(status == "approved")).bind(team).execute(&mut *tx).await;
    match active {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Ineligible::new("already_registered", None, "a student of this team has joined another team meanwhile").error());
        }
        Err(e) => return Err(e.into()),
    }
    sqlx::query("UPDATE rounds SET board_version = board_version + 1 WHERE event_id = $1").bind(ev.id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, if status == "approved" { "team_approve" } else { "team_reject" }, &format!("event_id={} team_id={team}", ev.id)).await?;
    tx.commit().await?;
    Ok(Json(team_json(&state, team, true).await?))
}

/// One refused row of an import: the sheet's row number and why.
fn row_error(row: usize, e: Ineligible) -> Value {
    json!({"row": row, "code": e.code, "student_id": e.student_id, "message": e.message})
}

/// Bulk registration by an organiser from XLSX (or CSV): a header row with
/// `team` (队名), `division` (组别), `coach` (教练, a username) and `student`
/// (学生, a username), then one row per student; rows of one team share its
/// name. Every row is checked before anything is stored; any refusal and
/// nothing is imported (422 with every bad row). Imported teams are approved.
async fn import_teams(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, AppError> {
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let cells = super::roster::cells(&bytes, content_type).map_err(AppError::InvalidRoster)?;
    let invalid = |errors: Vec<Value>| {
        AppError::typed(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_registrations",
            format!("nothing was imported: {} bad row(s)", errors.len()),
            json!({"rows": errors}),
        )
    };
    let columns: [(&str, &[&str]); 4] =
        [("team", &["team", "队名"]), ("division", &["division", "组别"]), ("coach", &["coach", "教练"]), ("student", &["student", "学生"])];
    let Some((header_at, header)) =
        cells.iter().enumerate().take(10).find(|(_, r)| r.iter().any(|c| columns.iter().any(|(_, names)| names.contains(&c.as_str()))))
    else {
        return Err(invalid(vec![
            json!({"row": 1, "code": "no_header", "message": "no header row naming team, division, coach and student (队名, 组别, 教练, 学生)"}),
        ]));
    };
    let mut at = [0usize; 4];
    for (i, (col, names)) in columns.iter().enumerate() {
        at[i] = header
            .iter()
            .position(|c| names.contains(&c.as_str()))
            .ok_or_else(|| invalid(vec![json!({"row": header_at + 1, "code": "no_header", "message": format!("the header row lacks the {col} column")})]))?;
    }
    // Rows grouped by team name, in the order teams first appear: (name, first row, division, coach, [(row, student)]).
    type Rows = Vec<(usize, String)>;
    let mut teams: Vec<(String, usize, String, String, Rows)> = Vec::new();
    for (i, row) in cells.iter().enumerate().skip(header_at + 1) {
        let cell = |k: usize| row.get(at[k]).map(|s| s.trim().to_string()).unwrap_or_default();
        let (team, division, coach, student) = (cell(0), cell(1), cell(2), cell(3));
        if team.is_empty() && student.is_empty() {
            continue;
        }
        match teams.iter_mut().find(|t| t.0 == team) {
            Some(t) => t.4.push((i + 1, student)),
            None => teams.push((team, i + 1, division, coach, vec![(i + 1, student)])),
        }
    }
    let divs = divisions(&state, ev.id).await?;
    let mut errors = Vec::new();
    let mut regs = Vec::new();
    let mut seen: Vec<i64> = Vec::new();
    for (team, row, division, coach, students) in &teams {
        let coach_user = match state.db.user_by_name(coach).await? {
            Some((u, _)) if u.role == "teacher" => u,
            _ => {
                errors.push(row_error(*row, Ineligible::new("not_a_student", None, format!("coach {coach:?} is not a teacher's username"))));
                continue;
            }
        };
        let mut ids = Vec::new();
        let errors_before = errors.len();
        for (r, s) in students {
            match state.db.user_by_name(s).await? {
                Some((u, _)) if seen.contains(&u.id) => {
                    errors.push(row_error(*r, Ineligible::new("already_registered", Some(u.id), "the student is in two teams of this file")))
                }
                Some((u, _)) => ids.push(u.id),
                None => errors.push(row_error(*r, Ineligible::new("not_a_student", None, format!("student {s:?} is not a username")))),
            }
        }
        seen.extend(&ids);
        if errors.len() > errors_before {
            // Its rows are already reported; the team as a whole is checked once they are fixed.
            continue;
        }
        match check_registration(&state, &ev, &divs, &coach_user, team, division, &ids, None, false).await? {
            Ok(reg) => regs.push(reg),
            Err(e) => {
                // The row of the student at fault, else the team's first row.
                let r = e.student_id.and_then(|sid| students.iter().zip(&ids).find(|(_, id)| **id == sid).map(|((r, _), _)| *r)).unwrap_or(*row);
                errors.push(row_error(r, e));
            }
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let mut tx = state.db.begin_write().await?;
    let mut created = Vec::new();
    for reg in &regs {
        created.push(store_team(&mut tx, &ev, reg, "approved", Some(caller.user.id), None).await?);
    }
    sqlx::query("UPDATE rounds SET board_version = board_version + 1 WHERE event_id = $1").bind(ev.id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "team_import", &format!("event_id={} teams={}", ev.id, created.len())).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!({"created": created}))).into_response())
}

// ---------------------------------------------------------------- rounds

/// A round row.
#[derive(Clone, Debug)]
pub struct Round {
    pub id: i64,
    pub event_id: i64,
    pub name: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub freeze_at: i64,
    pub labs: Vec<String>,
    pub submission_limit: i64,
    pub final_key: Option<String>,
    pub finalised_at: Option<i64>,
    pub board_version: i64,
}

const ROUND_COLUMNS: &str =
    "r.id, r.event_id, r.name, r.opens_at, r.closes_at, r.freeze_at, r.labs, r.submission_limit, r.final_key, r.finalised_at, r.board_version";

fn round_of(r: &sqlx::any::AnyRow) -> anyhow::Result<Round> {
    Ok(Round {
        id: r.try_get("id")?,
        event_id: r.try_get("event_id")?,
        name: r.try_get("name")?,
        opens_at: r.try_get("opens_at")?,
        closes_at: r.try_get("closes_at")?,
        freeze_at: r.try_get("freeze_at")?,
        // A creative round has no labs (an empty column).
        labs: r.try_get::<String, _>("labs")?.split(',').filter(|l| !l.is_empty()).map(str::to_string).collect(),
        submission_limit: r.try_get("submission_limit")?,
        final_key: r.try_get("final_key")?,
        finalised_at: r.try_get("finalised_at")?,
        board_version: r.try_get("board_version")?,
    })
}

pub(super) fn round_json(r: &Round) -> Value {
    json!({
        "id": r.id, "event_id": r.event_id, "name": r.name, "opens_at": r.opens_at, "closes_at": r.closes_at, "freeze_at": r.freeze_at,
        "labs": r.labs, "submission_limit": r.submission_limit, "finalised_at": r.finalised_at,
        // Published with the results: anyone may re-run the final grading on these seeds.
        "final_key": r.final_key,
    })
}

pub(super) async fn visible_round(state: &AppState, caller: &User, event: i64, round: i64) -> Result<(Event, Access, Round), AppError> {
    let (ev, a) = visible_event(state, caller, event).await?;
    Ok((ev, a, round_in_event(state, event, round).await?))
}

/// A round of an event as it is now (no access check: the caller's is).
async fn round_in_event(state: &AppState, event: i64, round: i64) -> Result<Round, AppError> {
    let row = sqlx::query(&format!("SELECT {ROUND_COLUMNS} FROM rounds r WHERE r.id = $1 AND r.event_id = $2"))
        .bind(round)
        .bind(event)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(round_of(&row)?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRound {
    name: String,
    opens_at: i64,
    closes_at: i64,
    /// The last this many seconds of the round, contestants see the board frozen.
    #[serde(default)]
    freeze_seconds: i64,
    labs: Vec<String>,
    submission_limit: i64,
}

async fn create_round(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewRound>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    if ev.kind != "robot_sim" {
        return Err(AppError::conflict("rounds_robot_sim_only", "timed rounds with labs are for robot_sim events so far"));
    }
    let name = check_name("name", &req.name, 100)?;
    if req.closes_at <= req.opens_at {
        return Err(AppError::invalid("closes_at", "before_open", "closes_at must be later than opens_at"));
    }
    if req.freeze_seconds < 0 || req.freeze_seconds > req.closes_at - req.opens_at {
        return Err(AppError::invalid("freeze_seconds", "range", "freeze_seconds is 0 to the round's length"));
    }
    if req.labs.is_empty() || req.labs.len() > 10 || req.labs.iter().enumerate().any(|(i, l)| req.labs[..i].contains(l)) {
        return Err(AppError::invalid("labs", "count", "a round has 1–10 different labs").max(10));
    }
    if let Some(l) = req.labs.iter().find(|l| state.catalogue.lab(l).is_none()) {
        return Err(AppError::invalid("labs", "unknown", format!("lab {l:?} is not a lab of the curriculum (GET /api/labs)")));
    }
    if !(1..=MAX_SUBMISSION_LIMIT).contains(&req.submission_limit) {
        return Err(AppError::invalid("submission_limit", "range", format!("submission_limit is 1–{MAX_SUBMISSION_LIMIT}")).max(MAX_SUBMISSION_LIMIT));
    }
    let mut tx = state.db.begin_write().await?;
    let rid: i64 = sqlx::query(
        "INSERT INTO rounds (event_id, name, opens_at, closes_at, freeze_at, labs, submission_limit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(ev.id)
    .bind(&name)
    .bind(req.opens_at)
    .bind(req.closes_at)
    .bind(req.closes_at - req.freeze_seconds)
    .bind(req.labs.join(","))
    .bind(req.submission_limit)
    .bind(now())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    audit_in(&mut tx, &caller.user, "round_create", &format!("event_id={} round_id={rid}", ev.id)).await?;
    tx.commit().await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, rid).await?;
    Ok((StatusCode::CREATED, Json(round_json(&round))).into_response())
}

/// The round with its labs (the redacted view contestants program against) and the caller's team's attempts.
async fn get_round(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (_, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    let mut v = round_json(&round);
    v["lab_views"] =
        json!(round.labs.iter().filter_map(|l| state.catalogue.lab(l)).map(|lab| json!(LabView::new(lab, super::work::lab_limits(lab)))).collect::<Vec<_>>());
    if let Some(team) = a.team {
        v["team_id"] = json!(team);
        v["attempts_used"] = json!(team_attempts(&state.db.pool, round.id, team).await?);
    }
    Ok(Json(v))
}

async fn team_attempts<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(db: E, round: i64, team: i64) -> Result<i64, AppError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM submissions WHERE round_id = $1 AND team_id = $2 AND final_of IS NULL AND status <> 'failed'")
        .bind(round)
        .bind(team)
        .fetch_one(db)
        .await?
        .try_get(0)?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoundSubmission {
    lab_id: String,
    #[serde(flatten)]
    program: SubmissionRequest,
}

/// A contestant submits for their team, in the round's window, within the
/// team's limit: the same checks and the same durable insert as an assignment's.
async fn submit(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    req: Result<Json<RoundSubmission>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let (_, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    let Some(team) = a.team else {
        return Err(AppError::Forbidden("only the members of an approved team submit".into()));
    };
    let t = state.clock.now();
    let window = json!({"opens_at": round.opens_at, "closes_at": round.closes_at, "submission_limit": round.submission_limit});
    if t < round.opens_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "round_not_open", "this round has not started yet (see opens_at)", window));
    }
    if t > round.closes_at {
        return Err(AppError::typed(StatusCode::CONFLICT, "round_closed", "this round is over (see closes_at)", window));
    }
    if !round.labs.contains(&req.lab_id) {
        return Err(AppError::invalid("lab_id", "unknown", format!("lab_id must be one of this round's labs: {}", round.labs.join(", "))));
    }
    let lab = state.catalogue.lab(&req.lab_id).ok_or_else(|| AppError::conflict("lab_gone", format!("lab {} is no longer in the curriculum", req.lab_id)))?;
    let stored_language = super::work::check_program(lab, &lab.languages, &req.program)?;
    // Insert, then count in the same transaction (the team's row locked on
    // PostgreSQL; SQLite has one writer): two simultaneous submissions cannot both slip under the limit.
    let mut tx = state.db.begin_write().await?;
    if state.db.backend == Backend::Postgres {
        sqlx::query("SELECT id FROM teams WHERE id = $1 FOR UPDATE").bind(team).execute(&mut *tx).await?;
    }
    let sid: i64 = sqlx::query(
        // Fair-queue ranks as for assignments: the student's unfinished jobs, and the team's in place of a class's.
        "INSERT INTO submissions (round_id, team_id, lab_id, student_id, language, program, submitted_at, status, fair_student, fair_class) VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', \
         (SELECT COUNT(*) FROM submissions WHERE student_id = $4 AND status IN ('queued', 'running')), \
         (SELECT COUNT(*) FROM submissions WHERE team_id = $2 AND status IN ('queued', 'running'))) RETURNING id",
    )
    .bind(round.id)
    .bind(team)
    .bind(&req.lab_id)
    .bind(caller.user.id)
    .bind(&stored_language)
    .bind(&req.program.program)
    .bind(t)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    if team_attempts(&mut *tx, round.id, team).await? > round.submission_limit {
        tx.rollback().await?;
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "submission_limit",
            format!("your team has used all {} submissions of this round", round.submission_limit),
            window,
        ));
    }
    // Committed (durable) before it is acknowledged.
    tx.commit().await?;
    state.metrics.submissions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    state.signals.work.notify_one();
    Ok(access_unchanged((
        StatusCode::ACCEPTED,
        Json(json!({
            "id": sid, "round_id": round.id, "team_id": team, "lab_id": req.lab_id, "student_id": caller.user.id, "language": stored_language,
            "status": "queued", "submitted_at": t, "graded_at": null, "score": null, "max_score": null,
        })),
    )))
}

/// A round submission row (columns of `work::SUBMISSION_COLUMNS`) as JSON.
pub fn submission_json(r: &sqlx::any::AnyRow) -> Result<Value, AppError> {
    Ok(json!({
        "id": r.try_get::<i64, _>("id")?, "round_id": r.try_get::<Option<i64>, _>("round_id")?, "team_id": r.try_get::<Option<i64>, _>("team_id")?,
        "lab_id": r.try_get::<Option<String>, _>("lab_id")?, "final_of": r.try_get::<Option<i64>, _>("final_of")?,
        "student_id": r.try_get::<i64, _>("student_id")?, "language": r.try_get::<String, _>("language")?, "status": r.try_get::<String, _>("status")?,
        "submitted_at": r.try_get::<i64, _>("submitted_at")?, "graded_at": r.try_get::<Option<i64>, _>("graded_at")?,
        "score": r.try_get::<Option<f64>, _>("score")?, "max_score": r.try_get::<Option<f64>, _>("max_score")?,
    }))
}

/// Whether the caller may see a round submission (not their own): its team's
/// members, the event's organisers and judges.
pub async fn sees_round_submission(state: &AppState, caller: &User, row: &sqlx::any::AnyRow) -> Result<bool, AppError> {
    let (Some(round), Some(team)) = (row.try_get::<Option<i64>, _>("round_id")?, row.try_get::<Option<i64>, _>("team_id")?) else { return Ok(false) };
    let event: Option<i64> =
        sqlx::query("SELECT event_id FROM rounds WHERE id = $1").bind(round).fetch_optional(&state.db.pool).await?.map(|r| r.try_get(0)).transpose()?;
    let Some(event) = event else { return Ok(false) };
    match visible_event(state, caller, event).await {
        Ok((_, a)) => Ok(a.officiates() || a.team == Some(team) || (a.coach && coaches(state, caller, team).await?)),
        Err(AppError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `caller` is the coach of `team`.
pub(super) async fn coaches(state: &AppState, caller: &User, team: i64) -> Result<bool, AppError> {
    Ok(sqlx::query("SELECT id FROM teams WHERE id = $1 AND coach_id = $2").bind(team).bind(caller.id).fetch_optional(&state.db.pool).await?.is_some())
}

/// A team's submissions for its members and its coach; every team's (newest 500) for organisers and judges.
/// Each says whether the team chose it as the one that counts for its lab (`chosen`).
async fn list_round_submissions(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
) -> Result<Json<Value>, AppError> {
    let (_, a, round) = visible_round(&state, &caller.user, id, rid).await?;
    let columns = super::work::SUBMISSION_COLUMNS;
    let rows = if a.officiates() {
        sqlx::query(&format!("SELECT {columns} FROM submissions s WHERE s.round_id = $1 ORDER BY s.id DESC LIMIT 500"))
            .bind(round.id)
            .fetch_all(&state.db.pool)
            .await?
    } else if let Some(team) = a.team {
        sqlx::query(&format!("SELECT {columns} FROM submissions s WHERE s.round_id = $1 AND s.team_id = $2 ORDER BY s.id DESC"))
            .bind(round.id)
            .bind(team)
            .fetch_all(&state.db.pool)
            .await?
    } else if a.coach {
        sqlx::query(&format!(
            "SELECT {columns} FROM submissions s JOIN teams t ON t.id = s.team_id WHERE s.round_id = $1 AND t.coach_id = $2 ORDER BY s.id DESC LIMIT 500"
        ))
        .bind(round.id)
        .bind(caller.user.id)
        .fetch_all(&state.db.pool)
        .await?
    } else {
        Vec::new()
    };
    let chosen: std::collections::BTreeSet<i64> = sqlx::query("SELECT submission_id FROM final_choices WHERE round_id = $1")
        .bind(round.id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for r in &rows {
        let mut v = submission_json(r)?;
        v["chosen"] = json!(chosen.contains(&v["id"].as_i64().unwrap_or(0)));
        out.push(v);
    }
    Ok(Json(json!({ "submissions": out })))
}

// ---------------------------------------------------------------- leaderboards

/// One team's line on a board.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Entry {
    pub rank: u32,
    pub team_id: i64,
    pub team: String,
    pub school_id: i64,
    pub score: f64,
    /// When the latest submission that counts was made (None: nothing graded).
    pub last_submitted_at: Option<i64>,
    pub attempts: i64,
}

/// A round's boards, one ranked list per division.
pub type Board = BTreeMap<i64, Vec<Entry>>;

/// Everything a round's leaderboard requests are served from.
#[derive(Clone, Debug)]
pub struct Boards {
    /// `rounds.board_version` when computed.
    pub version: i64,
    /// Every graded submission.
    pub live: Board,
    /// Only submissions made before the freeze.
    pub frozen: Board,
    /// The final ranking's re-grades (once finalised).
    pub final_: Option<Board>,
}

/// A submission as the board needs it.
#[derive(Clone, Debug)]
pub struct BoardRow {
    pub id: i64,
    pub team_id: i64,
    pub lab_id: String,
    pub done: bool,
    pub failed: bool,
    pub score: f64,
    pub submitted_at: i64,
    pub final_of: Option<i64>,
    /// When the team chose this submission as the one that counts for its lab (`final_choices`).
    pub chosen_at: Option<i64>,
}

/// A team as the board needs it.
#[derive(Clone, Debug)]
pub struct BoardTeam {
    pub id: i64,
    pub name: String,
    pub division_id: i64,
    pub school_id: i64,
}

/// Ranks the teams on the rows `counts` keeps. Per lab, a team's score is
/// that of its last graded submission (the one the final ranking
/// re-grades); its score is the sum over the labs. Order: score (highest
/// first), then the time of the latest submission that counts (earliest
/// first), then attempts (fewest first); teams equal on all three share a
/// rank (1, 2, 2, 4), listed by team id.
pub fn rank(
    teams: &[BoardTeam],
    rows: &[BoardRow],
    counts: impl Fn(&BoardRow) -> bool,
    attempts_of: impl Fn(&BoardRow) -> bool,
    chosen: impl Fn(&BoardRow) -> bool,
) -> Board {
    struct Acc {
        attempts: i64,
        /// Per lab: (chosen, id, score, submitted_at) of the submission that counts.
        labs: BTreeMap<String, (bool, i64, f64, i64)>,
    }
    let mut acc: BTreeMap<i64, Acc> = teams.iter().map(|t| (t.id, Acc { attempts: 0, labs: BTreeMap::new() })).collect();
    for r in rows {
        let Some(a) = acc.get_mut(&r.team_id) else { continue };
        if attempts_of(r) {
            a.attempts += 1;
        }
        if r.done && counts(r) {
            // The team's chosen submission for the lab, else its last.
            let key = (chosen(r), r.id);
            let e = a.labs.entry(r.lab_id.clone()).or_insert((key.0, key.1, r.score, r.submitted_at));
            if key >= (e.0, e.1) {
                *e = (key.0, key.1, r.score, r.submitted_at);
            }
        }
    }
    let mut board: Board = BTreeMap::new();
    for t in teams {
        let a = &acc[&t.id];
        let score = a.labs.values().map(|l| l.2).sum::<f64>();
        let last = a.labs.values().map(|l| l.3).max();
        board.entry(t.division_id).or_default().push(Entry {
            rank: 0,
            team_id: t.id,
            team: t.name.clone(),
            school_id: t.school_id,
            // Scores are sums of per-case points: rounded to hundredths so float noise never splits a tie.
            score: (score * 100.0).round() / 100.0,
            last_submitted_at: last,
            attempts: a.attempts,
        });
    }
    for entries in board.values_mut() {
        entries.sort_by(|x, y| {
            y.score
                .total_cmp(&x.score)
                .then(x.last_submitted_at.unwrap_or(i64::MAX).cmp(&y.last_submitted_at.unwrap_or(i64::MAX)))
                .then(x.attempts.cmp(&y.attempts))
                .then(x.team_id.cmp(&y.team_id))
        });
        for i in 0..entries.len() {
            entries[i].rank = if i > 0 && {
                let (p, c) = (&entries[i - 1], &entries[i]);
                p.score == c.score && p.last_submitted_at == c.last_submitted_at && p.attempts == c.attempts
            } {
                entries[i - 1].rank
            } else {
                i as u32 + 1
            };
        }
    }
    board
}

/// The three boards of a round from its teams and submissions.
pub fn compute(round: &Round, teams: &[BoardTeam], rows: &[BoardRow]) -> Boards {
    let live = rank(teams, rows, |r| r.final_of.is_none(), |r| r.final_of.is_none() && !r.failed, |r| r.chosen_at.is_some());
    // The frozen board as it stood at the freeze: later submissions and later choices do not show.
    let frozen = rank(
        teams,
        rows,
        |r| r.final_of.is_none() && r.submitted_at < round.freeze_at,
        |r| r.final_of.is_none() && !r.failed && r.submitted_at < round.freeze_at,
        |r| r.chosen_at.is_some_and(|t| t < round.freeze_at),
    );
    // The final re-grades are one per team and lab: of the chosen submission, else the last.
    let final_ = round.final_key.as_ref().map(|_| rank(teams, rows, |r| r.final_of.is_some(), |r| r.final_of.is_none() && !r.failed, |_| false));
    Boards { version: round.board_version, live, frozen, final_ }
}

/// The cached boards of every round asked for, by round id: recomputed when a
/// grade lands (the round's `board_version` moved), never per request.
#[derive(Clone, Debug, Default)]
pub struct BoardCache {
    boards: Arc<Mutex<BTreeMap<i64, Arc<Boards>>>>,
    /// Who may read which round's board, remembered for pages (see [`AccessMemo`]).
    pub access: AccessMemo,
    /// One recomputation at a time; meanwhile others are served the previous board.
    building: Arc<tokio::sync::Mutex<()>>,
    /// Per round: when its last background recomputation finished, and how long it took.
    last_build: Arc<Mutex<BTreeMap<i64, (std::time::Instant, std::time::Duration)>>>,
}

/// Background recomputations of one round's boards are spaced by at least
/// this many times the duration of the previous one (at most a third of a core).
const REST_FACTOR: u32 = 2;

/// Reads a round's teams and submissions and computes its boards (uncached).
pub async fn load_boards(state: &AppState, round: &Round) -> Result<Boards, AppError> {
    // A creative round's boards are its published results (creative.rs).
    if let Some(b) = super::creative::boards(state, round).await? {
        return Ok(b);
    }
    let teams = sqlx::query("SELECT id, name, division_id, school_id FROM teams WHERE event_id = $1 AND status = 'approved'")
        .bind(round.event_id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok(BoardTeam { id: r.try_get(0)?, name: r.try_get(1)?, division_id: r.try_get(2)?, school_id: r.try_get(3)? }))
        .collect::<Result<Vec<_>, AppError>>()?;
    // A quiz round's rows are its closed answer sheets (quiz.rs); ranked the same way.
    if let Some(rows) = super::quiz::board_rows(state, round).await? {
        let mut b = compute(round, &teams, &rows);
        // Nothing to re-grade: once finalised, the ranking as it stands is the final one.
        if round.finalised_at.is_some() {
            b.final_ = Some(b.live.clone());
        }
        return Ok(b);
    }
    let rows = sqlx::query(
        "SELECT s.id, s.team_id, s.lab_id, s.status, s.score, s.submitted_at, s.final_of, c.chosen_at FROM submissions s \
         LEFT JOIN final_choices c ON c.submission_id = s.id WHERE s.round_id = $1",
    )
    .bind(round.id)
    .fetch_all(&state.db.pool)
    .await?;
    // Decoding and ranking 400,000 rows takes a good part of a second of CPU:
    // on a blocking thread, so the async threads keep answering requests.
    let round = round.clone();
    tokio::task::spawn_blocking(move || {
        let rows = rows
            .iter()
            .map(|r| {
                let status: String = r.try_get(3)?;
                Ok(BoardRow {
                    id: r.try_get(0)?,
                    team_id: r.try_get(1)?,
                    lab_id: r.try_get(2)?,
                    done: status == "done",
                    failed: status == "failed",
                    score: r.try_get::<Option<f64>, _>(4)?.unwrap_or(0.0),
                    submitted_at: r.try_get(5)?,
                    final_of: r.try_get(6)?,
                    chosen_at: r.try_get(7)?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(compute(&round, &teams, &rows))
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("the leaderboard computation stopped: {e}")))?
}

/// Keeps the newer of the cached boards and `b`.
fn keep(state: &AppState, round: i64, b: &Arc<Boards>) {
    let mut all = state.boards.boards.lock().unwrap_or_else(|p| p.into_inner());
    if all.get(&round).is_none_or(|old| old.version < b.version) {
        all.insert(round, b.clone());
    }
}

/// The round's boards: the cached ones if current. When a grade has landed
/// since, the previous boards are answered at once and one recomputation
/// starts in the background (a board of 100,000 teams takes about a second
/// to rebuild, which no page request should wait for); only the very first
/// request for a round waits for its boards.
pub async fn boards(state: &AppState, round: &Round) -> Result<Arc<Boards>, AppError> {
    let cached = |state: &AppState| state.boards.boards.lock().unwrap_or_else(|p| p.into_inner()).get(&round.id).cloned();
    match cached(state) {
        Some(b) if b.version >= round.board_version => Ok(b),
        Some(stale) => {
            // While grades keep landing, rest REST_FACTOR times as long as the
            // last recomputation took before starting the next: a board of
            // 100,000 teams is then at most a couple of seconds behind, and
            // rebuilding it after every grade does not keep a core busy for
            // the whole round. A small board (milliseconds) is rebuilt at once.
            let rested = state
                .boards
                .last_build
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&round.id)
                .is_none_or(|(finished, took)| finished.elapsed() >= *took * REST_FACTOR);
            if rested && let Ok(turn) = state.boards.building.clone().try_lock_owned() {
                let (state, round) = (state.clone(), round.clone());
                // The whole recomputation on a blocking thread, not only the ranking:
                // the database driver decodes the round's 400,000 rows where the
                // future is polled, and on an async thread that held up the pages
                // queued behind it for a couple of hundred milliseconds.
                // (A single-threaded runtime, as in some tests, cannot drive its I/O from
                // another thread: there it stays a task.)
                let rebuild = async move {
                    let _turn = turn;
                    let started = std::time::Instant::now();
                    match load_boards(&state, &round).await {
                        Ok(b) => keep(&state, round.id, &Arc::new(b)),
                        Err(e) => tracing::warn!(round = round.id, error = ?e, "cannot recompute the leaderboard; the previous one stays"),
                    }
                    state.boards.last_build.lock().unwrap_or_else(|p| p.into_inner()).insert(round.id, (std::time::Instant::now(), started.elapsed()));
                };
                let runtime = tokio::runtime::Handle::current();
                if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
                    tokio::task::spawn_blocking(move || runtime.block_on(rebuild));
                } else {
                    tokio::spawn(rebuild);
                }
            }
            Ok(stale)
        }
        None => {
            let _turn = state.boards.building.lock().await;
            if let Some(b) = cached(state).filter(|b| b.version >= round.board_version) {
                return Ok(b);
            }
            let b = Arc::new(load_boards(state, round).await?);
            keep(state, round.id, &b);
            Ok(b)
        }
    }
}

/// Leaderboard readers' access, remembered briefly so a page costs one
/// session lookup and one round row instead of the dozen queries of the
/// event's access rules (regions up the chain, memberships, the team, the
/// school's area) — under a city event's submission spike those round trips
/// were what made pages slow, not the board (README: "A city event, simulated").
///
/// A grant is forgotten after [`GRANT_TTL`], and at once whenever this
/// server handles any successful change that is not marked
/// [`AccessUnchanged`] (the epoch moves): a team rejected or a judge removed
/// through this server stops seeing the board on their next page. Changes
/// made behind the server's back (another server process, SQL by hand) show
/// within [`GRANT_TTL`]. Only grants are remembered, never refusals.
#[derive(Clone, Debug, Default)]
pub struct AccessMemo {
    grants: Arc<Mutex<GrantMap>>,
    /// Moves on every access-changing request (http.rs `count`).
    epoch: Arc<AtomicU64>,
    /// The region tree and schools' regions, which every event access check
    /// walks (a query per level): remembered until the epoch moves.
    org: Arc<Mutex<OrgMemo>>,
}

/// What [`region_chain`] and [`school_region`] read, as of `epoch`.
#[derive(Debug, Default)]
struct OrgMemo {
    epoch: u64,
    chains: HashMap<i64, Vec<i64>>,
    schools: HashMap<i64, Option<i64>>,
    /// Event rows as leaderboard readers' access checks saw them, for at most
    /// `GRANT_TTL` (another server process may change an event without moving
    /// this one's epoch).
    events: HashMap<i64, (std::time::Instant, Event)>,
}

#[derive(Debug, Default)]
struct GrantMap {
    /// (user, event, round) → when granted, the epoch then, and whether the reader officiates.
    by_reader: HashMap<(i64, i64, i64), Grant>,
    /// Sweep out expired grants when this many are kept.
    sweep_at: usize,
}

#[derive(Clone, Copy, Debug)]
struct Grant {
    at: std::time::Instant,
    epoch: u64,
    officiates: bool,
}

/// How long a leaderboard reader's access is remembered at most.
pub const GRANT_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// Grants kept before expired ones are swept out (each sweep then waits for twice as many).
const GRANTS_SWEEP_AT: usize = 4096;

/// Marks a successful response whose request cannot have changed who sees
/// what (a submission, an answer saved, a sign-in): it leaves the
/// leaderboard's remembered grants in place. Unmarked changes forget them all.
#[derive(Clone, Copy, Debug)]
pub struct AccessUnchanged;

/// `response` with the [`AccessUnchanged`] mark.
pub fn access_unchanged(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(AccessUnchanged);
    response
}

impl AccessMemo {
    /// Forgets every grant (something that may change access happened).
    pub fn access_changed(&self) {
        self.epoch.fetch_add(1, Ordering::Relaxed);
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Looks `read` up in the region memo, if it is of the current epoch.
    fn remembered<T>(&self, read: impl FnOnce(&OrgMemo) -> Option<T>) -> Option<T> {
        let memo = self.org.lock().unwrap_or_else(|p| p.into_inner());
        if memo.epoch == self.epoch() { read(&memo) } else { None }
    }

    /// Stores into the region memo what was read at `epoch` (dropped if the epoch has moved since).
    fn remember(&self, epoch: u64, write: impl FnOnce(&mut OrgMemo)) {
        let mut memo = self.org.lock().unwrap_or_else(|p| p.into_inner());
        if epoch != self.epoch() {
            return;
        }
        if memo.epoch != epoch {
            *memo = OrgMemo { epoch, ..OrgMemo::default() };
        }
        write(&mut memo);
    }

    /// Whether `user` officiates round `round` of `event`, if remembered and still valid.
    fn get(&self, key: (i64, i64, i64)) -> Option<bool> {
        let epoch = self.epoch.load(Ordering::Relaxed);
        let grants = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        grants.by_reader.get(&key).filter(|g| g.epoch == epoch && g.at.elapsed() < GRANT_TTL).map(|g| g.officiates)
    }

    /// Remembers a grant checked at `epoch` (read before the check, so a change during it is not missed).
    fn put(&self, key: (i64, i64, i64), epoch: u64, officiates: bool) {
        let mut grants = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        if grants.by_reader.len() >= grants.sweep_at.max(GRANTS_SWEEP_AT) {
            // Amortised: a sweep that keeps n grants is next due at 2n.
            let current = self.epoch.load(Ordering::Relaxed);
            grants.by_reader.retain(|_, g| g.epoch == current && g.at.elapsed() < GRANT_TTL);
            grants.sweep_at = 2 * grants.by_reader.len();
        }
        grants.by_reader.insert(key, Grant { at: std::time::Instant::now(), epoch, officiates });
    }
}

/// The round a leaderboard page is for and whether the reader officiates it:
/// from a remembered grant when there is one (one query for the round as it
/// is now), else through the event's access rules.
async fn board_reader(state: &AppState, caller: &User, event: i64, round: i64) -> Result<(bool, Round), AppError> {
    let key = (caller.id, event, round);
    let grants = &state.boards.access;
    if let Some(officiates) = grants.get(key) {
        return Ok((officiates, round_in_event(state, event, round).await?));
    }
    let epoch = grants.epoch.load(Ordering::Relaxed);
    let remembered = grants.remembered(|m| m.events.get(&event).filter(|(at, _)| at.elapsed() < GRANT_TTL).map(|(_, ev)| ev.clone()));
    let ev = match remembered {
        Some(ev) => ev,
        None => {
            let ev = event_row(state, event).await?;
            grants.remember(epoch, |m| {
                m.events.insert(event, (std::time::Instant::now(), ev.clone()));
            });
            ev
        }
    };
    // As visible_round, with the event row remembered.
    let a = access(state, caller, &ev).await?;
    if !a.sees() {
        return Err(AppError::NotFound);
    }
    let r = round_in_event(state, event, round).await?;
    grants.put(key, epoch, a.officiates());
    Ok((a.officiates(), r))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardQuery {
    division: Option<i64>,
    page: Option<usize>,
    per_page: Option<usize>,
}

/// Which board the caller sees: organisers and judges the live one; others
/// the frozen one from `freeze_at` until the round closes, the live one
/// before and after (the reveal), and the final ranking once published.
pub fn view_for(round: &Round, officiates: bool, t: i64) -> &'static str {
    if round.final_key.is_some() && round.finalised_at.is_some() && t >= round.closes_at {
        "final"
    } else if !officiates && t >= round.freeze_at && t < round.closes_at {
        "frozen"
    } else {
        "live"
    }
}

async fn leaderboard(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((id, rid)): Path<(i64, i64)>,
    Query(q): Query<BoardQuery>,
) -> Result<Json<Value>, AppError> {
    let (officiates, mut round) = board_reader(&state, &caller.user, id, rid).await?;
    // A quiz round's sheets still open when it closed count as handed in at its close
    // (the round read again: its board version moved).
    if super::quiz::settle(&state, &round).await? > 0 {
        round = round_in_event(&state, id, rid).await?;
    }
    let b = boards(&state, &round).await?;
    let view = view_for(&round, officiates, state.clock.now());
    let board = match view {
        "final" => b.final_.as_ref().unwrap_or(&b.live),
        "frozen" => &b.frozen,
        _ => &b.live,
    };
    let division = match q.division {
        Some(d) => d,
        None => board.keys().next().copied().unwrap_or(0),
    };
    let per_page = q.per_page.unwrap_or(50);
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(AppError::invalid("per_page", "range", format!("per_page is 1–{MAX_PER_PAGE}")).max(MAX_PER_PAGE as i64));
    }
    let page = q.page.unwrap_or(1).max(1);
    let entries = board.get(&division).map(Vec::as_slice).unwrap_or_default();
    let from = ((page - 1) * per_page).min(entries.len());
    let to = (from + per_page).min(entries.len());
    Ok(Json(json!({
        "round_id": round.id, "view": view, "division_id": division, "page": page, "per_page": per_page, "total": entries.len(),
        "freeze_at": round.freeze_at, "closes_at": round.closes_at, "final_key": if view == "final" { round.final_key.clone() } else { None },
        "divisions": board.iter().map(|(d, e)| json!({"id": d, "teams": e.len()})).collect::<Vec<_>>(),
        "entries": &entries[from..to],
    })))
}

/// After the round closes: draws the final key (fresh seeds nobody could
/// tune to) and queues one re-grade of each team's chosen (else last)
/// submission per lab on it. Idempotent: a second call changes nothing.
async fn finalise(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path((id, rid)): Path<(i64, i64)>) -> Result<Json<Value>, AppError> {
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, rid).await?;
    if super::creative::is_creative(&state, round.id).await? {
        return Err(AppError::conflict("creative_round", "a creative round is not re-graded: its results are published (POST …/publish)"));
    }
    let t = state.clock.now();
    if t <= round.closes_at {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "round_not_closed",
            "the final ranking is drawn after the round closes",
            json!({"closes_at": round.closes_at}),
        ));
    }
    if super::quiz::is_quiz(&state, round.id).await? {
        return Ok(Json(super::quiz::finalise(&state, &caller.user, &ev, &round).await?));
    }
    let key = format!("{}{}", super::auth::random_hex(), super::auth::random_hex());
    let mut tx = state.db.begin_write().await?;
    let drawn = sqlx::query("UPDATE rounds SET final_key = $1, finalised_at = $2, board_version = board_version + 1 WHERE id = $3 AND final_key IS NULL")
        .bind(&key)
        .bind(t)
        .bind(round.id)
        .execute(&mut *tx)
        .await?;
    if drawn.rows_affected() == 0 {
        tx.rollback().await?;
        let regrades: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE round_id = $1 AND final_of IS NOT NULL")
            .bind(round.id)
            .fetch_one(&state.db.pool)
            .await?
            .try_get(0)?;
        return Ok(Json(json!({"round_id": round.id, "final_key": round.final_key, "regrades": regrades, "already": true})));
    }
    // Each approved team's chosen submission per lab, else its last (by id: the order they were accepted).
    let last = sqlx::query(
        "SELECT s.id, s.team_id, s.lab_id, s.student_id, s.language, s.program, s.submitted_at FROM submissions s \
         WHERE s.id IN (SELECT COALESCE((SELECT c.submission_id FROM final_choices c WHERE c.round_id = $1 AND c.team_id = x.team_id AND c.lab_id = x.lab_id), MAX(x.id)) \
                        FROM submissions x JOIN teams t ON t.id = x.team_id \
                        WHERE x.round_id = $1 AND x.final_of IS NULL AND x.status <> 'failed' AND t.status = 'approved' GROUP BY x.team_id, x.lab_id) \
         ORDER BY s.id",
    )
    .bind(round.id)
    .fetch_all(&mut *tx)
    .await?;
    for r in &last {
        sqlx::query(
            "INSERT INTO submissions (round_id, team_id, lab_id, final_of, student_id, language, program, submitted_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued')",
        )
        .bind(round.id)
        .bind(r.try_get::<i64, _>("team_id")?)
        .bind(r.try_get::<String, _>("lab_id")?)
        .bind(r.try_get::<i64, _>("id")?)
        .bind(r.try_get::<i64, _>("student_id")?)
        .bind(r.try_get::<String, _>("language")?)
        .bind(r.try_get::<String, _>("program")?)
        .bind(r.try_get::<i64, _>("submitted_at")?)
        .execute(&mut *tx)
        .await?;
    }
    audit_in(&mut tx, &caller.user, "round_finalise", &format!("event_id={} round_id={} regrades={}", ev.id, round.id, last.len())).await?;
    tx.commit().await?;
    state.signals.work.notify_waiters();
    Ok(Json(json!({"round_id": round.id, "final_key": key, "regrades": last.len(), "already": false})))
}

/// The round's final ranking, once it is drawn and every re-grade is in:
/// computed now, not the cache (which may be a moment behind), so
/// advancement, certificates and results see every final grade.
pub(super) async fn final_ranking(state: &AppState, round: &Round) -> Result<Board, AppError> {
    // A creative round's final ranking is its published results (creative.rs).
    if let Some(board) = super::creative::final_board(state, round).await? {
        return Ok(board);
    }
    let b = load_boards(state, round).await?;
    let Some(board) = b.final_.filter(|_| round.finalised_at.is_some()) else {
        return Err(AppError::conflict("round_not_final", "the final ranking is not drawn yet (POST …/finalise)"));
    };
    // The final ranking counts once every re-grade is in.
    let pending: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE round_id = $1 AND final_of IS NOT NULL AND status IN ('queued', 'running')")
        .bind(round.id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get(0)?;
    if pending > 0 {
        return Err(AppError::typed(
            StatusCode::CONFLICT,
            "final_grading_pending",
            format!("{pending} final re-grade(s) are still being graded"),
            json!({"pending": pending}),
        ));
    }
    Ok(board)
}

// ---------------------------------------------------------------- advancement

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    round_id: i64,
    /// The best this many teams of each division…
    top: Option<usize>,
    /// …or this percentage of each division's teams (rounded up).
    top_percent: Option<f64>,
}

/// The top teams of each division of a finalised round advance into the
/// parent event (approved, same coach and students, `advanced_from` set):
/// an action of the parent event's organisers; running it again adds nothing.
async fn advance(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<Advance>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let (ev, _) = managed_event(&state, &caller.user, id).await?;
    let (_, _, round) = visible_round(&state, &caller.user, ev.id, req.round_id).await?;
    let parent_id = ev.parent_id.ok_or_else(|| AppError::conflict("no_parent_event", "this event has no parent event to advance into"))?;
    let (parent, _) = managed_event(&state, &caller.user, parent_id).await?;
    let board = final_ranking(&state, &round).await?;
    let board = &board;
    let cut = |n: usize| -> Result<usize, AppError> {
        match (req.top, req.top_percent) {
            (Some(k), None) if k >= 1 => Ok(k),
            (None, Some(p)) if p > 0.0 && p <= 100.0 => Ok(((n as f64) * p / 100.0).ceil() as usize),
            _ => Err(AppError::invalid("top", "choice", "send top (a number of teams, 1 or more) or top_percent (above 0, at most 100), not both")),
        }
    };
    let source_divs = divisions(&state, ev.id).await?;
    let parent_divs = divisions(&state, parent.id).await?;
    let mut advanced = Vec::new();
    let mut already = 0;
    let mut skipped = Vec::new();
    let mut tx = state.db.begin_write().await?;
    // `begin_write` takes SQLite's write lock at once: this transaction
    // reads before it writes, and a deferred one could not upgrade its lock
    // once a worker had committed since its first read (SQLITE_BUSY, a 500).
    sqlx::query("UPDATE rounds SET board_version = board_version + 1 WHERE event_id = $1").bind(parent.id).execute(&mut *tx).await?;
    for (division, entries) in board {
        let n = cut(entries.len())?;
        let Some(src) = source_divs.iter().find(|d| d.id == *division) else { continue };
        // The parent's division of the same grade band, else one that covers it.
        let target = parent_divs
            .iter()
            .find(|d| d.min_grade == src.min_grade && d.max_grade == src.max_grade)
            .or_else(|| parent_divs.iter().find(|d| d.min_grade <= src.min_grade && d.max_grade >= src.max_grade));
        // Ties at the cut all advance.
        let cutoff = entries.get(n.saturating_sub(1)).map_or(0, |e| e.rank);
        for e in entries.iter().filter(|e| n > 0 && e.rank <= cutoff && e.last_submitted_at.is_some()) {
            let Some(target) = target else {
                skipped.push(json!({"team_id": e.team_id, "code": "no_matching_division"}));
                continue;
            };
            if sqlx::query("SELECT id FROM teams WHERE event_id = $1 AND advanced_from = $2")
                .bind(parent.id)
                .bind(e.team_id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
            {
                already += 1;
                continue;
            }
            let team = sqlx::query("SELECT coach_id, school_id, name FROM teams WHERE id = $1").bind(e.team_id).fetch_one(&mut *tx).await?;
            let students: Vec<i64> = sqlx::query("SELECT student_id FROM team_members WHERE team_id = $1 AND active = 1 ORDER BY student_id")
                .bind(e.team_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let mut taken = false;
            for s in &students {
                taken |= sqlx::query("SELECT team_id FROM team_members WHERE event_id = $1 AND student_id = $2 AND active = 1")
                    .bind(parent.id)
                    .bind(s)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
            }
            if taken || students.is_empty() {
                skipped.push(json!({"team_id": e.team_id, "code": "already_registered"}));
                continue;
            }
            let coach_id: i64 = team.try_get("coach_id")?;
            let coach = state.db.user(coach_id).await?.ok_or_else(|| anyhow::anyhow!("coach {coach_id} of team {} is gone", e.team_id))?;
            let captain: Option<i64> = sqlx::query("SELECT m.user_id FROM event_members m JOIN team_members t ON t.student_id = m.user_id WHERE m.event_id = $1 AND m.role = 'captain' AND t.team_id = $2")
                .bind(ev.id)
                .bind(e.team_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            let reg = Registration {
                name: team.try_get("name")?,
                division: target.id,
                coach,
                school_id: team.try_get("school_id")?,
                captain: captain.unwrap_or(students[0]),
                students,
            };
            let new_id = store_team(&mut tx, &parent, &reg, "approved", Some(caller.user.id), Some(e.team_id)).await?;
            advanced.push(json!({"team_id": new_id, "from_team_id": e.team_id, "division_id": target.id, "rank": e.rank}));
        }
    }
    audit_in(
        &mut tx,
        &caller.user,
        "event_advance",
        &format!("event_id={} parent_id={} round_id={} advanced={} already={already} skipped={}", ev.id, parent.id, round.id, advanced.len(), skipped.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({"parent_id": parent.id, "advanced": advanced, "already": already, "skipped": skipped})))
}
