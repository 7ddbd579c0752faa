//! The web UI: HTML pages rendered on the server in zh-CN or en, and the
//! static files they use — all compiled into the binary (no Node build step).
//!
//! Pages are templates from `server/web/`: the server fills `{{lang}}` and
//! every `{{t.KEY}}` from `i18n.json` before sending, so the page arrives in
//! the reader's language; `app.js` (an ES module that imports one module per area: classes, assignments, gradebook, admin…) then fetches data from the JSON API.
//! `QIMING_WEB_DIR=server/web` makes the server read the files from disk on
//! every request instead (for working on the UI without rebuilding).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::Caller;
use super::http::AppState;

/// The UI's files, embedded at build time.
const FILES: &[(&str, &str, &str)] = &[
    ("login.html", "text/html; charset=utf-8", include_str!("../../web/login.html")),
    ("app.html", "text/html; charset=utf-8", include_str!("../../web/app.html")),
    ("i18n.json", "application/json", include_str!("../../web/i18n.json")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../../web/app.js")),
    ("core.js", "text/javascript; charset=utf-8", include_str!("../../web/core.js")),
    ("password.js", "text/javascript; charset=utf-8", include_str!("../../web/password.js")),
    ("classes.js", "text/javascript; charset=utf-8", include_str!("../../web/classes.js")),
    ("assign.js", "text/javascript; charset=utf-8", include_str!("../../web/assign.js")),
    ("gradebook.js", "text/javascript; charset=utf-8", include_str!("../../web/gradebook.js")),
    ("assignments.js", "text/javascript; charset=utf-8", include_str!("../../web/assignments.js")),
    ("editor.js", "text/javascript; charset=utf-8", include_str!("../../web/editor.js")),
    ("bundle.js", "text/javascript; charset=utf-8", include_str!("../../web/bundle.js")),
    ("submissions.js", "text/javascript; charset=utf-8", include_str!("../../web/submissions.js")),
    ("replay.js", "text/javascript; charset=utf-8", include_str!("../../web/replay.js")),
    ("admin.js", "text/javascript; charset=utf-8", include_str!("../../web/admin.js")),
    ("assessments.js", "text/javascript; charset=utf-8", include_str!("../../web/assessments.js")),
    ("contests.js", "text/javascript; charset=utf-8", include_str!("../../web/contests.js")),
    ("judging.js", "text/javascript; charset=utf-8", include_str!("../../web/judging.js")),
    ("onsite.js", "text/javascript; charset=utf-8", include_str!("../../web/onsite.js")),
    ("creative.js", "text/javascript; charset=utf-8", include_str!("../../web/creative.js")),
    ("quiz.js", "text/javascript; charset=utf-8", include_str!("../../web/quiz.js")),
    ("login.js", "text/javascript; charset=utf-8", include_str!("../../web/login.js")),
    ("app.css", "text/css; charset=utf-8", include_str!("../../web/app.css")),
];

/// Languages the UI speaks; the first is the default.
pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];
const LANG_COOKIE: &str = "qiming_lang";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/login", get(login_page))
        .route("/app", get(app_page))
        .route("/static/{file}", get(static_file))
}

/// A UI file: embedded, or read from `QIMING_WEB_DIR` when that is set.
fn file(name: &str) -> Option<(&'static str, Cow<'static, str>)> {
    let (_, mime, embedded) = FILES.iter().find(|(n, _, _)| *n == name)?;
    if let Ok(dir) = std::env::var("QIMING_WEB_DIR")
        && let Ok(text) = std::fs::read_to_string(std::path::Path::new(&dir).join(name))
    {
        return Some((mime, Cow::Owned(text)));
    }
    Some((mime, Cow::Borrowed(*embedded)))
}

type Dictionary = BTreeMap<String, BTreeMap<String, String>>;

