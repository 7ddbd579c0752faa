//! Organisations and people: regions, schools, staff accounts, classes and rosters —
//! and the rules for who may see and change which of them.
//!
//! A resource the caller may not see answers 404 (as if it did not exist), so
//! ids cannot be probed; an action the caller's role may never take answers
//! 403.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::{self, ActiveCaller};
use super::db::{Db, USER_COLUMNS, User};
use super::http::{AppError, AppState, body, user_json};
use super::now;
use super::roster::{self, RosterRow, RowError};
use std::collections::BTreeMap;

pub const ROLES: [&str; 5] = ["student", "teacher", "school_admin", "organiser", "platform_admin"];

/// A class row.
#[derive(Clone, Debug)]
pub struct Class {
    pub id: i64,
    pub school_id: i64,
    pub teacher_id: i64,
    pub name: String,
}

/// What a role may do in general, as `/api/me` tells the web UI (which
/// shows menus and pages from it instead of keeping its own copy of the
/// rules). Which class, school or person is still checked per resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Can {
    /// Sees staff views: regions, schools, other people's names (everyone but students).
    pub staff: bool,
    /// Creates classes and manages their rosters, assignments and gradebooks.
    pub manage_classes: bool,
    /// Lists and creates staff accounts.
    pub manage_users: bool,
    /// Reads the audit log.
    pub view_audit: bool,
    /// Creates regions and schools.
    pub manage_schools: bool,
    /// Opens the administration pages: everyone whose work is above a single
    /// class (organisers read regions and schools; admins also manage
    /// accounts and read the audit log).
    pub admin: bool,
    /// Submits work for assignments.
    pub submit: bool,
}

impl User {
    pub fn is_platform_admin(&self) -> bool {
        self.role == "platform_admin"
    }

    /// The role rules in one place (see [`Can`]).
    pub fn can(&self) -> Can {
        let role = self.role.as_str();
        let admins = matches!(role, "platform_admin" | "school_admin");
        Can {
            staff: role != "student",
            manage_classes: admins || role == "teacher",
            manage_users: admins,
            view_audit: admins,
            manage_schools: role == "platform_admin",
            admin: admins || role == "organiser",
            submit: role == "student",
        }
    }

    /// May change the class: its roster, assignments and gradebook.
    pub fn manages_class(&self, class: &Class) -> bool {
        match self.role.as_str() {
            "platform_admin" => true,
            "school_admin" => self.school_id == Some(class.school_id),
            "teacher" => class.teacher_id == self.id,
            _ => false,
        }
    }

    /// May see the class and its assignments (managers and its students).
    pub fn sees_class(&self, class: &Class) -> bool {
        self.manages_class(class) || (self.role == "student" && self.class_id == Some(class.id))
    }

    /// May see and act on this person's records (export, deletion, password reset).
    pub fn manages_person(&self, person: &User, class: Option<&Class>) -> bool {
        if self.id == person.id {
            return false;
        }
        match self.role.as_str() {
            "platform_admin" => true,
            "school_admin" => matches!(person.role.as_str(), "student" | "teacher") && person.school_id.is_some() && person.school_id == self.school_id,
            "teacher" => person.role == "student" && class.is_some_and(|c| c.teacher_id == self.id),
            _ => false,
        }
    }

    fn is_staff(&self) -> bool {
        self.can().staff
    }

    /// The roles this person may give an account, creating it or changing
    /// it: the one rule the server enforces, and what `/api/me` tells the
    /// UI so a role picker offers nothing the server would refuse.
    pub fn may_assign_roles(&self) -> &'static [&'static str] {
        match self.role.as_str() {
            "platform_admin" => &["teacher", "school_admin", "organiser", "platform_admin"],
            "school_admin" => &["teacher", "school_admin"],
            _ => &[],
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/regions", get(list_regions).post(create_region))
        .route("/api/regions/{id}", patch(update_region).delete(delete_region))
        .route("/api/schools", get(list_schools).post(create_school))
        .route("/api/schools/{id}", patch(update_school).delete(delete_school))
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/users/{id}", patch(update_user).delete(delete_user))
        .route("/api/users/{id}/deactivate", post(deactivate_user))
        .route("/api/users/{id}/reactivate", post(reactivate_user))
        .route("/api/users/{id}/reset-password", post(reset_password))
        .route("/api/users/{id}/unlock", post(unlock_user))
        .route("/api/users/{id}/export", get(export_user))
        .route("/api/classes", get(list_classes).post(create_class))
        .route("/api/classes/{id}", get(get_class))
        .route("/api/classes/{id}/roster", post(import_roster))
        .route("/api/classes/{id}/students", post(add_student))
        .route("/api/classes/{id}/reset-passwords", post(reset_class_passwords))
        .route("/api/login-slips", post(login_slips))
        .route("/api/audit", get(audit_log))
}

fn forbidden(what: &str) -> AppError {
    AppError::Forbidden(format!("your role may not {what}"))
}

pub fn check_name(field: &'static str, value: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(AppError::invalid(field, "length", format!("{field} must be 1–{max} characters without control characters")).max(max as i64));
    }
    Ok(v.to_string())
}

// ---------------------------------------------------------------- queries

impl Db {
    pub async fn class(&self, id: i64) -> anyhow::Result<Option<Class>> {
        let row = sqlx::query("SELECT id, school_id, teacher_id, name FROM classes WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| Ok(Class { id: r.try_get("id")?, school_id: r.try_get("school_id")?, teacher_id: r.try_get("teacher_id")?, name: r.try_get("name")? }))
            .transpose()
    }

    async fn exists(&self, sql: &str, id: i64) -> anyhow::Result<bool> {
        Ok(sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?.is_some())
    }

    /// Writes an audit record (who did what to which record; never names or passwords).
    pub async fn audit_action(&self, actor: &User, action: &str, detail: String) -> Result<(), AppError> {
        self.audit(now(), Some(actor.id), action, &detail).await?;
        Ok(())
    }
}

/// The class a caller may see, or 404.
pub async fn visible_class(state: &AppState, caller: &User, id: i64) -> Result<Class, AppError> {
    let class = state.db.class(id).await?.ok_or(AppError::NotFound)?;
    if caller.sees_class(&class) { Ok(class) } else { Err(AppError::NotFound) }
}

/// The class a caller manages, or 404 (cannot see it) / 403 (can see, may not change).
pub async fn managed_class(state: &AppState, caller: &User, id: i64) -> Result<Class, AppError> {
    let class = visible_class(state, caller, id).await?;
    if caller.manages_class(&class) { Ok(class) } else { Err(forbidden("change this class")) }
}

/// A person the caller manages (or 404).
async fn managed_person(state: &AppState, caller: &User, id: i64) -> Result<(User, Option<Class>), AppError> {
    let person = state.db.user(id).await?.ok_or(AppError::NotFound)?;
    let class = match person.class_id {
        Some(c) => state.db.class(c).await?,
        None => None,
    };
    if caller.manages_person(&person, class.as_ref()) { Ok((person, class)) } else { Err(AppError::NotFound) }
}

// ---------------------------------------------------------------- regions and schools

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRegion {
    name: String,
    kind: String,
    parent_id: Option<i64>,
}

async fn list_regions(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller) -> Result<Json<Value>, AppError> {
    if !caller.user.is_staff() {
        return Err(forbidden("list regions"));
    }
    let rows = sqlx::query("SELECT id, name, kind, parent_id FROM regions ORDER BY id").fetch_all(&state.db.pool).await?;
    let regions = rows
        .iter()
        .map(|r| Ok(json!({"id": r.try_get::<i64, _>("id")?, "name": r.try_get::<String, _>("name")?, "kind": r.try_get::<String, _>("kind")?, "parent_id": r.try_get::<Option<i64>, _>("parent_id")?})))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(json!({ "regions": regions })))
}

