//! Assignments after they are made, on both databases: edit, extend and close
//! (bad values name their field; only the class's managers; audited), the
//! warning when a lab is assigned twice, deleting only with `force` once
//! children have submitted, the class's progress, the reasons a student
//! cannot submit — and the lab page's lesson panel, read from the curriculum.

use axum::http::StatusCode;
use qiming::serve::http::AppState;
use qiming::serve::lesson::{self, Band, grade_in_class_name};
use qiming::serve::org::Class;
use serde_json::{Value, json};

use crate::classroom::{School, graded, school, workers};
use crate::server::{call, import_roster, login, state};
use crate::support::repo;

/// Imports students into a class and signs each in with a password of their own; returns their tokens.
async fn students(s: &AppState, teacher: &str, class: i64, rows: &[(&str, &str)]) -> Vec<(i64, String)> {
    let csv: String = std::iter::once("学号,姓名\n".to_string()).chain(rows.iter().map(|(n, name)| format!("{n},{name}\n"))).collect();
    let (st, v) = import_roster(s, teacher, class, csv).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let mut out = Vec::new();
    for c in v["created"].as_array().unwrap() {
        let first = login(s, c["username"].as_str().unwrap(), c["password"].as_str().unwrap()).await;
        let (st, _, _) =
            call(s, "POST", "/api/password", Some(&first), Some(json!({"current_password": c["password"], "new_password": "red panda 2024"}))).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        out.push((c["id"].as_i64().unwrap(), login(s, c["username"].as_str().unwrap(), "red panda 2024").await));
    }
    out
}

async fn new_class(s: &AppState, teacher: &str, name: &str) -> i64 {
    let (st, c, _) = call(s, "POST", "/api/classes", Some(teacher), Some(json!({ "name": name }))).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    c["id"].as_i64().unwrap()
}

