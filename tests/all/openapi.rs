//! The OpenAPI document: a well-formed OpenAPI 3.1 document whose typed schemas are the ones derived from `qiming-api`.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use qiming_api::{
    Assignment, AssignmentList, AssignmentStatus, ErrorBody, LoginRequest, ScorePolicy, Submission, SubmissionRequest, SubmissionStatus, TextSchema,
};
use qiming_curriculum::Text;
use schemars::JsonSchema;
use serde_json::{Value, json};

use crate::authz::{PAGES, served_routes, shape};
use crate::server::{call, state};

fn document() -> Value {
    qiming::serve::http::openapi_document()
}

/// Every `"$ref"` string anywhere under `v`, with the JSON pointer where it sits.
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref"
                    && let Some(r) = x.as_str()
                {
                    out.push((at.to_string(), r.to_string()));
                }
                refs(x, &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

#[test]
fn the_document_is_well_formed_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string(), "info needs title and version");
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for requirement in doc["security"].as_array().unwrap() {
        for name in requirement.as_object().unwrap().keys() {
            assert!(schemes.contains_key(name), "security names an undefined scheme {name}");
        }
    }

    let mut problems = Vec::new();
    let paths = doc["paths"].as_object().unwrap();
    for (path, ops) in paths {
        if !path.starts_with('/') {
            problems.push(format!("{path}: a path must start with /"));
        }
        let vars: BTreeSet<&str> = path.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(v, _)| v)).collect();
        for (method, op) in ops.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                problems.push(format!("{path}: {method} is not an HTTP method"));
                continue;
            }
            if op["summary"].as_str().is_none_or(|s| s.is_empty()) {
                problems.push(format!("{method} {path}: no summary"));
            }
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
            assert!(!responses.is_empty(), "{method} {path}: no responses");
            for (code, answer) in responses {
                let valid = code == "default" || (code.len() == 3 && code.chars().all(|c| c.is_ascii_digit()));
                if !valid {
                    problems.push(format!("{method} {path}: {code} is not a status code"));
                }
                if !answer["description"].is_string() {
                    problems.push(format!("{method} {path} {code}: a response needs a description"));
                }
            }
            // Every `{variable}` of the path is a required path parameter, and there are no others.
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: BTreeSet<&str> = params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect();
            if in_path != vars {
                problems.push(format!("{method} {path}: path parameters {in_path:?}, but the path has {vars:?}"));
            }
            for p in &params {
                if p["in"] == "path" && p["required"] != true {
                    problems.push(format!("{method} {path}: path parameter {} must be required", p["name"]));
                }
                if !["path", "query", "header", "cookie"].contains(&p["in"].as_str().unwrap_or("")) {
                    problems.push(format!("{method} {path}: parameter {} has no valid `in`", p["name"]));
                }
            }
            if let Some(body) = op.get("requestBody")
                && body["content"].as_object().is_none_or(|c| c.is_empty())
            {
                problems.push(format!("{method} {path}: a request body needs content"));
            }
        }
    }

    // Every reference resolves inside the document, and every schema is used.
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 40, "only {} references: {found:?}", found.len());
    for (at, r) in &found {
        let resolves = r.strip_prefix('#').is_some_and(|pointer| doc.pointer(pointer).is_some());
        if !resolves {
            problems.push(format!("{at}: $ref {r} does not resolve inside the document"));
        }
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        let r = format!("#/components/schemas/{name}");
        if !found.iter().any(|(_, x)| *x == r) {
            problems.push(format!("components.schemas.{name} is never referenced"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_route_of_the_router_is_in_the_document() {
    let routes = served_routes();
    assert!(routes.len() > 30, "the route scanner found only {routes:?}");
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    let missing: Vec<_> = routes
        .iter()
        .filter(|(m, p)| !PAGES.contains(&p.as_str()) && !paths.iter().any(|(dp, ops)| shape(dp) == shape(p) && ops.get(m.to_lowercase()).is_some()))
        .collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    // And the other way: nothing documented that is not served.
    for (p, ops) in paths {
        for m in ops.as_object().unwrap().keys() {
            assert!(routes.iter().any(|(rm, rp)| rm.eq_ignore_ascii_case(m) && shape(rp) == shape(p)), "{m} {p} is documented but not served");
        }
    }
}

/// `schema_for!(T)` with its `$defs` moved to where the document keeps
/// definitions: the root schema, then each definition by name. A root schema
/// also carries `$schema` and a `title` (the type's name) that a definition
/// does not: the document's dialect is set once, and the name is the key.
fn derived<T: JsonSchema>() -> (Value, serde_json::Map<String, Value>) {
    let mut root = schemars::schema_for!(T).to_value();
    let object = root.as_object_mut().unwrap();
    object.remove("$schema");
    assert_eq!(object.remove("title"), Some(json!(T::schema_name())));
    let defs = object.remove("$defs").map(|d| d.as_object().unwrap().clone()).unwrap_or_default();
    let relocate = |v: &Value| -> Value { serde_json::from_str(&v.to_string().replace("\"#/$defs/", "\"#/components/schemas/")).unwrap() };
    (relocate(&root), defs.iter().map(|(k, v)| (k.clone(), relocate(v))).collect())
}

fn assert_generated<T: JsonSchema>(doc: &Value) {
    let schemas = &doc["components"]["schemas"];
    let name = T::schema_name();
    let (root, defs) = derived::<T>();
    assert_eq!(schemas[name.as_ref()], root, "components.schemas.{name} is not schema_for!({name})");
    for (def, schema) in defs {
        assert_eq!(schemas[def.as_str()], schema, "components.schemas.{def} (used by {name}) is not what schemars derives");
    }
}

#[test]
fn typed_bodies_are_generated_from_the_api_types() {
    let doc = document();
    assert_generated::<LoginRequest>(&doc);
    assert_generated::<SubmissionRequest>(&doc);
    assert_generated::<ErrorBody>(&doc);
    assert_generated::<AssignmentList>(&doc);
    assert_generated::<Submission>(&doc);
    assert_generated::<qiming_api::LabList>(&doc);
    assert_generated::<qiming_api::LabView>(&doc);

    // The routes point at them.
    let body = |p: &str, m: &str| doc["paths"][p][m]["requestBody"]["content"]["application/json"]["schema"]["$ref"].clone();
    assert_eq!(body("/api/login", "post"), "#/components/schemas/LoginRequest");
    assert_eq!(body("/api/assignments/{id}/submissions", "post"), "#/components/schemas/SubmissionRequest");
    assert_eq!(body("/api/assignments/{id}/test", "post"), "#/components/schemas/SubmissionRequest");
    let answer = |p: &str, m: &str, code: &str| doc["paths"][p][m]["responses"][code]["content"]["application/json"]["schema"]["$ref"].clone();
    assert_eq!(answer("/api/assignments", "get", "200"), "#/components/schemas/AssignmentList");
    assert_eq!(answer("/api/assignments/{id}/submissions", "post", "202"), "#/components/schemas/Submission");
    assert_eq!(answer("/api/labs", "get", "200"), "#/components/schemas/LabList");
    assert_eq!(answer("/api/me", "get", "401"), "#/components/schemas/ErrorBody");
}

/// `Text` lives in the curriculum crate, which stays free of schemars; the
/// schema the API crate gives it must describe what a `Text` serializes to.
#[test]
fn the_text_schema_mirrors_curriculum_text() {
    let schema = schemars::schema_for!(TextSchema).to_value();
    let text = serde_json::to_value(Text::new("你好", "hello")).unwrap();
    let keys: BTreeSet<&String> = text.as_object().unwrap().keys().collect();
    let props: BTreeSet<&String> = schema["properties"].as_object().unwrap().keys().collect();
    let required: BTreeSet<&str> = schema["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(keys, props);
    assert_eq!(keys.iter().map(|k| k.as_str()).collect::<BTreeSet<_>>(), required);
    assert!(text.as_object().unwrap().values().all(Value::is_string));
    assert_eq!(schema["properties"]["zh-CN"]["type"], "string");
    assert_eq!(schema["additionalProperties"], false, "Text denies unknown fields, and so does its schema");
    assert_eq!(schema["title"], "Text");
}

/// Responses stay readable when the server adds fields, and a staff member's
/// assignment (no student progress) reads as well as a student's.
#[test]
fn response_types_tolerate_extra_fields() {
    let staff = json!({"id": 1, "class_id": 2, "class_name": "五年级（2）班", "lab_id": "wall-stop", "title": {"zh-CN": "停在墙前", "en": "Stop at the wall"},
        "lab_title": {"zh-CN": "停在墙前", "en": "Stop at the wall"}, "custom_title": null, "opens_at": 0, "due_at": 100, "attempt_limit": 10,
        "score_policy": "best", "languages": ["rhai"], "lab": {"id": "wall-stop"}, "panel": {}, "added_later": true});
    let a: Assignment = serde_json::from_value(staff).unwrap();
    assert_eq!((a.score_policy, a.progress.is_none()), (ScorePolicy::Best, true));

    let mut student = serde_json::to_value(&a).unwrap();
    for (k, v) in [
        ("attempts_used", json!(2)),
        ("score", json!(80.0)),
        ("status", json!("submitted")),
        ("can_submit", json!(true)),
        ("reason", Value::Null),
        ("override", Value::Null),
    ] {
        student[k] = v;
    }
    let list: AssignmentList = serde_json::from_value(json!({"assignments": [student.clone()], "next": null})).unwrap();
    let progress = list.assignments[0].progress.clone().unwrap();
    assert_eq!((progress.attempts_used, progress.score, progress.status, progress.can_submit), (2, Some(80.0), AssignmentStatus::Submitted, true));
    // Serializing gives back what was read: the student fields all present, nulls included.
    assert_eq!(serde_json::to_value(&list.assignments[0]).unwrap(), student);

    let s: Submission = serde_json::from_value(json!({"id": 7, "assignment_id": 1, "student_id": 3, "language": "rhai", "status": "done", "submitted_at": 5,
        "graded_at": 6, "score": 100.0, "max_score": 100.0, "program": "motors(1, 1)", "report": {"cases": []}}))
    .unwrap();
    assert_eq!((s.status, s.score, s.student_name), (SubmissionStatus::Done, Some(100.0), None));

    let e: ErrorBody = serde_json::from_value(json!({"error": {"code": "cannot_submit", "message": "closed", "reason": "closed", "due_at": 100}})).unwrap();
    assert_eq!((e.error.code.as_str(), e.error.reason.as_deref()), ("cannot_submit", Some("closed")));
}

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let s = state("sqlite", "openapi").await;
    let (status, served, _) = call(&s, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, document());
}

#[test]
fn component_schemas_snapshot() {
    let doc = document();
    insta::with_settings!({ snapshot_path => crate::support::repo().join("tests/all/snapshots"), prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_json_snapshot!("openapi_component_schemas", doc["components"]["schemas"]);
    });
}
