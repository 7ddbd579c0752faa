//! The gradebook: one row per student, one column per assignment, with the
//! assignment's score policy (best or last attempt) and teacher overrides
//! applied, each cell's state (not submitted, grading, failed, graded), the
//! class's average, median and completion per assignment and each student's
//! average; exported as CSV or XLSX in the requester's language.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use qiming_curriculum::Text;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::auth::{ActiveCaller, Caller};
use super::http::{AppError, AppState, body};
use super::org::{Class, audit_in, managed_class};
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

/// A teacher's override of one student's score on one assignment.
#[derive(Clone, Debug)]
struct Overridden {
    score: f64,
    comment: String,
    at: i64,
}

impl Overridden {
    fn json(&self) -> Value {
        json!({"score": self.score, "comment": self.comment, "at": self.at})
    }
}

/// The teacher's override of `student`'s score on `assignment` as the
/// student's own assignment JSON carries it (`null` when there is none).
/// Keyed by the caller's own id, so a student never sees another's.
pub async fn student_override(state: &AppState, assignment: i64, student: i64) -> Result<Value, AppError> {
    let row = sqlx::query("SELECT score, comment, at FROM grade_overrides WHERE assignment_id = $1 AND student_id = $2")
        .bind(assignment)
        .bind(student)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(match row {
        Some(r) => Overridden { score: r.try_get("score")?, comment: r.try_get("comment")?, at: r.try_get("at")? }.json(),
        None => Value::Null,
    })
}

/// One cell of the gradebook: a student's submissions to one assignment.
#[derive(Clone, Debug, Default)]
struct Cell {
    /// Attempts that count against the limit (every submission but `failed`).
    attempts: i64,
    /// Submissions queued or being graded.
    pending: i64,
    /// Submissions the grader could not grade (our fault, not counted as attempts).
    failed: i64,
    /// Scores of graded attempts, oldest first.
    graded: Vec<f64>,
    override_: Option<Overridden>,
}

impl Cell {
    /// What the student's work amounts to, so "not submitted" is never
    /// confused with "waiting for the grader" or "the grader failed".
    fn status(&self) -> &'static str {
        if !self.graded.is_empty() {
            "graded"
        } else if self.pending > 0 {
            "grading"
        } else if self.failed > 0 {
            "failed"
        } else {
            "missing"
        }
    }

    /// Whether the student handed anything in (a failed grading still counts: the fault is ours).
    fn submitted(&self) -> bool {
        self.attempts > 0 || self.failed > 0
    }
}

/// An assignment as a gradebook column.
struct Column {
    id: i64,
    lab: String,
    title: Text,
    policy: String,
    opens_at: i64,
    due_at: i64,
    attempt_limit: i64,
}

/// A student as a gradebook row.
struct Student {
    id: i64,
    name: String,
    number: Option<String>,
}

/// The gradebook of one class, computed.
struct Book {
    assignments: Vec<Column>,
    students: Vec<Student>,
    cells: BTreeMap<(i64, i64), Cell>, // (student, assignment)
    /// When it was computed: assignments that open later are nobody's missing work yet.
    now: i64,
}

/// One cell with its scores: the one that counts and the automatic one.
struct Graded {
    score: Option<f64>,
    auto: Option<f64>,
    /// The cell's state, or `not_open` for nothing submitted to an assignment that opens later.
    status: &'static str,
    cell: Cell,
}

