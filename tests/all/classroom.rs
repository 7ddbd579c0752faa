//! A school term on both databases: region, school and staff; a class and its
//! roster (CSV and XLSX, all-or-nothing); an assignment; submissions graded by
//! the queue's workers; the gradebook with overrides and exports; a
//! student's data exported and deleted; CSRF on cookie writes.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qiming::serve::http::AppState;
use qiming::serve::queue::{self, Faults, QueueConfig};
use serde_json::{Value, json};

use crate::server::{call, login, raw, raw_bytes, state};
use crate::support::repo;

/// Starts in-process grading workers; drop the sender to stop them.
pub fn workers(s: &AppState, n: usize) -> tokio::sync::watch::Sender<bool> {
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let config = QueueConfig { lease_seconds: 30, poll: Duration::from_millis(50), hidden_secret: None };
    queue::spawn_workers(n, &s.db, &s.catalogue, &config, &s.signals, &shutdown, &Faults::default());
    stop
}

/// Whether login slips can be rendered here; CI installs a font, so there it must.
pub fn has_cjk_font() -> bool {
    let found = qiming::serve::slips::find_font(None).is_some();
    assert!(found || std::env::var_os("CI").is_none(), "CI needs a CJK font (fonts-wqy-microhei) for login slips");
    found
}