async fn create_region(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    req: Result<Json<NewRegion>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    if !caller.user.can().manage_schools {
        return Err(forbidden("create regions"));
    }
    let name = check_name("name", &req.name, 64)?;
    if !["province", "city", "district"].contains(&req.kind.as_str()) {
        return Err(AppError::invalid("kind", "choice", "kind must be province, city or district"));
    }
    if let Some(p) = req.parent_id
        && !state.db.exists("SELECT id FROM regions WHERE id = $1", p).await?
    {
        return Err(AppError::invalid("parent_id", "unknown", format!("parent_id {p} is not a region")));
    }
    let id: i64 = sqlx::query("INSERT INTO regions (name, kind, parent_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(&name)
        .bind(&req.kind)
        .bind(req.parent_id)
        .bind(now())
        .fetch_one(&state.db.pool)
        .await?
        .try_get(0)?;
    state.db.audit_action(&caller.user, "region_create", format!("region_id={id}")).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "name": name, "kind": req.kind, "parent_id": req.parent_id}))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSchool {
    name: String,
    region_id: i64,
    /// `urban` or `rural` (the monitoring reports' urban–rural gap); absent: not recorded.
    locality: Option<String>,
}

/// Checks a school's locality: `urban`, `rural` or none.
fn check_locality(locality: Option<&str>) -> Result<Option<String>, AppError> {
    match locality {
        None => Ok(None),
        Some(l @ ("urban" | "rural")) => Ok(Some(l.to_string())),
        Some(_) => Err(AppError::invalid("locality", "choice", "locality must be urban, rural or null")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchoolFilter {
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Schools the caller may see, a page at a time (`total` counts them all),
/// optionally only those whose name contains `q`.
async fn list_schools(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Query(f): Query<SchoolFilter>) -> Result<Json<Value>, AppError> {
    let u = &caller.user;
    let page = Page::of(f.page, f.per_page)?;
    let mut filter = Filter::default();
    match u.role.as_str() {
        "platform_admin" | "organiser" => {}
        "school_admin" | "teacher" => filter.int("s.id = {}", u.school_id.unwrap_or(-1)),
        _ => return Err(forbidden("list schools")),
    }
    if let Some(q) = search_pattern(f.q.as_deref())? {
        filter.text("lower(s.name) LIKE {} ESCAPE '\\'", q);
    }
    let total: i64 = filter.bind(sqlx::query(&format!("SELECT COUNT(*) FROM schools s{}", filter.sql))).fetch_one(&state.db.pool).await?.try_get(0)?;
    let sql = format!(
        "SELECT s.id, s.name, s.region_id, s.locality, (SELECT COUNT(*) FROM classes c WHERE c.school_id = s.id) AS classes, \
         (SELECT COUNT(*) FROM users p WHERE p.school_id = s.id) AS people FROM schools s{} ORDER BY s.id {}",
        filter.sql,
        page.sql()
    );
    let rows = filter.bind(sqlx::query(&sql)).fetch_all(&state.db.pool).await?;
    let schools = rows
        .iter()
        .map(|r| {
            Ok(json!({"id": r.try_get::<i64, _>("id")?, "name": r.try_get::<String, _>("name")?, "region_id": r.try_get::<i64, _>("region_id")?,
                "locality": r.try_get::<Option<String>, _>("locality")?, "classes": r.try_get::<i64, _>("classes")?, "people": r.try_get::<i64, _>("people")?}))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(json!({ "schools": schools, "total": total, "page": page.page, "per_page": page.per_page })))
}

async fn create_school(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    req: Result<Json<NewSchool>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    if !caller.user.can().manage_schools {
        return Err(forbidden("create schools"));
    }
    let name = check_name("name", &req.name, 64)?;
    if !state.db.exists("SELECT id FROM regions WHERE id = $1", req.region_id).await? {
        return Err(AppError::invalid("region_id", "unknown", format!("region_id {} is not a region", req.region_id)));
    }
    let locality = check_locality(req.locality.as_deref())?;
    let id: i64 = sqlx::query("INSERT INTO schools (name, region_id, created_at, locality) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(&name)
        .bind(req.region_id)
        .bind(now())
        .bind(&locality)
        .fetch_one(&state.db.pool)
        .await?
        .try_get(0)?;
    state.db.audit_action(&caller.user, "school_create", format!("school_id={id}")).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "name": name, "region_id": req.region_id, "locality": locality}))).into_response())
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent:
/// "no parent" and "leave the parent as it is" are different edits.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionUpdate {
    name: Option<String>,
    kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    parent_id: Option<Option<i64>>,
}

/// Renames a region, changes its kind or moves it under another region (never under itself).
async fn update_region(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<RegionUpdate>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    if !caller.user.is_staff() {
        return Err(forbidden("change regions"));
    }
    let row =
        sqlx::query("SELECT name, kind, parent_id FROM regions WHERE id = $1").bind(id).fetch_optional(&state.db.pool).await?.ok_or(AppError::NotFound)?;
    if !caller.user.is_platform_admin() {
        return Err(forbidden("change regions"));
    }
    let name = match &req.name {
        Some(n) => check_name("name", n, 64)?,
        None => row.try_get("name")?,
    };
    let kind = req.kind.clone().map_or_else(|| row.try_get::<String, _>("kind"), Ok)?;
    if !["province", "city", "district"].contains(&kind.as_str()) {
        return Err(AppError::invalid("kind", "choice", "kind must be province, city or district"));
    }
    let parent_id = match req.parent_id {
        Some(p) => p,
        None => row.try_get("parent_id")?,
    };
    // Walk up from the new parent: meeting this region would make a loop.
    let mut up = parent_id;
    let mut steps = 0;
    while let Some(p) = up {
        if p == id {
            return Err(AppError::invalid("parent_id", "cycle", "parent_id: a region cannot be inside itself"));
        }
        up = sqlx::query("SELECT parent_id FROM regions WHERE id = $1")
            .bind(p)
            .fetch_optional(&state.db.pool)
            .await?
            .ok_or_else(|| AppError::invalid("parent_id", "unknown", format!("parent_id {p} is not a region")))?
            .try_get("parent_id")?;
        steps += 1;
        if steps > 64 {
            return Err(AppError::invalid("parent_id", "too_deep", "parent_id: the regions above it are nested too deeply"));
        }
    }
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE regions SET name = $1, kind = $2, parent_id = $3 WHERE id = $4")
        .bind(&name)
        .bind(&kind)
        .bind(parent_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit_in(&mut tx, &caller.user, "region_update", &format!("region_id={id}")).await?;
    tx.commit().await?;
    Ok(Json(json!({"id": id, "name": name, "kind": kind, "parent_id": parent_id})))
}

/// Names (at most this many) listed when refusing to delete something that is not empty.
const LISTED: i64 = 20;

async fn names(state: &AppState, sql: &str, id: i64) -> Result<(i64, Vec<String>), AppError> {
    let count: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM ({sql}) AS x")).bind(id).fetch_one(&state.db.pool).await?.try_get(0)?;
    let names = sqlx::query(&format!("{sql} ORDER BY 1 LIMIT {LISTED}"))
        .bind(id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((count, names))
}

/// Deletes an empty region; one that still holds regions or schools is refused with what it holds.
async fn delete_region(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    if !caller.user.is_staff() {
        return Err(forbidden("delete regions"));
    }
    if !state.db.exists("SELECT id FROM regions WHERE id = $1", id).await? {
        return Err(AppError::NotFound);
    }
    if !caller.user.is_platform_admin() {
        return Err(forbidden("delete regions"));
    }
    let (regions, region_names) = names(&state, "SELECT name FROM regions WHERE parent_id = $1", id).await?;
    let (schools, school_names) = names(&state, "SELECT name FROM schools WHERE region_id = $1", id).await?;
    if regions + schools > 0 {
        return Err(AppError::NotEmpty {
            message: format!("the region still holds {regions} region(s) and {schools} school(s): move or delete them first"),
            contents: json!({"regions": {"count": regions, "names": region_names}, "schools": {"count": schools, "names": school_names}}),
        });
    }
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM regions WHERE id = $1").bind(id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "region_delete", &format!("region_id={id}")).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchoolUpdate {
    name: Option<String>,
    region_id: Option<i64>,
    /// `urban`, `rural`, or `null` to clear it.
    #[serde(default, deserialize_with = "present")]
    locality: Option<Option<String>>,
}

/// Renames a school, moves it to another region or records its locality (platform admin).
async fn update_school(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<SchoolUpdate>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let row = visible_school(&state, &caller.user, id).await?;
    if !caller.user.is_platform_admin() {
        return Err(forbidden("change schools"));
    }
    let name = match &req.name {
        Some(n) => check_name("name", n, 64)?,
        None => row.try_get("name")?,
    };
    let region_id = match req.region_id {
        Some(r) if !state.db.exists("SELECT id FROM regions WHERE id = $1", r).await? => {
            return Err(AppError::invalid("region_id", "unknown", format!("region_id {r} is not a region")));
        }
        Some(r) => r,
        None => row.try_get("region_id")?,
    };
    let locality = match &req.locality {
        Some(l) => check_locality(l.as_deref())?,
        None => row.try_get("locality")?,
    };
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE schools SET name = $1, region_id = $2, locality = $3 WHERE id = $4")
        .bind(&name)
        .bind(region_id)
        .bind(&locality)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit_in(&mut tx, &caller.user, "school_update", &format!("school_id={id}")).await?;
    tx.commit().await?;
    Ok(Json(json!({"id": id, "name": name, "region_id": region_id, "locality": locality})))
}

/// The school's row (name, region_id) if the caller may see it, or 404.
async fn visible_school(state: &AppState, caller: &User, id: i64) -> Result<sqlx::any::AnyRow, AppError> {
    let sees = match caller.role.as_str() {
        "platform_admin" | "organiser" => true,
        "school_admin" | "teacher" => caller.school_id == Some(id),
        _ => false,
    };
    let row = sqlx::query("SELECT name, region_id, locality FROM schools WHERE id = $1").bind(id).fetch_optional(&state.db.pool).await?;
    row.filter(|_| sees).ok_or(AppError::NotFound)
}

/// Deletes an empty school; one that still has classes or people is refused with what it holds.
async fn delete_school(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    visible_school(&state, &caller.user, id).await?;
    if !caller.user.is_platform_admin() {
        return Err(forbidden("delete schools"));
    }
    let (classes, class_names) = names(&state, "SELECT name FROM classes WHERE school_id = $1", id).await?;
    let mut people = serde_json::Map::new();
    let mut total_people = 0;
    for r in sqlx::query("SELECT role, COUNT(*) AS n FROM users WHERE school_id = $1 GROUP BY role ORDER BY role").bind(id).fetch_all(&state.db.pool).await? {
        let n: i64 = r.try_get("n")?;
        total_people += n;
        people.insert(r.try_get("role")?, json!(n));
    }
    if classes + total_people > 0 {
        return Err(AppError::NotEmpty {
            message: format!("the school still has {classes} class(es) and {total_people} account(s): move or delete them first"),
            contents: json!({"classes": {"count": classes, "names": class_names}, "people": people}),
        });
    }
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM schools WHERE id = $1").bind(id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "school_delete", &format!("school_id={id}")).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- search and pages

/// A page of a list: `page` from 1, `per_page` 1–500 (default 100).
#[derive(Clone, Copy, Debug)]
struct Page {
    page: i64,
    per_page: i64,
}

impl Page {
    const MAX: i64 = 500;

    fn of(page: Option<i64>, per_page: Option<i64>) -> Result<Page, AppError> {
        let per_page = per_page.unwrap_or(100);
        if !(1..=Page::MAX).contains(&per_page) {
            return Err(AppError::invalid("per_page", "count", format!("per_page must be 1–{}", Page::MAX)).max(Page::MAX));
        }
        let page = page.unwrap_or(1);
        if !(1..=1_000_000).contains(&page) {
            return Err(AppError::invalid("page", "range", "page must be 1 or more"));
        }
        Ok(Page { page, per_page })
    }

    /// `LIMIT … OFFSET …` (numbers, checked above: nothing from the caller is pasted in).
    fn sql(&self) -> String {
        format!("LIMIT {} OFFSET {}", self.per_page, (self.page - 1) * self.per_page)
    }
}

/// The `LIKE` pattern for a search box's text: case-insensitive, `%` and
/// `_` taken literally (escaped with `\`). None for an empty search.
fn search_pattern(q: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else { return Ok(None) };
    if q.chars().count() > 64 || q.chars().any(char::is_control) {
        return Err(AppError::invalid("q", "length", "q must be at most 64 characters without control characters").max(64));
    }
    let mut pattern = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Ok(Some(pattern))
}

/// A `WHERE` clause built from optional conditions, with its values bound
/// in order as `$1`, `$2`… (each `{}` in a condition is one value).
#[derive(Default)]
struct Filter {
    sql: String,
    values: Vec<FilterValue>,
}

enum FilterValue {
    Int(i64),
    Text(String),
}

impl Filter {
    /// A condition with one `{}`, for a number.
    fn int(&mut self, condition: &str, v: i64) {
        self.values.push(FilterValue::Int(v));
        let c = condition.replacen("{}", &format!("${}", self.values.len()), 1);
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.sql.push_str(&c);
    }

    /// A condition whose every `{}` takes the same text (bound once per use).
    fn text(&mut self, condition: &str, v: String) {
        let uses = condition.matches("{}").count();
        let mut c = condition.to_string();
        for _ in 0..uses {
            self.values.push(FilterValue::Text(v.clone()));
            c = c.replacen("{}", &format!("${}", self.values.len()), 1);
        }
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.sql.push_str(&c);
    }

    fn bind<'q>(
        &'q self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for v in &self.values {
            q = match v {
                FilterValue::Int(i) => q.bind(*i),
                FilterValue::Text(t) => q.bind(t.as_str()),
            };
        }
        q
    }
}

// ---------------------------------------------------------------- users

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFilter {
    school_id: Option<i64>,
    role: Option<String>,
    /// Part of a username or display name.
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Accounts, a page at a time (`total` counts every match): all of them
/// for the platform admin, their school's for a school admin; filtered by
/// school, role and a search in usernames and names.
async fn list_users(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Query(filter): Query<UserFilter>) -> Result<Json<Value>, AppError> {
    let u = &caller.user;
    let school = match u.role.as_str() {
        "platform_admin" => filter.school_id,
        "school_admin" => match (filter.school_id, u.school_id) {
            (Some(asked), Some(own)) if asked != own => return Err(AppError::NotFound),
            (_, own) => Some(own.unwrap_or(-1)),
        },
        _ => return Err(forbidden("list accounts")),
    };
    if let Some(r) = &filter.role
        && !ROLES.contains(&r.as_str())
    {
        return Err(AppError::invalid("role", "choice", format!("role must be one of {}", ROLES.join(", "))));
    }
    let page = Page::of(filter.page, filter.per_page)?;
    let mut wh = Filter::default();
    if let Some(s) = school {
        wh.int("u.school_id = {}", s);
    }
    if let Some(r) = &filter.role {
        wh.text("u.role = {}", r.clone());
    }
    if let Some(q) = search_pattern(filter.q.as_deref())? {
        wh.text("(lower(u.username) LIKE {} ESCAPE '\\' OR lower(u.display_name) LIKE {} ESCAPE '\\')", q);
    }
    let total: i64 = wh.bind(sqlx::query(&format!("SELECT COUNT(*) FROM users u{}", wh.sql))).fetch_one(&state.db.pool).await?.try_get(0)?;
    let sql = format!("SELECT {USER_COLUMNS}, u.deactivated_at, u.last_login_at FROM users u{} ORDER BY u.id {}", wh.sql, page.sql());
    let rows = wh.bind(sqlx::query(&sql)).fetch_all(&state.db.pool).await?;
    let users = rows
        .iter()
        .map(|r| -> anyhow::Result<Value> {
            let mut v = user_json(&Db::user_of(r)?);
            v["deactivated"] = json!(r.try_get::<Option<i64>, _>("deactivated_at")?.is_some());
            v["last_login_at"] = json!(r.try_get::<Option<i64>, _>("last_login_at")?);
            Ok(v)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Json(json!({ "users": users, "total": total, "page": page.page, "per_page": page.per_page })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    display_name: String,
    role: String,
    school_id: Option<i64>,
    /// An organiser's region: the events they may run (platform admin only).
    region_id: Option<i64>,
    password: Option<String>,
}

fn check_username(name: &str) -> Result<(), AppError> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(AppError::invalid("username", "username_format", "username must be 1–64 letters, digits, '-', '_' or '.'").max(64));
    }
    // `s<school>-<number>` is how roster students are named; staff names must
    // not collide with them (nor reveal which student numbers exist).
    let student_like =
        name.strip_prefix('s').and_then(|r| r.split_once('-')).is_some_and(|(school, _)| !school.is_empty() && school.bytes().all(|b| b.is_ascii_digit()));
    if student_like {
        return Err(AppError::invalid("username", "reserved", "username: names like s<number>-… are reserved for students"));
    }
    Ok(())
}

/// Whether a database error is a unique-constraint violation (a race between two creators).
fn is_unique_violation(e: &anyhow::Error) -> bool {
    e.downcast_ref::<sqlx::Error>().and_then(|e| e.as_database_error()).is_some_and(|d| d.is_unique_violation())
}

async fn create_user(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    req: Result<Json<NewUser>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let u = &caller.user;
    if !ROLES.contains(&req.role.as_str()) {
        return Err(AppError::invalid("role", "choice", format!("role must be one of {}", ROLES.join(", "))));
    }
    if req.role == "student" {
        return Err(AppError::invalid("role", "student_by_roster", "role: students are created by importing a class roster (POST /api/classes/{id}/roster)"));
    }
    if !u.may_assign_roles().contains(&req.role.as_str()) {
        return Err(forbidden("create this kind of account"));
    }
    let school_id = match u.role.as_str() {
        "platform_admin" => req.school_id,
        _ => {
            if req.school_id.is_some_and(|s| Some(s) != u.school_id) {
                return Err(forbidden("create accounts in another school"));
            }
            u.school_id
        }
    };
    if matches!(req.role.as_str(), "teacher" | "school_admin") && school_id.is_none() {
        return Err(AppError::invalid("school_id", "required", "school_id is required for teachers and school admins"));
    }
    if let Some(s) = school_id
        && !state.db.exists("SELECT id FROM schools WHERE id = $1", s).await?
    {
        return Err(AppError::invalid("school_id", "unknown", format!("school_id {s} is not a school")));
    }
    if let Some(r) = req.region_id {
        if req.role != "organiser" || !u.is_platform_admin() {
            return Err(AppError::invalid("region_id", "organisers_only", "region_id is given to organisers, by the platform admin"));
        }
        if !state.db.exists("SELECT id FROM regions WHERE id = $1", r).await? {
            return Err(AppError::invalid("region_id", "unknown", format!("region_id {r} is not a region")));
        }
    }
    check_username(&req.username)?;
    let display_name = check_name("display_name", &req.display_name, 64)?;
    let (password, generated) = match req.password {
        Some(p) => {
            auth::check_new_password(&p, &req.username).map_err(AppError::WeakPassword)?;
            (p, false)
        }
        None => (auth::generated_password(), true),
    };
    if state.db.user_by_name(&req.username).await?.is_some() {
        return Err(AppError::conflict("username_taken", format!("username {} is taken", req.username)));
    }
    let hash = state.passwords.hash(&password).await??;
    let id = match state.db.create_user(&req.username, &display_name, &hash, &req.role, generated, now()).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(AppError::conflict("username_taken", format!("username {} is taken", req.username))),
        Err(e) => return Err(e.into()),
    };
    sqlx::query("UPDATE users SET school_id = $1, region_id = $2 WHERE id = $3").bind(school_id).bind(req.region_id).bind(id).execute(&state.db.pool).await?;
    state.db.audit_action(u, "user_create", format!("user_id={id} role={}", req.role)).await?;
    let user = state.db.user(id).await?.ok_or(AppError::NotFound)?;
    let mut out = json!({ "user": user_json(&user) });
    if generated {
        out["password"] = json!(password);
    }
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserUpdate {
    display_name: Option<String>,
    role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    school_id: Option<Option<i64>>,
    /// `f`, `m`, or `null` to erase it: recorded only where the school monitors gender gaps.
    #[serde(default, deserialize_with = "present")]
    gender: Option<Option<String>>,
}

/// Checks a gender as stored: `f`, `m` or none.
pub fn check_gender(gender: Option<&str>) -> Result<Option<String>, AppError> {
    match gender {
        None => Ok(None),
        Some(g @ ("f" | "m")) => Ok(Some(g.to_string())),
        Some(_) => Err(AppError::invalid("gender", "choice", "gender must be f, m or null")),
    }
}

/// Edits a person the caller manages: their name (a student's too, to fix a
/// typo from the roster), and — for staff — their role (only to a role the
/// caller may assign) and school (platform admin). Audited with the fields
/// changed, never their values.
async fn update_user(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<UserUpdate>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let req = body(req)?;
    let u = &caller.user;
    let (person, _) = managed_person(&state, u, id).await?;
    let mut changed = Vec::new();
    let display_name = match &req.display_name {
        Some(n) => {
            let n = check_name("display_name", n, if person.role == "student" { roster::MAX_NAME } else { 64 })?;
            if n != person.display_name {
                changed.push("display_name");
            }
            n
        }
        None => person.display_name.clone(),
    };
    let role = match &req.role {
        Some(r) if *r != person.role => {
            if !ROLES.contains(&r.as_str()) {
                return Err(AppError::invalid("role", "choice", format!("role must be one of {}", ROLES.join(", "))));
            }
            if person.role == "student" || r == "student" {
                return Err(AppError::invalid("role", "student_by_roster", "role: students come from class rosters and stay students"));
            }
            if !u.may_assign_roles().contains(&r.as_str()) {
                return Err(forbidden("give this role"));
            }
            changed.push("role");
            r.clone()
        }
        _ => person.role.clone(),
    };
    let school_id = match req.school_id {
        Some(s) if s != person.school_id => {
            if !u.is_platform_admin() {
                return Err(forbidden("move people to another school"));
            }
            if person.role == "student" {
                return Err(AppError::invalid("school_id", "student_by_roster", "school_id: a student belongs to their class's school"));
            }
            if let Some(s) = s
                && !state.db.exists("SELECT id FROM schools WHERE id = $1", s).await?
            {
                return Err(AppError::invalid("school_id", "unknown", format!("school_id {s} is not a school")));
            }
            changed.push("school_id");
            s
        }
        _ => person.school_id,
    };
    if matches!(role.as_str(), "teacher" | "school_admin") && school_id.is_none() {
        return Err(AppError::invalid("school_id", "required", "school_id is required for teachers and school admins"));
    }
    let keeps_teaching = matches!(role.as_str(), "teacher" | "school_admin") && school_id == person.school_id;
    if !keeps_teaching && state.db.exists("SELECT id FROM classes WHERE teacher_id = $1", person.id).await? {
        return Err(AppError::conflict("still_teaching", "this person still teaches classes: give the classes to another teacher first"));
    }
    let stored_gender: Option<String> = sqlx::query("SELECT gender FROM users WHERE id = $1").bind(person.id).fetch_one(&state.db.pool).await?.try_get(0)?;
    let gender = match &req.gender {
        Some(g) => {
            let g = check_gender(g.as_deref())?;
            if g != stored_gender {
                changed.push("gender");
            }
            g
        }
        None => stored_gender,
    };
    if !changed.is_empty() {
        let mut tx = state.db.pool.begin().await?;
        sqlx::query("UPDATE users SET display_name = $1, role = $2, school_id = $3, gender = $4 WHERE id = $5")
            .bind(&display_name)
            .bind(&role)
            .bind(school_id)
            .bind(&gender)
            .bind(person.id)
            .execute(&mut *tx)
            .await?;
        audit_in(&mut tx, u, "user_update", &format!("user_id={} fields={}", person.id, changed.join(","))).await?;
        tx.commit().await?;
    }
    let user = state.db.user(person.id).await?.ok_or(AppError::NotFound)?;
    let mut user = user_json(&user);
    user["gender"] = json!(gender);
    Ok(Json(json!({ "user": user })))
}

/// Deactivates an account: it can no longer sign in, its sessions end now,
/// and everything it holds stays (reactivate to undo). Audited.
async fn deactivate_user(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    let (person, _) = managed_person(&state, &caller.user, id).await?;
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE users SET deactivated_at = $1 WHERE id = $2 AND deactivated_at IS NULL").bind(now()).bind(person.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(person.id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "user_deactivate", &format!("user_id={}", person.id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a deactivated account sign in again, with the password it had. Audited.
async fn reactivate_user(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    let (person, _) = managed_person(&state, &caller.user, id).await?;
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE users SET deactivated_at = NULL WHERE id = $1").bind(person.id).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "user_reactivate", &format!("user_id={}", person.id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset_password(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let (person, _) = managed_person(&state, &caller.user, id).await?;
    let password = auth::generated_password();
    let p = password.clone();
    let hash = state.passwords.run(move || auth::hash_generated_password(&p)).await??;
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 1 WHERE id = $2").bind(&hash).bind(person.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(person.id).execute(&mut *tx).await?;
    // A reset also lifts any login back-off on the account.
    sqlx::query("DELETE FROM login_failures WHERE username = $1").bind(person.username.to_lowercase()).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "password_reset", &format!("user_id={}", person.id)).await?;
    tx.commit().await?;
    Ok(Json(json!({ "password": password })))
}

/// New one-time passwords for every student of a class at once (the lesson
/// where half the class forgot theirs, or slips to reprint): each must be
/// changed at the next sign-in; sessions end and login back-off is lifted.
/// One transaction with its audit row; the answer lists the accounts like a
/// roster import, ready for 账号卡.
async fn reset_class_passwords(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let class = managed_class(&state, &caller.user, id).await?;
    let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.class_id = $1 AND u.role = 'student' ORDER BY u.student_number, u.id"))
        .bind(class.id)
        .fetch_all(&state.db.pool)
        .await?;
    let students = rows.iter().map(Db::user_of).collect::<anyhow::Result<Vec<_>>>()?;
    let count = students.len();
    let hashed = state
        .passwords
        .run(move || -> anyhow::Result<Vec<(User, String, String)>> {
            students
                .into_iter()
                .map(|s| {
                    let password = auth::generated_password();
                    auth::hash_generated_password(&password).map(|hash| (s, password, hash))
                })
                .collect()
        })
        .await??;
    let mut tx = state.db.pool.begin().await?;
    let mut accounts = Vec::new();
    for (s, password, hash) in hashed {
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 1 WHERE id = $2").bind(&hash).bind(s.id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(s.id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM login_failures WHERE username = $1").bind(s.username.to_lowercase()).execute(&mut *tx).await?;
        accounts.push(json!({"id": s.id, "username": s.username, "display_name": s.display_name, "student_number": s.student_number, "password": password}));
    }
    audit_in(&mut tx, &caller.user, "class_password_reset", &format!("class_id={} students={count}", class.id)).await?;
    tx.commit().await?;
    Ok(Json(json!({"class_id": class.id, "reset": accounts})))
}

/// Lifts login back-off on an account (whoever may reset its password may
/// unlock it): the forgetful child gets back in without a new password.
async fn unlock_user(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    let (person, _) = managed_person(&state, &caller.user, id).await?;
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM login_failures WHERE username = $1").bind(person.username.to_lowercase()).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "login_unlock", &format!("user_id={}", person.id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Writes an audit row inside the caller's transaction, so the action and
/// its record commit (or vanish) together.
pub async fn audit_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, actor: &User, action: &str, detail: &str) -> Result<(), AppError> {
    sqlx::query("INSERT INTO audit_log (at, actor_id, action, detail) VALUES ($1, $2, $3, $4)")
        .bind(now())
        .bind(actor.id)
        .bind(action)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Everything Qiming holds about one person, for them or for whoever answers for them.
async fn export_user(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Response, AppError> {
    let person = if caller.user.id == id { caller.user.clone() } else { managed_person(&state, &caller.user, id).await?.0 };
    let db = &state.db;
    let class = match person.class_id {
        Some(c) => db.class(c).await?.map(|c| json!({"id": c.id, "name": c.name, "school_id": c.school_id})),
        None => None,
    };
    let subs = sqlx::query(
        // An assignment's submissions and a contest round's (its lab on the row itself).
        "SELECT s.id, s.assignment_id, s.round_id, s.team_id, COALESCE(a.lab_id, s.lab_id) AS lab_id, s.language, s.program, s.submitted_at, s.status, s.score, s.max_score, s.report, s.graded_at \
         FROM submissions s LEFT JOIN assignments a ON a.id = s.assignment_id WHERE s.student_id = $1 AND s.final_of IS NULL ORDER BY s.id",
    )
    .bind(person.id)
    .fetch_all(&db.pool)
    .await?;
    let submissions = subs
        .iter()
        .map(|r| -> anyhow::Result<Value> {
            let report: Option<String> = r.try_get("report")?;
            Ok(json!({
                "id": r.try_get::<i64, _>("id")?, "assignment_id": r.try_get::<Option<i64>, _>("assignment_id")?,
                "round_id": r.try_get::<Option<i64>, _>("round_id")?, "team_id": r.try_get::<Option<i64>, _>("team_id")?, "lab_id": r.try_get::<String, _>("lab_id")?,
                "language": r.try_get::<String, _>("language")?, "program": r.try_get::<String, _>("program")?,
                "submitted_at": r.try_get::<i64, _>("submitted_at")?, "status": r.try_get::<String, _>("status")?,
                "score": r.try_get::<Option<f64>, _>("score")?, "max_score": r.try_get::<Option<f64>, _>("max_score")?,
                "graded_at": r.try_get::<Option<i64>, _>("graded_at")?,
                "report": report.and_then(|t| serde_json::from_str::<Value>(&t).ok()),
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let overrides = sqlx::query("SELECT assignment_id, score, comment, at FROM grade_overrides WHERE student_id = $1 ORDER BY assignment_id")
        .bind(person.id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| -> anyhow::Result<Value> {
            Ok(json!({"assignment_id": r.try_get::<i64, _>("assignment_id")?, "score": r.try_get::<f64, _>("score")?, "comment": r.try_get::<String, _>("comment")?, "at": r.try_get::<i64, _>("at")?}))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let sessions = sqlx::query("SELECT created_at, expires_at FROM sessions WHERE user_id = $1 ORDER BY created_at")
        .bind(person.id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| -> anyhow::Result<Value> { Ok(json!({"created_at": r.try_get::<i64, _>(0)?, "expires_at": r.try_get::<i64, _>(1)?})) })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let actions = sqlx::query("SELECT at, action, detail FROM audit_log WHERE actor_id = $1 ORDER BY id")
        .bind(person.id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| -> anyhow::Result<Value> {
            Ok(json!({"at": r.try_get::<i64, _>(0)?, "action": r.try_get::<String, _>(1)?, "detail": r.try_get::<String, _>(2)?}))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let failed_logins: i64 =
        sqlx::query("SELECT COUNT(*) FROM login_failures WHERE username = $1").bind(person.username.to_lowercase()).fetch_one(&db.pool).await?.try_get(0)?;
    let gender: Option<String> = sqlx::query("SELECT gender FROM users WHERE id = $1").bind(person.id).fetch_one(&db.pool).await?.try_get(0)?;
    let mut user = user_json(&person);
    user["gender"] = json!(gender);
    db.audit_action(&caller.user, "user_export", format!("user_id={}", person.id)).await?;
    let doc = json!({
        "format": "qiming-personal-data/1", "exported_at": now(), "user": user, "class": class,
        "submissions": submissions, "grade_overrides": overrides, "sessions": sessions, "actions": actions,
        "recent_failed_logins": failed_logins,
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"qiming-user-{}.json\"", person.id).parse().map_err(|e: axum::http::header::InvalidHeaderValue| anyhow::anyhow!(e))?,
    );
    Ok((headers, Json(doc)).into_response())
}

/// Deletes an account and all its work: sessions, submissions, replays and
/// overrides go with it (foreign keys cascade). Teachers delete their
/// students; admins also the staff they manage — but not someone who still
/// teaches classes. The audit log keeps only the id.
async fn delete_user(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    let (person, _) = managed_person(&state, &caller.user, id).await?;
    if person.role != "student" && !matches!(caller.user.role.as_str(), "platform_admin" | "school_admin") {
        return Err(forbidden("delete staff accounts"));
    }
    let owns_classes = state.db.exists("SELECT id FROM classes WHERE teacher_id = $1", person.id).await?;
    if owns_classes {
        return Err(AppError::conflict("still_teaching", "this person still teaches classes: give the classes to another teacher first"));
    }
    let mut tx = state.db.pool.begin().await?;
    // Explicit deletes as well as cascades: SQLite enforces cascades only with foreign_keys on.
    for sql in [
        "DELETE FROM replays WHERE submission_id IN (SELECT id FROM submissions WHERE student_id = $1)",
        "DELETE FROM submissions WHERE student_id = $1",
        "DELETE FROM grade_overrides WHERE student_id = $1",
        "DELETE FROM team_members WHERE student_id = $1",
        "DELETE FROM event_members WHERE user_id = $1",
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM trusted_devices WHERE user_id = $1",
        "DELETE FROM users WHERE id = $1",
    ] {
        sqlx::query(sql).bind(person.id).execute(&mut *tx).await?;
    }
    // The username carries the student number: failed-login records go too.
    sqlx::query("DELETE FROM login_failures WHERE username = $1").bind(person.username.to_lowercase()).execute(&mut *tx).await?;
    audit_in(&mut tx, &caller.user, "user_delete", &format!("user_id={} role={}", person.id, person.role)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- classes

fn class_json(r: &sqlx::any::AnyRow) -> anyhow::Result<Value> {
    Ok(json!({
        "id": r.try_get::<i64, _>("id")?, "name": r.try_get::<String, _>("name")?, "school_id": r.try_get::<i64, _>("school_id")?,
        "teacher_id": r.try_get::<i64, _>("teacher_id")?, "teacher_name": r.try_get::<String, _>("teacher_name")?,
        "students": r.try_get::<i64, _>("students")?,
    }))
}

const CLASS_SELECT: &str = "SELECT c.id, c.name, c.school_id, c.teacher_id, t.display_name AS teacher_name, \
     (SELECT COUNT(*) FROM users s WHERE s.class_id = c.id) AS students FROM classes c JOIN users t ON t.id = c.teacher_id";

async fn list_classes(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller) -> Result<Json<Value>, AppError> {
    let u = &caller.user;
    let (sql, bind) = match u.role.as_str() {
        "platform_admin" => (format!("{CLASS_SELECT} ORDER BY c.id"), None),
        "school_admin" => (format!("{CLASS_SELECT} WHERE c.school_id = $1 ORDER BY c.id"), Some(u.school_id.unwrap_or(-1))),
        "teacher" => (format!("{CLASS_SELECT} WHERE c.teacher_id = $1 ORDER BY c.id"), Some(u.id)),
        "student" => (format!("{CLASS_SELECT} WHERE c.id = $1"), Some(u.class_id.unwrap_or(-1))),
        _ => return Err(forbidden("list classes")),
    };
    let mut q = sqlx::query(&sql);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let classes = rows.iter().map(class_json).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Json(json!({ "classes": classes })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClass {
    name: String,
    teacher_id: Option<i64>,
}

async fn create_class(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    req: Result<Json<NewClass>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let u = &caller.user;
    let name = check_name("name", &req.name, 64)?;
    let teacher = match (u.role.as_str(), req.teacher_id) {
        ("teacher", None) => u.clone(),
        ("teacher", Some(t)) if t == u.id => u.clone(),
        ("teacher", Some(_)) => return Err(forbidden("create classes for another teacher")),
        ("school_admin" | "platform_admin", Some(t)) => {
            // One answer for "no such account", "not a teacher" and "another school's": ids cannot be probed.
            let wrong = || AppError::invalid("teacher_id", "unknown", "teacher_id must name a teacher of your school");
            let t = state.db.user(t).await?.ok_or_else(wrong)?;
            if (t.role != "teacher" && t.role != "school_admin") || (u.role == "school_admin" && t.school_id != u.school_id) {
                return Err(wrong());
            }
            t
        }
        ("school_admin" | "platform_admin", None) => return Err(AppError::invalid("teacher_id", "required", "teacher_id is required")),
        _ => return Err(forbidden("create classes")),
    };
    let school_id = teacher.school_id.ok_or_else(|| AppError::invalid("teacher_id", "no_school", "the teacher belongs to no school"))?;
    let id: i64 = sqlx::query("INSERT INTO classes (school_id, teacher_id, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(school_id)
        .bind(teacher.id)
        .bind(&name)
        .bind(now())
        .fetch_one(&state.db.pool)
        .await?
        .try_get(0)?;
    state.db.audit_action(u, "class_create", format!("class_id={id}")).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "name": name, "school_id": school_id, "teacher_id": teacher.id, "teacher_name": teacher.display_name, "students": 0})),
    )
        .into_response())
}

async fn get_class(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let class = visible_class(&state, &caller.user, id).await?;
    let row = sqlx::query(&format!("{CLASS_SELECT} WHERE c.id = $1")).bind(class.id).fetch_one(&state.db.pool).await?;
    let mut out = class_json(&row)?;
    if caller.user.manages_class(&class) {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.class_id = $1 ORDER BY u.student_number, u.id"))
            .bind(class.id)
            .fetch_all(&state.db.pool)
            .await?;
        let roster = rows
            .iter()
            .map(|r| Db::user_of(r).map(|s| json!({"id": s.id, "username": s.username, "display_name": s.display_name, "student_number": s.student_number})))
            .collect::<anyhow::Result<Vec<_>>>()?;
        out["roster"] = json!(roster);
    }
    Ok(Json(out))
}

/// The username a roster student gets: unique, typeable, and derived from
/// what the school already uses.
pub fn student_username(school_id: i64, student_number: &str) -> String {
    format!("s{school_id}-{student_number}")
}

/// A student already on record for a roster row.
struct Existing {
    id: i64,
    username: String,
    class_id: Option<i64>,
    display_name: String,
    signed_in: bool,
}

/// Imports a class roster, all or nothing (see [`enroll`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterQuery {
    /// Read the file's `gender` (性别) column too (for the monitoring reports' gender gaps);
    /// without it the column is ignored like every other extra column.
    #[serde(default)]
    record_gender: bool,
}

async fn import_roster(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    Query(q): Query<RosterQuery>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Response, AppError> {
    let class = managed_class(&state, &caller.user, id).await?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    // Parsing (XLSX unzipping especially) is CPU work: off the async threads.
    let roster::Parsed { rows, mut errors, ignored_columns } =
        tokio::task::spawn_blocking(move || roster::parse_with(&bytes, content_type.as_deref(), q.record_gender))
            .await
            .map_err(|e| anyhow::anyhow!("roster parsing task: {e}"))?;
    if rows.len() > roster::MAX_ROWS {
        // Refused before any database query.
        errors.sort_by_key(|e| e.row);
        return Err(AppError::InvalidRoster(errors));
    }
    let (created, reissued) = enroll(&state, &caller.user, &class, rows, errors, None, "roster_import").await?;
    Ok((StatusCode::CREATED, Json(json!({ "class_id": class.id, "created": created, "reissued": reissued, "ignored_columns": ignored_columns })))
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewStudent {
    student_number: String,
    display_name: String,
    /// Instead of `s<school>-<number>` (letters, digits, '-', '_', '.').
    username: Option<String>,
}

/// Adds one student by hand (the child who joined mid-term): the import's
/// rules and answer, for a single row typed on the roster tab.
async fn add_student(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    req: Result<Json<NewStudent>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    let class = managed_class(&state, &caller.user, id).await?;
    let (row, mut errors) = match roster::one_student(&req.student_number, &req.display_name) {
        Ok(row) => (Some(row), Vec::new()),
        Err(errors) => (None, errors),
    };
    let username = req.username.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_string);
    if let Some(name) = &username {
        let standard = student_username(class.school_id, req.student_number.trim());
        // The school's own form for this number is fine; other `s<n>-…` names are reserved.
        if !name.eq_ignore_ascii_case(&standard)
            && let Err(AppError::Invalid { message: m, .. }) = check_username(name)
        {
            errors.push(RowError::new(1, "username", "username_invalid", m));
        }
    }
    let Some(row) = row.filter(|_| errors.is_empty()) else {
        return Err(AppError::InvalidRoster(errors));
    };
    let (created, reissued) = enroll(&state, &caller.user, &class, vec![row], Vec::new(), username, "student_add").await?;
    Ok((StatusCode::CREATED, Json(json!({ "class_id": class.id, "created": created, "reissued": reissued }))).into_response())
}

/// Creates the accounts of checked roster rows, all or nothing, and returns
/// them (created, reissued) with their one-time passwords. A row whose
/// student already has an account is an error — except when the same class
/// already holds that student under the same name and they have never
/// signed in: then the file is being imported again (say, the first answer
/// with the passwords was lost), and the student gets a fresh one-time
/// password (`reissued`). `errors` are the parser's, reported with ours.
async fn enroll(
    state: &AppState,
    actor: &User,
    class: &Class,
    rows: Vec<RosterRow>,
    mut errors: Vec<RowError>,
    username: Option<String>,
    action: &str,
) -> Result<(Vec<Value>, Vec<Value>), AppError> {
    // One query for the whole school, not one per row.
    let mut existing: BTreeMap<String, Existing> = BTreeMap::new();
    for r in
        sqlx::query("SELECT id, username, student_number, class_id, display_name, last_login_at FROM users WHERE school_id = $1 AND student_number IS NOT NULL")
            .bind(class.school_id)
            .fetch_all(&state.db.pool)
            .await?
    {
        let number: String = r.try_get("student_number")?;
        let e = Existing {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            class_id: r.try_get("class_id")?,
            display_name: r.try_get("display_name")?,
            signed_in: r.try_get::<Option<i64>, _>("last_login_at")?.is_some(),
        };
        existing.insert(number, e);
    }
    // Accounts that already hold a username of this school's form (student
    // numbers can be gone from `users` while the name is not, e.g. after a
    // number was corrected): one query, not one per row.
    let prefix = student_username(class.school_id, "");
    let mut taken: std::collections::BTreeSet<String> = sqlx::query("SELECT lower(username) FROM users WHERE lower(username) LIKE $1")
        .bind(format!("{}%", prefix.to_lowercase()))
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    if let Some(u) = &username
        && state.db.user_by_name(u).await?.is_some()
    {
        taken.insert(u.to_lowercase());
    }
    let name_of = |r: &RosterRow| username.clone().unwrap_or_else(|| student_username(class.school_id, &r.student_number));
    let taken_error = |r: &RosterRow| {
        RowError::new(r.row, "student_number", "number_taken", format!("{} already has an account in this school", r.student_number))
            .with("value", &r.student_number)
    };
    let mut fresh = Vec::new();
    let mut again = Vec::new();
    for r in rows {
        match existing.get(&r.student_number) {
            None => {
                let name = name_of(&r);
                if !taken.contains(&name.to_lowercase()) {
                    fresh.push(r);
                } else if username.is_some() {
                    errors.push(RowError::new(r.row, "username", "username_taken", format!("username {name} is taken")).with("value", &name));
                } else {
                    errors.push(taken_error(&r));
                }
            }
            Some(e) if e.class_id == Some(class.id) && e.display_name == r.display_name && !e.signed_in => again.push((r, e.id, e.username.clone())),
            Some(e) if e.class_id == Some(class.id) && e.display_name == r.display_name => errors.push(
                RowError::new(
                    r.row,
                    "student_number",
                    "signed_in",
                    format!("{} is already in this class and has signed in: reset their password instead of importing again", r.student_number),
                )
                .with("value", &r.student_number),
            ),
            Some(_) => errors.push(taken_error(&r)),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(AppError::InvalidRoster(errors));
    }
    // Hash on the password pool, then write everything — with its audit row — in one transaction.
    let (fresh, again) = state
        .passwords
        .run(move || -> anyhow::Result<_> {
            let with_password = |r: RosterRow| {
                let password = auth::generated_password();
                auth::hash_generated_password(&password).map(|hash| (r, password, hash))
            };
            let fresh = fresh.into_iter().map(with_password).collect::<anyhow::Result<Vec<_>>>()?;
            let again = again.into_iter().map(|(r, id, name)| with_password(r).map(|x| (x, id, name))).collect::<anyhow::Result<Vec<_>>>()?;
            Ok((fresh, again))
        })
        .await??;
    let t = now();
    let mut tx = state.db.pool.begin().await?;
    let mut created = Vec::new();
    for (r, password, hash) in fresh {
        let username = name_of(&r);
        let new_id: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, must_change_password, created_at, school_id, class_id, student_number, gender) \
             VALUES ($1, $2, $3, 'student', 1, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&username)
        .bind(&r.display_name)
        .bind(&hash)
        .bind(t)
        .bind(class.school_id)
        .bind(class.id)
        .bind(&r.student_number)
        .bind(&r.gender)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
            // Another import created the same student (or took the name) meanwhile.
            true => AppError::InvalidRoster(vec![taken_error(&r)]),
            false => AppError::Internal(e.into()),
        })?
        .try_get(0)?;
        created.push(json!({"id": new_id, "username": username, "display_name": r.display_name, "student_number": r.student_number, "password": password}));
    }
    let mut reissued = Vec::new();
    for ((r, password, hash), user_id, username) in again {
        // Only if they still have not signed in (checked again inside the transaction).
        let n = sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 1 WHERE id = $2 AND last_login_at IS NULL")
            .bind(&hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(AppError::InvalidRoster(vec![
                RowError::new(r.row, "student_number", "signed_in", format!("{} signed in meanwhile: reset their password instead", r.student_number))
                    .with("value", &r.student_number),
            ]));
        }
        reissued.push(json!({"id": user_id, "username": username, "display_name": r.display_name, "student_number": r.student_number, "password": password}));
    }
    let ids: Vec<String> = created.iter().chain(&reissued).filter_map(|v| v["id"].as_i64()).map(|i| i.to_string()).collect();
    let detail = match action {
        "student_add" => format!("class_id={} user_id={}", class.id, ids.join(",")),
        _ => format!("class_id={} students={} reissued={}", class.id, created.len(), reissued.len()),
    };
    audit_in(&mut tx, actor, action, &detail).await?;
    tx.commit().await?;
    Ok((created, reissued))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlipRequest {
    pub title: Option<String>,
    pub students: Vec<super::slips::Slip>,
}

/// The address students type to sign in, for 账号卡: the configured
/// `public_url`, else the address the teacher's browser used (its `Host`,
/// with https when the request came over it). None when neither is known.
fn sign_in_address(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if let Some(url) = &state.public_url {
        return Some(format!("{}/login", url.trim_end_matches('/')));
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).filter(|h| !h.is_empty() && h.len() <= 255 && !h.contains(['/', ' ', '@']))?;
    let https = state.secure_cookies || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"));
    Some(format!("{}://{host}/login", if https { "https" } else { "http" }))
}

/// The header naming the characters a card could not draw (`U+4DAE,U+20000`).
pub const MISSING_GLYPHS_HEADER: &str = "x-qiming-missing-glyphs";

/// 账号卡 (account cards) as a PDF, for accounts the caller was just shown;
/// nothing is stored. Characters no font has are printed as □ and named in
/// the `x-qiming-missing-glyphs` header, so the UI can warn the teacher.
async fn login_slips(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    headers: HeaderMap,
    req: Result<Json<SlipRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let req = body(req)?;
    if !caller.user.is_staff() {
        return Err(forbidden("print account cards"));
    }
    if req.students.is_empty() || req.students.len() > roster::MAX_ROWS {
        return Err(AppError::invalid("students", "count", format!("students must list 1–{} students", roster::MAX_ROWS)).max(roster::MAX_ROWS as i64));
    }
    let too_long = |v: &str, max: usize| v.chars().count() > max || v.chars().any(char::is_control);
    for (i, s) in req.students.iter().enumerate() {
        if too_long(&s.display_name, 64)
            || too_long(&s.username, 64)
            || too_long(&s.password, 64)
            || s.student_number.as_deref().is_some_and(|n| too_long(n, 32))
        {
            return Err(AppError::invalid(
                "students",
                "length",
                format!("students[{i}]: names, usernames and passwords are at most 64 characters, student numbers 32"),
            )
            .max(64));
        }
    }
    let title = req.title.unwrap_or_default();
    if too_long(&title, 100) {
        return Err(AppError::invalid("title", "length", "title must be at most 100 characters").max(100));
    }
    let font = state.slip_font.clone();
    let address = sign_in_address(&state, &headers);
    let rendered = tokio::task::spawn_blocking(move || super::slips::render(&title, &req.students, font.as_deref(), address.as_deref()))
        .await
        .map_err(|e| anyhow::anyhow!("account card task: {e}"))?
        .map_err(|e| AppError::conflict("slips_unavailable", e.to_string()))?;
    let missing: Vec<String> = rendered.missing.iter().map(|c| format!("U+{:04X}", *c as u32)).collect();
    let mut response =
        ([(header::CONTENT_TYPE, "application/pdf"), (header::CONTENT_DISPOSITION, "inline; filename=\"account-cards.pdf\"")], rendered.pdf).into_response();
    if !missing.is_empty()
        && let Ok(v) = missing.join(",").parse()
    {
        response.headers_mut().insert(MISSING_GLYPHS_HEADER, v);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// Newest first; at most this many (1–500, default 100).
    limit: Option<i64>,
    /// Only entries older than this id (for paging).
    before: Option<i64>,
}

/// The audit log, newest first: all of it for the platform admin, the
/// actions of a school's own people for its school admin.
async fn audit_log(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Query(q): Query<AuditQuery>) -> Result<Json<Value>, AppError> {
    let u = &caller.user;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "range", "limit must be 1–500").max(500));
    }
    let before = q.before.unwrap_or(i64::MAX);
    let rows = match u.role.as_str() {
        "platform_admin" => {
            sqlx::query("SELECT a.id, a.at, a.actor_id, u.username, a.action, a.detail FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE a.id < $1 ORDER BY a.id DESC LIMIT $2")
                .bind(before)
                .bind(limit)
                .fetch_all(&state.db.pool)
                .await
        }
        "school_admin" => {
            sqlx::query("SELECT a.id, a.at, a.actor_id, u.username, a.action, a.detail FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE u.school_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3")
                .bind(u.school_id.unwrap_or(-1))
                .bind(before)
                .bind(limit)
                .fetch_all(&state.db.pool)
                .await
        }
        _ => return Err(forbidden("read the audit log")),
    }?;
    let entries = rows
        .iter()
        .map(|r| -> anyhow::Result<Value> {
            Ok(json!({
                "id": r.try_get::<i64, _>(0)?, "at": r.try_get::<i64, _>(1)?, "actor_id": r.try_get::<Option<i64>, _>(2)?,
                "actor": r.try_get::<Option<String>, _>(3)?, "action": r.try_get::<String, _>(4)?, "detail": r.try_get::<String, _>(5)?,
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Json(json!({ "entries": entries })))
}
