//! The server on both databases: health, metrics, OpenAPI, login, sessions,
//! throttling, and 401 for anonymous callers — through `app(state)`, no socket.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qiming::serve::db::Db;
use qiming::serve::http::{AppState, app};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::repo;

/// A fresh database: a temporary SQLite file, or a new PostgreSQL database
/// on the machine's server (127.0.0.1:5432; `QIMING_TEST_POSTGRES` overrides).
pub async fn fresh_db(backend: &str, tag: &str) -> Db {
    match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("qiming-test-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Db::connect(&format!("sqlite://{}", dir.join("t.db").display())).await.expect("sqlite")
        }
        _ => Db::connect(&fresh_postgres(tag).await).await.expect("postgres"),
    }
}

/// Creates an empty PostgreSQL database and returns its URL.
pub async fn fresh_postgres(tag: &str) -> String {
    let base = std::env::var("QIMING_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("qiming_t_{}_{}", std::process::id(), tag.replace('-', "_"));
    sqlx::any::install_default_drivers();
    let admin =
        sqlx::AnyPool::connect(&format!("{base}/postgres")).await.unwrap_or_else(|e| panic!("PostgreSQL must be reachable at {base} for these tests: {e}"));
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    format!("{base}/{name}")
}

pub async fn state(backend: &str, tag: &str) -> AppState {
    let db = fresh_db(backend, tag).await;
    let hash = qiming::serve::auth::hash_password("correct horse").unwrap();
    db.create_user("teacher1", "王老师", &hash, "teacher", false, 0).await.unwrap();
    let catalogue = qiming_curriculum::Catalogue::open(&repo().join("curriculum")).unwrap();
    AppState::new(db, catalogue)
}

pub async fn call(state: &AppState, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    raw(state, req).await
}

pub async fn raw(state: &AppState, req: Request<Body>) -> (StatusCode, Value, Option<String>) {
    let (status, bytes, cookie) = raw_bytes(state, req).await;
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value, cookie)
}

pub async fn raw_bytes(state: &AppState, req: Request<Body>) -> (StatusCode, Vec<u8>, Option<String>) {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let cookie = resp.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap();
    (status, bytes.to_vec(), cookie)
}

/// Signs in and returns the bearer token.
/// Imports a roster CSV into a class with `token`: (status, answer).
pub async fn import_roster(state: &AppState, token: &str, class: i64, csv: impl Into<String>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method("POST")
        .uri(format!("/api/classes/{class}/roster"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.into()))
        .unwrap();
    let (status, value, _) = raw(state, req).await;
    (status, value)
}

pub async fn login(state: &AppState, username: &str, password: &str) -> String {
    let (status, body, _) = call(state, "POST", "/api/login", None, Some(json!({"username": username, "password": password}))).await;
    assert_eq!(status, StatusCode::OK, "login {username}: {body}");
    body["token"].as_str().unwrap().to_string()
}