/// Waits until a submission is graded; returns it.
pub async fn graded(s: &AppState, token: &str, id: i64) -> Value {
    for _ in 0..600 {
        let (status, sub, _) = call(s, "GET", &format!("/api/submissions/{id}"), Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{sub}");
        if sub["status"] == "done" || sub["status"] == "failed" {
            return sub;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("submission {id} was not graded within 30 s");
}

fn csv_request(path: &str, token: &str, body: &[u8], content_type: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_vec()))
        .unwrap()
}

/// The shared setup: a city and district, a school, a platform admin and a teacher (signed in).
pub struct School {
    pub admin: String,
    pub school_id: i64,
    pub teacher: String,
}

pub async fn school(s: &AppState) -> School {
    let hash = qiming::serve::auth::hash_password("admin-password").unwrap();
    s.db.create_user("root", "Platform admin", &hash, "platform_admin", false, 0).await.unwrap();
    let admin = login(s, "root", "admin-password").await;
    let (st, region, _) = call(s, "POST", "/api/regions", Some(&admin), Some(json!({"name": "杭州市", "kind": "city"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{region}");
    let (st, district, _) = call(s, "POST", "/api/regions", Some(&admin), Some(json!({"name": "西湖区", "kind": "district", "parent_id": region["id"]}))).await;
    assert_eq!(st, StatusCode::CREATED, "{district}");
    let (st, school, _) = call(s, "POST", "/api/schools", Some(&admin), Some(json!({"name": "启明小学", "region_id": district["id"]}))).await;
    assert_eq!(st, StatusCode::CREATED, "{school}");
    let school_id = school["id"].as_i64().unwrap();
    let (st, t, _) = call(
        s,
        "POST",
        "/api/users",
        Some(&admin),
        Some(json!({"username": "li", "display_name": "李老师", "role": "teacher", "school_id": school_id, "password": "teacher-password"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let teacher = login(s, "li", "teacher-password").await;
    School { admin, school_id, teacher }
}

async fn classroom(backend: &str) {
    let s = state(backend, "classroom").await;
    let stop = workers(&s, 2);
    let School { admin, school_id, teacher, .. } = school(&s).await;

    // A school admin account gets a generated password, shown once.
    let (st, sa, _) = call(
        &s,
        "POST",
        "/api/users",
        Some(&admin),
        Some(json!({"username": "zhao", "display_name": "赵校长", "role": "school_admin", "school_id": school_id})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(sa["password"].as_str().unwrap().len() >= 12);
    assert_eq!(sa["user"]["must_change_password"], true);
    // Students only come from rosters; unknown fields and ids are named.
    let (st, e, _) = call(&s, "POST", "/api/users", Some(&admin), Some(json!({"username": "kid", "display_name": "K", "role": "student"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("role"), "{e}");
    let (st, e, _) = call(&s, "POST", "/api/schools", Some(&admin), Some(json!({"name": "X", "region_id": 999}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("region_id"), "{e}");
    let (st, e, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五(2)班", "colour": "red"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("colour"), "{e}");

    // The teacher makes a class.
    let (st, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五(2)班"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{class}");
    let class_id = class["id"].as_i64().unwrap();
    let roster_path = format!("/api/classes/{class_id}/roster");

    // A bad roster: every bad row reported, nothing created.
    let bad = "学号,姓名\n20230101,张小明\n,李华\n20230101,王芳\n2023 04,\n";
    let (st, e, _) = raw(&s, csv_request(&roster_path, &teacher, bad.as_bytes(), "text/csv")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "invalid_roster");
    let rows: Vec<(i64, String)> =
        e["error"]["rows"].as_array().unwrap().iter().map(|r| (r["row"].as_i64().unwrap(), r["field"].as_str().unwrap().to_string())).collect();
    assert_eq!(rows, vec![(3, "student_number".into()), (4, "student_number".into()), (5, "student_number".into()), (5, "display_name".into())]);
    let (_, c, _) = call(&s, "GET", &format!("/api/classes/{class_id}"), Some(&teacher), None).await;
    assert_eq!(c["roster"].as_array().unwrap().len(), 0, "all-or-nothing");

    // A good CSV roster.
    let good = "\u{feff}学号,姓名\n20230101,张小明\n20230102,李华\n";
    let (st, imported, _) = raw(&s, csv_request(&roster_path, &teacher, good.as_bytes(), "text/csv")).await;
    assert_eq!(st, StatusCode::CREATED, "{imported}");
    let created = imported["created"].as_array().unwrap();
    assert_eq!(created[0]["username"], format!("s{school_id}-20230101"));
    assert_eq!(created[0]["display_name"], "张小明");
    // Other students under the same numbers are refused, row by row.
    let clash = "学号,姓名\n20230101,张三\n20230102,李四\n";
    let (st, e, _) = raw(&s, csv_request(&roster_path, &teacher, clash.as_bytes(), "text/csv")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["rows"].as_array().unwrap().len(), 2);
    // The same file again (its answer was lost) re-issues the one-time passwords.
    let (st, again, _) = raw(&s, csv_request(&roster_path, &teacher, good.as_bytes(), "text/csv")).await;
    assert_eq!(st, StatusCode::CREATED, "{again}");
    assert_eq!(again["reissued"].as_array().unwrap().len(), 2);
    let imported = json!({"created": again["reissued"].clone()});
    let created = imported["created"].as_array().unwrap();

    // An XLSX roster, numbers typed as numbers.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "姓名").unwrap();
    sheet.write_string(0, 1, "学号").unwrap();
    sheet.write_string(1, 0, "陈思思").unwrap();
    sheet.write_number(1, 1, 20230103.0).unwrap();
    let xlsx = wb.save_to_buffer().unwrap();
    let (st, imported_x, _) = raw(&s, csv_request(&roster_path, &teacher, &xlsx, qiming::serve::roster::XLSX_TYPE)).await;
    assert_eq!(st, StatusCode::CREATED, "{imported_x}");
    assert_eq!(imported_x["created"][0]["student_number"], "20230103");

    // A tiny XLSX that claims a cell at XFD1048576 is refused without allocating the sheet.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "学号").unwrap();
    sheet.write_string(0, 1, "姓名").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let bomb = wb.save_to_buffer().unwrap();
    let (st, e, _) = raw(&s, csv_request(&roster_path, &teacher, &bomb, qiming::serve::roster::XLSX_TYPE)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["error"]["rows"][0]["message"].as_str().unwrap().contains("row 1048576"), "{e}");

    // Login slips: a PDF with the Chinese names (requires a CJK font, installed by .ci/run).
    let slips = json!({"title": "五(2)班", "students": created.iter().map(|c| json!({
        "display_name": c["display_name"], "username": c["username"], "password": c["password"], "student_number": c["student_number"]})).collect::<Vec<_>>()});
    let req = Request::builder()
        .method("POST")
        .uri("/api/login-slips")
        .header(header::AUTHORIZATION, format!("Bearer {teacher}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(slips.to_string()))
        .unwrap();
    let (st, pdf, _) = raw_bytes(&s, req).await;
    if has_cjk_font() {
        assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
        assert!(pdf.starts_with(b"%PDF-"), "a PDF");
        assert!(pdf.len() > 2000);
    } else {
        assert_eq!(st, StatusCode::CONFLICT, "no CJK font: a clear error");
        assert!(String::from_utf8_lossy(&pdf).contains("fonts-wqy-microhei"));
    }

    // Assign wall-stop; the student signs in, must change the password, then sees it.
    let due = qiming::serve::now() + 7 * 24 * 3600;
    let (st, e, _) =
        call(&s, "POST", &format!("/api/classes/{class_id}/assignments"), Some(&teacher), Some(json!({"lab_id": "no-such-lab", "due_at": due}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("lab_id"));
    let (st, a, _) = call(
        &s,
        "POST",
        &format!("/api/classes/{class_id}/assignments"),
        Some(&teacher),
        Some(json!({"lab_id": "wall-stop", "due_at": due, "attempt_limit": 3})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let aid = a["id"].as_i64().unwrap();
    let student_name = created[0]["username"].as_str().unwrap().to_string();
    let first = login(&s, &student_name, created[0]["password"].as_str().unwrap()).await;
    let (st, _, _) = call(&s, "GET", "/api/assignments", Some(&first), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) =
        call(&s, "POST", "/api/password", Some(&first), Some(json!({"current_password": created[0]["password"], "new_password": "blue kite 2023"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let student = login(&s, &student_name, "blue kite 2023").await;
    let (_, mine, _) = call(&s, "GET", "/api/assignments", Some(&student), None).await;
    assert_eq!(mine["assignments"][0]["lab_id"], "wall-stop");
    assert_eq!(mine["assignments"][0]["attempts_used"], 0);
    let (_, detail, _) = call(&s, "GET", &format!("/api/assignments/{aid}"), Some(&student), None).await;
    assert!(detail["lab"]["starter"]["rhai"].as_str().unwrap().contains("motors"), "{detail}");

    // Bad submissions are refused with the field named; nothing is stored.
    let sub_path = format!("/api/assignments/{aid}/submissions");
    let (st, e, _) = call(&s, "POST", &sub_path, Some(&student), Some(json!({"language": "python", "program": "print(1)"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("language"));
    let (st, e, _) = call(&s, "POST", &sub_path, Some(&student), Some(json!({"language": "rhai", "program": "stop();\u{0}"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a NUL byte is refused (PostgreSQL text cannot hold it): {e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("program"));
    let (st, _, _) = call(&s, "POST", &sub_path, Some(&student), Some(json!({"language": "rhai", "program": "x".repeat(65 * 1024)}))).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    let (st, _, _) = call(&s, "POST", &sub_path, Some(&teacher), Some(json!({"language": "rhai", "program": "stop();"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "teachers do not submit as students");

    // A wrong program, then the reference: graded by the workers.
    let wrong = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/wrong-bumps.rhai")).unwrap();
    let (st, sub1, _) = call(&s, "POST", &sub_path, Some(&student), Some(json!({"language": "rhai", "program": wrong}))).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{sub1}");
    assert_eq!(sub1["status"], "queued");
    let sub1 = graded(&s, &student, sub1["id"].as_i64().unwrap()).await;
    assert_eq!(sub1["status"], "done");
    let wrong_score = sub1["score"].as_f64().unwrap();
    assert!(wrong_score < 50.0, "{sub1}");
    let reference = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/reference.rhai")).unwrap();
    let (_, sub2, _) = call(&s, "POST", &sub_path, Some(&student), Some(json!({"language": "rhai", "program": reference}))).await;
    let sub2_id = sub2["id"].as_i64().unwrap();
    let sub2 = graded(&s, &student, sub2_id).await;
    assert_eq!(sub2["score"], 100.0, "{sub2}");
    assert_eq!(sub2["max_score"], 100.0);

    // Hidden cases reveal only their name, pass/fail and score.
    for case in sub2["report"]["cases"].as_array().unwrap() {
        let keys: Vec<&str> = case.as_object().unwrap().keys().map(String::as_str).collect();
        if case["hidden"] == true {
            assert_eq!(keys, vec!["feedback", "hidden", "max_score", "name", "passed", "score"], "{case}");
            let (st, _, _) = call(&s, "GET", &format!("/api/submissions/{sub2_id}/replays/{}", case["name"].as_str().unwrap()), Some(&student), None).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "no replay of a hidden case");
        } else {
            let (st, r, _) = call(&s, "GET", &format!("/api/submissions/{sub2_id}/replays/{}", case["name"].as_str().unwrap()), Some(&student), None).await;
            assert_eq!(st, StatusCode::OK);
            assert!(r["replay"]["frames"].as_array().unwrap().len() > 60);
            assert!(r["world"]["solids"].as_array().unwrap().len() >= 4);
        }
    }

    // Live status: the event stream of a graded submission ends with it.
    let req = Request::builder()
        .uri(format!("/api/submissions/{sub2_id}/events"))
        .header(header::AUTHORIZATION, format!("Bearer {student}"))
        .body(Body::empty())
        .unwrap();
    let (st, events, _) = raw_bytes(&s, req).await;
    assert_eq!(st, StatusCode::OK);
    let events = String::from_utf8(events).unwrap();
    assert!(events.starts_with("event: status\ndata: {"), "{events}");
    assert!(events.contains("\"status\":\"done\""));

    // Third attempt allowed, fourth refused (attempt_limit 3).
    let (st, _, _) = call(&s, "POST", &sub_path, Some(&student), Some(json!({"language": "rhai", "program": "stop();"}))).await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let (st, e, _) = call(&s, "POST", &sub_path, Some(&student), Some(json!({"language": "rhai", "program": "stop();"}))).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(e["error"]["message"].as_str().unwrap().contains("attempts"));
    // Wait for the third to be graded: "best" keeps 100 although the last attempt scored less.
    let (_, subs, _) = call(&s, "GET", &sub_path, Some(&student), None).await;
    graded(&s, &student, subs["submissions"][0]["id"].as_i64().unwrap()).await;

    // The gradebook: best policy, then an audited override.
    let (st, book, _) = call(&s, "GET", &format!("/api/classes/{class_id}/gradebook"), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::OK, "{book}");
    let row = book["students"].as_array().unwrap().iter().find(|r| r["student_number"] == "20230101").unwrap().clone();
    assert_eq!(row["grades"][0]["score"], 100.0);
    assert_eq!(row["grades"][0]["attempts"], 3);
    let sid = row["id"].as_i64().unwrap();
    let (st, e, _) = call(&s, "PUT", &format!("/api/assignments/{aid}/overrides/{sid}"), Some(&teacher), Some(json!({"score": 90, "comment": ""}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("comment"));
    let (st, _, _) =
        call(&s, "PUT", &format!("/api/assignments/{aid}/overrides/{sid}"), Some(&teacher), Some(json!({"score": 95, "comment": "抄袭了同学的代码的一部分"})))
            .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, book, _) = call(&s, "GET", &format!("/api/classes/{class_id}/gradebook"), Some(&teacher), None).await;
    let row = book["students"].as_array().unwrap().iter().find(|r| r["id"] == sid).unwrap().clone();
    assert_eq!((row["grades"][0]["score"].as_f64(), row["grades"][0]["auto_score"].as_f64()), (Some(95.0), Some(100.0)));
    let audited: i64 =
        sqlx::Row::try_get(&sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'grade_override'").fetch_one(&s.db.pool).await.unwrap(), 0).unwrap();
    assert_eq!(audited, 1);
    let (st, log, _) = call(&s, "GET", "/api/audit?limit=5", Some(&admin), None).await;
    assert_eq!(st, StatusCode::OK, "{log}");
    assert_eq!(log["entries"][0]["action"], "grade_override", "newest first: {log}");
    assert_eq!(log["entries"][0]["actor"], "li");
    assert!(!log["entries"][0]["detail"].as_str().unwrap().contains("抄袭"), "the comment stays out of the audit log");

    // Exports: CSV (UTF-8 with BOM) and XLSX, read back.
    let req = Request::builder()
        .uri(format!("/api/classes/{class_id}/gradebook.csv"))
        .header(header::AUTHORIZATION, format!("Bearer {teacher}"))
        .body(Body::empty())
        .unwrap();
    let (st, csv, _) = raw_bytes(&s, req).await;
    assert_eq!(st, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains("20230101,张小明,95,3,是,抄袭了同学的代码的一部分,95,0"), "score, attempts, override, comment, average, missing: {csv}");
    let req = Request::builder()
        .uri(format!("/api/classes/{class_id}/gradebook.xlsx"))
        .header(header::AUTHORIZATION, format!("Bearer {teacher}"))
        .body(Body::empty())
        .unwrap();
    let (st, xlsx, _) = raw_bytes(&s, req).await;
    assert_eq!(st, StatusCode::OK);
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = range.rows().nth(1).unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(cells, vec!["20230101", "张小明", "95", "3", "是", "抄袭了同学的代码的一部分", "95", "0"]);

    // A student cannot see the gradebook.
    assert_eq!(call(&s, "GET", &format!("/api/classes/{class_id}/gradebook"), Some(&student), None).await.0, StatusCode::FORBIDDEN);

    // Per-student export, then deletion: the student and their work are gone.
    let (st, export, _) = call(&s, "GET", &format!("/api/users/{sid}/export"), Some(&student), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(export["user"]["display_name"], "张小明");
    assert_eq!(export["submissions"].as_array().unwrap().len(), 3);
    assert_eq!(export["grade_overrides"][0]["score"], 95.0);
    let (st, _, _) = call(&s, "DELETE", &format!("/api/users/{sid}"), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(call(&s, "GET", "/api/me", Some(&student), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&s, "GET", &format!("/api/submissions/{sub2_id}"), Some(&teacher), None).await.0, StatusCode::NOT_FOUND);
    let left: i64 =
        sqlx::Row::try_get(&sqlx::query("SELECT COUNT(*) FROM submissions WHERE student_id = $1").bind(sid).fetch_one(&s.db.pool).await.unwrap(), 0).unwrap();
    assert_eq!(left, 0);

    // Cookie-authenticated writes need the CSRF token; bearer writes do not.
    let (_, body, cookie) = call(&s, "POST", "/api/login", None, Some(json!({"username": "li", "password": "teacher-password"}))).await;
    let cookie = cookie.unwrap().split(';').next().unwrap().to_string();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let new_class = |with_csrf: bool| {
        let mut r = Request::builder().method("POST").uri("/api/classes").header(header::COOKIE, &cookie).header(header::CONTENT_TYPE, "application/json");
        if with_csrf {
            r = r.header("x-csrf-token", &csrf);
        }
        r.body(Body::from(json!({"name": "六(1)班"}).to_string())).unwrap()
    };
    let (st, e, _) = raw(&s, new_class(false)).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf")));
    assert_eq!(raw(&s, new_class(true)).await.0, StatusCode::CREATED);
    let read = Request::builder().uri("/api/classes").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
    assert_eq!(raw(&s, read).await.0, StatusCode::OK, "reads need no token");

    let _ = stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classroom_on_sqlite() {
    classroom("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classroom_on_postgres() {
    classroom("postgres").await;
}
