//! The gradebook: one row per student, one column per assignment, with the
//! assignment's score policy (best or last attempt) and teacher overrides
//! applied; exported as CSV or XLSX.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::ActiveCaller;
use super::http::{AppError, AppState, body};
use super::org::{Class, managed_class};
use super::work::visible_assignment;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/classes/{id}/gradebook", get(gradebook))
        .route("/api/classes/{id}/gradebook.csv", get(gradebook_csv))
        .route("/api/classes/{id}/gradebook.xlsx", get(gradebook_xlsx))
        .route("/api/assignments/{id}/overrides/{student}", put(set_override).delete(clear_override))
}

/// The score that counts among graded attempts (oldest first): the best, or the last.
pub fn policy_score(policy: &str, scores: &[f64]) -> Option<f64> {
    match policy {
        "last" => scores.last().copied(),
        _ => scores.iter().copied().reduce(f64::max),
    }
}

/// One cell of the gradebook.
#[derive(Clone, Debug, Default)]
struct Cell {
    attempts: i64,
    graded: Vec<f64>,
    override_: Option<(f64, String)>,
}

/// The gradebook of one class, computed.
struct Book {
    assignments: Vec<(i64, String, String, String)>, // id, lab id, title (zh-CN), policy
    students: Vec<(i64, String, Option<String>)>,    // id, display name, student number
    cells: BTreeMap<(i64, i64), Cell>,               // (student, assignment)
}

