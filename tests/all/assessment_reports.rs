//! Assessment reports on the server, on both databases: built from the submitted sittings by
//! the report engine; individual results only for the student, their class's teacher and their
//! school's admins; above the class only aggregates, with a group of 9 suppressed; JSON, PDF
//! and XLSX in both languages; personal reports written to the audit log.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qiming::serve::http::AppState;
use qiming_curriculum::{Catalogue, ItemKind};
use serde_json::{Value, json};

use crate::classroom::{School, has_cjk_font, school};
use crate::server::{call, state};
use crate::support::repo;

/// A person made straight in the database with a session (no password hashing: the test makes
/// twenty of them): (id, bearer token).
pub async fn person(s: &AppState, username: &str, role: &str, school: Option<i64>, class: Option<i64>, region: Option<i64>) -> (i64, String) {
    let now = qiming::serve::now();
    let id = s.db.create_user(username, &format!("名{username}"), "no-password", role, false, now).await.unwrap();
    sqlx::query("UPDATE users SET school_id = $1, class_id = $2, region_id = $3 WHERE id = $4")
        .bind(school)
        .bind(class)
        .bind(region)
        .bind(id)
        .execute(&s.db.pool)
        .await
        .unwrap();
    let (token, hash) = qiming::serve::auth::new_token();
    s.db.create_session(&hash, "csrf", id, now, now + 86_400).await.unwrap();
    (id, token)
}

/// Two single-choice items of each literacy (grade band 5–6): (id, right option, a wrong one).
pub fn items(cat: &Catalogue) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (literacy, _, _) in qiming_curriculum::meta::LITERACIES {
        let mut n = 0;
        for it in cat.items.population("student") {
            if n == 2 || it.literacy != *literacy || it.status == "retired" || it.grade_band.as_deref() != Some("5-6") {
                continue;
            }
            if let ItemKind::Single { options, answer } = &it.kind {
                let wrong = options.iter().find(|o| &o.id != answer).unwrap().id.clone();
                out.push((it.id.clone(), answer.clone(), wrong));
                n += 1;
            }
        }
    }
    assert_eq!(out.len(), 8, "{out:?}");
    out
}

async fn get(s: &AppState, token: &str, path: &str) -> (StatusCode, Value) {
    let (st, v, _) = call(s, "GET", path, Some(token), None).await;
    (st, v)
}

