//! The gradebook on both databases: cell states (not submitted, grading,
//! failed, graded), averages, medians and completion, overrides the student
//! sees (and no other student does), clearing them, and the CSV and XLSX
//! exports in both languages (the CSV against snapshots).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qiming::serve::http::AppState;
use serde_json::{Value, json};

use crate::classroom::school;
use crate::server::{call, import_roster, login, raw_bytes, state};
use crate::support::repo;

/// Imports a roster into the class; returns the created accounts.
async fn roster(s: &AppState, token: &str, class: i64, csv: &str) -> Vec<Value> {
    let (st, v) = import_roster(s, token, class, csv).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["created"].as_array().unwrap().clone()
}

/// Signs a freshly imported student in and sets their own password; returns their token.
async fn sign_in(s: &AppState, account: &Value) -> String {
    let username = account["username"].as_str().unwrap();
    let first = login(s, username, account["password"].as_str().unwrap()).await;
    let (st, _, _) =
        call(s, "POST", "/api/password", Some(&first), Some(json!({"current_password": account["password"], "new_password": "student-pass-1"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    login(s, username, "student-pass-1").await
}

async fn assign(s: &AppState, token: &str, class: i64, body: Value) -> i64 {
    let (st, a, _) = call(s, "POST", &format!("/api/classes/{class}/assignments"), Some(token), Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    a["id"].as_i64().unwrap()
}

/// A submission in a given state, written straight to the table: the
/// gradebook's arithmetic is under test here, not the grader.
async fn submission(s: &AppState, assignment: i64, student: i64, status: &str, score: Option<f64>) {
    // An ungraded row gets literal NULLs rather than bound `None`s: through
    // sqlx's Any driver on PostgreSQL, one cached statement bound first with a
    // NULL and later with an f64 was once refused (22P03, "incorrect binary
    // data format in bind parameter 5").
    let insert = "INSERT INTO submissions (assignment_id, student_id, language, program, submitted_at, status, score, max_score) VALUES ($1, $2, 'rhai', 'stop();', $3, $4";
    let sql = if score.is_some() { format!("{insert}, $5, $6)") } else { format!("{insert}, NULL, NULL)") };
    let mut query = sqlx::query(&sql).bind(assignment).bind(student).bind(qiming::serve::now()).bind(status);
    if let Some(score) = score {
        query = query.bind(score).bind(100.0);
    }
    query.execute(&s.db.pool).await.unwrap();
}

async fn export(s: &AppState, token: &str, path: &str, lang: Option<&str>) -> Vec<u8> {
    let mut req = Request::builder().uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(l) = lang {
        req = req.header(header::ACCEPT_LANGUAGE, l);
    }
    let (st, bytes, _) = raw_bytes(s, req.body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
    bytes
}

async fn audits(s: &AppState, action: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = $1").bind(action).fetch_one(&s.db.pool).await.unwrap(), 0).unwrap()
}

fn grade(book: &Value, student: i64, assignment: i64) -> &Value {
    let row = book["students"].as_array().unwrap().iter().find(|r| r["id"] == student).expect("the student's row");
    row["grades"].as_array().unwrap().iter().find(|g| g["assignment_id"] == assignment).expect("the assignment's cell")
}

fn row(book: &Value, student: i64) -> &Value {
    book["students"].as_array().unwrap().iter().find(|r| r["id"] == student).expect("the student's row")
}

async fn gradebook(backend: &str) {
    let s = state(backend, "gradebook").await;
    let sc = school(&s).await;
    let teacher = sc.teacher.clone();
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五(2)班"}))).await;
    let class_id = class["id"].as_i64().unwrap();
    let created = roster(&s, &teacher, class_id, "学号,姓名\n20230101,张小明\n20230102,李华\n20230103,王芳\n20230104,陈思思\n").await;
    let id = |i: usize| created[i]["id"].as_i64().unwrap();
    let (ming, hua, fang, sisi) = (id(0), id(1), id(2), id(3));
    let now = qiming::serve::now();
    let week = 7 * 24 * 3600;
    // Ordered by due date: square, then wall-stop, then one that opens next week.
    let square = assign(&s, &teacher, class_id, json!({"lab_id": "square", "due_at": now + week, "score_policy": "last"})).await;
    let wall = assign(&s, &teacher, class_id, json!({"lab_id": "wall-stop", "due_at": now + 2 * week})).await;
    let later = assign(&s, &teacher, class_id, json!({"lab_id": "line-follow", "opens_at": now + week, "due_at": now + 3 * week})).await;
    // A title of the teacher's own names its column, in both languages.
    let (st, e, _) = call(&s, "PATCH", &format!("/api/assignments/{later}"), Some(&teacher), Some(json!({"title": "期末练习：巡线"}))).await;
    assert_eq!(st, StatusCode::OK, "{e}");

    // 张小明: two graded attempts at wall-stop (best counts), one at square.
    submission(&s, wall, ming, "done", Some(80.0)).await;
    submission(&s, wall, ming, "done", Some(60.0)).await;
    submission(&s, square, ming, "done", Some(50.0)).await;
    // 李华: wall-stop waiting for the grader, square failed in the grader (our fault).
    submission(&s, wall, hua, "queued", None).await;
    submission(&s, square, hua, "failed", None).await;
    // 王芳: square twice, the last counts; nothing for wall-stop.
    submission(&s, square, fang, "done", Some(100.0)).await;
    submission(&s, square, fang, "done", Some(90.0)).await;
    // 陈思思: nothing at all.

    // Overrides: bad input gets typed errors; then two good ones, audited in the same transaction.
    let put = |a: i64, st: i64| format!("/api/assignments/{a}/overrides/{st}");
    for (body, code) in [
        (json!({"score": 101, "comment": "太高"}), "score"),
        (json!({"score": -1, "comment": "太低"}), "score"),
        (json!({"score": 90, "comment": "  "}), "comment"),
        (json!({"score": 90, "comment": "长".repeat(501)}), "comment"),
    ] {
        let (st, e, _) = call(&s, "PUT", &put(wall, ming), Some(&teacher), Some(body)).await;
        assert_eq!((st, e["error"]["code"].as_str(), e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid"), Some(code)), "{e}");
    }
    let (st, _, _) = call(&s, "PUT", &put(wall, ming), Some(&teacher), Some(json!({"score": 95, "comment": "=1+1 思路很好，记得写注释"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _, _) = call(&s, "PUT", &put(wall, fang), Some(&teacher), Some(json!({"score": 70, "comment": "补交了纸质作业"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(audits(&s, "grade_override").await, 2);

    // The gradebook: states, both scores of an overridden cell, and the statistics.
    let (st, book, _) = call(&s, "GET", &format!("/api/classes/{class_id}/gradebook"), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::OK, "{book}");
    let g = grade(&book, ming, wall);
    assert_eq!(
        (g["score"].as_f64(), g["auto_score"].as_f64(), g["attempts"].as_i64(), g["status"].as_str()),
        (Some(95.0), Some(80.0), Some(2), Some("graded"))
    );
    assert_eq!(g["override"]["comment"], "=1+1 思路很好，记得写注释");
    assert!(g["override"]["at"].as_i64().unwrap() >= now);
    let g = grade(&book, hua, wall);
    assert_eq!((g["score"].clone(), g["attempts"].as_i64(), g["status"].as_str(), g["override"].clone()), (Value::Null, Some(1), Some("grading"), Value::Null));
    let g = grade(&book, hua, square);
    assert_eq!(
        (g["score"].clone(), g["attempts"].as_i64(), g["status"].as_str()),
        (Value::Null, Some(0), Some("failed")),
        "a failed grading is not an attempt"
    );
    let g = grade(&book, fang, square);
    assert_eq!((g["score"].as_f64(), g["attempts"].as_i64()), (Some(90.0), Some(2)), "policy last");
    let g = grade(&book, fang, wall);
    assert_eq!(
        (g["score"].as_f64(), g["auto_score"].clone(), g["status"].as_str()),
        (Some(70.0), Value::Null, Some("missing")),
        "an override without a submission"
    );
    assert_eq!((grade(&book, sisi, later)["status"].as_str(), grade(&book, sisi, square)["status"].as_str()), (Some("not_open"), Some("missing")));
    let stats = |a: i64| book["assignments"].as_array().unwrap().iter().find(|x| x["id"] == a).unwrap()["stats"].clone();
    assert_eq!(stats(square), json!({"average": 70.0, "median": 70.0, "submitted": 3, "scored": 2, "students": 4}));
    assert_eq!(stats(wall), json!({"average": 82.5, "median": 82.5, "submitted": 2, "scored": 2, "students": 4}));
    assert_eq!(stats(later), json!({"average": null, "median": null, "submitted": 0, "scored": 0, "students": 4}));
    assert_eq!((row(&book, ming)["average"].as_f64(), row(&book, ming)["missing"].as_i64()), (Some(72.5), Some(0)));
    assert_eq!((row(&book, hua)["average"].clone(), row(&book, hua)["missing"].as_i64()), (Value::Null, Some(0)));
    assert_eq!((row(&book, fang)["average"].as_f64(), row(&book, fang)["missing"].as_i64()), (Some(80.0), Some(0)), "an override is not missing work");
    assert_eq!(row(&book, sisi)["missing"], 2, "the assignment not open yet is nobody's missing work");
    assert_eq!(book["average"], 76.25);
    let later_title = &book["assignments"].as_array().unwrap().iter().find(|x| x["id"] == later).unwrap()["title"];
    assert_eq!(later_title, &json!({"zh-CN": "期末练习：巡线", "en": "期末练习：巡线"}));

    // The student sees the teacher's score, comment and when it was set…
    let ming_token = sign_in(&s, &created[0]).await;
    let (_, mine, _) = call(&s, "GET", "/api/assignments", Some(&ming_token), None).await;
    let mine_wall = mine["assignments"].as_array().unwrap().iter().find(|a| a["id"] == wall).unwrap();
    assert_eq!((mine_wall["score"].as_f64(), mine_wall["override"]["score"].as_f64()), (Some(95.0), Some(95.0)));
    assert_eq!(mine_wall["override"]["comment"], "=1+1 思路很好，记得写注释");
    let mine_square = mine["assignments"].as_array().unwrap().iter().find(|a| a["id"] == square).unwrap();
    assert_eq!(mine_square["override"], Value::Null);
    let (_, detail, _) = call(&s, "GET", &format!("/api/assignments/{wall}"), Some(&ming_token), None).await;
    assert_eq!((detail["score"].as_f64(), detail["override"]["comment"].as_str()), (Some(95.0), Some("=1+1 思路很好，记得写注释")));
    assert!(detail["override"]["at"].as_i64().unwrap() >= now);
    // …and a classmate sees neither it nor the other override.
    let hua_token = sign_in(&s, &created[1]).await;
    for path in ["/api/assignments".to_string(), format!("/api/assignments/{wall}")] {
        let (st, theirs, _) = call(&s, "GET", &path, Some(&hua_token), None).await;
        assert_eq!(st, StatusCode::OK);
        let text = theirs.to_string();
        assert!(!text.contains("思路很好") && !text.contains("纸质作业"), "{path}: {text}");
    }
    let (_, theirs, _) = call(&s, "GET", &format!("/api/assignments/{wall}"), Some(&hua_token), None).await;
    assert_eq!(theirs["override"], Value::Null);
    assert_eq!(call(&s, "GET", &format!("/api/classes/{class_id}/gradebook.csv"), Some(&hua_token), None).await.0, StatusCode::FORBIDDEN);

    // Exports: every assignment's score (or its state), attempts, override flag and comment,
    // the averages, headers in the requester's language; formula-like text neutralised.
    let csv_path = format!("/api/classes/{class_id}/gradebook.csv");
    let zh = String::from_utf8(export(&s, &teacher, &format!("{csv_path}?lang=zh-CN"), Some("en")).await).unwrap();
    let en = String::from_utf8(export(&s, &teacher, &csv_path, Some("en-GB,en;q=0.9")).await).unwrap();
    assert!(zh.starts_with('\u{feff}') && en.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(zh.contains("'=1+1"), "formula neutralised: {zh}");
    let cookie = Request::builder()
        .uri(&csv_path)
        .header(header::AUTHORIZATION, format!("Bearer {teacher}"))
        .header(header::COOKIE, "qiming_lang=en")
        .body(Body::empty())
        .unwrap();
    assert_eq!(String::from_utf8(raw_bytes(&s, cookie).await.1).unwrap(), en, "the language cookie picks English too");
    insta::with_settings!({ snapshot_path => repo().join("tests/all/snapshots"), prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("gradebook-csv-zh-CN", zh);
        insta::assert_snapshot!("gradebook-csv-en", en);
    });
    assert_eq!(audits(&s, "gradebook_export").await, 3);

    let xlsx = export(&s, &teacher, &format!("/api/classes/{class_id}/gradebook.xlsx?lang=en"), None).await;
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    assert_eq!(wb.sheet_names(), vec!["Gradebook".to_string()]);
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let head: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        head[..6],
        ["Student number", "Name", "Drive a square: score", "Drive a square: attempts", "Drive a square: set by teacher", "Drive a square: teacher's comment"]
    );
    assert_eq!(head[head.len() - 2..], ["Average", "Missing work"]);
    let ming_row = &rows[1];
    assert_eq!(ming_row[..2], [Data::String("20230101".into()), Data::String("张小明".into())], "student numbers stay text");
    assert_eq!(ming_row[6..10], [Data::Float(95.0), Data::Float(2.0), Data::String("yes".into()), Data::String("=1+1 思路很好，记得写注释".into())]);
    assert_eq!(rows[2][2], Data::String("Grading failed".into()));
    assert_eq!(rows[4][2], Data::String("Not submitted".into()));
    let average = &rows[5];
    assert_eq!((average[0].clone(), average[2].clone(), average[6].clone()), (Data::String("Class average".into()), Data::Float(70.0), Data::Float(82.5)));
    assert_eq!(rows[7][6], Data::String("2 of 4 submitted".into()));

    // Clearing: the computed score counts again, for the teacher and the student; audited once.
    let (st, _, _) = call(&s, "DELETE", &put(wall, ming), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _, _) = call(&s, "DELETE", &put(wall, ming), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "clearing again is harmless");
    assert_eq!(audits(&s, "grade_override_clear").await, 1);
    let (_, book, _) = call(&s, "GET", &format!("/api/classes/{class_id}/gradebook"), Some(&teacher), None).await;
    let g = grade(&book, ming, wall);
    assert_eq!((g["score"].as_f64(), g["auto_score"].as_f64(), g["override"].clone()), (Some(80.0), Some(80.0), Value::Null));
    assert_eq!(grade(&book, fang, wall)["override"]["score"], 70.0, "only that override is gone");
    let (_, detail, _) = call(&s, "GET", &format!("/api/assignments/{wall}"), Some(&ming_token), None).await;
    assert_eq!((detail["score"].as_f64(), detail["override"].clone()), (Some(80.0), Value::Null));
    let (st, _, _) = call(&s, "DELETE", &put(wall, ming), Some(&ming_token), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a student cannot clear anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gradebook_on_sqlite() {
    gradebook("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gradebook_on_postgres() {
    gradebook("postgres").await;
}