/// The translations: parsed once from the embedded file, or afresh from disk
/// on every request when working on the UI with `QIMING_WEB_DIR`.
fn dictionary() -> Cow<'static, Dictionary> {
    static EMBEDDED: OnceLock<Dictionary> = OnceLock::new();
    if std::env::var("QIMING_WEB_DIR").is_ok() {
        return Cow::Owned(file("i18n.json").and_then(|(_, t)| serde_json::from_str(&t).ok()).unwrap_or_default());
    }
    Cow::Borrowed(EMBEDDED.get_or_init(|| serde_json::from_str(include_str!("../../web/i18n.json")).expect("server/web/i18n.json is valid JSON")))
}

/// Fills `{{lang}}` and `{{t.KEY}}`; an unknown key shows as itself, so a
/// missing translation is visible rather than blank.
pub fn render(template: &str, lang: &str, dict: &Dictionary) -> String {
    let words = dict.get(lang);
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let key = after[..end].trim();
        if key == "lang" {
            out.push_str(lang);
        } else if let Some(k) = key.strip_prefix("t.") {
            let text = words.and_then(|w| w.get(k)).map(String::as_str).unwrap_or(k);
            out.push_str(&escape_html(text));
        } else {
            out.push_str(&rest[start..start + 2 + end + 2]);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The texts of `lang` from i18n.json, for words the server writes itself
/// (such as export headers). Taken once per use: with `QIMING_WEB_DIR` set,
/// every call reads the file again.
pub fn words(lang: &str) -> BTreeMap<String, String> {
    dictionary().get(lang).cloned().unwrap_or_default()
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(Debug, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The page language: `?lang=`, then the `qiming_lang` cookie, then the
/// browser's Accept-Language; Chinese unless English is asked for.
/// Returns the language and whether it was asked for by `?lang=`.
pub fn choose_lang(parts: &Parts, asked: Option<&str>) -> (&'static str, bool) {
    if let Some(l) = asked.and_then(|a| LANGUAGES.iter().find(|l| l.eq_ignore_ascii_case(a))) {
        return (l, true);
    }
    if let Some(c) = super::auth::cookie(parts, LANG_COOKIE)
        && let Some(l) = LANGUAGES.iter().find(|l| **l == c)
    {
        return (l, false);
    }
    let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let first = accept.split(',').next().unwrap_or("").trim().to_ascii_lowercase();
    (if first.starts_with("en") { "en" } else { "zh-CN" }, false)
}

fn page(name: &str, lang: &str, set_cookie: bool, status: StatusCode) -> Response {
    let Some((mime, template)) = file(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The pages load only our own scripts and talk only to our own API.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data: blob:; object-src 'self' blob:; frame-src 'self' blob:; frame-ancestors 'none'"),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if set_cookie && let Ok(v) = HeaderValue::from_str(&format!("{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000")) {
        headers.insert(header::SET_COOKIE, v);
    }
    (status, headers, render(&template, lang, &dictionary())).into_response()
}

async fn login_page(Query(q): Query<LangQuery>, parts: Parts) -> Response {
    let (lang, set) = choose_lang(&parts, q.lang.as_deref());
    page("login.html", lang, set, StatusCode::OK)
}

async fn app_page(State(state): State<AppState>, Query(q): Query<LangQuery>, mut parts: Parts) -> Response {
    let (lang, set) = choose_lang(&parts, q.lang.as_deref());
    if Caller::from_request_parts(&mut parts, &state).await.is_err() {
        // Anonymous: 401, with a page that sends the browser to the login page.
        let body = format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url=/login\"><title>Qiming</title></head>\
             <body><a href=\"/login\">{}</a></body></html>",
            if lang == "en" { "Sign in" } else { "登录" }
        );
        return (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    }
    page("app.html", lang, set, StatusCode::OK)
}

async fn static_file(Path(name): Path<String>) -> Response {
    match file(&name) {
        Some((mime, text)) if !name.ends_with(".html") => {
            ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-cache"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], text).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