async fn load(state: &AppState, class: &Class) -> Result<Book, AppError> {
    let pool = &state.db.pool;
    let assignments = sqlx::query("SELECT id, lab_id, score_policy FROM assignments WHERE class_id = $1 ORDER BY due_at, id")
        .bind(class.id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| -> Result<_, sqlx::Error> {
            let lab: String = r.try_get("lab_id")?;
            let title = state.catalogue.lab(&lab).map_or_else(|| lab.clone(), |l| l.title.zh.clone());
            Ok((r.try_get::<i64, _>("id")?, lab, title, r.try_get::<String, _>("score_policy")?))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let students = sqlx::query("SELECT id, display_name, student_number FROM users WHERE class_id = $1 AND role = 'student' ORDER BY student_number, id")
        .bind(class.id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| -> Result<_, sqlx::Error> {
            Ok((r.try_get::<i64, _>("id")?, r.try_get::<String, _>("display_name")?, r.try_get::<Option<String>, _>("student_number")?))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut cells: BTreeMap<(i64, i64), Cell> = BTreeMap::new();
    let subs = sqlx::query(
        "SELECT s.student_id, s.assignment_id, s.status, s.score FROM submissions s JOIN assignments a ON a.id = s.assignment_id WHERE a.class_id = $1 AND s.status <> 'failed' ORDER BY s.id",
    )
    .bind(class.id)
    .fetch_all(pool)
    .await?;
    for r in &subs {
        let cell = cells.entry((r.try_get("student_id")?, r.try_get("assignment_id")?)).or_default();
        cell.attempts += 1;
        if r.try_get::<String, _>("status")? == "done" {
            cell.graded.push(r.try_get::<Option<f64>, _>("score")?.unwrap_or(0.0));
        }
    }
    let overrides = sqlx::query(
        "SELECT o.student_id, o.assignment_id, o.score, o.comment FROM grade_overrides o JOIN assignments a ON a.id = o.assignment_id WHERE a.class_id = $1",
    )
    .bind(class.id)
    .fetch_all(pool)
    .await?;
    for r in &overrides {
        let cell = cells.entry((r.try_get("student_id")?, r.try_get("assignment_id")?)).or_default();
        cell.override_ = Some((r.try_get("score")?, r.try_get("comment")?));
    }
    Ok(Book { assignments, students, cells })
}

impl Book {
    /// (score that counts, automatic score, cell) for a student and assignment.
    fn cell(&self, student: i64, assignment: usize) -> (Option<f64>, Option<f64>, Cell) {
        let (aid, _, _, policy) = &self.assignments[assignment];
        let cell = self.cells.get(&(student, *aid)).cloned().unwrap_or_default();
        let auto = policy_score(policy, &cell.graded);
        (cell.override_.as_ref().map(|o| o.0).or(auto), auto, cell)
    }
}

async fn gradebook(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let class = managed_class(&state, &caller.user, id).await?;
    let book = load(&state, &class).await?;
    let assignments: Vec<Value> = book
        .assignments
        .iter()
        .map(|(id, lab, _, policy)| {
            let title = state.catalogue.lab(lab).map(|l| json!(l.title)).unwrap_or_else(|| json!({"zh-CN": lab, "en": lab}));
            json!({"id": id, "lab_id": lab, "title": title, "score_policy": policy, "max_score": 100.0})
        })
        .collect();
    let students: Vec<Value> = book
        .students
        .iter()
        .map(|(sid, name, number)| {
            let grades: Vec<Value> = (0..book.assignments.len())
                .map(|i| {
                    let (score, auto, cell) = book.cell(*sid, i);
                    json!({
                        "assignment_id": book.assignments[i].0, "score": score, "auto_score": auto, "attempts": cell.attempts,
                        "override": cell.override_.map(|(s, c)| json!({"score": s, "comment": c})),
                    })
                })
                .collect();
            json!({"id": sid, "display_name": name, "student_number": number, "grades": grades})
        })
        .collect();
    Ok(Json(json!({"class": {"id": class.id, "name": class.name}, "assignments": assignments, "students": students})))
}

/// The export as a table: header, then per student their text cells
/// (number, name) and their score cells (one per assignment).
struct Table {
    header: Vec<String>,
    text: Vec<Vec<Option<String>>>,
    numbers: Vec<Vec<Option<f64>>>,
}

/// Header and rows of the export (shared by CSV and XLSX).
fn table(book: &Book) -> Table {
    let mut header = vec!["学号 Student number".to_string(), "姓名 Name".to_string()];
    header.extend(book.assignments.iter().map(|(_, lab, title, policy)| format!("{title} ({lab}, {policy})")));
    let mut text = Vec::new();
    let mut numbers = Vec::new();
    for (sid, name, number) in &book.students {
        text.push(vec![number.clone(), Some(name.clone())]);
        numbers.push((0..book.assignments.len()).map(|i| book.cell(*sid, i).0).collect());
    }
    Table { header, text, numbers }
}

fn filename(class: &Class, ext: &str) -> String {
    // ASCII in the plain parameter, the real name in filename* (RFC 6266).
    let encoded: String = class.name.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    format!("attachment; filename=\"gradebook-{}.{ext}\"; filename*=UTF-8''gradebook-{encoded}.{ext}", class.id)
}

/// Neutralises spreadsheet formula injection (OWASP "CSV injection"): a
/// cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
/// prefixed with `'`, so Excel and WPS show it as text instead of running it.
/// Every text cell we export goes through this; numbers we compute do not need it.
pub fn csv_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() }
}

async fn gradebook_csv(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Response, AppError> {
    let class = managed_class(&state, &caller.user, id).await?;
    let book = load(&state, &class).await?;
    let Table { header, text, numbers } = table(&book);
    // A BOM so Excel opens the UTF-8 (and the Chinese names) correctly.
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(header.iter().map(|h| csv_safe(h))).map_err(|e| AppError::Internal(e.into()))?;
        for (t, n) in text.iter().zip(&numbers) {
            let mut record: Vec<String> = t.iter().map(|c| csv_safe(c.as_deref().unwrap_or_default())).collect();
            record.extend(n.iter().map(|s| s.map(|v| format!("{v}")).unwrap_or_default()));
            w.write_record(&record).map_err(|e| AppError::Internal(e.into()))?;
        }
        w.flush().map_err(|e| AppError::Internal(e.into()))?;
    }
    state.db.audit_action(&caller.user, "gradebook_export", format!("class_id={} format=csv", class.id)).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, filename(&class, "csv"))], out).into_response())
}

