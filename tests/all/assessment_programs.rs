//! Performance tasks in assessments, on both databases: a taker hands in programs
//! for a performance item; they ride the grading queue with assignments and contest
//! rounds, and the item's points (its best graded program through
//! `Item::score(LabScore)`) are filled in when grading completes — also after the
//! sitting was submitted or ran out of time, while its views say "grading" instead
//! of 0. Attempts are limited, the deadline holds, only the taker hands in. And the
//! migration that lets a submission belong to a sitting keeps every existing row of
//! `submissions` and of every table that references it.

use std::time::Duration;

use axum::http::StatusCode;
use qiming::serve::http::AppState;
use serde_json::{Value, json};
use sqlx::Row;

use crate::assessments::student;
use crate::classroom::{School, graded, school, workers};
use crate::server::{call, fresh_postgres};
use crate::support::repo;

/// The performance item of the form: wall-stop, levels 0.5 and 1.0 (two points).
const TASK: &str = "ct-56-020";
const FORM: [&str; 2] = ["ct-56-001", TASK];

fn program(language: &str, text: &str) -> Value {
    json!({"language": language, "program": text})
}

/// The taker's sitting once nothing of it is being graded any more.
async fn settled(s: &AppState, token: &str, aid: i64) -> Value {
    for _ in 0..1200 {
        let (st, v, _) = call(s, "GET", &format!("/api/assessments/{aid}/sitting"), Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        if v["sitting"]["status"] == "submitted" && v["results"]["grading"] == json!(false) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the sitting of assessment {aid} was not scored within 120 s");
}

fn task_item(view: &Value) -> &Value {
    view["items"].as_array().unwrap().iter().find(|i| i["item"]["id"] == TASK).expect("the performance item is presented")
}

async fn delivery(backend: &str) {
    let s = crate::server::state(backend, "assessment-programs").await;
    let School { teacher, .. } = school(&s).await;
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五（3）班"}))).await;
    let class = class["id"].as_i64().unwrap();
    let (_, kid_a) = student(&s, &teacher, class, "6001").await;
    let (_, kid_b) = student(&s, &teacher, class, "6002").await;
    let (_, kid_c) = student(&s, &teacher, class, "6003").await;
    let now = qiming::serve::now();
    let fixed = json!({"title": "实践测评", "population": "students", "mode": "fixed", "closes_at": now + 7200,
        "time_limit_minutes": 30, "items": FORM, "class_ids": [class]});
    // Adaptive tests leave performance tasks out: their score arrives too late for the next step.
    let mut adaptive = fixed.clone();
    adaptive["mode"] = json!("adaptive");
    let (st, e, _) = call(&s, "POST", "/api/assessments", Some(&teacher), Some(adaptive)).await;
    assert_eq!((st, e["error"]["field"].as_str(), e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("items"), Some("performance")), "{e}");
    let (st, a, _) = call(&s, "POST", "/api/assessments", Some(&teacher), Some(fixed)).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let aid = a["id"].as_i64().unwrap();
    let base = format!("/api/assessments/{aid}");
    let hand_in = format!("{base}/sitting/programs/{TASK}");

    // The task as a taker sees it: the lab's title, instructions and starter, the attempts.
    let (st, view, _) = call(&s, "POST", &format!("{base}/sitting"), Some(&kid_a), None).await;
    assert_eq!(st, StatusCode::CREATED, "{view}");
    let item = task_item(&view);
    assert_eq!(item["item"]["type"], "performance");
    let lab = s.catalogue.lab("wall-stop").unwrap();
    assert_eq!(item["task"]["id"], "wall-stop", "{item}");
    assert_eq!(item["task"]["title"]["zh-CN"].as_str(), Some(lab.title.zh.as_str()));
    assert_eq!(item["task"]["starter"]["rhai"].as_str(), Some(lab.starter["rhai"].as_str()));
    assert!(item["task"]["languages"].as_array().unwrap().contains(&json!("rhai")));
    assert_eq!((item["attempts_left"].as_i64(), item["attempt_limit"].as_i64()), (Some(10), Some(10)));
    // A response is not how it is answered; a program is.
    let (st, e, _) = call(&s, "PUT", &format!("{base}/sitting/answers/{TASK}"), Some(&kid_a), Some(json!({"response": {"number": 1}}))).await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("shape")), "{e}");
    let (st, e, _) = call(&s, "POST", &format!("{base}/sitting/programs/ct-56-001"), Some(&kid_a), Some(program("rhai", "stop();"))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_performance")), "{e}");
    // Checked like an assignment's program.
    let (st, e, _) = call(&s, "POST", &hand_in, Some(&kid_a), Some(program("python", "stop()"))).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("language")), "{e}");
    let (st, e, _) = call(&s, "POST", &hand_in, Some(&kid_a), Some(program("rhai", &"x".repeat(70 << 10)))).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{e}");

    // No worker runs yet: the program waits in the queue, durable.
    let reference = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/reference.rhai")).unwrap();
    let (st, sub, _) = call(&s, "POST", &hand_in, Some(&kid_a), Some(program("rhai", &reference))).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{sub}");
    assert_eq!((sub["status"].as_str(), sub["attempts_left"].as_i64()), (Some("queued"), Some(9)));
    let sub_a = sub["id"].as_i64().unwrap();
    let row = sqlx::query("SELECT sitting_id, item_id, lab_id, assignment_id, round_id FROM submissions WHERE id = $1")
        .bind(sub_a)
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<Option<i64>, _>(0).is_some(),
            row.get::<Option<String>, _>(1),
            row.get::<Option<String>, _>(2),
            row.get::<Option<i64>, _>(3),
            row.get::<Option<i64>, _>(4)
        ),
        (true, Some(TASK.to_string()), Some("wall-stop".to_string()), None, None)
    );
    // Only the taker hands in, and only into their own sitting; the program is theirs and their teacher's to see.
    let (st, e, _) = call(&s, "POST", &hand_in, Some(&kid_c), Some(program("rhai", &reference))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_started")), "another taker hands in to no one's sitting but their own: {e}");
    assert_eq!(call(&s, "POST", &hand_in, Some(&teacher), Some(program("rhai", &reference))).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&s, "GET", &format!("/api/submissions/{sub_a}"), Some(&kid_c), None).await.0, StatusCode::NOT_FOUND);
    let (st, seen, _) = call(&s, "GET", &format!("/api/submissions/{sub_a}"), Some(&teacher), None).await;
    assert_eq!((st, seen["item_id"].as_str()), (StatusCode::OK, Some(TASK)), "{seen}");
    // Resuming returns the program and its status.
    let (_, view, _) = call(&s, "POST", &format!("{base}/sitting"), Some(&kid_a), None).await;
    let item = task_item(&view);
    assert_eq!((item["programs"][0]["program"].as_str(), item["programs"][0]["status"].as_str()), (Some(reference.as_str()), Some("queued")));
    assert_eq!((item["grading"].as_bool(), view["sitting"]["answered"].as_i64()), (Some(true), Some(1)));
    let (_, progress, _) = call(&s, "GET", &format!("{base}/progress"), Some(&teacher), None).await;
    let row_a = progress["takers"].as_array().unwrap().iter().find(|t| t["student_number"] == "6001").unwrap();
    assert_eq!((row_a["programs"].as_i64(), row_a["programs_pending"].as_i64()), (Some(1), Some(1)), "{progress}");

    // Submitted while the program waits: closed, but "grading", never 0.
    let (st, done, _) = call(&s, "POST", &format!("{base}/sitting/submit"), Some(&kid_a), None).await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!((done["sitting"]["status"].as_str(), done["results"]["grading"].as_bool()), (Some("submitted"), Some(true)), "{done}");
    assert!(done["results"]["points"].is_null() && task_item(&done)["points"].is_null(), "{done}");
    let (_, progress, _) = call(&s, "GET", &format!("{base}/progress"), Some(&teacher), None).await;
    let row_a = progress["takers"].as_array().unwrap().iter().find(|t| t["student_number"] == "6001").unwrap();
    assert_eq!((row_a["status"].as_str(), row_a["grading"].as_bool(), &row_a["points"]), (Some("submitted"), Some(true), &Value::Null), "{progress}");
    let (st, e, _) = call(&s, "POST", &hand_in, Some(&kid_a), Some(program("rhai", &reference))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("sitting_submitted")), "{e}");
    let (_, reports, _) = call(&s, "GET", &format!("{base}/reports"), Some(&teacher), None).await;
    assert_eq!((reports["takers"].as_i64(), reports["grading"].as_i64()), (Some(0), Some(1)), "{reports}");

    // Another taker: ten programs, the eleventh refused; then the time runs out with all ten waiting.
    call(&s, "POST", &format!("{base}/sitting"), Some(&kid_b), None).await;
    let starter = &lab.starter["rhai"];
    for n in 0..10 {
        let (st, sub, _) = call(&s, "POST", &hand_in, Some(&kid_b), Some(program("rhai", starter))).await;
        assert_eq!((st, sub["attempts_left"].as_i64()), (StatusCode::ACCEPTED, Some(9 - n)), "{sub}");
    }
    let (st, e, _) = call(&s, "POST", &hand_in, Some(&kid_b), Some(program("rhai", starter))).await;
    assert_eq!((st, e["error"]["code"].as_str(), e["error"]["attempt_limit"].as_i64()), (StatusCode::CONFLICT, Some("attempts_used_up"), Some(10)), "{e}");
    let taker_b: i64 = sqlx::query("SELECT id FROM users WHERE student_number = '6002'").fetch_one(&s.db.pool).await.unwrap().get(0);
    sqlx::query("UPDATE sittings SET deadline_at = $1 WHERE taker_id = $2").bind(now - 5).bind(taker_b).execute(&s.db.pool).await.unwrap();
    let (st, e, _) = call(&s, "POST", &hand_in, Some(&kid_b), Some(program("rhai", starter))).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("time_up")), "{e}");

    // The workers grade everything, after both sittings closed; the points arrive.
    let _stop = workers(&s, 2);
    let sub = graded(&s, &kid_a, sub_a).await;
    assert_eq!((sub["status"].as_str(), sub["score"].as_f64()), (Some("done"), sub["max_score"].as_f64()), "the reference scores full marks: {sub}");
    assert!(sub["report"]["cases"].as_array().unwrap().iter().any(|c| c["hidden"] == true), "hidden cases are graded too: {sub}");
    let view_a = settled(&s, &kid_a, aid).await;
    assert_eq!(task_item(&view_a)["points"].as_i64(), Some(2), "both levels reached: {view_a}");
    assert_eq!(task_item(&view_a)["correct"], json!({"levels": [0.5, 1.0]}));
    let other = view_a["items"].as_array().unwrap().iter().find(|i| i["item"]["id"] == "ct-56-001").unwrap()["points"].as_i64().unwrap();
    assert_eq!(view_a["results"]["points"].as_i64(), Some(2 + other), "{view_a}");
    let lit = view_a["results"]["literacies"].as_array().unwrap();
    assert_eq!(lit.iter().map(|l| l["points"].as_i64().unwrap()).sum::<i64>(), 2 + other, "the abilities are scored with the grade: {view_a}");
    let stored: Vec<(String, Option<i64>)> = sqlx::query(
        "SELECT si.item_id, si.points FROM sitting_items si JOIN sittings s ON s.id = si.sitting_id JOIN users u ON u.id = s.taker_id WHERE u.student_number = '6001' ORDER BY si.position",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    assert_eq!(stored, vec![("ct-56-001".to_string(), Some(other)), (TASK.to_string(), Some(2))]);
    let view_b = settled(&s, &kid_b, aid).await;
    // Ten copies of the starter: the best of their grades (all the same) is the item's.
    let programs_b = task_item(&view_b)["programs"].as_array().unwrap().clone();
    assert_eq!(programs_b.len(), 10);
    assert!(programs_b.iter().all(|p| p["status"] == "done" && p["points"] == programs_b[0]["points"]), "{view_b}");
    assert_eq!((view_b["results"]["submitted_by"].as_str(), &task_item(&view_b)["points"]), (Some("deadline"), &programs_b[0]["points"]), "{view_b}");
    assert!(programs_b[0]["points"].as_i64().unwrap() < 2, "the starter does not reach full marks");
    let (_, progress, _) = call(&s, "GET", &format!("{base}/progress"), Some(&teacher), None).await;
    let row_a = progress["takers"].as_array().unwrap().iter().find(|t| t["student_number"] == "6001").unwrap();
    assert_eq!((row_a["grading"].as_bool(), row_a["points"].as_i64()), (Some(false), Some(2 + other)), "{progress}");
    let (_, reports, _) = call(&s, "GET", &format!("{base}/reports"), Some(&teacher), None).await;
    assert_eq!((reports["takers"].as_i64(), reports["grading"].as_i64()), (Some(2), Some(0)), "{reports}");
    // The mistake notebook lists the lab checks the best program failed: none for the reference.
    let (id_a, id_b) = (view_a["sitting"]["id"].as_i64().unwrap(), view_b["sitting"]["id"].as_i64().unwrap());
    let taker = |sitting: i64| {
        let pool = s.db.pool.clone();
        async move { sqlx::query("SELECT taker_id FROM sittings WHERE id = $1").bind(sitting).fetch_one(&pool).await.unwrap().get::<i64, _>(0) }
    };
    let (_, report_a, _) = call(&s, "GET", &format!("{base}/reports/student/{}", taker(id_a).await), Some(&teacher), None).await;
    assert_eq!(report_a["kind"], "student", "{report_a}");
    assert_eq!(report_a["lab_failures"].as_array().map(Vec::len), Some(0), "{report_a}");
    let (_, report_b, _) = call(&s, "GET", &format!("{base}/reports/student/{}", taker(id_b).await), Some(&teacher), None).await;
    let failures = report_b["lab_failures"].as_array().unwrap();
    assert!(!failures.is_empty() && failures.iter().all(|f| f["lab"] == "wall-stop" && !f["feedback"].as_str().unwrap().is_empty()), "{report_b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn performance_items_on_sqlite() {
    delivery("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn performance_items_on_postgres() {
    delivery("postgres").await;
}

/// A database at the schema before performance items (migrations up to 0014) with a
/// row in `submissions` of each kind and in every table that references it
/// (replays, final_choices, evidence, evidence_replays, appeals), migrated: every row
/// survives unchanged, every index is there, a sitting's program can be stored, and a
/// row with no owner or two is refused.
async fn migration_keeps_children(backend: &str) {
    let url = match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("qiming-test-{}-programs-migration", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}?mode=rwc", dir.join("t.db").display())
        }
        _ => fresh_postgres("programs_migration").await,
    };
    sqlx::any::install_default_drivers();
    let blob = |hex: &str| if backend == "postgres" { format!("'\\x{hex}'::bytea") } else { format!("X'{hex}'") };
    // Every child of submissions, with what it must still hold afterwards.
    let children: [(&str, &str); 5] = [
        ("replays", "SELECT submission_id, case_name, hex(data) FROM replays ORDER BY submission_id, case_name"),
        ("final_choices", "SELECT round_id, team_id, lab_id, submission_id, chosen_by, chosen_at FROM final_choices"),
        ("evidence", "SELECT submission_id, report FROM evidence"),
        ("evidence_replays", "SELECT submission_id, case_name, hex(data) FROM evidence_replays"),
        ("appeals", "SELECT id, submission_id, reason, status, score_before, regraded FROM appeals"),
    ];
    let dump = |rows: Vec<sqlx::any::AnyRow>| -> Vec<String> {
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<Option<i64>, _>(i)
                            .map(|v| format!("{v:?}"))
                            .or_else(|_| r.try_get::<Option<String>, _>(i).map(|v| format!("{v:?}")))
                            .or_else(|_| r.try_get::<Option<f64>, _>(i).map(|v| format!("{v:?}")))
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    };
    let hex_sql = |sql: &str| if backend == "postgres" { sql.replace("hex(data)", "upper(encode(data, 'hex'))") } else { sql.to_string() };
    let mut before = Vec::new();
    {
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        if backend == "sqlite" {
            sqlx::query("PRAGMA foreign_keys = ON").execute(&pool).await.unwrap();
        }
        let dir = repo().join(format!("server/migrations/{backend}"));
        let mut old = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
        old.migrations = std::borrow::Cow::Owned(old.migrations.iter().filter(|m| m.version < 15).cloned().collect());
        old.run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO users (id, username, display_name, password_hash, role, created_at) VALUES (1, 'li', 'L', 'x', 'teacher', 0)".to_string(),
            "INSERT INTO users (id, username, display_name, password_hash, role, created_at) VALUES (2, 's1', 'S', 'x', 'student', 0)".into(),
            "INSERT INTO regions (id, name, kind, created_at) VALUES (1, 'R', 'city', 0)".into(),
            "INSERT INTO schools (id, name, region_id, created_at) VALUES (1, 'S', 1, 0)".into(),
            "INSERT INTO classes (id, school_id, teacher_id, name, created_at) VALUES (1, 1, 1, 'C', 0)".into(),
            "INSERT INTO assignments (id, class_id, lab_id, opens_at, due_at, attempt_limit, score_policy, created_by, created_at) VALUES (1, 1, 'wall-stop', 0, 4000000000, 10, 'best', 1, 0)".into(),
            "INSERT INTO events (id, name, tier, kind, school_id, registration_deadline, created_by, created_at) VALUES (1, 'E', 'school', 'robot_sim', 1, 0, 1, 0)".into(),
            "INSERT INTO event_divisions (id, event_id, name, min_grade, max_grade) VALUES (1, 1, 'D', 1, 6)".into(),
            "INSERT INTO teams (id, event_id, division_id, name, coach_id, school_id, status, created_at) VALUES (1, 1, 1, 'T', 1, 1, 'approved', 0)".into(),
            "INSERT INTO rounds (id, event_id, name, opens_at, closes_at, freeze_at, labs, submission_limit, final_key, created_at) VALUES (1, 1, 'R1', 0, 10, 5, 'wall-stop', 5, 'k', 0)".into(),
            "INSERT INTO assessments (id, title, population, mode, presentation, opens_at, closes_at, time_limit_minutes, created_by, created_at) VALUES (1, 'A', 'students', 'fixed', 'single', 0, 4000000000, 30, 1, 0)".into(),
            "INSERT INTO sittings (id, assessment_id, taker_id, started_at, deadline_at) VALUES (1, 1, 2, 0, 4000000000)".into(),
            "INSERT INTO submissions (id, assignment_id, student_id, language, program, submitted_at, status, score, max_score, report, graded_at) VALUES (7, 1, 2, 'rhai', 'stop();', 5, 'done', 10, 100, '{}', 6)".into(),
            "INSERT INTO submissions (id, assignment_id, student_id, language, program, submitted_at, status) VALUES (8, 1, 2, 'rhai', 'stop();', 9, 'queued')".into(),
            "INSERT INTO submissions (id, round_id, team_id, lab_id, student_id, language, program, submitted_at, status, score, max_score, report) VALUES (9, 1, 1, 'wall-stop', 2, 'rhai', 'go();', 3, 'done', 40, 100, '{}')".into(),
            "INSERT INTO submissions (id, round_id, team_id, lab_id, final_of, student_id, language, program, submitted_at, status) VALUES (10, 1, 1, 'wall-stop', 9, 2, 'rhai', 'go();', 11, 'queued')".into(),
            format!("INSERT INTO replays (submission_id, case_name, data) VALUES (7, 'practice-1', {})", blob("0102")),
            format!("INSERT INTO replays (submission_id, case_name, data) VALUES (9, 'practice-1', {})", blob("0A0B")),
            "INSERT INTO final_choices (round_id, team_id, lab_id, submission_id, chosen_by, chosen_at) VALUES (1, 1, 'wall-stop', 9, 2, 4)".into(),
            "INSERT INTO evidence (submission_id, report) VALUES (9, '{\"full\": true}')".into(),
            format!("INSERT INTO evidence_replays (submission_id, case_name, data) VALUES (9, 'hidden-1', {})", blob("0304")),
            "INSERT INTO appeals (id, event_id, round_id, team_id, submission_id, filed_by, reason, filed_at, status, score_before) VALUES (3, 1, 1, 1, 9, 1, 'why', 7, 'open', 40.5)".into(),
        ] {
            sqlx::query(&sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        if backend == "postgres" {
            for t in [
                "users",
                "regions",
                "schools",
                "classes",
                "assignments",
                "events",
                "event_divisions",
                "teams",
                "rounds",
                "assessments",
                "sittings",
                "submissions",
                "appeals",
            ] {
                sqlx::query(&format!("SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))")).execute(&pool).await.unwrap();
            }
        }
        for &(table, sql) in &children {
            let rows = dump(sqlx::query(&hex_sql(sql)).fetch_all(&pool).await.unwrap());
            assert!(!rows.is_empty(), "{table} is filled before the migration");
            before.push(rows);
        }
        pool.close().await;
    }
    let db = qiming::serve::db::Db::connect(&url).await.unwrap();
    let subs = dump(
        sqlx::query("SELECT id, assignment_id, round_id, final_of, status, score, sitting_id FROM submissions ORDER BY id").fetch_all(&db.pool).await.unwrap(),
    );
    assert_eq!(
        subs,
        vec![
            "Some(7)|Some(1)|None|None|Some(\"done\")|Some(10.0)|None",
            "Some(8)|Some(1)|None|None|Some(\"queued\")|None|None",
            "Some(9)|None|Some(1)|None|Some(\"done\")|Some(40.0)|None",
            "Some(10)|None|Some(1)|Some(9)|Some(\"queued\")|None|None",
        ]
    );
    for (&(table, sql), before) in children.iter().zip(&before) {
        let after = dump(sqlx::query(&hex_sql(sql)).fetch_all(&db.pool).await.unwrap());
        assert_eq!(&after, before, "{table} kept every row");
    }
    if backend == "sqlite" {
        // The rebuilt tables refer to each other by their final names, and every index is back.
        let sql: String = sqlx::query("SELECT group_concat(sql, ' ') FROM sqlite_master").fetch_one(&db.pool).await.unwrap().get(0);
        assert!(!sql.contains("_new"), "{sql}");
        let indexes: Vec<String> = sqlx::query("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        for name in [
            "appeals_event",
            "appeals_submission",
            "final_choices_submission",
            "submissions_fair",
            "submissions_final",
            "submissions_owner",
            "submissions_queue",
            "submissions_round",
            "submissions_sitting",
            "submissions_student",
        ] {
            assert!(indexes.iter().any(|i| i == name), "index {name} is missing: {indexes:?}");
        }
        let fk: Vec<sqlx::any::AnyRow> = sqlx::query("PRAGMA foreign_key_check").fetch_all(&db.pool).await.unwrap();
        assert!(fk.is_empty(), "every reference still resolves");
    }
    // Exactly one owner; a sitting's program names its item and lab.
    for sql in [
        "INSERT INTO submissions (student_id, language, program, submitted_at, status) VALUES (2, 'rhai', 'x', 1, 'queued')",
        "INSERT INTO submissions (assignment_id, sitting_id, item_id, lab_id, student_id, language, program, submitted_at, status) VALUES (1, 1, 'ct-56-020', 'wall-stop', 2, 'rhai', 'x', 1, 'queued')",
        "INSERT INTO submissions (round_id, team_id, sitting_id, item_id, lab_id, student_id, language, program, submitted_at, status) VALUES (1, 1, 1, 'ct-56-020', 'wall-stop', 2, 'rhai', 'x', 1, 'queued')",
        "INSERT INTO submissions (sitting_id, lab_id, student_id, language, program, submitted_at, status) VALUES (1, 'wall-stop', 2, 'rhai', 'x', 1, 'queued')",
    ] {
        assert!(sqlx::query(sql).execute(&db.pool).await.is_err(), "accepted: {sql}");
    }
    let next: i64 = sqlx::query(
        "INSERT INTO submissions (sitting_id, item_id, lab_id, student_id, language, program, submitted_at, status) VALUES (1, 'ct-56-020', 'wall-stop', 2, 'rhai', 'x', 1, 'queued') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
    .get(0);
    assert!(next > 10, "new ids continue after the old ones: {next}");
    let appeal: i64 = sqlx::query("INSERT INTO appeals (event_id, round_id, team_id, submission_id, filed_by, reason, filed_at, status) VALUES (1, 1, 1, 9, 1, 'r', 8, 'open') RETURNING id")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    assert!(appeal > 3, "{appeal}");
    // The queue still grades the old jobs (oldest first among equals), and the sitting's program on its item's lab.
    let mut claimed = Vec::new();
    while let Some(job) = db.claim("w", 30).await.unwrap() {
        claimed.push((job.id, job.lab_id, job.seeds));
    }
    use qiming::serve::queue::Seeds;
    assert_eq!(claimed.iter().map(|c| c.0).collect::<Vec<_>>(), vec![8, 10, next]);
    assert_eq!(claimed[2], (next, "wall-stop".to_string(), Seeds::Server));
    // Deleting a sitting takes its programs with it.
    sqlx::query("DELETE FROM sittings WHERE id = 1").execute(&db.pool).await.unwrap();
    let left: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE sitting_id IS NOT NULL").fetch_one(&db.pool).await.unwrap().get(0);
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_keeps_submission_children_on_sqlite() {
    migration_keeps_children("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_keeps_submission_children_on_postgres() {
    migration_keeps_children("postgres").await;
}