/// Average, median and completion of one assignment across the class.
struct Stats {
    average: Option<f64>,
    median: Option<f64>,
    submitted: usize,
    scored: usize,
    students: usize,
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

async fn load(state: &AppState, class: &Class) -> Result<Book, AppError> {
    let pool = &state.db.pool;
    let assignments =
        sqlx::query("SELECT id, lab_id, score_policy, opens_at, due_at, attempt_limit, title FROM assignments WHERE class_id = $1 ORDER BY due_at, id")
            .bind(class.id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| -> Result<_, sqlx::Error> {
                let lab: String = r.try_get("lab_id")?;
                // The teacher's own title (one text for both languages), else the lab's.
                let title = match r.try_get::<Option<String>, _>("title")? {
                    Some(t) => Text::new(t.clone(), t),
                    None => state.catalogue.lab(&lab).map_or_else(|| Text::new(lab.clone(), lab.clone()), |l| l.title.clone()),
                };
                Ok(Column {
                    id: r.try_get("id")?,
                    lab,
                    title,
                    policy: r.try_get("score_policy")?,
                    opens_at: r.try_get("opens_at")?,
                    due_at: r.try_get("due_at")?,
                    attempt_limit: r.try_get("attempt_limit")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
    let students = sqlx::query("SELECT id, display_name, student_number FROM users WHERE class_id = $1 AND role = 'student' ORDER BY student_number, id")
        .bind(class.id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| -> Result<_, sqlx::Error> { Ok(Student { id: r.try_get("id")?, name: r.try_get("display_name")?, number: r.try_get("student_number")? }) })
        .collect::<Result<Vec<_>, _>>()?;
    let mut cells: BTreeMap<(i64, i64), Cell> = BTreeMap::new();
    let subs = sqlx::query(
        "SELECT s.student_id, s.assignment_id, s.status, s.score FROM submissions s JOIN assignments a ON a.id = s.assignment_id WHERE a.class_id = $1 ORDER BY s.id",
    )
    .bind(class.id)
    .fetch_all(pool)
    .await?;
    for r in &subs {
        let cell = cells.entry((r.try_get("student_id")?, r.try_get("assignment_id")?)).or_default();
        match r.try_get::<String, _>("status")?.as_str() {
            "failed" => cell.failed += 1,
            "done" => {
                cell.attempts += 1;
                cell.graded.push(r.try_get::<Option<f64>, _>("score")?.unwrap_or(0.0));
            }
            _ => {
                cell.attempts += 1;
                cell.pending += 1;
            }
        }
    }
    let overrides = sqlx::query(
        "SELECT o.student_id, o.assignment_id, o.score, o.comment, o.at FROM grade_overrides o JOIN assignments a ON a.id = o.assignment_id WHERE a.class_id = $1",
    )
    .bind(class.id)
    .fetch_all(pool)
    .await?;
    for r in &overrides {
        let cell = cells.entry((r.try_get("student_id")?, r.try_get("assignment_id")?)).or_default();
        cell.override_ = Some(Overridden { score: r.try_get("score")?, comment: r.try_get("comment")?, at: r.try_get("at")? });
    }
    Ok(Book { assignments, students, cells, now: super::now() })
}

impl Book {
    /// The cell of a student and assignment (by index), with its scores.
    fn cell(&self, student: i64, assignment: usize) -> Graded {
        let column = &self.assignments[assignment];
        let cell = self.cells.get(&(student, column.id)).cloned().unwrap_or_default();
        let auto = policy_score(&column.policy, &cell.graded);
        let status = match cell.status() {
            "missing" if column.opens_at > self.now => "not_open",
            s => s,
        };
        Graded { score: cell.override_.as_ref().map(|o| o.score).or(auto), auto, status, cell }
    }

    fn stats(&self, assignment: usize) -> Stats {
        let cells: Vec<Graded> = self.students.iter().map(|s| self.cell(s.id, assignment)).collect();
        let scores: Vec<f64> = cells.iter().filter_map(|c| c.score).collect();
        Stats {
            average: mean(&scores),
            median: median(&scores),
            submitted: cells.iter().filter(|c| c.cell.submitted()).count(),
            scored: scores.len(),
            students: self.students.len(),
        }
    }

    /// A student's average over the assignments that have a score for them
    /// (missing work is counted separately, not as zero).
    fn student_average(&self, student: i64) -> Option<f64> {
        mean(&(0..self.assignments.len()).filter_map(|i| self.cell(student, i).score).collect::<Vec<_>>())
    }

    /// How many open assignments a student has neither submitted nor been given a score for.
    fn missing(&self, student: i64) -> usize {
        (0..self.assignments.len())
            .filter(|&i| {
                let c = self.cell(student, i);
                c.status == "missing" && c.cell.override_.is_none()
            })
            .count()
    }

    /// The average of the students' averages.
    fn class_average(&self) -> Option<f64> {
        mean(&self.students.iter().filter_map(|s| self.student_average(s.id)).collect::<Vec<_>>())
    }
}

async fn gradebook(State(state): State<AppState>, ActiveCaller(caller): ActiveCaller, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    let class = managed_class(&state, &caller.user, id).await?;
    let book = load(&state, &class).await?;
    let assignments: Vec<Value> = book
        .assignments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let s = book.stats(i);
            json!({
                "id": a.id, "lab_id": a.lab, "title": a.title, "score_policy": a.policy, "max_score": 100.0,
                "opens_at": a.opens_at, "due_at": a.due_at, "attempt_limit": a.attempt_limit,
                "stats": {"average": s.average, "median": s.median, "submitted": s.submitted, "scored": s.scored, "students": s.students},
            })
        })
        .collect();
    let students: Vec<Value> = book
        .students
        .iter()
        .map(|s| {
            let grades: Vec<Value> = (0..book.assignments.len())
                .map(|i| {
                    let g = book.cell(s.id, i);
                    json!({
                        "assignment_id": book.assignments[i].id, "score": g.score, "auto_score": g.auto, "attempts": g.cell.attempts,
                        "status": g.status, "override": g.cell.override_.as_ref().map(Overridden::json),
                    })
                })
                .collect();
            json!({
                "id": s.id, "display_name": s.name, "student_number": s.number, "grades": grades,
                "average": book.student_average(s.id), "missing": book.missing(s.id),
            })
        })
        .collect();
    Ok(Json(json!({
        "class": {"id": class.id, "name": class.name}, "assignments": assignments, "students": students, "average": book.class_average(),
    })))
}

/// One cell of an export: text, or a number a spreadsheet can compute with.
#[derive(Clone, Debug, PartialEq)]
enum Out {
    Text(String),
    Number(f64),
    Blank,
}

/// A score as people write it: at most one decimal, no trailing ".0".
fn score_text(v: f64) -> String {
    format!("{}", (v * 10.0).round() / 10.0)
}

fn rounded(v: Option<f64>) -> Out {
    v.map_or(Out::Blank, |v| Out::Number((v * 10.0).round() / 10.0))
}

/// The export as a table: a header, a row per student, then the class's
/// average, median and completion rows; every word in `lang`.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Out>>,
    /// How many leading columns are text about the student (number, name).
    text_columns: usize,
}

/// Columns per assignment: score, attempts, overridden, comment.
const PER_ASSIGNMENT: usize = 4;

/// Header and rows of the export (shared by CSV and XLSX).
fn table(book: &Book, lang: &str) -> Table {
    let words = super::web::words(lang);
    // An unknown key shows as itself, so a missing translation is visible rather than blank.
    let word = |key: &str| words.get(key).cloned().unwrap_or_else(|| key.to_string());
    let fill = |key: &str, vars: &[(&str, String)]| vars.iter().fold(word(key), |s, (k, v)| s.replace(&format!("{{{k}}}"), v));
    let mut header = vec![word("gb_col_number"), word("gb_col_name")];
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for a in &book.assignments {
        let mut title = if lang == "en" { a.title.en.clone() } else { a.title.zh.clone() };
        // The same lab assigned twice: number the later ones so columns stay apart.
        let n = seen.entry(title.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            title = format!("{title} ({n})");
        }
        for key in ["gb_col_score", "gb_col_attempts", "gb_col_override", "gb_col_comment"] {
            header.push(fill(key, &[("title", title.clone())]));
        }
    }
    header.push(word("gb_col_average"));
    header.push(word("gb_col_missing"));
    let status_word = |status: &str| match status {
        "grading" => word("gb_grading"),
        "failed" => word("gb_failed"),
        "not_open" => word("gb_not_open"),
        _ => word("gb_missing"),
    };
    let mut rows = Vec::new();
    for s in &book.students {
        let mut row = vec![s.number.clone().map_or(Out::Blank, Out::Text), Out::Text(s.name.clone())];
        for i in 0..book.assignments.len() {
            let g = book.cell(s.id, i);
            row.push(match g.score {
                Some(v) => Out::Number(v),
                None => Out::Text(status_word(g.status)),
            });
            row.push(Out::Number(g.cell.attempts as f64));
            row.push(Out::Text(word(if g.cell.override_.is_some() { "gb_yes" } else { "gb_no" })));
            row.push(g.cell.override_.map_or(Out::Blank, |o| Out::Text(o.comment)));
        }
        row.push(rounded(book.student_average(s.id)));
        row.push(Out::Number(book.missing(s.id) as f64));
        rows.push(row);
    }
    let stats: Vec<Stats> = (0..book.assignments.len()).map(|i| book.stats(i)).collect();
    let footer = |label: &str, per: &dyn Fn(&Stats) -> Out, last: Out| {
        let mut row = vec![Out::Text(word(label)), Out::Blank];
        for s in &stats {
            row.push(per(s));
            row.extend(std::iter::repeat_n(Out::Blank, PER_ASSIGNMENT - 1));
        }
        row.push(last);
        row.push(Out::Blank);
        row
    };
    rows.push(footer("gb_row_average", &|s| rounded(s.average), rounded(book.class_average())));
    rows.push(footer("gb_row_median", &|s| rounded(s.median), Out::Blank));
    rows.push(footer(
        "gb_row_submitted",
        // Words around the counts: a bare "2/3" turns into a date in Excel.
        &|s| Out::Text(fill("gb_submitted_n", &[("n", s.submitted.to_string()), ("total", s.students.to_string())])),
        Out::Blank,
    ));
    Table { header, rows, text_columns: 2 }
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

#[derive(Debug, Deserialize)]
struct ExportQuery {
    /// `zh-CN` or `en`; without it, the `qiming_lang` cookie, then Accept-Language.
    lang: Option<String>,
}

/// The gradebook as CSV text (with a BOM, so Excel reads the UTF-8 and the Chinese names).
fn csv_text(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(header)?;
        for r in rows {
            w.write_record(r)?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The class a manager exports, the language the reader asked for, and its gradebook.
async fn export_book(state: &AppState, caller: &Caller, id: i64, q: &ExportQuery, parts: &Parts) -> Result<(Class, &'static str, Book), AppError> {
    let class = managed_class(state, &caller.user, id).await?;
    let lang = super::web::choose_lang(parts, q.lang.as_deref()).0;
    let book = load(state, &class).await?;
    Ok((class, lang, book))
}

async fn gradebook_csv(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    Query(q): Query<ExportQuery>,
    parts: Parts,
) -> Result<Response, AppError> {
    let (class, lang, book) = export_book(&state, &caller, id, &q, &parts).await?;
    let Table { header, rows, .. } = table(&book, lang);
    let header: Vec<String> = header.iter().map(|h| csv_safe(h)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Out::Text(t) => csv_safe(t),
                    Out::Number(v) => score_text(*v),
                    Out::Blank => String::new(),
                })
                .collect()
        })
        .collect();
    let out = csv_text(&header, &rows).map_err(|e| AppError::Internal(e.into()))?;
    state.db.audit_action(&caller.user, "gradebook_export", format!("class_id={} format=csv", class.id)).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, filename(&class, "csv"))], out).into_response())
}