async fn gradebook_xlsx(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Response, AppError> {
    let class = managed_class(&state, &caller.user, id).await?;
    let book = load(&state, &class).await?;
    let Table { header, text, numbers } = table(&book);
    let bytes = (|| -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("成绩册 Gradebook")?;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (c, h) in header.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold)?;
            sheet.set_column_width(c as u16, if c < 2 { 16 } else { 24 })?;
        }
        for (r, (t, n)) in text.iter().zip(&numbers).enumerate() {
            let row = r as u32 + 1;
            for (c, v) in t.iter().enumerate() {
                // Student numbers stay text: leading zeros matter.
                sheet.write_string(row, c as u16, v.as_deref().unwrap_or(""))?;
            }
            for (c, v) in n.iter().enumerate() {
                if let Some(v) = v {
                    sheet.write_number(row, (c + t.len()) as u16, *v)?;
                }
            }
        }
        sheet.set_freeze_panes(1, 2)?;
        wb.save_to_buffer()
    })()
    .map_err(|e| AppError::Internal(e.into()))?;
    state.db.audit_action(&caller.user, "gradebook_export", format!("class_id={} format=xlsx", class.id)).await?;
    Ok(([(header::CONTENT_TYPE, super::roster::XLSX_TYPE.to_string()), (header::CONTENT_DISPOSITION, filename(&class, "xlsx"))], bytes).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    score: f64,
    comment: String,
}

/// The assignment (managed by the caller) and a student of its class.
async fn managed_cell(state: &AppState, caller: &super::db::User, assignment: i64, student: i64) -> Result<(i64, i64), AppError> {
    let (a, class) = visible_assignment(state, caller, assignment).await?;
    if !caller.manages_class(&class) {
        return Err(AppError::Forbidden("your role may not change grades".into()));
    }
    let person = state.db.user(student).await?.ok_or(AppError::NotFound)?;
    if person.class_id != Some(class.id) {
        return Err(AppError::NotFound);
    }
    Ok((a.id, person.id))
}

async fn set_override(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((assignment, student)): Path<(i64, i64)>,
    req: Result<Json<Override>, JsonRejection>,
) -> Result<StatusCode, AppError> {
    let req = body(req)?;
    let (aid, sid) = managed_cell(&state, &caller.user, assignment, student).await?;
    if !(0.0..=100.0).contains(&req.score) || !req.score.is_finite() {
        return Err(AppError::invalid("score", "range", "score must be between 0 and 100").max(100));
    }
    let comment = req.comment.trim();
    if comment.is_empty() || comment.chars().count() > 500 || comment.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::invalid("comment", "length", "comment must say why (1–500 characters, no control characters)").max(500));
    }
    let now = super::now();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM grade_overrides WHERE assignment_id = $1 AND student_id = $2").bind(aid).bind(sid).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO grade_overrides (assignment_id, student_id, score, comment, by_id, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(aid)
        .bind(sid)
        .bind(req.score)
        .bind(comment)
        .bind(caller.user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO audit_log (at, actor_id, action, detail) VALUES ($1, $2, $3, $4)")
        .bind(now)
        .bind(caller.user.id)
        .bind("grade_override")
        .bind(format!("assignment_id={aid} student_id={sid} score={}", req.score))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_override(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((assignment, student)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (aid, sid) = managed_cell(&state, &caller.user, assignment, student).await?;
    sqlx::query("DELETE FROM grade_overrides WHERE assignment_id = $1 AND student_id = $2").bind(aid).bind(sid).execute(&state.db.pool).await?;
    state.db.audit_action(&caller.user, "grade_override_clear", format!("assignment_id={aid} student_id={sid}")).await?;
    Ok(StatusCode::NO_CONTENT)
}