async fn audit_rows(s: &AppState, action: &str) -> Vec<String> {
    sqlx::query("SELECT detail FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&s.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| sqlx::Row::try_get::<String, _>(r, 0).unwrap())
        .collect()
}

/// The field a 400 names.
fn field_of(e: &Value) -> &str {
    e["error"]["field"].as_str().unwrap_or("")
}

async fn assignments(backend: &str) {
    let s = state(backend, "assignments").await;
    let stop = workers(&s, 1);
    let School { admin, school_id, teacher } = school(&s).await;
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/users",
        Some(&admin),
        Some(json!({"username": "wang", "display_name": "王老师", "role": "teacher", "school_id": school_id, "password": "teacher-password"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let other_teacher = login(&s, "wang", "teacher-password").await;
    let class = new_class(&s, &teacher, "五年级（2）班").await;
    let kids = students(&s, &teacher, class, &[("3001", "张一"), ("3002", "李二"), ("3003", "王三")]).await;
    let (a_kid, b_kid, c_kid) = (&kids[0].1, &kids[1].1, &kids[2].1);
    let now = qiming::serve::now();
    let due = now + 7 * 24 * 3600;
    let assign = |body: Value| {
        let (s, teacher) = (&s, &teacher);
        async move { call(s, "POST", &format!("/api/classes/{class}/assignments"), Some(teacher), Some(body)).await }
    };

    // Assigning a lab twice warns with the assignment that exists; confirmed, it is assigned again.
    let (st, a, _) = assign(json!({"lab_id": "wall-stop", "due_at": due, "attempt_limit": 3})).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let aid = a["id"].as_i64().unwrap();
    let (st, e, _) = assign(json!({"lab_id": "wall-stop", "due_at": due})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_assigned")), "{e}");
    assert_eq!(e["error"]["existing"]["id"], aid);
    assert_eq!(e["error"]["existing"]["title"]["zh-CN"], "墙前停车");
    assert_eq!(e["error"]["existing"]["due_at"], due);
    let (st, twin, _) = assign(json!({"lab_id": "wall-stop", "due_at": due, "allow_duplicate": true})).await;
    assert_eq!(st, StatusCode::CREATED, "{twin}");
    // Nobody has submitted to the twin: it goes without force.
    let (st, _, _) = call(&s, "DELETE", &format!("/api/assignments/{}", twin["id"]), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    // Edits: every bad value is refused naming its field, and nothing changes.
    let path = format!("/api/assignments/{aid}");
    for (body, field) in [
        (json!({"attempt_limit": 0}), "attempt_limit"),
        (json!({"attempt_limit": 101}), "attempt_limit"),
        (json!({"due_at": now - 60}), "due_at"),
        (json!({"opens_at": due + 10}), "opens_at"),
        (json!({"score_policy": "average"}), "score_policy"),
        (json!({"languages": ["python"]}), "languages"),
        (json!({"languages": []}), "languages"),
        (json!({"title": "作".repeat(101)}), "title"),
        (json!({"close": true, "due_at": due + 10}), "close"),
    ] {
        let (st, e, _) = call(&s, "PATCH", &path, Some(&teacher), Some(body.clone())).await;
        assert_eq!((st, field_of(&e)), (StatusCode::BAD_REQUEST, field), "{body} → {e}");
        assert_eq!(e["error"]["code"], "invalid");
        assert!(e["error"]["reason"].is_string(), "{e}");
    }
    let (st, e, _) = call(&s, "PATCH", &path, Some(&teacher), Some(json!({}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "an empty change: {e}");
    let (st, e, _) = call(&s, "PATCH", &path, Some(&teacher), Some(json!({"colour": "red"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("colour"), "{e}");
    // Only the class's managers: another teacher does not see it, a student may not change it.
    assert_eq!(call(&s, "PATCH", &path, Some(&other_teacher), Some(json!({"attempt_limit": 5}))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&s, "PATCH", &path, Some(a_kid), Some(json!({"attempt_limit": 5}))).await.0, StatusCode::FORBIDDEN);
    assert!(audit_rows(&s, "assignment_update").await.is_empty(), "refused edits change nothing");
    // A good edit: own title, a week more, Rhai only.
    let later = due + 7 * 24 * 3600;
    let (st, a, _) =
        call(&s, "PATCH", &path, Some(&teacher), Some(json!({"title": " 第一次作业：停车 ", "due_at": later, "attempt_limit": 3, "languages": ["rhai"]})))
            .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!((a["title"]["zh-CN"].as_str(), a["title"]["en"].as_str()), (Some("第一次作业：停车"), Some("第一次作业：停车")));
    assert_eq!(a["lab_title"]["zh-CN"], "墙前停车");
    assert_eq!((a["due_at"].as_i64(), a["languages"].clone()), (Some(later), json!(["rhai"])));
    let updates = audit_rows(&s, "assignment_update").await;
    assert_eq!(updates.len(), 1);
    assert!(updates[0].contains(&format!("assignment_id={aid}")) && updates[0].contains("changed=title,due_at,attempt_limit,languages"), "{updates:?}");
    assert!(!updates[0].contains("停车"), "the title's text stays out of the audit log: {updates:?}");
    // The languages are enforced: WebAssembly is refused now, naming the field.
    let submit = |token: &str, program: &str| {
        let (s, path) = (&s, format!("/api/assignments/{aid}/submissions"));
        let body = json!({"language": "rhai", "program": program});
        let token = token.to_string();
        async move { call(s, "POST", &path, Some(&token), Some(body)).await }
    };
    let (st, e, _) = call(&s, "POST", &format!("{path}/submissions"), Some(a_kid), Some(json!({"language": "wasm", "program": "(module)"}))).await;
    assert_eq!((st, field_of(&e)), (StatusCode::BAD_REQUEST, "language"), "{e}");

    // The student's status and reasons, from the server.
    let (_, mine, _) = call(&s, "GET", &path, Some(a_kid), None).await;
    assert_eq!((mine["status"].as_str(), mine["can_submit"].as_bool(), mine["reason"].clone()), (Some("open"), Some(true), Value::Null), "{mine}");
    let reference = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/reference.rhai")).unwrap();
    let wrong = std::fs::read_to_string(repo().join("curriculum/labs/wall-stop/wrong-bumps.rhai")).unwrap();
    let (st, sub, _) = submit(a_kid, &reference).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{sub}");
    graded(&s, a_kid, sub["id"].as_i64().unwrap()).await;
    let (_, mine, _) = call(&s, "GET", &path, Some(a_kid), None).await;
    assert_eq!((mine["status"].as_str(), mine["can_submit"].as_bool()), (Some("submitted"), Some(true)), "{mine}");
    for _ in 0..2 {
        let (st, sub, _) = submit(a_kid, "stop();").await;
        assert_eq!(st, StatusCode::ACCEPTED);
        graded(&s, a_kid, sub["id"].as_i64().unwrap()).await;
    }
    let (_, mine, _) = call(&s, "GET", &path, Some(a_kid), None).await;
    assert_eq!(
        (mine["status"].as_str(), mine["can_submit"].as_bool(), mine["reason"].as_str()),
        (Some("attempts_used_up"), Some(false), Some("attempts_used_up"))
    );
    let (st, e, _) = submit(a_kid, "stop();").await;
    assert_eq!(
        (st, e["error"]["code"].as_str(), e["error"]["reason"].as_str()),
        (StatusCode::CONFLICT, Some("cannot_submit"), Some("attempts_used_up")),
        "{e}"
    );
    let (st, sub, _) = submit(b_kid, &wrong).await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let b_score = graded(&s, b_kid, sub["id"].as_i64().unwrap()).await["score"].as_f64().unwrap();
    assert!(b_score < 60.0, "{b_score}");

    // Progress: two of three have submitted; the one who has not is named; the scores spread.
    let progress_path = format!("{path}/progress");
    let (st, p, _) = call(&s, "GET", &progress_path, Some(&teacher), None).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!((p["students"].as_i64(), p["submitted"].as_i64(), p["scored"].as_i64(), p["submissions"].as_i64()), (Some(3), Some(2), Some(2), Some(4)), "{p}");
    assert_eq!(p["not_submitted"].as_array().unwrap().iter().map(|s| s["display_name"].as_str().unwrap()).collect::<Vec<_>>(), vec!["王三"]);
    assert_eq!((p["best"].as_f64(), p["average"].as_f64()), (Some(100.0), Some((100.0 + b_score) / 2.0)), "best policy: {p}");
    let bins = |p: &Value| {
        p["histogram"].as_array().unwrap().iter().map(|b| (b["label"].as_str().unwrap().to_string(), b["count"].as_i64().unwrap())).collect::<Vec<_>>()
    };
    let label = |l: &str, n: i64| (l.to_string(), n);
    assert_eq!(bins(&p), vec![label("0–59", 1), label("60–69", 0), label("70–79", 0), label("80–89", 0), label("90–100", 1)]);
    // An override counts, as in the gradebook.
    let (st, _, _) = call(&s, "PUT", &format!("{path}/overrides/{}", kids[1].0), Some(&teacher), Some(json!({"score": 75, "comment": "补交了说明"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, p, _) = call(&s, "GET", &progress_path, Some(&teacher), None).await;
    assert_eq!(p["average"].as_f64(), Some(87.5), "{p}");
    assert_eq!(bins(&p)[2], label("70–79", 1));
    assert_eq!(call(&s, "GET", &progress_path, Some(c_kid), None).await.0, StatusCode::FORBIDDEN);

    // Close now: students are told it is closed; extending reopens it.
    let (st, closed, _) = call(&s, "PATCH", &path, Some(&teacher), Some(json!({"close": true}))).await;
    assert_eq!(st, StatusCode::OK, "{closed}");
    assert!(closed["due_at"].as_i64().unwrap() <= qiming::serve::now());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, mine, _) = call(&s, "GET", &path, Some(c_kid), None).await;
    assert_eq!((mine["status"].as_str(), mine["reason"].as_str()), (Some("closed"), Some("closed")), "{mine}");
    let (st, e, _) = submit(c_kid, "stop();").await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::CONFLICT, Some("closed")), "{e}");
    let (st, _, _) = call(&s, "PATCH", &path, Some(&teacher), Some(json!({"due_at": qiming::serve::now() + 86_400}))).await;
    assert_eq!(st, StatusCode::OK);
    let (_, mine, _) = call(&s, "GET", &path, Some(c_kid), None).await;
    assert_eq!((mine["status"].as_str(), mine["can_submit"].as_bool()), (Some("open"), Some(true)), "{mine}");
    assert_eq!(audit_rows(&s, "assignment_update").await.len(), 3);

    // Not open yet: the reason and when it opens.
    let opens = qiming::serve::now() + 3600;
    let (st, future, _) = assign(json!({"lab_id": "square", "opens_at": opens, "due_at": opens + 3600})).await;
    assert_eq!(st, StatusCode::CREATED, "{future}");
    let fpath = format!("/api/assignments/{}", future["id"]);
    let (_, mine, _) = call(&s, "GET", &fpath, Some(c_kid), None).await;
    assert_eq!((mine["status"].as_str(), mine["reason"].as_str(), mine["opens_at"].as_i64()), (Some("not_open"), Some("not_open"), Some(opens)), "{mine}");
    let (_, list, _) = call(&s, "GET", "/api/assignments", Some(c_kid), None).await;
    let listed = list["assignments"].as_array().unwrap().iter().find(|x| x["id"] == future["id"]).unwrap().clone();
    assert_eq!((listed["status"].as_str(), listed["can_submit"].as_bool()), (Some("not_open"), Some(false)), "the list carries the status too");
    let (st, e, _) = call(&s, "POST", &format!("{fpath}/submissions"), Some(c_kid), Some(json!({"language": "rhai", "program": "stop();"}))).await;
    assert_eq!((st, e["error"]["reason"].as_str(), e["error"]["opens_at"].as_i64()), (StatusCode::CONFLICT, Some("not_open"), Some(opens)), "{e}");

    // Deleting an assignment children have submitted to needs force, and says what would go.
    let (st, e, _) = call(&s, "DELETE", &path, Some(&teacher), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("has_submissions")), "{e}");
    assert_eq!((e["error"]["submissions"].as_i64(), e["error"]["students"].as_i64()), (Some(4), Some(2)));
    assert_eq!(call(&s, "DELETE", &format!("{path}?force=true"), Some(a_kid), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&s, "DELETE", &format!("{path}?force=maybe"), Some(&teacher), None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call(&s, "GET", &path, Some(&teacher), None).await.0, StatusCode::OK, "still there");
    let (st, _, _) = call(&s, "DELETE", &format!("{path}?force=true"), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(call(&s, "GET", &path, Some(&teacher), None).await.0, StatusCode::NOT_FOUND);
    let left: i64 =
        sqlx::Row::try_get(&sqlx::query("SELECT COUNT(*) FROM submissions WHERE assignment_id = $1").bind(aid).fetch_one(&s.db.pool).await.unwrap(), 0)
            .unwrap();
    assert_eq!(left, 0);
    let deletes = audit_rows(&s, "assignment_delete").await;
    assert!(deletes.last().unwrap().contains(&format!("assignment_id={aid}")) && deletes.last().unwrap().contains("submissions=4"), "{deletes:?}");
    assert_eq!(audit_rows(&s, "assignment_create").await.len(), 3, "created in the same transaction as their audit rows");

    // The lab page's panel, and the languages offered by grade band.
    let (_, page, _) = call(&s, "GET", &fpath, Some(c_kid), None).await;
    let panel = &page["panel"];
    assert_eq!((panel["grade_band"].as_str(), panel["grade_band_from"].as_str()), (Some("primary"), Some("class_name")), "{panel}");
    assert_eq!(panel["offered_languages"], json!({"default": ["rhai"], "advanced": []}));
    assert!(!panel["lesson"]["outline"]["zh-CN"]["goals"].as_array().unwrap().is_empty(), "{panel}");
    assert!(panel["arena"]["arena_size"].is_array() && panel["arena"]["start"].is_array(), "{panel}");
    for (name, band, offered) in [
        ("初二(1)班", "junior", json!({"default": ["rhai"], "advanced": ["wasm"]})),
        ("高一 3 班", "senior", json!({"default": ["rhai", "wasm"], "advanced": []})),
    ] {
        let other = new_class(&s, &teacher, name).await;
        let (_, x, _) =
            call(&s, "POST", &format!("/api/classes/{other}/assignments"), Some(&teacher), Some(json!({"lab_id": "wall-stop", "due_at": due}))).await;
        let (_, x, _) = call(&s, "GET", &format!("/api/assignments/{}", x["id"]), Some(&teacher), None).await;
        assert_eq!((x["panel"]["grade_band"].as_str(), &x["panel"]["offered_languages"]), (Some(band), &offered), "{name}");
        // A teacher's choice of languages is offered as it is.
        let (_, x, _) = call(&s, "PATCH", &format!("/api/assignments/{}", x["id"]), Some(&teacher), Some(json!({"languages": ["wasm"]}))).await;
        let (_, x, _) = call(&s, "GET", &format!("/api/assignments/{}", x["id"]), Some(&teacher), None).await;
        assert_eq!(x["panel"]["offered_languages"], json!({"default": ["wasm"], "advanced": []}));
    }
    let _ = stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_on_sqlite() {
    assignments("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_on_postgres() {
    assignments("postgres").await;
}

#[test]
fn class_names_state_their_grade() {
    for (name, grade) in [
        ("五年级（2）班", Some(5)),
        ("五年级(2)班", Some(5)),
        ("7年级3班", Some(7)),
        ("七年级 3 班", Some(7)),
        ("十二年级1班", Some(12)),
        ("初二(1)班", Some(8)),
        ("初三3班", Some(9)),
        ("高一 3 班", Some(10)),
        ("高三（2）班", Some(12)),
        ("五(2)班", Some(5)),
        ("三（１）班", Some(3)),
        ("Grade 5 A", Some(5)),
        ("grade11", Some(11)),
        ("机器人社团", None),
        ("2023级1班", None),
        ("初中部编程兴趣班", None),
        ("高2023级(1)班", None),
    ] {
        assert_eq!(grade_in_class_name(name), grade, "{name}");
    }
    assert_eq!([3, 6, 7, 9, 10, 12].map(Band::of_grade), [Band::Primary, Band::Primary, Band::Junior, Band::Junior, Band::Senior, Band::Senior]);
    assert_eq!(["1-2", "5-6", "7-9", "10-12"].map(Band::of_lab), [Band::Primary, Band::Primary, Band::Junior, Band::Senior]);
}

/// Every lab's panel has what the page shows: the lesson's goals and steps
/// in both languages, robot functions with units, and an arena to draw.
#[test]
fn every_lab_has_a_lesson_panel() {
    let catalogue = qiming_curriculum::Catalogue::open(&repo().join("curriculum")).unwrap();
    let class = Class { id: 1, school_id: 1, teacher_id: 1, name: "机器人社团".into() };
    for lab in &catalogue.labs {
        let panel = lesson::panel(&catalogue, lab, &class, &lab.languages, false);
        for lang in ["zh-CN", "en"] {
            let outline = &panel["lesson"]["outline"][lang];
            for part in ["goals", "steps"] {
                let items = outline[part].as_array().unwrap_or_else(|| panic!("{}: no lesson: {panel}", lab.id));
                assert!(!items.is_empty(), "{} {lang}: no {part}", lab.id);
                assert!(items.iter().all(|i| !i.as_str().unwrap().contains("](")), "{} {lang}: links are reduced to text: {items:?}", lab.id);
            }
        }
        let functions = panel["robot"]["functions"].as_array().unwrap();
        assert!(!functions.is_empty(), "{}", lab.id);
        for f in functions {
            for q in f["args"].as_array().unwrap().iter().chain(f["returns"].is_object().then_some(&f["returns"])) {
                assert!(q["unit"].is_string(), "{}: {f}", lab.id);
            }
        }
        assert!(panel["arena"]["arena_size"].is_array(), "{}", lab.id);
        // The lab's own band decides for a class whose name states no grade.
        assert_eq!(panel["grade_band_from"], "lab");
    }
    // wall-stop's lesson drives on the distance sensor: 0 to 3 m, named front/left/right.
    let lab = catalogue.lab("wall-stop").unwrap();
    let panel = lesson::panel(&catalogue, lab, &class, &lab.languages, false);
    let distance = panel["robot"]["functions"].as_array().unwrap().iter().find(|f| f["name"] == "distance").expect("distance is used").clone();
    assert_eq!(distance["returns"], json!({"unit": "m", "min": 0.0, "max": 3.0}));
    assert_eq!(distance["args"][0]["values"], json!(["front", "left", "right"]));
    assert!(panel["lesson"]["outline"]["en"]["steps"][1].as_str().unwrap().contains("distance(\"front\")"), "{panel}");
}