async fn gradebook_xlsx(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path(id): Path<i64>,
    Query(q): Query<ExportQuery>,
    parts: Parts,
) -> Result<Response, AppError> {
    let (class, lang, book) = export_book(&state, &caller, id, &q, &parts).await?;
    let Table { header, rows, text_columns } = table(&book, lang);
    let sheet_name = super::web::words(lang).remove("gb_sheet").unwrap_or_else(|| "Gradebook".into());
    let bytes = (|| -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name(&sheet_name)?;
        let bold = rust_xlsxwriter::Format::new().set_bold().set_text_wrap();
        for (c, h) in header.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold)?;
            let comment_column = c >= text_columns && (c - text_columns) % PER_ASSIGNMENT == 3 && c < header.len() - 2;
            sheet.set_column_width(
                c as u16,
                if c < text_columns {
                    16
                } else if comment_column {
                    30
                } else {
                    14
                },
            )?;
        }
        let footer_from = book.students.len();
        for (r, row) in rows.iter().enumerate() {
            let y = r as u32 + 1;
            for (c, v) in row.iter().enumerate() {
                let x = c as u16;
                match v {
                    // Student numbers stay text (leading zeros matter); the
                    // writer stores strings as strings, so no formula runs.
                    Out::Text(t) if r >= footer_from => sheet.write_string_with_format(y, x, t, &bold).map(|_| ())?,
                    Out::Text(t) => sheet.write_string(y, x, t).map(|_| ())?,
                    Out::Number(n) => sheet.write_number(y, x, *n).map(|_| ())?,
                    Out::Blank => {}
                }
            }
        }
        sheet.set_freeze_panes(1, text_columns as u16)?;
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
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM grade_overrides WHERE assignment_id = $1 AND student_id = $2").bind(aid).bind(sid).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO grade_overrides (assignment_id, student_id, score, comment, by_id, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(aid)
        .bind(sid)
        .bind(req.score)
        .bind(comment)
        .bind(caller.user.id)
        .bind(super::now())
        .execute(&mut *tx)
        .await?;
    // The comment stays out of the audit log: it may name the child.
    audit_in(&mut tx, &caller.user, "grade_override", &format!("assignment_id={aid} student_id={sid} score={}", req.score)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an override, so the computed score counts again. Idempotent:
/// clearing what is not there answers 204 too, and is not audited.
async fn clear_override(
    State(state): State<AppState>,
    ActiveCaller(caller): ActiveCaller,
    Path((assignment, student)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (aid, sid) = managed_cell(&state, &caller.user, assignment, student).await?;
    let mut tx = state.db.pool.begin().await?;
    let gone = sqlx::query("DELETE FROM grade_overrides WHERE assignment_id = $1 AND student_id = $2").bind(aid).bind(sid).execute(&mut *tx).await?;
    if gone.rows_affected() > 0 {
        audit_in(&mut tx, &caller.user, "grade_override_clear", &format!("assignment_id={aid} student_id={sid}")).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