/// A report's bytes and content type.
async fn download(s: &AppState, token: &str, path: &str) -> (StatusCode, Vec<u8>, String) {
    let req = Request::builder().uri(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    let response = tower::ServiceExt::oneshot(qiming::serve::http::app(s.clone()), req).await.unwrap();
    let st = response.status();
    let ct = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
    (st, bytes, ct)
}

async fn reports(backend: &str) {
    let s = state(backend, "asm-reports").await;
    let cat = Catalogue::open(&repo().join("curriculum")).unwrap();
    let School { admin, school_id, teacher } = school(&s).await;
    // The city is region 1, its district region 2 (`classroom::school`); another school in the city.
    let (_, other_school, _) = call(&s, "POST", "/api/schools", Some(&admin), Some(json!({"name": "另一所学校", "region_id": 2}))).await;
    let other_school = other_school["id"].as_i64().unwrap();
    let (_, teacher_b) = person(&s, "teacher_b", "teacher", Some(school_id), None, None).await;
    let (_, school_admin) = person(&s, "school_admin", "school_admin", Some(school_id), None, None).await;
    let (_, school_admin_b) = person(&s, "school_admin_b", "school_admin", Some(other_school), None, None).await;
    let (_, organiser) = person(&s, "organiser", "organiser", None, None, Some(1)).await;
    let (_, a, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五年级(1)班"}))).await;
    let (_, b, _) = call(&s, "POST", "/api/classes", Some(&teacher_b), Some(json!({"name": "五年级(2)班"}))).await;
    let (class_a, class_b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    // Ten pupils in A, nine in B: B is a group under 10.
    let mut pupils = Vec::new();
    for i in 0..19 {
        let class = if i < 10 { class_a } else { class_b };
        let (id, token) = person(&s, &format!("s{i:02}"), "student", Some(school_id), Some(class), None).await;
        pupils.push((id, token, class));
    }
    let items = items(&cat);
    let ids: Vec<&str> = items.iter().map(|i| i.0.as_str()).collect();
    let (st, asm, _) = call(
        &s,
        "POST",
        "/api/assessments",
        Some(&admin),
        Some(json!({"title": "期末测评", "population": "students", "mode": "fixed", "closes_at": 4000000000i64, "time_limit_minutes": 60, "items": ids, "class_ids": [class_a, class_b]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{asm}");
    let asm = asm["id"].as_i64().unwrap();
    // Nobody has submitted: nothing to read yet.
    let (st, v) = get(&s, &teacher, &format!("/api/assessments/{asm}/reports/class/{class_a}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    for (k, (_, token, _)) in pupils.iter().enumerate() {
        let (st, v, _) = call(&s, "POST", &format!("/api/assessments/{asm}/sitting"), Some(token), None).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        for (j, (item, right, wrong)) in items.iter().enumerate() {
            let choice = if (k + j) % 3 == 0 || (k < 5 && j % 2 == 0) { wrong } else { right };
            let (st, v, _) =
                call(&s, "PUT", &format!("/api/assessments/{asm}/sitting/answers/{item}"), Some(token), Some(json!({"response": {"choices": [choice]}}))).await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
        let (st, v, _) = call(&s, "POST", &format!("/api/assessments/{asm}/sitting/submit"), Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (me, me_token, _) = (pupils[0].0, pupils[0].1.clone(), pupils[0].2);
    let other = pupils[1].0;
    let base = format!("/api/assessments/{asm}/reports");

    // The student's own report, with the mistake notebook.
    let (st, v) = get(&s, &me_token, &format!("{base}/student/{me}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["kind"], "student");
    assert_eq!(v["name"], "名s00");
    let mistakes = v["mistakes"].as_array().unwrap();
    assert!(!mistakes.is_empty(), "pupil 0 got items wrong: {v}");
    let m = &mistakes[0];
    assert!(m["answer"].as_str().unwrap().contains(". "), "the answer is spelled out: {m}");
    assert!(!m["explanation"].as_str().unwrap().is_empty() && !m["correct_answer"].as_str().unwrap().is_empty());
    assert_eq!(v["literacies"].as_array().unwrap().len(), 4);
    // Nobody else's: another pupil, another class's teacher, another school's admin, the organiser, the platform admin.
    for (who, token, target) in [
        ("a classmate", &pupils[1].1, me),
        ("the student, for a classmate", &me_token, other),
        ("the teacher of another class", &teacher_b, me),
        ("another school's admin", &school_admin_b, me),
        ("the organiser", &organiser, me),
        ("the platform admin", &admin, me),
    ] {
        let (st, v) = get(&s, token, &format!("{base}/student/{target}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{who} must not read {target}'s report: {v}");
    }
    // Their teacher and their school's admin may.
    for token in [&teacher, &school_admin] {
        let (st, v) = get(&s, token, &format!("{base}/student/{me}")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["id"], me.to_string());
    }

    // Class reports: names and scores, for the class's teacher and the school's admins.
    let (st, v) = get(&s, &teacher, &format!("{base}/class/{class_a}?lang=en")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["takers"], 10);
    assert_eq!(v["lang"], "en");
    assert!(v["title"].as_str().unwrap().starts_with("Class assessment report"), "{}", v["title"]);
    assert_eq!(v["students"].as_array().unwrap().len(), 10);
    assert_eq!(v["literacies"].as_array().unwrap().len(), 4);
    let (st, _) = get(&s, &teacher_b, &format!("{base}/class/{class_a}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another class's teacher");
    let (st, _) = get(&s, &school_admin_b, &format!("{base}/class/{class_a}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another school's admin");
    let (st, _) = get(&s, &me_token, &format!("{base}/class/{class_a}")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "students never read class reports");
    // A group of 9: no figures at all.
    let (st, v) = get(&s, &teacher_b, &format!("{base}/class/{class_b}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["takers"]["suppressed"], "fewer_than_10", "{v}");
    assert!(v["literacies"].as_array().unwrap().is_empty(), "{v}");

    // The school: aggregates only, B's row hidden, and A's with it (else B = total − A).
    let clock = std::time::Instant::now();
    let (st, v) = get(&s, &school_admin, &format!("{base}/school/{school_id}")).await;
    println!("{backend}: school report of 19 sittings (JSON) in {:.2?}", clock.elapsed());
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["takers"], 19);
    assert!(v.get("students").is_none(), "no names above the class: {v}");
    let text = v.to_string();
    for i in 0..19 {
        assert!(!text.contains(&format!("名s{i:02}")), "a pupil's name in the school report");
    }
    let classes = v["breakdowns"].as_array().unwrap().iter().find(|b| b["kind"] == "classes").unwrap();
    let row = |name: &str| classes["rows"].as_array().unwrap().iter().find(|r| r["key"] == name).cloned().unwrap();
    assert_eq!(row("五年级(2)班")["suppressed"], "fewer_than_10", "{classes}");
    assert_eq!(row("五年级(1)班")["suppressed"], "complementary", "{classes}");
    let locality = v["breakdowns"].as_array().unwrap().iter().find(|b| b["kind"] == "locality").unwrap();
    assert_eq!(locality["rows"][0]["key"], "unknown", "the server does not record urban/rural: {locality}");
    for (who, token, want) in [
        ("teacher", &teacher, StatusCode::FORBIDDEN),
        ("another school's admin", &school_admin_b, StatusCode::NOT_FOUND),
        ("organiser", &organiser, StatusCode::OK),
    ] {
        let (st, v) = get(&s, token, &format!("{base}/school/{school_id}")).await;
        assert_eq!(st, want, "{who}: {v}");
    }
    // District and city: the organiser of the city, the platform admin.
    for path in [format!("{base}/district/2"), format!("{base}/city/1"), format!("{base}/annual/1")] {
        let (st, v) = get(&s, &organiser, &path).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        assert!(!v.to_string().contains("名s0"), "{path}: names above the class");
        let (st, _) = get(&s, &school_admin, &path).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: a school admin");
    }
    let (st, v) = get(&s, &organiser, &format!("{base}/city/2")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a district is not a city: {v}");
    assert_eq!(v["error"]["reason"], "report_region", "{v}");

    // What each caller may read, for the web page.
    let (_, v) = get(&s, &me_token, &base).await;
    assert_eq!(v["reports"], json!([{"level": "student", "target": me, "name": "名s00"}]));
    let (_, v) = get(&s, &teacher, &base).await;
    let levels: Vec<&str> = v["reports"].as_array().unwrap().iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels.iter().filter(|l| **l == "student").count(), 10, "{v}");
    assert_eq!(levels.iter().filter(|l| **l == "class").count(), 1, "{v}");
    assert!(!levels.contains(&"school"), "{v}");
    let (_, v) = get(&s, &organiser, &base).await;
    let levels: Vec<&str> = v["reports"].as_array().unwrap().iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["school", "district", "city", "annual"], "{v}");
    let (st, _) = get(&s, &school_admin_b, &base).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing to read, and not theirs to see");

    // PDF and XLSX, both languages.
    let (st, bytes, ct) = download(&s, &teacher, &format!("{base}/class/{class_a}?format=xlsx&lang=zh-CN")).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
    assert!(ct.contains("spreadsheetml") && bytes.starts_with(b"PK"), "{ct}");
    let (st, bytes, ct) = download(&s, &me_token, &format!("{base}/student/{me}?format=pdf&lang=en")).await;
    if has_cjk_font() {
        assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        assert!(ct == "application/pdf" && bytes.starts_with(b"%PDF"), "{ct}");
    } else {
        assert_eq!(st, StatusCode::CONFLICT);
    }
    let (st, _, _) = download(&s, &teacher, &format!("{base}/class/{class_a}?format=docx")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Personal reports are audited, with ids and never names.
    let (_, audit) = get(&s, &admin, "/api/audit?limit=500").await;
    let entries: Vec<&Value> = audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "assessment_report").collect();
    assert!(entries.iter().any(|e| e["detail"].as_str().unwrap().contains(&format!("level=student target={me} format=json"))), "{entries:?}");
    assert!(entries.iter().any(|e| e["detail"].as_str().unwrap().contains(&format!("level=class target={class_a} format=xlsx"))), "{entries:?}");
    assert!(entries.iter().all(|e| !e.to_string().contains("名s")), "{entries:?}");
    assert!(!entries.iter().any(|e| e["detail"].as_str().unwrap().contains("level=school")), "aggregates are not personal data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assessment_reports_on_sqlite() {
    reports("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assessment_reports_on_postgres() {
    reports("postgres").await;
}

/// A unix time in the calendar year (China time) before now's.
fn last_year() -> i64 {
    let now = qiming::serve::now();
    let year = qiming::serve::reports::year_of(now);
    let mut t = now - 365 * 86_400;
    while qiming::serve::reports::year_of(t) >= year {
        t -= 86_400;
    }
    t
}

/// Sits `asm` for each pupil, answering item `j` right when `right(j)`.
async fn sit_all(s: &AppState, asm: i64, pupils: &[(i64, String)], items: &[(String, String, String)], right: fn(usize) -> bool) {
    for (_, token) in pupils {
        let (st, v, _) = call(s, "POST", &format!("/api/assessments/{asm}/sitting"), Some(token), None).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        for (j, (item, good, bad)) in items.iter().enumerate() {
            let choice = if right(j) { good } else { bad };
            let (st, v, _) =
                call(s, "PUT", &format!("/api/assessments/{asm}/sitting/answers/{item}"), Some(token), Some(json!({"response": {"choices": [choice]}}))).await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
        let (st, v, _) = call(s, "POST", &format!("/api/assessments/{asm}/sitting/submit"), Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
}

/// What reports group by beyond the region tree: a school's locality (urban/rural gap), a
/// recorded gender (gender gap), and last year's assessment that this one follows (growth).
async fn report_groups(backend: &str) {
    let s = state(backend, "asm-groups").await;
    let cat = Catalogue::open(&repo().join("curriculum")).unwrap();
    let School { admin, school_id, teacher } = school(&s).await;
    let (st, v, _) = call(&s, "PATCH", &format!("/api/schools/{school_id}"), Some(&admin), Some(json!({"locality": "urban"}))).await;
    assert_eq!((st, &v["locality"]), (StatusCode::OK, &json!("urban")), "{v}");
    let (st, v, _) = call(&s, "PATCH", &format!("/api/schools/{school_id}"), Some(&admin), Some(json!({"locality": "suburban"}))).await;
    assert_eq!((st, &v["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("locality")), "{v}");
    let (st, rural, _) = call(&s, "POST", "/api/schools", Some(&admin), Some(json!({"name": "山村小学", "region_id": 2, "locality": "rural"}))).await;
    assert_eq!((st, &rural["locality"]), (StatusCode::CREATED, &json!("rural")), "{rural}");
    let rural = rural["id"].as_i64().unwrap();
    let (_, teacher_r) = person(&s, "teacher_r", "teacher", Some(rural), None, None).await;
    let (_, organiser) = person(&s, "organiser", "organiser", None, None, Some(1)).await;
    let (_, a, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "五年级(1)班"}))).await;
    let (_, b, _) = call(&s, "POST", "/api/classes", Some(&teacher_r), Some(json!({"name": "五年级(1)班"}))).await;
    let (class_a, class_b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    // Ten pupils in each school, half of each recorded as girls by their teacher.
    let mut pupils = Vec::new();
    for i in 0..20 {
        let (class, school, teacher) = if i < 10 { (class_a, school_id, &teacher) } else { (class_b, rural, &teacher_r) };
        let (id, token) = person(&s, &format!("g{i:02}"), "student", Some(school), Some(class), None).await;
        let gender = if i % 2 == 0 { "f" } else { "m" };
        let (st, v, _) = call(&s, "PATCH", &format!("/api/users/{id}"), Some(teacher), Some(json!({"gender": gender}))).await;
        assert_eq!((st, &v["user"]["gender"]), (StatusCode::OK, &json!(gender)), "{v}");
        pupils.push((id, token));
    }
    let (st, v, _) = call(&s, "PATCH", &format!("/api/users/{}", pupils[0].0), Some(&teacher), Some(json!({"gender": "x"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v, _) = call(&s, "PATCH", &format!("/api/users/{}", pupils[0].0), Some(&teacher_r), Some(json!({"gender": "m"}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another school's teacher: {v}");

    let items = items(&cat);
    let ids: Vec<&str> = items.iter().map(|i| i.0.as_str()).collect();
    let new = |title: &str, opens_at: i64, follows: Option<i64>, population: &str| {
        let mut body = json!({"title": title, "population": population, "mode": "fixed", "opens_at": opens_at, "closes_at": 4000000000i64,
            "time_limit_minutes": 60, "items": ids, "class_ids": [class_a, class_b]});
        if let Some(f) = follows {
            body["follows_id"] = json!(f);
        }
        body
    };
    let (st, prev, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(new("去年的测评", last_year(), None, "students"))).await;
    assert_eq!(st, StatusCode::CREATED, "{prev}");
    let prev = prev["id"].as_i64().unwrap();
    let now = qiming::serve::now();
    // Following one of the same year, or of nothing, is refused with the field that is wrong.
    let (st, same, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(new("同年", now, None, "students"))).await;
    assert_eq!(st, StatusCode::CREATED, "{same}");
    let (st, v, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(new("今年", now, same["id"].as_i64(), "students"))).await;
    assert_eq!((st, &v["error"]["reason"]), (StatusCode::BAD_REQUEST, &json!("previous_year")), "{v}");
    let (st, v, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(new("今年", now, Some(9999), "students"))).await;
    assert_eq!((st, &v["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("follows_id")), "{v}");
    let (st, cur, _) = call(&s, "POST", "/api/assessments", Some(&admin), Some(new("今年的测评", now, Some(prev), "students"))).await;
    assert_eq!((st, &cur["follows_id"]), (StatusCode::CREATED, &json!(prev)), "{cur}");
    let cur = cur["id"].as_i64().unwrap();

    // Last year one item of each literacy's two right; this year both.
    sit_all(&s, prev, &pupils, &items, |j| j % 2 == 0).await;
    sit_all(&s, cur, &pupils, &items, |_| true).await;

    let (st, v) = get(&s, &organiser, &format!("/api/assessments/{cur}/reports")).await;
    assert_eq!((st, &v["takers"]), (StatusCode::OK, &json!(20)), "last year's takers are not this year's: {v}");
    let (st, v) = get(&s, &organiser, &format!("/api/assessments/{cur}/reports/city/1?lang=en")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["takers"], 20, "{v}");
    let growth: Vec<&Value> = v["literacies"].as_array().unwrap().iter().map(|l| &l["growth"]).collect();
    for g in &growth {
        assert_eq!(g["previous_n"], 20, "{g}");
        assert!(g["change"].as_f64().unwrap() > 0.0, "this year's pupils did better: {g}");
        assert_eq!(g["previous_year"].as_i64().unwrap(), i64::from(qiming::serve::reports::year_of(now)) - 1, "{g}");
    }
    let breakdown = |kind: &str| v["breakdowns"].as_array().unwrap().iter().find(|b| b["kind"] == kind).cloned().unwrap();
    let locality = breakdown("locality");
    let keys: Vec<&str> = locality["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["urban", "rural"], "{locality}");
    assert_eq!(locality["rows"][0]["n"], 10, "{locality}");
    assert!(locality["gap"].as_array().unwrap().iter().all(|g| g.is_number()), "both rows shown, so the gap is: {locality}");
    let gender = breakdown("gender");
    let keys: Vec<&str> = gender["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["f", "m"], "{gender}");
    assert_eq!(gender["rows"][1]["n"], 10, "{gender}");
    // The annual report carries the same growth and gaps, from the data.
    let (st, v) = get(&s, &organiser, &format!("/api/assessments/{cur}/reports/annual/1")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v.to_string().contains("\"previous_n\":20"), "{v}");
    // A student's own report is this year's, not last year's.
    let (st, v) = get(&s, &pupils[0].1, &format!("/api/assessments/{cur}/reports/student/{}", pupils[0].0)).await;
    assert_eq!((st, &v["id"]), (StatusCode::OK, &json!(pupils[0].0.to_string())), "{v}");
    // Gender is part of the person's data export.
    let (_, v) = get(&s, &teacher, &format!("/api/users/{}/export", pupils[0].0)).await;
    assert_eq!(v["user"]["gender"], "f", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assessment_report_groups_on_sqlite() {
    report_groups("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assessment_report_groups_on_postgres() {
    report_groups("postgres").await;
}
