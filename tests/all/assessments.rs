//! Assessment delivery on both databases: a teacher sets a fixed form, a student
//! sits it, saves answers, loses the connection and the server (a new `app(state)`
//! over the same database), resumes with every saved answer and submits; the key
//! never reaches a taker before the end; the window and the server's deadline are
//! enforced; adaptive sittings end at the SE target or the length limit; teachers
//! sit their own population's test; managers see live progress.

use axum::http::StatusCode;
use qiming::serve::db::Db;
use qiming::serve::http::AppState;
use qiming_curriculum::Catalogue;
use serde_json::{Value, json};

use crate::classroom::{School, school};
use crate::server::{call, import_roster, login, state};
use crate::support::repo;

/// The database URL `server::fresh_db` made for `tag`, to connect to it again.
fn url_of(backend: &str, tag: &str) -> String {
    match backend {
        "sqlite" => format!("sqlite://{}", std::env::temp_dir().join(format!("qiming-test-{}-{tag}", std::process::id())).join("t.db").display()),
        _ => {
            let base = std::env::var("QIMING_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            format!("{base}/qiming_t_{}_{}", std::process::id(), tag.replace('-', "_"))
        }
    }
}

/// A student who has set their own password: (id, token).
pub async fn student(s: &AppState, teacher: &str, class: i64, number: &str) -> (i64, String) {
    let (st, v) = import_roster(s, teacher, class, format!("学号,姓名\n{number},学生{number}\n")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let c = &v["created"][0];
    let first = login(s, c["username"].as_str().unwrap(), c["password"].as_str().unwrap()).await;
    let (st, _, _) = call(s, "POST", "/api/password", Some(&first), Some(json!({"current_password": c["password"], "new_password": "student-pass"}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    (c["id"].as_i64().unwrap(), login(s, c["username"].as_str().unwrap(), "student-pass").await)
}

/// A valid response for an item as a taker sees it (not necessarily right).
pub fn some_answer(item: &Value) -> Value {
    let ids = |k: &str| item[k].as_array().map(|a| a.iter().map(|o| o["id"].clone()).collect::<Vec<_>>()).unwrap_or_default();
    match item["type"].as_str().unwrap() {
        "single" | "multiple" => json!({"choices": [ids("options")[0]]}),
        "true_false" => json!({"value": true}),
        "numeric" => json!({"number": 1}),
        "text" => json!({"text": "不知道"}),
        "ordering" => json!({"order": ids("options")}),
        "matching" => json!({"pairs": [[ids("options")[0], ids("targets")[0]]]}),
        other => panic!("no answer for type {other}"),
    }
}

/// The right response to a bank item, built from the key the test can read.
fn right_answer(cat: &Catalogue, id: &str) -> Value {
    use qiming_curriculum::ItemKind;
    match &cat.items.get(id).unwrap().kind {
        ItemKind::Single { answer, .. } => json!({"choices": [answer]}),
        ItemKind::Multiple { answer, .. } => json!({"choices": answer}),
        ItemKind::TrueFalse { answer } => json!({"value": answer}),
        ItemKind::Numeric { answer, .. } => json!({"number": answer}),
        ItemKind::Text { accept } => json!({"text": accept.zh[0]}),
        ItemKind::Ordering { answer, .. } => json!({"order": answer}),
        ItemKind::Matching { answer, .. } => json!({"pairs": answer.iter().map(|(o, t)| json!([o, t])).collect::<Vec<_>>()}),
        ItemKind::Performance { .. } => panic!("not delivered"),
    }
}

/// Fails when a taker's view before the end carries any part of a key.
fn assert_no_key(cat: &Catalogue, v: &Value) {
    let text = v.to_string();
    for banned in ["\"correct\"", "\"explanation\"", "\"answer\"", "\"accept\"", "\"accepted\"", "\"tolerance\"", "\"results\""] {
        assert!(!text.contains(banned), "{banned} reached a taker before the end: {text}");
    }
    for it in v["items"].as_array().into_iter().flatten() {
        let id = it["item"]["id"].as_str().unwrap();
        let explanation = &cat.items.get(id).unwrap().explanation;
        assert!(!text.contains(&explanation.zh) && !text.contains(&explanation.en), "the explanation of {id} reached a taker");
    }
}

const FORM: [&str; 7] = ["ct-56-001", "ct-56-003", "ct-56-009", "ct-56-004", "ct-56-017", "ct-56-011", "ct-56-013"];

async fn delivery(backend: &str) {
    let tag = "assessments";
    let s = state(backend, tag).await;
    let School { admin, school_id, teacher } = school(&s).await;
    let cat = s.catalogue.clone();
    let (_, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五（1）班"}))).await;
    let class = class["id"].as_i64().unwrap();
    let (_, kid_a) = student(&s, &teacher, class, "5001").await;
    let (_, kid_b) = student(&s, &teacher, class, "5002").await;
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/users",
        Some(&admin),
        Some(json!({"username": "zhao", "display_name": "赵老师", "role": "teacher", "school_id": school_id, "password": "teacher-password"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let other_teacher = login(&s, "zhao", "teacher-password").await;
    let (_, other_class, _) = call(&s, "POST", "/api/classes", Some(&other_teacher), Some(json!({"name": "五（2）班"}))).await;
    let other_class = other_class["id"].as_i64().unwrap();
    let (_, kid_c) = student(&s, &other_teacher, other_class, "5101").await;
    let now = qiming::serve::now();
    let fixed = json!({"title": "期中测评", "population": "students", "mode": "fixed", "presentation": "single", "closes_at": now + 7200,
        "time_limit_minutes": 30, "items": FORM, "class_ids": [class]});

    // Bad requests name their field; other teachers' classes are not theirs to use.
    for (change, field) in [
        (json!({"items": ["no-such-item"]}), "items"),
        (json!({"items": ["t-tt-001"]}), "items"),
        (json!({"items": ["ct-56-001", "ct-56-001"]}), "items"),
        (json!({"closes_at": now - 10}), "closes_at"),
        (json!({"time_limit_minutes": 0}), "time_limit_minutes"),
        (json!({"mode": "random"}), "mode"),
        (json!({"class_ids": []}), "class_ids"),
    ] {
        let mut body = fixed.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (st, e, _) = call(&s, "POST", "/api/assessments", Some(&teacher), Some(body)).await;
        assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{change} → {e}");
    }
    let mut foreign = fixed.clone();
    foreign["class_ids"] = json!([other_class]);
    assert_eq!(call(&s, "POST", "/api/assessments", Some(&teacher), Some(foreign)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&s, "POST", "/api/assessments", Some(&kid_a), Some(fixed.clone())).await.0, StatusCode::FORBIDDEN);

    let (st, a, _) = call(&s, "POST", "/api/assessments", Some(&teacher), Some(fixed.clone())).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let aid = a["id"].as_i64().unwrap();
    assert_eq!(a["items"], json!(FORM));
    let base = format!("/api/assessments/{aid}");
    // Only its takers and managers see it.
    assert_eq!(call(&s, "GET", &base, Some(&kid_c), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&s, "GET", &base, Some(&other_teacher), None).await.0, StatusCode::NOT_FOUND);
    let (_, mine, _) = call(&s, "GET", "/api/assessments", Some(&kid_a), None).await;
    let listed = mine["assessments"].as_array().unwrap();
    assert_eq!((listed.len(), listed[0]["mine"]["status"].as_str()), (1, Some("not_started")), "{mine}");
    assert_no_key(&cat, &call(&s, "GET", &base, Some(&kid_a), None).await.1);

    // Start: every item, no key, the server's deadline.
    assert_eq!(call(&s, "GET", &format!("{base}/sitting"), Some(&kid_a), None).await.0, StatusCode::NOT_FOUND);
    let (st, sit, _) = call(&s, "POST", &format!("{base}/sitting"), Some(&kid_a), None).await;
    assert_eq!(st, StatusCode::CREATED, "{sit}");
    assert_no_key(&cat, &sit);
    assert_eq!(sit["items"].as_array().unwrap().len(), FORM.len());
    let remaining = sit["sitting"]["remaining_seconds"].as_i64().unwrap();
    assert!((1790..=1800).contains(&remaining), "30 minutes: {remaining}");
    let sitting_id = sit["sitting"]["id"].as_i64().unwrap();

    // Answers as given: four right, one wrong, saved twice (idempotent), a bad shape refused.
    let put = |token: &str, item: &str, response: Value| {
        let (s, path, token) = (&s, format!("{base}/sitting/answers/{item}"), token.to_string());
        async move { call(s, "PUT", &path, Some(&token), Some(json!({ "response": response }))).await }
    };
    let mut given = Vec::new();
    for id in &FORM[..4] {
        let r = right_answer(&cat, id);
        for _ in 0..2 {
            let (st, v, _) = put(&kid_a, id, r.clone()).await;
            assert_eq!((st, v["saved"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
        }
        given.push((id.to_string(), r));
    }
    let wrong = json!({"text": "  完全错误的答案 "});
    assert_eq!(put(&kid_a, FORM[4], wrong.clone()).await.0, StatusCode::OK);
    given.push((FORM[4].to_string(), wrong));
    let (st, e, _) = put(&kid_a, FORM[5], json!({"choices": ["a"]})).await;
    assert_eq!((st, e["error"]["field"].as_str(), e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("response"), Some("shape")), "{e}");
    let (st, e, _) = put(&kid_a, FORM[0], json!({"choices": ["zz"]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "an option the item does not have: {e}");
    assert_eq!(put(&kid_a, "ct-56-002", json!({"choices": ["a"]})).await.0, StatusCode::NOT_FOUND, "not in this form");
    assert_eq!(put(&kid_b, FORM[0], json!({"choices": ["a"]})).await.0, StatusCode::CONFLICT, "B has not started");
    let (st, _, _) = call(&s, "PUT", &format!("{base}/sitting/position"), Some(&kid_a), Some(json!({"position": 5}))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    // Live progress: A in progress (5 of 7), B not started; only managers.
    let (st, prog, _) = call(&s, "GET", &format!("{base}/progress"), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::OK, "{prog}");
    let row = |p: &Value, number: &str| p["takers"].as_array().unwrap().iter().find(|t| t["student_number"] == number).unwrap().clone();
    let a_row = row(&prog, "5001");
    assert_eq!((a_row["status"].as_str(), a_row["answered"].as_i64(), a_row["total"].as_i64()), (Some("in_progress"), Some(5), Some(7)), "{prog}");
    assert!(a_row["remaining_seconds"].as_i64().unwrap() > 1700);
    assert_eq!(row(&prog, "5002")["status"], "not_started");
    assert_eq!(call(&s, "GET", &format!("{base}/progress"), Some(&kid_a), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&s, "GET", &format!("{base}/progress"), Some(&other_teacher), None).await.0, StatusCode::NOT_FOUND);

    // The connection drops and the server restarts: a new app over the same database.
    s.db.pool.close().await;
    let s = AppState::new(Db::connect(&url_of(backend, tag)).await.unwrap(), Catalogue::open(&repo().join("curriculum")).unwrap());
    let put = |token: &str, item: &str, response: Value| {
        let (s, path, token) = (&s, format!("{base}/sitting/answers/{item}"), token.to_string());
        async move { call(s, "PUT", &path, Some(&token), Some(json!({ "response": response }))).await }
    };
    let (st, back, _) = call(&s, "POST", &format!("{base}/sitting"), Some(&kid_a), None).await;
    assert_eq!(st, StatusCode::OK, "resumed, not started again: {back}");
    assert_eq!(back["sitting"]["id"], sitting_id);
    assert_eq!(back["sitting"]["position"], 5, "back at the question they were on");
    assert_eq!(back["sitting"]["answered"], 5);
    assert_no_key(&cat, &back);
    for (id, r) in &given {
        let it = back["items"].as_array().unwrap().iter().find(|i| i["item"]["id"] == id.as_str()).unwrap();
        assert_eq!(&it["response"], r, "{id}: every saved answer as given");
        assert!(it["answered_at"].is_i64());
    }
    assert!(back["sitting"]["remaining_seconds"].as_i64().unwrap() <= remaining);

    // Submit: scores per literacy, and now the key and the explanations.
    let (st, done, _) = call(&s, "POST", &format!("{base}/sitting/submit"), Some(&kid_a), None).await;
    assert_eq!(st, StatusCode::OK, "{done}");
    let results = &done["results"];
    let expect_max: i64 = FORM.iter().map(|id| i64::from(cat.items.get(id).unwrap().max_points())).sum();
    let expect_points: i64 = FORM[..4].iter().map(|id| i64::from(cat.items.get(id).unwrap().max_points())).sum();
    assert_eq!((results["points"].as_i64(), results["max_points"].as_i64()), (Some(expect_points), Some(expect_max)), "{results}");
    assert_eq!(results["submitted_by"], "taker");
    let literacies = results["literacies"].as_array().unwrap();
    assert_eq!(literacies.len(), 1, "all of this form is computational thinking: {results}");
    assert_eq!(literacies[0]["name"]["zh-CN"], "计算思维");
    assert!(literacies[0]["se"].as_f64().unwrap() < 1.0 && literacies[0]["theta"].as_f64().is_some());
    for it in done["items"].as_array().unwrap() {
        assert!(it["correct"].is_object() && it["explanation"]["zh-CN"].is_string() && it["explanation"]["en"].is_string(), "{it}");
    }
    let text_item = done["items"].as_array().unwrap().iter().find(|i| i["item"]["id"] == FORM[4]).unwrap();
    assert_eq!((text_item["points"].as_i64(), text_item["response"]["text"].as_str()), (Some(0), Some("  完全错误的答案 ")), "{text_item}");
    // Submitted: answers are refused, submitting again answers the same results.
    let (st, e, _) = put(&kid_a, FORM[6], json!({"pairs": []})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("sitting_submitted")));
    let (_, again, _) = call(&s, "POST", &format!("{base}/sitting/submit"), Some(&kid_a), None).await;
    assert_eq!(again["results"], done["results"]);
    // The data for reports, per item and per sitting.
    let rows: i64 = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sitting_items WHERE sitting_id = $1 AND points IS NOT NULL")
        .bind(sitting_id)
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, FORM.len() as i64);

    // The server's deadline: B starts, the time runs out, answers are refused and the sitting is scored.
    let (st, _, _) = call(&s, "POST", &format!("{base}/sitting"), Some(&kid_b), None).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(put(&kid_b, FORM[2], right_answer(&cat, FORM[2])).await.0, StatusCode::OK);
    sqlx::query("UPDATE sittings SET deadline_at = $1 WHERE assessment_id = $2 AND taker_id <> (SELECT taker_id FROM sittings WHERE id = $3)")
        .bind(qiming::serve::now() - 1)
        .bind(aid)
        .bind(sitting_id)
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (st, e, _) = put(&kid_b, FORM[0], right_answer(&cat, FORM[0])).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("time_up")), "{e}");
    let (_, b, _) = call(&s, "GET", &format!("{base}/sitting"), Some(&kid_b), None).await;
    assert_eq!((b["sitting"]["status"].as_str(), b["results"]["submitted_by"].as_str()), (Some("submitted"), Some("deadline")), "{b}");
    assert_eq!(b["results"]["points"], 1, "the answer saved in time counts, the late one does not");
    let (_, prog, _) = call(&s, "GET", &format!("{base}/progress"), Some(&teacher), None).await;
    assert_eq!(prog["counts"], json!({"not_started": 0, "in_progress": 0, "submitted": 2}), "{prog}");

    // The window: not open yet, and closed.
    let mut later = fixed.clone();
    later["opens_at"] = json!(now + 3600);
    let (_, l, _) = call(&s, "POST", "/api/assessments", Some(&teacher), Some(later)).await;
    let (st, e, _) = call(&s, "POST", &format!("/api/assessments/{}/sitting", l["id"]), Some(&kid_a), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("assessment_not_open")), "{e}");
    let (_, c, _) = call(&s, "POST", "/api/assessments", Some(&teacher), Some(fixed.clone())).await;
    sqlx::query("UPDATE assessments SET opens_at = $1, closes_at = $2 WHERE id = $3")
        .bind(now - 7200)
        .bind(now - 60)
        .bind(c["id"].as_i64().unwrap())
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (st, e, _) = call(&s, "POST", &format!("/api/assessments/{}/sitting", c["id"]), Some(&kid_a), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("assessment_closed")), "{e}");
    // A sitting started near the close ends at the close, not after the time limit.
    sqlx::query("UPDATE assessments SET closes_at = $1 WHERE id = $2")
        .bind(qiming::serve::now() + 120)
        .bind(c["id"].as_i64().unwrap())
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (_, near, _) = call(&s, "POST", &format!("/api/assessments/{}/sitting", c["id"]), Some(&kid_a), None).await;
    assert!(near["sitting"]["remaining_seconds"].as_i64().unwrap() <= 120, "{near}");

    // Adaptive: ends at the length limit (an unreachable SE target) or at the SE target.
    for (se_target, max_items) in [(0.05, 6), (0.9, 15)] {
        let (st, cat_a, _) = call(
            &s,
            "POST",
            "/api/assessments",
            Some(&teacher),
            Some(json!({"title": "自适应", "population": "students", "mode": "adaptive", "grade_band": "5-6", "closes_at": now + 7200,
                "time_limit_minutes": 30, "max_items": max_items, "se_target": se_target, "class_ids": [class]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{cat_a}");
        let path = format!("/api/assessments/{}/sitting", cat_a["id"]);
        let (st, mut view, _) = call(&s, "POST", &path, Some(&kid_a), None).await;
        assert_eq!(st, StatusCode::CREATED, "{view}");
        let mut steps = 0;
        while view["sitting"]["status"] == "in_progress" {
            assert_no_key(&cat, &view);
            let items = view["items"].as_array().unwrap();
            assert_eq!(items.len(), steps + 1, "one new question per step");
            let current = &items[steps]["item"];
            let (st, e, _) = call(&s, "POST", &format!("{path}/next"), Some(&kid_a), None).await;
            assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("answer_first")));
            let (st, v, _) =
                call(&s, "PUT", &format!("{path}/answers/{}", current["id"].as_str().unwrap()), Some(&kid_a), Some(json!({"response": some_answer(current)})))
                    .await;
            assert_eq!(st, StatusCode::OK, "{v}");
            if steps > 0 {
                let earlier = items[0]["item"]["id"].as_str().unwrap();
                let (st, _, _) =
                    call(&s, "PUT", &format!("{path}/answers/{earlier}"), Some(&kid_a), Some(json!({"response": some_answer(&items[0]["item"])}))).await;
                assert_eq!(st, StatusCode::CONFLICT, "earlier adaptive answers are locked");
            }
            let (st, next, _) = call(&s, "POST", &format!("{path}/next"), Some(&kid_a), None).await;
            assert_eq!(st, StatusCode::OK, "{next}");
            view = next;
            steps += 1;
            assert!(steps <= max_items, "more than max_items questions");
        }
        let results = &view["results"];
        if se_target < 0.1 {
            assert_eq!(steps, max_items, "stopped at the length limit: {results}");
        } else {
            assert!(steps < max_items && results["se"].as_f64().unwrap() <= se_target, "stopped at the SE target after {steps}: {results}");
        }
        let ids: std::collections::BTreeSet<&str> = view["items"].as_array().unwrap().iter().map(|i| i["item"]["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), steps, "no question twice");
    }

    // Teachers sit their own population's test, set by their school's admin.
    let (st, sa, _) = call(
        &s,
        "POST",
        "/api/users",
        Some(&admin),
        Some(json!({"username": "head", "display_name": "校管理员", "role": "school_admin", "school_id": school_id, "password": "admin-password-2"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{sa}");
    let school_admin = login(&s, "head", "admin-password-2").await;
    let teachers_form = json!({"title": "教师信息素养", "population": "teachers", "mode": "fixed", "presentation": "paged", "closes_at": now + 7200,
        "time_limit_minutes": 20, "items": ["t-tt-001", "t-tt-005", "t-tt-007"]});
    let (st, _, _) = call(&s, "POST", "/api/assessments", Some(&teacher), Some(teachers_form.clone())).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "teachers do not set their own test");
    let mut student_items = teachers_form.clone();
    student_items["items"] = json!(["ct-56-001"]);
    let (st, e, _) = call(&s, "POST", "/api/assessments", Some(&school_admin), Some(student_items)).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("items")), "students' items in a teachers' test: {e}");
    let (st, ta, _) = call(&s, "POST", "/api/assessments", Some(&school_admin), Some(teachers_form)).await;
    assert_eq!(st, StatusCode::CREATED, "{ta}");
    // A form assembled from a blueprint (grading::assembly), and one that cannot be met.
    let blueprint = std::fs::read_to_string(repo().join("examples/blueprints/teacher-screening.toml")).unwrap();
    let (st, bp, _) = call(
        &s,
        "POST",
        "/api/assessments",
        Some(&school_admin),
        Some(json!({"title": "组卷", "population": "teachers", "mode": "fixed", "closes_at": now + 7200, "time_limit_minutes": 30, "blueprint": blueprint})),
    )
    .await;
    assert_eq!((st, bp["items"].as_array().map(Vec::len)), (StatusCode::CREATED, Some(20)), "{bp}");
    let (st, e, _) = call(
        &s,
        "POST",
        "/api/assessments",
        Some(&school_admin),
        Some(json!({"title": "组卷", "population": "teachers", "mode": "fixed", "closes_at": now + 7200, "time_limit_minutes": 30,
            "blueprint": blueprint.replace("min = 4.0", "min = 400.0")})),
    )
    .await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("blueprint_infeasible")), "{e}");
    assert!(!e["error"]["problems"].as_array().unwrap().is_empty(), "{e}");
    let tpath = format!("/api/assessments/{}", ta["id"]);
    assert_eq!(call(&s, "GET", &tpath, Some(&kid_a), None).await.0, StatusCode::NOT_FOUND);
    let (st, tsit, _) = call(&s, "POST", &format!("{tpath}/sitting"), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::CREATED, "{tsit}");
    assert_no_key(&cat, &tsit);
    let (_, prog, _) = call(&s, "GET", &format!("{tpath}/progress"), Some(&school_admin), None).await;
    let names: Vec<&str> = prog["takers"].as_array().unwrap().iter().map(|t| t["display_name"].as_str().unwrap()).collect();
    assert!(names.contains(&"李老师") && names.contains(&"赵老师"), "{prog}");
    // An organiser sets one for a whole region (the city holds the school's district).
    let (_, org, _) = call(
        &s,
        "POST",
        "/api/users",
        Some(&admin),
        Some(json!({"username": "zuzhi", "display_name": "组织者", "role": "organiser", "password": "region-test-2024"})),
    )
    .await;
    assert!(org["user"]["id"].is_i64(), "{org}");
    let organiser = login(&s, "zuzhi", "region-test-2024").await;
    let (st, ra, _) = call(
        &s,
        "POST",
        "/api/assessments",
        Some(&organiser),
        Some(json!({"title": "全市教师测评", "population": "teachers", "mode": "adaptive", "closes_at": now + 7200, "time_limit_minutes": 20, "target_region_id": 1})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{ra}");
    let (st, rsit, _) = call(&s, "POST", &format!("/api/assessments/{}/sitting", ra["id"]), Some(&other_teacher), None).await;
    assert_eq!((st, rsit["items"].as_array().map(Vec::len)), (StatusCode::CREATED, Some(1)), "{rsit}");
    assert!(rsit["items"][0]["item"]["id"].as_str().unwrap().starts_with("t-"), "a teachers' item: {rsit}");

    // Deleting: refused once sittings exist, unless forced; only owners.
    assert_eq!(call(&s, "DELETE", &base, Some(&kid_a), None).await.0, StatusCode::FORBIDDEN);
    let (st, e, _) = call(&s, "DELETE", &base, Some(&teacher), None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("has_sittings")));
    assert_eq!(call(&s, "DELETE", &format!("{base}?force=true"), Some(&teacher), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(&s, "GET", &base, Some(&kid_a), None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assessment_delivery_on_sqlite() {
    delivery("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assessment_delivery_on_postgres() {
    delivery("postgres").await;
}