async fn scenario(backend: &str) {
    let s = state(backend, "main").await;

    // Anonymous: only health, metrics, the OpenAPI document and login.
    assert_eq!(call(&s, "GET", "/healthz", None, None).await.0, StatusCode::OK);
    let (status, metrics, _) = call(&s, "GET", "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics.as_str().unwrap().contains("qiming_labs 21"), "{metrics}");
    let (status, doc, _) = call(&s, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/api/me", "/api/labs", "/api/nothing-here", "/admin"] {
        let (status, body, _) = call(&s, "GET", path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    assert_eq!(call(&s, "POST", "/api/logout", None, None).await.0, StatusCode::UNAUTHORIZED);

    // Bad input: a clear 4xx naming the problem.
    let (status, body, _) = call(&s, "POST", "/api/login", None, Some(json!({"username": "teacher1"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("password"), "{body}");
    let (status, body, _) = call(&s, "POST", "/api/login", None, Some(json!({"username": 5, "password": "x"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("username"), "{body}");
    let huge = Request::builder()
        .method("POST")
        .uri("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!("{{\"username\": \"{}\", \"password\": \"x\"}}", "a".repeat(400 << 10))))
        .unwrap();
    assert_eq!(raw(&s, huge).await.0, StatusCode::PAYLOAD_TOO_LARGE);

    let (status, body, _) = call(&s, "POST", "/api/login", None, Some(json!({"username": "a\u{0}b", "password": "x"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("username"));

    // Login: wrong password, unknown user, then right.
    let (status, body, _) = call(&s, "POST", "/api/login", None, Some(json!({"username": "teacher1", "password": "nope"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "bad_credentials");
    assert_eq!(call(&s, "POST", "/api/login", None, Some(json!({"username": "ghost", "password": "x"}))).await.0, StatusCode::UNAUTHORIZED);
    let (status, body, cookie) = call(&s, "POST", "/api/login", None, Some(json!({"username": "teacher1", "password": "correct horse"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let cookie = cookie.expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
    // Behind a TLS-terminating proxy the cookie is marked Secure.
    let behind_tls = Request::builder()
        .method("POST")
        .uri("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-proto", "https")
        .body(Body::from(json!({"username": "teacher1", "password": "correct horse"}).to_string()))
        .unwrap();
    let (_, _, tls_cookie) = raw(&s, behind_tls).await;
    assert!(tls_cookie.unwrap().contains("; Secure"));
    assert_eq!(body["user"]["role"], "teacher");

    // The bearer token and the cookie both identify the caller.
    let (status, me, _) = call(&s, "GET", "/api/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["display_name"], "王老师");
    let with_cookie = Request::builder().uri("/api/me").header(header::COOKIE, cookie.split(';').next().unwrap()).body(Body::empty()).unwrap();
    assert_eq!(raw(&s, with_cookie).await.0, StatusCode::OK);
    let (status, labs, _) = call(&s, "GET", "/api/labs", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(labs["labs"].as_array().unwrap().len(), 21);
    assert_eq!(call(&s, "GET", "/api/nothing-here", Some(&token), None).await.0, StatusCode::NOT_FOUND);
    // Malformed path ids and queries answer in the same JSON error shape.
    let (status, body, _) = call(&s, "GET", "/api/classes/abc", Some(&token), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{body}");
    let (status, body, _) = call(&s, "GET", "/api/users?school_id=abc", Some(&token), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("school_id"), "{body}");

    // Logout ends the session.
    assert_eq!(call(&s, "POST", "/api/logout", Some(&token), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(&s, "GET", "/api/me", Some(&token), None).await.0, StatusCode::UNAUTHORIZED);

    // An account with a generated password must change it before anything else.
    let hash = qiming::serve::auth::hash_password("generated1").unwrap();
    s.db.create_user("student1", "李同学", &hash, "student", true, 0).await.unwrap();
    let (_, body, _) = call(&s, "POST", "/api/login", None, Some(json!({"username": "student1", "password": "generated1"}))).await;
    let student = body["token"].as_str().unwrap().to_string();
    assert_eq!(body["user"]["must_change_password"], true);
    let (status, body, _) = call(&s, "GET", "/api/labs", Some(&student), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("password_change_required")));
    let (status, body, _) = call(&s, "POST", "/api/password", Some(&student), Some(json!({"current_password": "wrong", "new_password": "long enough"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("current_password"));
    let (status, body, _) = call(&s, "POST", "/api/password", Some(&student), Some(json!({"current_password": "generated1", "new_password": "short"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!((body["error"]["code"].as_str(), body["error"]["reason"].as_str()), (Some("weak_password"), Some("length")), "{body}");
    let (status, _, _) =
        call(&s, "POST", "/api/password", Some(&student), Some(json!({"current_password": "generated1", "new_password": "我的新密码真的很长"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(call(&s, "GET", "/api/labs", Some(&student), None).await.0, StatusCode::OK);
    assert_eq!(call(&s, "POST", "/api/login", None, Some(json!({"username": "student1", "password": "generated1"}))).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&s, "POST", "/api/login", None, Some(json!({"username": "student1", "password": "我的新密码真的很长"}))).await.0, StatusCode::OK);

    // Throttling: the same client guessing is slowed down (429 with
    // Retry-After); other clients are not (see hardening.rs for the rules).
    // (Waits double from 1 s after 5 free tries, so however slow this
    // machine is, a 429 comes within a few more tries.)
    let mut statuses = Vec::new();
    for _ in 0..15 {
        let status = call(&s, "POST", "/api/login", None, Some(json!({"username": "teacher1", "password": "guess"}))).await.0;
        statuses.push(status.as_u16());
        if status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(&statuses[..5], &[401; 5], "five free tries: {statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "then back-off: {statuses:?}");
}

#[tokio::test]
async fn server_on_sqlite() {
    scenario("sqlite").await;
}

#[tokio::test]
async fn server_on_postgres() {
    scenario("postgres").await;
}

#[test]
fn serve_creates_its_data_dir_and_the_first_admin() {
    let dir = std::env::temp_dir().join(format!("qiming-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = qiming::serve::ServeArgs { data_dir: Some(dir.clone()), addr: None, database_url: None, config: None, fault_delay_ms: None };
    let settings = qiming::serve::Settings::resolve(&args).unwrap();
    assert!(settings.database_url.ends_with("qiming.db"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = qiming::serve::state(&settings).await.unwrap();
        assert_eq!(s.db.user_count().await.unwrap(), 1, "the platform admin");
        let (admin, _) = s.db.user_by_name("admin").await.unwrap().unwrap();
        assert_eq!(admin.role, "platform_admin");
        // A second start keeps the data and creates nobody.
        let again = qiming::serve::state(&settings).await.unwrap();
        assert_eq!(again.db.user_count().await.unwrap(), 1);
    });
    assert!(dir.join("qiming.db").is_file());
}

/// The shared API types (qiming-api) read what the server sends, and the
/// redacted lab view gives nothing away about hidden cases or solutions.
#[tokio::test]
async fn api_types_read_the_served_json_and_lab_views_are_redacted() {
    let s = state("sqlite", "api-types").await;
    let (_, body, _) = call(&s, "GET", "/api/labs", None, None).await;
    let error: qiming_api::ErrorBody = serde_json::from_value(body).expect("an error body");
    assert_eq!(error.error.code, "unauthorized");

    let token = login(&s, "teacher1", "correct horse").await;
    let (status, body, _) = call(&s, "GET", "/api/labs", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let list: qiming_api::LabList = serde_json::from_value(body).expect("a lab list");
    assert_eq!(list.labs.len(), s.catalogue.labs.len());

    for lab in &s.catalogue.labs {
        let limits = qiming_api::ProgramLimits { max_program_bytes: 65536, max_output_bytes: 65536, cpu_seconds: 5.0, max_bundle_bytes: None };
        let view = qiming_api::LabView::new(lab, limits);
        let text = serde_json::to_string(&view).unwrap();
        // Hidden model cases (AI labs) count too: students see how many hidden tests there are.
        let hidden = lab.cases.iter().filter(|c| c.hidden).count() + lab.model_cases.iter().filter(|c| c.hidden).count();
        assert_eq!(view.hidden_cases, hidden, "{}", lab.id);
        assert!(view.hidden_cases > 0, "{}: every lab keeps cases hidden", lab.id);
        for name in lab.cases.iter().filter(|c| c.hidden).map(|c| &c.name).chain(lab.model_cases.iter().filter(|c| c.hidden).map(|c| &c.name)) {
            assert!(!view.summary.cases.iter().any(|v| &v.name == name), "{}: hidden case {name} listed", lab.id);
        }
        for solution in lab.reference.iter().chain(&lab.wrong) {
            let source = String::from_utf8_lossy(&solution.source);
            let escaped = serde_json::to_string(source.trim()).unwrap();
            assert!(!text.contains(escaped.trim_matches('"')), "{}: {} leaks into the lab view", lab.id, solution.path.display());
        }
    }
}
