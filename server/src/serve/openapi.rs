//! The OpenAPI 3.1 document served at `/api/openapi.json`: every route, its
//! request body, and the answers it can give. docs/api.md explains the rules.
//!
//! The schemas of bodies that have a type in `qiming-api` (the wire types the
//! server and the studio share) are derived from those types with schemars, so
//! the document describes what the code sends and reads; only the bodies not
//! yet typed are written here by hand.

use qiming_api::{Assignment, AssignmentList, ErrorBody, LabList, LabView, LoginRequest, Submission, SubmissionList, SubmissionRequest};
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Value, json};

use super::auth::COOKIE;

/// Where the typed schemas live in the document.
const SCHEMAS: &str = "#/components/schemas/";

/// The generator for the typed schemas: JSON Schema 2020-12, which is OpenAPI
/// 3.1's own dialect (so the schemas need no translation), with definitions
/// under `components.schemas` instead of `$defs`, and no `$schema` per schema.
/// Otherwise schemars' defaults, so a component equals `schema_for!` of its
/// type up to where the definitions are kept (tests/all/openapi.rs).
pub fn schema_generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    settings.into_generator()
}

/// A `$ref` to `T`'s derived schema (added to the generator's definitions).
fn typed<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<T>().to_value()
}

fn err(d: &str) -> Value {
    json!({"description": d, "content": {"application/json": {"schema": {"$ref": format!("{SCHEMAS}ErrorBody")}}}})
}

fn ok(d: &str, schema: Value) -> Value {
    json!({"description": d, "content": {"application/json": {"schema": schema}}})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn obj(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "required": required, "additionalProperties": false, "properties": props})
}

fn id_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "integer"}})
}

fn reff(name: &str) -> Value {
    json!({"$ref": format!("{SCHEMAS}{name}")})
}

/// An operation with the usual error answers for a signed-in route.
fn op(summary: &str, params: &[&str], request: Option<Value>, answers: &[(&str, Value)]) -> Value {
    let mut responses = serde_json::Map::new();
    for (code, v) in answers {
        responses.insert(code.to_string(), v.clone());
    }
    for (code, text) in [
        ("400", "malformed request (the message names the field)"),
        ("401", "not signed in"),
        ("403", "your role may not, CSRF token missing, or password change required"),
        ("404", "no such resource, or not yours to see"),
    ] {
        responses.entry(code).or_insert_with(|| err(text));
    }
    let mut o = json!({"summary": summary, "responses": responses});
    if !params.is_empty() {
        o["parameters"] = json!(
            params
                .iter()
                .map(|p| if *p == "case" || *p == "item" || *p == "code" {
                    json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}})
                } else {
                    id_param(p)
                })
                .collect::<Vec<_>>()
        );
    }
    if let Some(r) = request {
        o["requestBody"] = r;
    }
    o
}

fn public(summary: &str, answer: Value) -> Value {
    json!({"summary": summary, "security": [], "responses": {"200": answer}})
}

pub fn document() -> Value {
    // The typed bodies: each call adds the type (and the types it uses) to the
    // generator's definitions, which become `components.schemas` below.
    let mut g = schema_generator();
    let login_request = typed::<LoginRequest>(&mut g);
    let submission_request = typed::<SubmissionRequest>(&mut g);
    let lab_list = typed::<LabList>(&mut g);
    let lab_view = typed::<LabView>(&mut g);
    let assignment = typed::<Assignment>(&mut g);
    let assignment_list = typed::<AssignmentList>(&mut g);
    let submission = typed::<Submission>(&mut g);
    let submission_list = typed::<SubmissionList>(&mut g);
    typed::<ErrorBody>(&mut g);
    let user = json!({"type": "object", "required": ["id", "username", "display_name", "role", "must_change_password"], "properties": {
        "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
        "role": {"type": "string", "enum": ["student", "teacher", "school_admin", "organiser", "platform_admin"]},
        "must_change_password": {"type": "boolean"}, "school_id": {"type": ["integer", "null"]}, "class_id": {"type": ["integer", "null"]},
        "student_number": {"type": ["string", "null"]}}});
    let flag = json!({"type": "boolean"});
    let can = json!({"type": "object", "description": "what the role may do in general (the server's role rules); ownership is still checked per resource",
        "required": ["staff", "manage_classes", "manage_users", "view_audit", "manage_schools", "admin", "submit"],
        "properties": {"staff": flag, "manage_classes": flag, "manage_users": flag, "view_audit": flag, "manage_schools": flag, "admin": flag, "submit": flag}});
    let me = json!({"allOf": [reff("User"), {"type": "object", "required": ["csrf_token", "can", "may_assign_roles", "current_password_required"], "properties": {"csrf_token": {"type": "string"}, "can": can, "may_assign_roles": {"type": "array", "items": {"type": "string"}}, "current_password_required": {"type": "boolean"}}}]});
    let class = json!({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "school_id": {"type": "integer"},
        "teacher_id": {"type": "integer"}, "teacher_name": {"type": "string"}, "students": {"type": "integer"},
        "roster": {"type": "array", "items": {"type": "object"}}}});
    // `GET /api/assignments/{id}`: the list item plus the lab, the lesson panel and the student's own work.
    let assignment_detail = json!({"allOf": [assignment.clone(), {"type": "object", "required": ["lab", "panel"], "properties": {
        "lab": {"allOf": [lab_view, {"type": "object", "description": "`languages`: those the assignment allows", "properties": {"all_languages": {"type": "array", "items": {"type": "string"}, "description": "the lab's own languages"}}}]},
        "panel": {"type": "object", "description": "lesson outline, robot functions with units and ranges, arena, offered languages (docs/api.md)"},
        "submissions": {"type": "array", "items": submission.clone(), "description": "students only: their own"},
        "last_program": {"type": ["object", "null"], "description": "students only: the program they last submitted", "properties": {"language": {"type": "string"}, "encoding": {"type": "string", "enum": ["text", "base64"]}, "program": {"type": "string"}, "bundle": {"type": "boolean", "description": "the program came in a .zip bundle (its model stays in the stored submission)"}}}}}]});
    // `GET /api/submissions/{id}`: the submission with its program and, once graded, the report.
    let submission_detail = json!({"allOf": [submission.clone(), {"type": "object", "required": ["program"], "properties": {
        "program": {"type": "string"},
        "report": {"type": "object", "description": "the grade report; hidden cases carry only name, hidden, passed, score, max_score, feedback"}}}]});
    let list = |key: &str, item: Value| json!({"type": "object", "properties": {key: {"type": "array", "items": item}}});
    let file = |mime: &str, d: &str| json!({"description": d, "content": {mime: {"schema": {"type": "string", "format": "binary"}}}});
    // Exports take the language of their headers as ?lang= (else the cookie, else Accept-Language).
    let export_op = |summary: &str, answers: &[(&str, Value)]| {
        let mut o = op(summary, &["id"], None, answers);
        if let Some(p) = o["parameters"].as_array_mut() {
            p.push(json!({"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["zh-CN", "en"]}}));
        }
        o
    };
    let override_body = obj(
        &["score", "comment"],
        json!({"score": {"type": "number", "minimum": 0, "maximum": 100}, "comment": {"type": "string", "minLength": 1, "maxLength": 500}}),
    );
    // Derived schemas first; the hand-written ones (bodies not yet typed) beside them.
    let mut schemas = g.take_definitions(true);
    for (name, schema) in [("User", user), ("Class", class)] {
        let clash = schemas.insert(name.to_string(), schema);
        debug_assert!(clash.is_none(), "{name} is both derived and hand-written");
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Qiming (启明) API", "version": env!("CARGO_PKG_VERSION"),
            "description": "Schools, classes, assignments and auto-graded robot labs. Cookie-authenticated writes must send the X-CSRF-Token header; see docs/api.md."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE}},
            "schemas": schemas
        },
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": {
            "/healthz": {"get": public("Health (also checks the database)", json!({"description": "healthy"}))},
            "/metrics": {"get": public("Prometheus metrics", json!({"description": "text format 0.0.4"}))},
            "/api/openapi.json": {"get": public("This document", json!({"description": "OpenAPI 3.1"}))},
            "/login": {"get": public("The login page (HTML)", json!({"description": "HTML"}))},
            "/static/{file}": {"get": {"summary": "The web UI's scripts, styles and translations", "security": [], "parameters": [{"name": "file", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "the file"}, "404": {"description": "no such file"}}}},
            "/app": {"get": op("The web UI (HTML, in zh-CN or en by ?lang=, cookie or Accept-Language)", &[], None, &[("200", json!({"description": "HTML"}))])},
            "/api/login": {"post": {
                "summary": "Sign in: returns a bearer token and the CSRF token, and sets the session cookie",
                "security": [],
                "requestBody": body(login_request),
                "responses": {
                    "200": ok("signed in", json!({"type": "object", "properties": {"token": {"type": "string"}, "csrf_token": {"type": "string"}, "user": reff("User")}})),
                    "400": err("malformed request"), "401": err("wrong username or password"),
                    "409": err("onsite_signed_in_elsewhere: a contestant's seat in a running on-site round is held by another session (a proctor releases it)"),
                    "429": err("this client must wait (Retry-After) after too many wrong passwords"), "503": err("the server is busy checking passwords; retry after Retry-After seconds")
                }
            }},
            "/api/logout": {"post": op("End this session", &[], None, &[("204", json!({"description": "signed out"}))])},
            "/api/password": {"post": op("Change the signed-in user's password (required first after a generated one); ends the user's other sessions", &[],
                Some(body(obj(&["new_password"], json!({"current_password": {"type": "string", "description": "required unless /api/me says current_password_required: false (a session that signed in with the generated password and must change it)"}, "new_password": {"type": "string", "minLength": 8, "maxLength": 256}})))),
                &[("204", json!({"description": "changed"})), ("429", err("too many wrong current passwords from this client (Retry-After)")), ("503", err("busy; retry"))])},
            "/api/me": {"get": op("The signed-in user, the session's CSRF token, the roles they may assign (may_assign_roles), whether a password change needs the current password (current_password_required) and what the role may do (can)", &[], None, &[("200", ok("the user", me))])},
            "/api/labs": {"get": op("The curriculum's labs, each with the limits its programs are held to", &[], None, &[("200", ok("the catalogue", lab_list))])},
            "/api/regions": {
                "get": op("Regions (staff)", &[], None, &[("200", ok("regions", list("regions", json!({"type": "object"}))))]),
                "post": op("Create a region (platform admin)", &[], Some(body(obj(&["name", "kind"], json!({"name": {"type": "string"}, "kind": {"type": "string", "enum": ["province", "city", "district"]}, "parent_id": {"type": ["integer", "null"]}})))), &[("201", json!({"description": "created"}))])
            },
            "/api/regions/{id}": {
                "patch": op("Rename a region, change its kind or parent (platform admin; audited)", &["id"], Some(body(obj(&[], json!({"name": {"type": "string"}, "kind": {"type": "string", "enum": ["province", "city", "district"]}, "parent_id": {"type": ["integer", "null"]}})))), &[("200", json!({"description": "the region"}))]),
                "delete": op("Delete an empty region (platform admin; audited)", &["id"], None, &[("204", json!({"description": "deleted"})), ("409", err("not_empty: error.contents lists the regions and schools inside"))])
            },
            "/api/schools/{id}": {
                "patch": op("Rename a school, move it to another region or record its locality (platform admin; audited)", &["id"], Some(body(obj(&[], json!({"name": {"type": "string"}, "region_id": {"type": "integer"}, "locality": {"type": ["string", "null"], "enum": ["urban", "rural", null]}})))), &[("200", json!({"description": "the school"}))]),
                "delete": op("Delete an empty school (platform admin; audited)", &["id"], None, &[("204", json!({"description": "deleted"})), ("409", err("not_empty: error.contents lists its classes and people by role"))])
            },
            "/api/users/{id}/deactivate": {"post": op("Deactivate an account: no sign-in, sessions end, nothing deleted (audited)", &["id"], None, &[("204", json!({"description": "deactivated"}))])},
            "/api/users/{id}/reactivate": {"post": op("Let a deactivated account sign in again (audited)", &["id"], None, &[("204", json!({"description": "reactivated"}))])},
            "/api/classes/{id}/students": {"post": op("Add one student by hand (the roster import's rules; username optional); the answer has the import's shape with the one-time password", &["id"],
                Some(body(obj(&["student_number", "display_name"], json!({"student_number": {"type": "string"}, "display_name": {"type": "string"}, "username": {"type": "string"}})))),
                &[("201", json!({"description": "{class_id, created: [{id, username, display_name, student_number, password}], reissued: […]}"})), ("422", err("invalid_roster: error.rows says which field is wrong"))])},
            "/api/schools": {
                "get": {"summary": "Schools the caller may see, a page at a time: {schools: [{id, name, region_id, locality, classes, people}], total, page, per_page}",
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}, {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
                    "responses": {"200": ok("schools", list("schools", json!({"type": "object"}))), "400": err("bad page"), "401": err("not signed in"), "403": err("students may not")}},
                "post": op("Create a school (platform admin); locality urban or rural feeds the reports' urban–rural gap", &[], Some(body(obj(&["name", "region_id"], json!({"name": {"type": "string"}, "region_id": {"type": "integer"}, "locality": {"type": ["string", "null"], "enum": ["urban", "rural", null]}})))), &[("201", json!({"description": "created"}))])
            },
            "/api/users": {
                "get": {"summary": "Accounts (admins; a school admin sees their school), a page at a time: {users: [User + deactivated, last_login_at], total, page, per_page}",
                    "parameters": [{"name": "q", "in": "query", "description": "part of a username or display name", "schema": {"type": "string"}}, {"name": "school_id", "in": "query", "schema": {"type": "integer"}}, {"name": "role", "in": "query", "schema": {"type": "string"}}, {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}, {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
                    "responses": {"200": ok("accounts", list("users", reff("User"))), "400": err("bad filter or page"), "401": err("not signed in"), "403": err("not an admin")}},
                "post": op("Create a staff account; without a password one is generated and returned once", &[],
                    Some(body(obj(&["username", "display_name", "role"], json!({"username": {"type": "string"}, "display_name": {"type": "string"}, "role": {"type": "string"}, "school_id": {"type": ["integer", "null"]}, "password": {"type": "string"}})))),
                    &[("201", json!({"description": "created"})), ("409", err("username taken"))])
            },
            "/api/users/{id}": {
                "patch": op("Edit a person: display name; gender (f, m or null: only where the school monitors gender gaps); for staff, role (only one in /api/me may_assign_roles) and school (platform admin); audited", &["id"],
                    Some(body(obj(&[], json!({"display_name": {"type": "string"}, "role": {"type": "string"}, "school_id": {"type": ["integer", "null"]}, "gender": {"type": ["string", "null"], "enum": ["f", "m", null]}})))), &[("200", json!({"description": "{user}"})), ("409", err("still teaches classes"))]),
                "delete": op("Delete an account and all its work (teachers: their students; admins: also staff they manage; audited)", &["id"], None, &[("204", json!({"description": "deleted"})), ("409", err("still teaches classes"))])
            },
            "/api/users/{id}/reset-password": {"post": op("Give a person a new generated password (to be changed at next login); also lifts login back-off", &["id"], None, &[("200", json!({"description": "the new password, shown once"}))])},
            "/api/users/{id}/unlock": {"post": op("Lift login back-off on a person's account (whoever may reset their password)", &["id"], None, &[("204", json!({"description": "unlocked"}))])},
            "/api/users/{id}/export": {"get": op("Everything Qiming holds about a person (JSON)", &["id"], None, &[("200", json!({"description": "the person's data"}))])},
            "/api/classes": {
                "get": op("Classes the caller teaches, administers or belongs to", &[], None, &[("200", ok("classes", list("classes", reff("Class"))))]),
                "post": op("Create a class (a teacher: one they teach; admins: give teacher_id)", &[], Some(body(obj(&["name"], json!({"name": {"type": "string"}, "teacher_id": {"type": "integer"}})))), &[("201", ok("the class", reff("Class")))])
            },
            "/api/classes/{id}": {"get": op("A class (with its roster for its managers)", &["id"], None, &[("200", ok("the class", reff("Class")))])},
            "/api/classes/{id}/roster": {"post": {
                "summary": "Import students from CSV or XLSX (columns student_number/学号 and display_name/姓名); all or nothing",
                "parameters": [id_param("id"), {"name": "record_gender", "in": "query", "description": "also read a gender/性别 column (男/女, m/f, empty); otherwise it is ignored like every extra column", "schema": {"type": "boolean"}}],
                "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}, super::roster::XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"201": json!({"description": "the created accounts with their first passwords (shown once)"}), "401": err("not signed in"), "403": err("not your class"), "404": err("no such class"), "422": err("invalid roster: error.rows lists every bad row")}
            }},
            "/api/classes/{id}/reset-passwords": {"post": op("New one-time passwords for every student of the class (to be changed at next sign-in); ends their sessions, lifts login back-off; audited", &["id"], None, &[("200", json!({"description": "{class_id, reset: [{id, username, display_name, student_number, password}]}"}))])},
            "/api/audit": {"get": {
                "summary": "The audit log, newest first (platform admin: all; school admin: their school's people)",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}, {"name": "before", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": json!({"description": "{entries: [{id, at, actor_id, actor, action, detail}]}"}), "400": err("bad limit"), "401": err("not signed in"), "403": err("not an admin")}
            }},
            "/api/login-slips": {"post": {
                "summary": "Printable 账号卡 (account cards, PDF) for the given accounts, with the sign-in address as text and QR code; nothing is stored. Characters no font has print as □ and are named in the x-qiming-missing-glyphs header",
                "requestBody": body(obj(&["students"], json!({"title": {"type": "string"}, "students": {"type": "array", "items": obj(&["display_name", "username", "password"], json!({"display_name": {"type": "string"}, "username": {"type": "string"}, "password": {"type": "string"}, "student_number": {"type": ["string", "null"]}}))}}))),
                "responses": {"200": file("application/pdf", "the cards"), "400": err("malformed request"), "401": err("not signed in"), "403": err("students may not"), "409": err("no CJK font on the server")}
            }},
            "/api/classes/{id}/assignments": {
                "get": op("A class's assignments", &["id"], None, &[("200", ok("assignments", assignment_list.clone()))]),
                "post": op("Assign a lab to the class (409 already_assigned when the class has it, unless allow_duplicate)", &["id"], Some(body(obj(&["lab_id", "due_at"], json!({"lab_id": {"type": "string"}, "opens_at": {"type": "integer"}, "due_at": {"type": "integer"}, "attempt_limit": {"type": "integer", "minimum": 1, "maximum": 100}, "score_policy": {"type": "string", "enum": ["best", "last"]}, "allow_duplicate": {"type": "boolean"}})))), &[("201", ok("the assignment", assignment.clone())), ("409", err("already_assigned: error.existing is the class's assignment of this lab"))])
            },
            "/api/assignments": {"get": op("All the caller's assignments (a student: with attempts used and score)", &[], None, &[("200", ok("assignments", assignment_list.clone()))])},
            "/api/assignments/{id}": {
                "get": op("An assignment with its lab's instructions and starter code, and the lesson panel", &["id"], None, &[("200", ok("the assignment", assignment_detail))]),
                "patch": op("Change an assignment: title, opens, due (extend), close now, attempts, scoring, languages (the class's managers; audited)", &["id"],
                    Some(body(obj(&[], json!({"title": {"type": "string", "maxLength": 100}, "opens_at": {"type": "integer"}, "due_at": {"type": "integer"}, "close": {"type": "boolean"},
                        "attempt_limit": {"type": "integer", "minimum": 1, "maximum": 100}, "score_policy": {"type": "string", "enum": ["best", "last"]},
                        "languages": {"type": "array", "items": {"type": "string"}, "minItems": 1}})))),
                    &[("200", ok("the changed assignment", assignment.clone()))]),
                "delete": {
                    "summary": "Delete an assignment; one with submissions only with ?force=true (its submissions go too; audited)",
                    "parameters": [id_param("id"), {"name": "force", "in": "query", "schema": {"type": "boolean"}}],
                    "responses": {"204": json!({"description": "deleted"}), "401": err("not signed in"), "403": err("not a manager of the class"), "404": err("no such assignment, or not yours to see"),
                        "409": err("has_submissions: error.submissions and error.students say what would be lost")}
                }
            },
            "/api/assignments/{id}/progress": {"get": op("Progress of the class on an assignment: submitted / not yet (with names), average, best, histogram (managers)", &["id"], None,
                &[("200", json!({"description": "{assignment_id, students, submitted, not_submitted: [{id, display_name, student_number}], scored, average, best, histogram: [{label, min, count}], submissions}"}))])},
            "/api/assignments/{id}/submissions": {
                "get": op("Submissions (managers: everyone's; a student: their own)", &["id"], None, &[("200", ok("submissions", submission_list))]),
                "post": op("Submit a program (at most 64 KiB), or for an AI lab a .zip bundle (encoding zip: a program and at most one .qmodel model, base64, checked before it is queued); it is stored before the answer and graded by the queue", &["id"],
                    Some(body(submission_request.clone())),
                    &[("202", ok("accepted and queued", submission.clone())), ("400", err("invalid: e.g. reason bundle_not_ai (a bundle for a lab without a model) or bundle_language")), ("409", err("cannot_submit: error.reason is not_open (see error.opens_at), attempts_used_up or closed")), ("413", err("program too large")), ("422", err("bad_bundle: the .zip is refused (size, entries, zip bomb, unsafe path, link, two programs or models, damaged model); error.detail says why in zh-CN and en"))])
            },
            "/api/assignments/{id}/test": {"post": op("Test a program on the lab's visible cases: the report at once, no attempt spent, nothing stored (one run per person at a time)", &["id"],
                Some(body(submission_request.clone())),
                &[("200", json!({"description": "the grade report of the visible cases, with attempt_spent: false"})), ("413", err("program too large")), ("429", err("a test run of yours is still going")), ("503", err("busy; retry"))])},
            "/api/submissions/{id}": {"get": op("A submission with its program and grade report", &["id"], None, &[("200", ok("the submission", submission_detail))])},
            "/api/submissions/{id}/events": {"get": op("Live status: server-sent `status` events until graded", &["id"], None, &[("200", json!({"description": "text/event-stream"}))])},
            "/api/submissions/{id}/replays/{case}": {"get": op("A visible case's replay and world, for drawing", &["id", "case"], None, &[("200", json!({"description": "{world, replay}"}))])},
            "/api/classes/{id}/gradebook": {"get": op("The class's gradebook: per cell the score that counts, the computed score, attempts, state (graded, grading, failed, missing, not_open) and override; per assignment average, median and completion; per student average and missing work", &["id"], None, &[("200", json!({"description": "the gradebook"}))])},
            "/api/classes/{id}/gradebook.csv": {"get": export_op("The gradebook as CSV (UTF-8 with BOM): per assignment score, attempts, override flag and comment; averages, medians and completion", &[("200", file("text/csv", "CSV"))])},
            "/api/classes/{id}/gradebook.xlsx": {"get": export_op("The gradebook as XLSX, the same columns and rows as the CSV", &[("200", file(super::roster::XLSX_TYPE, "XLSX"))])},
            "/api/assignments/{id}/overrides/{student}": {
                "put": op("Override a student's score, with a reason the student sees (audited)", &["id", "student"], Some(body(override_body)), &[("204", json!({"description": "set"})), ("400", err("invalid: field score (range, 0–100) or comment (length: 1–500 characters)"))]),
                "delete": op("Remove an override, so the computed score counts again (audited; 204 also when there was none)", &["id", "student"], None, &[("204", json!({"description": "removed"}))])
            }
        }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(assessment_paths());
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), contest_paths(submission_request)) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), judging_paths()) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), onsite_paths()) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), creative_paths()) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), quiz_paths()) {
        paths.extend(more);
    }
    doc
}

/// Computational-thinking quiz rounds (quiz.rs; docs/competitions.md, "Quiz rounds").
fn quiz_paths() -> Value {
    use super::quiz::MAX_QUIZ_ITEMS;
    let form = obj(
        &["division_id"],
        json!({"division_id": {"type": "integer"},
        "items": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_QUIZ_ITEMS, "description": "item ids of the bank in order: live, students', not performance tasks, of a grade band that overlaps the division's grades"},
        "blueprint": {"type": "string", "description": "instead of items: a blueprint (docs/assessment-assembly.md) assembled from the division's candidates"}}),
    );
    let forms = json!({"type": "array", "items": form, "minItems": 1, "description": "one form per division of the event"});
    let round = json!({"description": "the round (as GET /api/events/{id}/rounds/{round}) + quiz: {forms: [{division_id, items, max_points, item_list (organisers and judges: [{id, type, literacy, module, grade_band, difficulty, max_points, stem}], never a key)}], max_items} + team_id"});
    let sheet = "{round, team_id, review, status (not_started, in_progress, submitted), sheet: {id, started_at, started_by, submitted_at, submitted_by, closed_by (team, deadline), points, max_points (after the round closed)} or null, deadline_at, remaining_seconds, answered, total, items: [{position, item (stem, options; no key), response, answered_by, answered_at} + after the round closed: points, max_points, correct, explanation]}";
    let refused = |codes: &str| err(&format!("refused: {codes}"));
    json!({
        "/api/events/{id}/quiz-rounds": {"post": op("Create a round of a ct_quiz event: its window, the freeze, and each division's form of items from the bank, by id or assembled from a blueprint (organisers; audited)", &["id"],
            Some(body(obj(&["name", "opens_at", "closes_at", "forms"], json!({"name": {"type": "string"}, "opens_at": {"type": "integer"}, "closes_at": {"type": "integer"},
                "freeze_seconds": {"type": "integer", "minimum": 0, "default": 0}, "forms": forms.clone()})))),
            &[("201", ok("the round", round.clone())), ("409", refused("not_quiz (the event is not a ct_quiz event), blueprint_infeasible"))])},
        "/api/events/{id}/quiz-bank": {"get": {
            "summary": "The items organisers may choose for a division (or any division of the event): live, students', not performance tasks, of a suitable grade band; summaries without keys (organisers)",
            "parameters": [id_param("id"), {"name": "division_id", "in": "query", "required": false, "schema": {"type": "integer"}}],
            "responses": {"200": json!({"description": "{event_id, division_id, items: [{id, type, literacy, module, grade_band, difficulty, max_points, stem}]}"}),
                "400": err("malformed request"), "401": err("not signed in"), "403": err("not an organiser of the event"), "404": err("no such event")}
        }},
        "/api/events/{id}/rounds/{round}/quiz": {
            "get": op("A quiz round with its forms: item summaries for organisers and judges, counts for everyone else who sees the round", &["id", "round"], None, &[("200", ok("the round", round.clone()))]),
            "put": op("Replace the forms until the round opens and before any team has started (organisers; audited)", &["id", "round"],
                Some(body(obj(&["forms"], json!({"forms": forms})))), &[("200", ok("the round", round)), ("409", refused("quiz_started"))])
        },
        "/api/events/{id}/rounds/{round}/quiz/progress": {"get": op("Where every approved team's sheet stands: not started, answering, handed in (by the team or at the round's end), answered items, score once closed (organisers and judges)", &["id", "round"], None,
            &[("200", json!({"description": "{round_id, opens_at, closes_at, finalised_at, totals: {teams, started, submitted}, teams: [{team_id, team, division_id, status, started_at, submitted_at, closed_by, answered, total, points, max_points}]}"}))])},
        "/api/events/{id}/rounds/{round}/quiz/sheet": {
            "get": {
                "summary": "The caller's team's answer sheet: its division's items without keys and the answers saved so far; after the round closed, each item's points, key and explanation (team members). With team_id, a team's sheet read-only for its coach or the event's officials, once the round has closed",
                "parameters": [id_param("id"), id_param("round"), {"name": "team_id", "in": "query", "required": false, "schema": {"type": "integer"}, "description": "a coached team (coach) or any team (organisers, judges); after the round closes"}],
                "responses": {"200": json!({"description": sheet}), "401": err("not signed in"), "403": err("not in a team, or not the coach of team_id"), "404": err("no such round or team"),
                    "409": err("round_running (team_id before the round closes)")}
            },
            "post": op("Start the team's sheet (one per team, shared by its members) inside the round's window, or resume it (team members; audited)", &["id", "round"], None,
                &[("201", json!({"description": format!("started: {sheet}")})), ("200", json!({"description": format!("resumed: {sheet}")})), ("409", refused("round_not_open, round_closed"))])
        },
        "/api/events/{id}/rounds/{round}/quiz/sheet/answers/{item}": {"put": op("Save one answer of the team's sheet as given (any member; the last save stands; stored before the answer)", &["id", "round", "item"],
            Some(body(obj(&["response"], json!({"response": {"description": "{choices: [id]}, {value: bool}, {number: x}, {text: s}, {order: [id]}, {pairs: [[option, target]]}, or null to clear"}})))),
            &[("200", json!({"description": "{saved, item_id, position, answered_at, remaining_seconds}"})), ("404", err("the item is not on the team's sheet")),
              ("409", refused("round_not_open, round_closed, not_started, sitting_submitted (the team has handed in)"))])},
        "/api/events/{id}/rounds/{round}/quiz/sheet/submit": {"post": op("Hand in the team's sheet: scored by the bank's rules and entered on the leaderboard with this time; answers can no longer change; again: no change (team members; audited)", &["id", "round"], None,
            &[("200", json!({"description": sheet})), ("409", refused("round_not_open, round_closed, not_started"))])}
    })
}

/// On-site rounds: the address allow-list, seats and the seat plan, releasing a seat (onsite.rs; docs/competitions.md).
fn onsite_paths() -> Value {
    let seat = "{room, seat, student_id, name, team_id, team, school_id, school}";
    let room = json!({"type": "object", "required": ["name", "capacity"], "additionalProperties": false,
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 30}, "capacity": {"type": "integer", "minimum": 1, "maximum": super::onsite::MAX_SEATS}}});
    json!({
        "/api/events/{id}/rounds/{round}/onsite": {
            "get": op("The round's on-site settings: enabled, checkin_seconds; organisers and judges also the allow-list and the bound sessions (student_id, name, address, bound_at, live); a contestant their seat", &["id", "round"], None,
                &[("200", json!({"description": format!("{{round_id, enabled, checkin_seconds, allow?: [cidr], sessions?: [...], seat?: {seat}}}")}))]),
            "put": op("Turn on-site mode on or off with the address allow-list (IPv4/IPv6 CIDRs or single addresses; the event's organisers; audited). While on and until the round closes, contestants' requests for the round (tasks, submissions, choice, clarifications) from other addresses are refused (403 onsite_address), and from another session than their seat's (409 onsite_other_seat)", &["id", "round"],
                Some(body(obj(&["enabled"], json!({"enabled": {"type": "boolean"}, "allow": {"type": "array", "maxItems": super::onsite::MAX_ALLOW, "items": {"type": "string", "examples": ["10.1.0.0/16", "2001:db8::/32"]}}})))),
                &[("200", json!({"description": "{round_id, enabled, allow: [normalised cidr], checkin_seconds}"})), ("400", err("invalid: allow (cidr, count, required when enabled)"))])
        },
        "/api/events/{id}/rounds/{round}/onsite/release": {"post": op("Release a contestant's seat: the session bound to it ends, and they may sign in at another seat (the event's organisers and judges; audited)", &["id", "round"],
            Some(body(obj(&["student_id"], json!({"student_id": {"type": "integer"}})))),
            &[("200", json!({"description": "{round_id, student_id, released: whether a seat was held}"}))])},
        "/api/events/{id}/rounds/{round}/seats": {
            "get": op("The seat plan as JSON: per room the seats in order and the door list (by school, team, name); organisers and judges every room, contestants and coaches their teams' seats", &["id", "round"], None,
                &[("200", json!({"description": format!("{{round_id, rooms: [{{room, seats: [{seat}], door: [{seat}]}}]}}")}))]),
            "post": op("Seat one contestant (student_id) or a whole team (team_id: its members on consecutive seats from seat) by hand; room null takes the seats away (the event's organisers; audited)", &["id", "round"],
                Some(body(obj(&[], json!({"student_id": {"type": "integer"}, "team_id": {"type": "integer"}, "room": {"type": ["string", "null"], "maxLength": 30}, "seat": {"type": "integer", "minimum": 1, "maximum": super::onsite::MAX_SEATS}})))),
                &[("200", json!({"description": format!("{{round_id, seats: [{seat}]}}")})), ("409", err("seat_taken"))])
        },
        "/api/events/{id}/rounds/{round}/seats/auto": {"post": op("Seat every approved team over the rooms given, deterministically: schools' teams dealt in turn, rooms filled in order, a team on consecutive seats of one room; replaces the round's seats (the event's organisers; audited)", &["id", "round"],
            Some(body(obj(&["rooms"], json!({"rooms": {"type": "array", "minItems": 1, "maxItems": super::onsite::MAX_ROOMS, "items": room}})))),
            &[("200", json!({"description": format!("{{round_id, seats: [{seat}]}}")})), ("409", err("rooms_too_small {needed, capacity}"))])},
        "/api/events/{id}/rounds/{round}/seats.pdf": {"get": op("The seat plan as PDF (A4, CJK fonts): per room the seat plan and the door list (the event's organisers and judges)", &["id", "round"], None,
            &[("200", json!({"description": "application/pdf"})), ("409", err("no_seats or seat_plan_unavailable (no CJK font)"))])}
    })
}

/// Judging and results of contest rounds (judging.rs, certificates.rs; docs/competitions.md).
fn judging_paths() -> Value {
    let text = |max: usize| json!({"type": "string", "minLength": 1, "maxLength": max});
    let clar = json!({"description": "{id, round_id, team_id (null in a broadcast to another team), question (null: an announcement), asked_at, answer, answered_at, broadcast}"});
    let appeal =
        "{id, event_id, round_id, team_id, submission_id, reason, filed_at, status (open, upheld, rejected), answer, answered_at, score_before, regraded}";
    let cert = "{code, team_id, student_id, name, award, rank, status (valid, revoked), revoked_at, revoked_reason, replaced_by, replaces}";
    let reason = json!({"type": "string", "minLength": 1, "maxLength": super::certificates::MAX_REVOKE_REASON});
    let code_param = json!([{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}, "description": "XXXXX-XXXXX-XXXXX-XXXXX (case, dashes and O/0, I/L/1 forgiven)"}]);
    let award = json!({"type": "object", "required": ["name"], "additionalProperties": false, "description": "exactly one of top, top_percent, advanced",
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 30}, "top": {"type": "integer", "minimum": 1},
            "top_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}, "advanced": {"type": "boolean"}}});
    json!({
        "/api/events/{id}/rounds/{round}/choice": {"post": op("Choose which of the team's submissions counts for its lab (the team's captain or coach, before the round closes; the final ranking re-grades it; audited)", &["id", "round"],
            Some(body(obj(&["submission_id"], json!({"submission_id": {"type": "integer"}})))),
            &[("200", json!({"description": "{round_id, team_id, lab_id, submission_id, chosen_at}"})), ("409", err("round_closed or submission_failed"))])},
        "/api/events/{id}/rounds/{round}/clarifications": {
            "get": op("Clarifications: organisers and judges all; a team's members and coach theirs and the broadcasts; others the broadcasts", &["id", "round"], None, &[("200", json!({"description": "{clarifications: [clarification]}"}))]),
            "post": op("A contestant asks privately for their team while the round runs; an organiser or judge announces to the whole round (audited)", &["id", "round"],
                Some(body(obj(&["text"], json!({"text": text(super::judging::MAX_TEXT)})))), &[("201", ok("the clarification", clar.clone())), ("409", err("round_not_running"))])
        },
        "/api/events/{id}/rounds/{round}/clarifications/{c}/answer": {"post": op("Answer a question privately or to the whole round (organisers and judges; audited)", &["id", "round", "c"],
            Some(body(obj(&["answer"], json!({"answer": text(super::judging::MAX_TEXT), "broadcast": {"type": "boolean", "default": false}})))), &[("200", ok("the clarification", clar))])},
        "/api/events/{id}/appeals": {
            "get": op("Appeals: organisers and judges all; a coach their teams'; contestants their team's", &["id"], None, &[("200", json!({"description": format!("{{appeals: [{appeal}]}}")}))]),
            "post": op("A coach appeals against a graded submission of their team, with a reason (one open appeal per submission; audited)", &["id"],
                Some(body(obj(&["submission_id", "reason"], json!({"submission_id": {"type": "integer"}, "reason": text(super::judging::MAX_TEXT)})))),
                &[("201", json!({"description": appeal})), ("409", err("not_graded or appeal_open"))])
        },
        "/api/events/{id}/similarity": {"get": {
            "summary": "Similarity review (organisers and judges): per lab of the event, pairs of counting submissions that look alike (highest first) and clusters, with judges' verdicts; evidence, never a penalty",
            "parameters": [id_param("id"), {"name": "round", "in": "query", "schema": {"type": "integer"}, "description": "one round (default: every round)"},
                {"name": "threshold", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5}, "description": "pairs at or above it link a cluster"},
                {"name": "min_score", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.3}, "description": "pairs below it are not listed"}],
            "responses": {"200": json!({"description": "{event_id, round, threshold, min_score, labs: [{lab_id, programs, pairs: [{a, b, score, compared_as, same_school, review}], clusters, unparsed, too_short, unreadable}]}"}),
                "400": err("bad threshold, min_score or round"), "401": err("not signed in"), "403": err("not an official of the event"), "404": err("no such event")}}},
        "/api/events/{id}/similarity/reviews": {"post": op("A judge's verdict on a similar pair: cleared, referred (to the organisers) or pending (taken back); replaces an earlier verdict; audited", &["id"],
            Some(body(obj(&["a", "b", "verdict"], json!({"a": {"type": "integer"}, "b": {"type": "integer"}, "verdict": {"type": "string", "enum": ["cleared", "referred", "pending"]}, "note": {"type": "string", "maxLength": 500}})))),
            &[("200", json!({"description": "{event_id, a, b, verdict, note} with a < b"}))])},
        "/api/events/{id}/appeals/{appeal}": {"get": op("An appeal with the submission and its redacted report; organisers and judges also get `evidence`, the full report with every hidden case's run, checks and measurements", &["id", "appeal"], None,
            &[("200", json!({"description": format!("{appeal} + submission: {{…, report}}, evidence (judges and organisers)")}))])},
        "/api/events/{id}/appeals/{appeal}/replays/{case}": {"get": op("A replay of the appealed submission, hidden cases included (organisers and judges)", &["id", "appeal", "case"], None,
            &[("200", json!({"description": "{world, replay} as GET /api/submissions/{id}/replays/{case}"}))])},
        "/api/events/{id}/appeals/{appeal}/decision": {"post": op("Uphold or reject an appeal with a reason, and (upheld) queue a re-grade of the submission and its final re-grade (organisers and judges; audited)", &["id", "appeal"],
            Some(body(obj(&["decision", "reason"], json!({"decision": {"type": "string", "enum": ["upheld", "rejected"]}, "reason": text(super::judging::MAX_TEXT), "regrade": {"type": "boolean", "default": false}})))),
            &[("200", json!({"description": appeal})), ("409", err("appeal_decided"))])},
        "/api/events/{id}/rounds/{round}/evidence/prune": {"post": {
            "summary": "Once the final ranking is in and no appeal is open: delete the hidden-case replays of submissions that neither count in the final ranking nor were appealed or reviewed for similarity (the evidence reports stay; organisers; audited)",
            "parameters": [id_param("id"), id_param("round"), {"name": "dry_run", "in": "query", "required": false, "schema": {"type": "boolean", "default": false}, "description": "count only"}],
            "responses": {"200": json!({"description": "{round_id, dry_run, pruned_submissions, pruned_replays, pruned_bytes, kept_submissions}"}), "401": err("not signed in"),
                "403": err("not an organiser of the event"), "404": err("no such round, or not yours to see"), "409": err("round_not_final, final_grading_pending or appeals_open")}
        }},
        "/api/events/{id}/rounds/{round}/certificates": {
            "get": op("Certificates: organisers and judges all of the round's; a coach their teams'; a student their own", &["id", "round"], None, &[("200", json!({"description": format!("{{round_id, certificates: [{cert}]}}")}))]),
            "post": op("Issue the round's certificates from its final ranking: each member of a team gets the first award level the team qualifies for (organisers; once; audited)", &["id", "round"],
                Some(body(obj(&["awards"], json!({"awards": {"type": "array", "items": award, "minItems": 1, "maxItems": super::certificates::MAX_AWARDS}})))),
                &[("201", json!({"description": format!("{{round_id, issued, certificates: [{cert}]}}")})), ("409", err("round_not_final, final_grading_pending or certificates_issued"))])
        },
        "/api/events/{id}/rounds/{round}/certificates/{code}/revoke": {"post": op("Revoke a certificate with a reason: it is no longer printed, counted in the results or shown valid by the public check, which answers status revoked (organisers; audited)", &["id", "round", "code"],
            Some(body(obj(&["reason"], json!({"reason": reason.clone()})))),
            &[("200", json!({"description": format!("{{certificate: {cert}}}")})), ("409", err("certificate_revoked"))])},
        "/api/events/{id}/rounds/{round}/certificates/{code}/reissue": {"post": op("Re-issue a certificate under a new code, with the name or award corrected; the old one is revoked and points to the new (organisers; audited)", &["id", "round", "code"],
            Some(body(obj(&["reason"], json!({"reason": reason, "name": {"type": "string", "minLength": 1, "maxLength": 60}, "award": {"type": "string", "minLength": 1, "maxLength": 30}})))),
            &[("201", json!({"description": format!("{{certificate: {cert} (the new one), revoked: {cert} (the old one)}}")})), ("409", err("certificate_revoked"))])},
        "/api/events/{id}/rounds/{round}/certificates.pdf": {"get": op("The caller's valid certificates as PDF (one A4 page each, CJK fonts, code and QR code to /verify/{code})", &["id", "round"], None,
            &[("200", json!({"description": "application/pdf"})), ("409", err("no_certificates or certificates_unavailable (no CJK font)"))])},
        "/api/events/{id}/rounds/{round}/results.xlsx": {"get": {
            "summary": "The round's final results for the education bureau: a sheet per division with rank, team, school, members, score and award (organisers; audited)",
            "parameters": [id_param("id"), id_param("round"), {"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["zh-CN", "en"]}}],
            "responses": {"200": json!({"description": "XLSX"}), "401": err("not signed in"), "403": err("not an organiser of the event"), "404": err("no such round, or not yours to see"),
                "409": err("round_not_final or final_grading_pending")}
        }},
        "/api/verify/{code}": {"get": {"summary": "Check a certificate (public, throttled per address): only the name on it, the event, the award and whether it stands (valid or revoked)", "security": [], "parameters": code_param.clone(),
            "responses": {"200": json!({"description": "{code, name, event, award, status (valid, revoked)}"}), "404": err("no certificate has this code"), "429": err("too many checks from this address (Retry-After)")}}},
        "/verify/{code}": {"get": {"summary": "The certificate check as a page (public, throttled; zh-CN or en by ?lang=)", "security": [], "parameters": code_param,
            "responses": {"200": {"description": "HTML"}, "404": {"description": "HTML: no certificate has this code"}, "429": {"description": "HTML: too many checks"}}}}
    })
}

/// Creative works judged by people (creative.rs; docs/competitions.md, "Creative works").
fn creative_paths() -> Value {
    use super::creative::{MAX_CRITERIA, MAX_FILES, MAX_JUDGES_PER_ENTRY, MAX_LINKS, MAX_TEXT};
    let both = |max: usize| {
        json!({"type": "object", "required": ["zh-CN", "en"], "additionalProperties": false,
        "properties": {"zh-CN": {"type": "string", "maxLength": max}, "en": {"type": "string", "maxLength": max}}})
    };
    let criterion = obj(
        &["name", "max_points"],
        json!({"name": both(100), "description": both(MAX_TEXT),
        "max_points": {"type": "integer", "minimum": 1, "maximum": 100}, "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": 1}}),
    );
    let criteria = json!({"type": "array", "items": criterion, "minItems": 1, "maxItems": MAX_CRITERIA});
    let round = json!({"description": "the round (as GET /api/events/{id}/rounds/{round}) + creative: {judging_closes_at, judges_per_entry, blind, disagreement, published_at, rubric: [{id, name: {zh-CN, en}, description: {zh-CN, en}, max_points, weight}], limits: {max_file_bytes, max_files, max_entry_bytes, max_links, extensions}}"});
    let entry = "{id, round_id, team_id, title, description, links, submitted_at, updated_at, files: [{id, name, kind, size, sha256, uploaded_at}]} + team, school_id, school, members (not for a blind judge, who gets no team_id either)";
    let sheet = "{judge_id, comment, scored_at, further, scores: [{criterion_id, points, comment}]}";
    let conflict = "{id, judge_id, school_id, team_id, declared_by, declared_at}";
    json!({
        "/api/events/{id}/creative-rounds": {"post": op("Create a round of a creative event: the window for handing in entries, the end of judging, judges per entry, blind judging, the disagreement threshold (0–100) and the rubric (organisers; audited)", &["id"],
            Some(body(obj(&["name", "opens_at", "closes_at", "judging_closes_at", "judges_per_entry", "criteria"], json!({"name": {"type": "string"}, "opens_at": {"type": "integer"}, "closes_at": {"type": "integer"},
                "judging_closes_at": {"type": "integer"}, "judges_per_entry": {"type": "integer", "minimum": 1, "maximum": MAX_JUDGES_PER_ENTRY}, "blind": {"type": "boolean", "default": false},
                "disagreement": {"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": super::creative::DEFAULT_DISAGREEMENT}, "criteria": criteria.clone()})))),
            &[("201", ok("the round", round.clone())), ("409", err("not_creative: the event is not a creative event"))])},
        "/api/events/{id}/conflicts": {
            "get": op("Declared conflicts of interest: organisers all; a judge their own", &["id"], None, &[("200", json!({"description": format!("{{conflicts: [{conflict}]}}")}))]),
            "post": op("Declare that a judge must not score a school's or a team's entries (a judge their own; organisers any judge's); conflicting assignments of unpublished rounds are removed with their sheets (audited)", &["id"],
                Some(body(obj(&[], json!({"judge_id": {"type": "integer"}, "school_id": {"type": "integer"}, "team_id": {"type": "integer"}})))),
                &[("201", json!({"description": format!("{conflict} + dropped_assignments")}))])
        },
        "/api/events/{id}/rounds/{round}/creative": {"get": op("A creative round with its rubric, judging settings and file limits (everyone who sees the round)", &["id", "round"], None, &[("200", ok("the round", round.clone()))])},
        "/api/events/{id}/rounds/{round}/rubric": {"put": op("Replace the rubric while no judge has scored (organisers; audited)", &["id", "round"],
            Some(body(obj(&["criteria"], json!({"criteria": criteria})))), &[("200", ok("the round", round)), ("409", err("rubric_locked"))])},
        "/api/events/{id}/rounds/{round}/teams/{team}/entry": {
            "get": op("The team's entry (its members, its coach, organisers); after publication also its result and the judges' comments", &["id", "round", "team"], None,
                &[("200", json!({"description": format!("{{entry: {entry} or null, may_change, result: {{score, raw_mean, judges, comments}}}}")}))]),
            "put": op("Hand in or revise the team's entry: title, description, up to three https links (the team's captain or coach, while the round is open; audited)", &["id", "round", "team"],
                Some(body(obj(&["title"], json!({"title": {"type": "string", "minLength": 1, "maxLength": 100}, "description": {"type": "string", "maxLength": MAX_TEXT},
                    "links": {"type": "array", "items": {"type": "string", "pattern": "^https://"}, "maxItems": MAX_LINKS}})))),
                &[("200", json!({"description": entry})), ("409", err("round_not_open or round_closed"))])
        },
        "/api/events/{id}/rounds/{round}/teams/{team}/entry/files": {"post": op("Add a file to the entry, or replace the one of the same name: PDF, image, MP4, zip or Scratch project (checked, never unpacked), WebAssembly, program or text; its content must match its type (the team's captain or coach, while the round is open; audited)", &["id", "round", "team"],
            Some(body(obj(&["name", "content_base64"], json!({"name": {"type": "string", "maxLength": 100}, "content_base64": {"type": "string", "contentEncoding": "base64"}})))),
            &[("201", json!({"description": "{id, name, kind, size, sha256, uploaded_at}"})), ("409", err("no_entry, round_not_open or round_closed")),
              ("413", err(&format!("a file of more than {} bytes", super::creative::MAX_FILE_BYTES))), ("422", err(&format!("more than {MAX_FILES} files")))])},
        "/api/events/{id}/rounds/{round}/teams/{team}/entry/files/{file}": {"delete": op("Remove a file from the entry (the team's captain or coach, while the round is open; audited)", &["id", "round", "team", "file"], None,
            &[("204", json!({"description": "removed"}))])},
        "/api/events/{id}/rounds/{round}/entries": {"get": op("Entries to judge: organisers all (with names and progress); a judge only those assigned to them, with their own sheet (no names when the round is blind)", &["id", "round"], None,
            &[("200", json!({"description": format!("{{round_id, blind, entries: [{entry} + my_sheet (judges) or judges, scored (organisers)]}}")}))])},
        "/api/events/{id}/rounds/{round}/entries/{entry}": {"get": op("An entry with the rubric: organisers with every sheet, its assigned judges with their own, its team (404 for anyone else, judges not assigned to it included)", &["id", "round", "entry"], None,
            &[("200", json!({"description": format!("{entry} + rubric, my_sheet (a judge), sheets: [{sheet}] (organisers), result (the team, once published)")}))])},
        "/api/events/{id}/rounds/{round}/entries/{entry}/files/{file}": {"get": op("A file of an entry, always as a download (those who may see the entry)", &["id", "round", "entry", "file"], None,
            &[("200", json!({"description": "the file's bytes"}))])},
        "/api/events/{id}/rounds/{round}/entries/{entry}/score": {"put": op("The assigned judge's sheet: points (0 to the criterion's maximum, in halves) and a comment per criterion, and an overall comment; saved again to revise until judging closes (audited)", &["id", "round", "entry"],
            Some(body(obj(&["scores"], json!({"scores": {"type": "array", "items": obj(&["criterion_id", "points"], json!({"criterion_id": {"type": "integer"}, "points": {"type": "number", "minimum": 0, "multipleOf": 0.5}, "comment": {"type": "string", "maxLength": MAX_TEXT}}))},
                "comment": {"type": "string", "maxLength": MAX_TEXT}})))),
            &[("200", json!({"description": format!("{sheet} + total (0–100, weighted)")})), ("409", err("entries_open or judging_closed"))])},
        "/api/events/{id}/rounds/{round}/entries/{entry}/further-judge": {"post": op("Add one more eligible judge (the least loaded) to an entry, e.g. one flagged for disagreement (organisers; audited)", &["id", "round", "entry"], None,
            &[("200", json!({"description": "{entry_id, judge_id}"})), ("409", err("no_eligible_judge or results_published"))])},
        "/api/events/{id}/rounds/{round}/assign": {"post": {
            "summary": "After entries close: give every entry k judges, balanced and deterministic, never a judge of the entry's school or with a declared conflict; again: tops up, keeps what is there (organisers; audited)",
            "parameters": [id_param("id"), id_param("round")],
            "requestBody": {"required": false, "content": {"application/json": {"schema": obj(&[], json!({"judges_per_entry": {"type": "integer", "minimum": 1, "maximum": MAX_JUDGES_PER_ENTRY}}))}}},
            "responses": {"200": json!({"description": "{round_id, judges_per_entry, assigned, dropped, understaffed: [entry id], assignments: [{entry_id, judge_id}]}"}),
                "400": err("malformed request"), "401": err("not signed in"), "403": err("not an organiser of the event"), "404": err("no such round"), "409": err("entries_open or results_published")}
        }},
        "/api/events/{id}/rounds/{round}/judging": {"get": op("The judging dashboard: entries × judges (done, pending), per-judge counts, flagged entries, raw means and normalised scores, and the ranking they give (organisers)", &["id", "round"], None,
            &[("200", json!({"description": "{round_id, judges_per_entry, blind, disagreement, closes_at, judging_closes_at, published_at, totals: {entries, assignments, done, pending, flagged}, judges: [{id, name, assigned, done, pending}], entries: [{id, team_id, team, title, understaffed, judges: [{judge_id, status, further, raw, normalised}], raw_mean, score, spread, flagged}], ranking: [{division_id, entries}]}"}))])},
        "/api/events/{id}/rounds/{round}/publish": {"post": op("Publish the results once entries closed and every sheet is in: judging closes, scores are stored, and the ranking feeds the leaderboard, certificates, results and advancement (organisers; idempotent; audited)", &["id", "round"], None,
            &[("200", json!({"description": "{round_id, published_at, results, already}"})), ("409", err("entries_open or judging_pending"))])}
    })
}

/// The assessment delivery routes (`assessments.rs`; docs/assessment-delivery.md).
fn assessment_paths() -> serde_json::Map<String, Value> {
    let text = json!({"type": "object", "properties": {"zh-CN": {"type": "string"}, "en": {"type": "string"}}});
    let window = json!({"type": "object", "description": "an assessment: {id, title, population, mode, presentation, opens_at, closes_at, time_limit_minutes, max_items, se_target, randomesque, school_id, target_school_id, target_region_id, manages, sits, mine: the caller's status when they sit it}"});
    let new = obj(
        &["title", "population", "mode", "closes_at", "time_limit_minutes"],
        json!({
            "title": {"type": "string", "maxLength": 100},
            "population": {"type": "string", "enum": ["students", "teachers"]},
            "mode": {"type": "string", "enum": ["fixed", "adaptive"]},
            "presentation": {"type": "string", "enum": ["single", "paged"], "description": "one question per screen (default) or all on one page"},
            "opens_at": {"type": "integer"}, "closes_at": {"type": "integer"},
            "time_limit_minutes": {"type": "integer", "minimum": 1, "maximum": 600},
            "follows_id": {"type": "integer", "description": "last year's assessment of the same population (it must open in the calendar year before): the reports' growth since last year"},
            "items": {"type": "array", "items": {"type": "string"}, "description": "fixed: the form in order; adaptive: the pool (default: the population's live items)"},
            "blueprint": {"type": "string", "description": "fixed: a blueprint (TOML, docs/assessment-assembly.md) the form is assembled from"},
            "grade_band": {"type": "string", "description": "adaptive default pool: only this grade band"},
            "max_items": {"type": "integer", "minimum": 1, "maximum": 100}, "se_target": {"type": "number", "minimum": 0.05, "maximum": 2},
            "randomesque": {"type": "integer", "minimum": 1, "maximum": 20},
            "class_ids": {"type": "array", "items": {"type": "integer"}, "description": "students: the classes that sit it (the caller must manage each)"},
            "target_school_id": {"type": "integer", "description": "teachers: the school whose teachers sit it"},
            "target_region_id": {"type": "integer", "description": "teachers: the region (and the regions below it) whose teachers sit it"}
        }),
    );
    let sitting = json!({"type": "object", "description": "the taker's sitting: {assessment, sitting: {id, started_at, deadline_at, remaining_seconds, position, submitted_at, status, answered, total}, items: [{position, item (no key), response, answered_at; performance items: task (the lab: title, instructions, starter, languages, limits), levels, programs: [{id, language, program, status, score, max_score, points, report (redacted)}], attempts_left, attempt_limit, grading, best_points; once submitted: points (null while grading), max_points, correct, explanation}], results (once submitted): {points (null while a program is being graded), max_points, theta, se, submitted_by, grading, literacies: [{literacy, name, theta, se, items, points, max_points}]}}",
        "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {"explanation": text}}}}});
    let refused = |codes: &str| err(&format!("{codes} (error.code)"));
    let pairs = [
        (
            "/api/assessments",
            json!({
                "get": op("Assessments the caller sits (with their status) or manages", &[], None, &[("200", ok("assessments", json!({"type": "object", "properties": {"assessments": {"type": "array", "items": window}}})))]),
                "post": op("Create an assessment: a fixed form (items, or assembled from a blueprint) or an adaptive test over a pool; for classes (students) or a school's/region's teachers (audited)", &[], Some(body(new)),
                    &[("201", json!({"description": "the assessment with its items and class_ids"})), ("409", refused("blueprint_infeasible: error.problems names the constraints that cannot be met"))])
            }),
        ),
        (
            "/api/assessments/{id}",
            json!({
                "get": op("An assessment (managers: its items without keys and its classes; takers: their status)", &["id"], None, &[("200", ok("the assessment", window.clone()))]),
                "delete": {"summary": "Delete an assessment; once sittings exist only with ?force=true (audited)", "parameters": [id_param("id"), {"name": "force", "in": "query", "schema": {"type": "boolean"}}],
                    "responses": {"204": {"description": "deleted"}, "401": err("not signed in"), "403": err("not an owner"), "404": err("no such assessment, or not yours to see"), "409": err("has_sittings")}}
            }),
        ),
        (
            "/api/assessments/{id}/progress",
            json!({"get": op("Live progress per taker: not_started, in_progress (answered of total, remaining_seconds) or submitted (points); poll it", &["id"], None,
            &[("200", json!({"description": "{assessment_id, takers: [{id, display_name, student_number, class_name, status, answered, total, remaining_seconds, points, max_points}], counts, at}"}))])}),
        ),
        (
            "/api/assessments/{id}/sitting",
            json!({
                "get": op("The caller's sitting: items without keys, saved answers, where they were, time left; results once submitted", &["id"], None, &[("200", ok("the sitting", sitting.clone()))]),
                "post": op("Start the caller's sitting inside the window (201), or resume the one they have (200)", &["id"], None,
                    &[("200", ok("resumed", sitting.clone())), ("201", ok("started", sitting.clone())), ("409", refused("assessment_not_open, assessment_closed"))])
            }),
        ),
        (
            "/api/assessments/{id}/sitting/answers/{item}",
            json!({"put": op("Save one answer as given (idempotent; stored before the answer)", &["id", "item"],
            Some(body(obj(&["response"], json!({"response": {"description": "{choices: [id]}, {value: bool}, {number: x}, {text: s}, {order: [id]}, {pairs: [[option, target]]}, or null to clear"}})))),
            &[("200", json!({"description": "{saved, item_id, position, answered_at, remaining_seconds}"})), ("409", refused("time_up, sitting_submitted, not_started, item_locked"))])}),
        ),
        (
            "/api/assessments/{id}/sitting/position",
            json!({"put": op("Remember the question the taker is on (resume lands there)", &["id"], Some(body(obj(&["position"], json!({"position": {"type": "integer", "minimum": 0}})))),
            &[("204", json!({"description": "saved"})), ("409", refused("time_up, sitting_submitted, not_started"))])}),
        ),
        (
            "/api/assessments/{id}/sitting/next",
            json!({"post": op("Adaptive: the next question chosen by the server, or the end of the test (scored)", &["id"], None,
            &[("200", ok("the sitting", sitting.clone())), ("409", refused("answer_first, not_adaptive, time_up, sitting_submitted"))])}),
        ),
        (
            "/api/assessments/{id}/sitting/programs/{item}",
            json!({"post": op("Hand in a program for a performance item of the caller's open sitting: checked like an assignment's, queued for the graders, stored before the 202; at most 10 per item; the item scores its best graded program", &["id", "item"],
            Some(body(json!({"$ref": format!("{SCHEMAS}SubmissionRequest")}))),
            &[("202", json!({"description": "{id, item_id, language, status: queued, submitted_at, attempts_left, attempt_limit, remaining_seconds}"})),
              ("409", refused("time_up, sitting_submitted, not_started, attempts_used_up, not_performance, lab_gone"))])}),
        ),
        (
            "/api/assessments/{id}/sitting/submit",
            json!({"post": op("Submit: score the sitting and answer with the results (again for a submitted one)", &["id"], None, &[("200", ok("the sitting with results", sitting))])}),
        ),
    ];
    let mut out: serde_json::Map<String, Value> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    out.extend(report_paths());
    out
}

/// The assessment report routes (`reports.rs`; docs/assessment-delivery.md, "Reports").
fn report_paths() -> serde_json::Map<String, Value> {
    let binary = json!({"schema": {"type": "string", "format": "binary"}});
    let mut one = op(
        "One report of the assessment, built from its submitted sittings by the report engine (docs/assessment-reports.md): \
         student (the taker, their class's teacher, their school's admins), class (its teacher, its school's admins), \
         school (its admins, organisers of its region, the platform admin), district, city and annual (organisers of the region, the platform admin). \
         Groups under 10 are suppressed; student and class reports are audited",
        &["id"],
        None,
        &[
            (
                "200",
                json!({"description": "the report: JSON (format=json, the engine's report), PDF or XLSX", "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/pdf": binary.clone(),
                super::roster::XLSX_TYPE: binary}}),
            ),
            ("409", err("pdf_unavailable: no font with Chinese characters on the server (error.code)")),
        ],
    );
    if let Some(p) = one["parameters"].as_array_mut() {
        p.push(json!({"name": "level", "in": "path", "required": true, "schema": {"type": "string", "enum": ["student", "class", "school", "district", "city", "annual"]}}));
        p.push(json!({"name": "target", "in": "path", "required": true, "description": "the taker's user id, or the class, school or region id", "schema": {"type": "integer"}}));
        p.push(json!({"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "pdf", "xlsx"]}}));
        p.push(json!({"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["zh-CN", "en"]}}));
    }
    let list = op(
        "The reports the caller may read for this assessment (what the web page links to)",
        &["id"],
        None,
        &[("200", json!({"description": "{assessment_id, takers, reports: [{level, target, name}]}"}))],
    );
    let calibration = json!({"description": "{id, population, version, created_at, created_by, takers (N), items, literacies: [{literacy, takers, model, items, iterations, converged, reliability, excluded, parameters (on creation: the calibration file's items)}], skipped: [{literacy, takers, reason}]}"});
    let calibrations = json!({
        "get": {"summary": "Stored calibrations of the item bank from this server's sittings, newest first (staff)",
            "parameters": [{"name": "population", "in": "query", "required": false, "schema": {"type": "string", "enum": ["students", "teachers"]}}],
            "responses": {"200": {"description": "{calibrations: [calibration]}"}, "401": err("not signed in"), "403": err("students do not read calibrations")}},
        "post": op("Calibrate the bank (MML/EM, 2PL or GPCM per literacy) on every submitted sitting of a population and store it as the next version; adaptive tests, scoring and reports use the newest (platform admin; audited)", &[],
            Some(body(obj(&["population"], json!({"population": {"type": "string", "enum": ["students", "teachers"]}, "min_takers": {"type": "integer", "minimum": super::calibrations::LEAST_MIN_TAKERS, "description": "fewest sittings per literacy (default 100)"}})))),
            &[("201", ok("the stored calibration", calibration)), ("409", err("too_few_sittings: no literacy has min_takers sittings (error.skipped)"))])
    });
    [
        ("/api/assessments/{id}/reports".to_string(), json!({"get": list})),
        ("/api/assessments/{id}/reports/{level}/{target}".to_string(), json!({"get": one})),
        ("/api/calibrations".to_string(), calibrations),
        (
            "/api/calibrations/{id}/review".to_string(),
            json!({"get": op("The calibration's items flagged for review by people (Mantel–Haenszel DIF between genders and urban/rural schools, matched on EAP θ bands; infit/outfit misfit), with each item's text summary and status, and every other analysed result (A, ok, insufficient: not enough data); staff", &["id"], None,
                &[("200", json!({"description": "{calibration: {id, population, version, created_at}, rules: {matching, theta_band, min_group, min_item, fit_range, comparisons}, flags: [{id, literacy, item_id, kind (dif|fit), comparison (gender|locality|fit), statistic, category, details, state (open|kept|revised|retired), reviewer_id, reviewed_at, note, item: {stem, type, status, bank_status}}], not_flagged: [{id, literacy, item_id, kind, comparison, statistic, category, details}]}"}))])}),
        ),
        (
            "/api/calibrations/{id}/flags/{flag}/review".to_string(),
            json!({"post": op("Decide on a flagged item: keep, revise or retire (retire: the item is retired on this server for new tests, blueprints and quiz forms; a later keep/revise of the same flag brings it back); the latest decision counts; platform admin; audited (item_review)", &["id", "flag"],
                Some(body(obj(&["decision"], json!({"decision": {"type": "string", "enum": ["keep", "revise", "retire"]}, "note": {"type": "string", "maxLength": super::item_review::MAX_NOTE}})))),
                &[("200", json!({"description": "the flag as in the review"})), ("409", err("not_flagged: the result needs no review"))])}),
        ),
    ]
    .into_iter()
    .collect()
}

/// The competitions API (contest.rs; docs/competitions.md).
fn contest_paths(submission_request: Value) -> Value {
    let int = json!({"type": "integer"});
    let division = obj(
        &["name", "min_grade", "max_grade"],
        json!({"name": {"type": "string"}, "min_grade": {"type": "integer", "minimum": 1, "maximum": 12}, "max_grade": {"type": "integer", "minimum": 1, "maximum": 12}}),
    );
    let new_event = obj(
        &["name", "tier", "kind", "registration_deadline", "divisions"],
        json!({"name": {"type": "string"}, "tier": {"type": "string", "enum": super::contest::TIERS}, "kind": {"type": "string", "enum": super::contest::KINDS},
            "region_id": {"type": ["integer", "null"], "description": "the organising region (district, city, province tiers)"},
            "school_id": {"type": ["integer", "null"], "description": "the organising school (school tier)"},
            "parent_id": {"type": ["integer", "null"], "description": "the next tier's event teams advance into"},
            "registration_deadline": int, "divisions": {"type": "array", "items": division, "minItems": 1}}),
    );
    let event = json!({"description": "{id, name, tier, kind, region_id, school_id, parent_id, registration_deadline, me: {manages, judge, coach, team_id}, divisions, rounds}"});
    let team = json!({"description": "{id, event_id, division_id, name, coach_id, school_id, status (pending, approved, rejected), reason, advanced_from, members: [{id, display_name}]}"});
    // The submission body plus the lab it is for.
    let round_sub = json!({"allOf": [submission_request, {"type": "object", "required": ["lab_id"], "properties": {"lab_id": {"type": "string", "description": "one of the round's labs"}}}]});
    let ineligible = "registration refused; error.code is registration_closed, outside_area, not_your_student, grade_unknown, wrong_division or already_registered (error.student_id names the student)";
    json!({
        "/api/events": {
            "get": op("The events the caller may see (organisers: their region's; schools: the events whose area holds them; members)", &[], None, &[("200", json!({"description": "{events: [event]}"}))]),
            "post": op("Create an event (organisers, in their region or below; platform admin; audited)", &[], Some(body(new_event)), &[("201", ok("the event", event.clone()))])
        },
        "/api/events/{id}": {"get": op("An event with its divisions, rounds and what the caller is in it", &["id"], None, &[("200", ok("the event", event))])},
        "/api/events/{id}/members": {"post": op("Make a staff account a judge of the event (organisers; audited)", &["id"],
            Some(body(obj(&["role"], json!({"user_id": {"type": "integer", "description": "the staff account (or send username)"}, "username": {"type": "string", "description": "the staff account's username (instead of user_id)"}, "role": {"type": "string", "enum": ["judge"]}})))), &[("204", json!({"description": "added"}))])},
        "/api/events/{id}/teams": {
            "get": op("Teams: organisers and judges all; a coach theirs; a contestant their own", &["id"], None, &[("200", json!({"description": "{teams: [team]}"}))]),
            "post": op("Register a team of 1–4 of the teacher's students, the teacher as coach; pending until an organiser approves", &["id"],
                Some(body(obj(&["name", "division_id", "students"], json!({"name": {"type": "string"}, "division_id": {"type": "integer"}, "students": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 4}, "captain_id": {"type": "integer"}})))),
                &[("201", ok("the team", team.clone())), ("409", err(ineligible))])
        },
        "/api/events/{id}/teams/import": {"post": {
            "summary": "Bulk registration from XLSX or CSV (columns team/队名, division/组别, coach/教练 as a username, student/学生 as a username; one row per student); all or nothing; imported teams are approved (organisers; audited)",
            "parameters": [id_param("id")],
            "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}, super::roster::XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"201": json!({"description": "{created: [team id]}"}), "401": err("not signed in"), "403": err("not an organiser of the event"), "404": err("no such event"),
                "422": err("invalid_registrations: error.rows lists every bad row with its code")}
        }},
        "/api/events/{id}/teams/{team}/decision": {"post": op("Approve a team, or reject it with a reason (organisers; audited)", &["id", "team"],
            Some(body(obj(&["decision"], json!({"decision": {"type": "string", "enum": ["approve", "reject"]}, "reason": {"type": "string", "maxLength": 500}})))), &[("200", ok("the team", team))])},
        "/api/events/{id}/rounds": {"post": op("Create a round: time window, labs, submission limit per team, freeze before the end (organisers; audited)", &["id"],
            Some(body(obj(&["name", "opens_at", "closes_at", "labs", "submission_limit"], json!({"name": {"type": "string"}, "opens_at": int, "closes_at": int, "freeze_seconds": {"type": "integer", "minimum": 0},
                "labs": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 10}, "submission_limit": {"type": "integer", "minimum": 1, "maximum": 1000}})))),
            &[("201", json!({"description": "the round"}))])},
        "/api/events/{id}/rounds/{round}": {"get": op("A round with its labs (redacted views), its final key once drawn, and the caller's team's attempts", &["id", "round"], None, &[("200", json!({"description": "{id, event_id, name, opens_at, closes_at, freeze_at, labs, lab_views, submission_limit, finalised_at, final_key, team_id, attempts_used}"}))])},
        "/api/events/{id}/rounds/{round}/submissions": {
            "get": op("Round submissions: a team's own for its members; all (newest 500) for organisers and judges", &["id", "round"], None, &[("200", json!({"description": "{submissions: [{id, round_id, team_id, lab_id, final_of, student_id, language, status, submitted_at, graded_at, score, max_score}]}"}))]),
            "post": op("Submit for the caller's approved team, in the round's window and within its limit; stored before the answer, graded by the queue on the round's hidden seeds", &["id", "round"],
                Some(body(round_sub)), &[("202", json!({"description": "accepted and queued"})), ("409", err("round_not_open, round_closed or submission_limit")), ("413", err("program too large"))])
        },
        "/api/events/{id}/rounds/{round}/leaderboard": {"get": {
            "summary": "A page of a division's leaderboard: score, then time of the submission, then attempts; contestants see it frozen during the freeze; organisers and judges live; the final ranking once drawn",
            "parameters": [id_param("id"), id_param("round"), {"name": "division", "in": "query", "schema": {"type": "integer"}}, {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}, {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
            "responses": {"200": json!({"description": "{round_id, view (live, frozen, final), division_id, page, per_page, total, freeze_at, closes_at, final_key, divisions: [{id, teams}], entries: [{rank, team_id, team, school_id, score, last_submitted_at, attempts}]}"}),
                "400": err("bad page"), "401": err("not signed in"), "404": err("no such round, or not yours to see")}
        }},
        "/api/events/{id}/rounds/{round}/finalise": {"post": op("After the round closes: draw the final key and queue a re-grade of each team's last submission per lab on it; a quiz round: close the sheets still open and fix the ranking as it stands (organisers; idempotent; audited)", &["id", "round"], None,
            &[("200", json!({"description": "{round_id, final_key, regrades, already} (+ closed_sheets for a quiz round, whose final_key is null)"})), ("409", err("round_not_closed"))])},
        "/api/events/{id}/advance": {"post": op("Advance the top N or top x % of each division of a finalised round into the parent event (the parent's organisers; idempotent; audited)", &["id"],
            Some(body(obj(&["round_id"], json!({"round_id": {"type": "integer"}, "top": {"type": "integer", "minimum": 1}, "top_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}})))),
            &[("200", json!({"description": "{parent_id, advanced: [{team_id, from_team_id, division_id, rank}], already, skipped: [{team_id, code}]}"})), ("409", err("no_parent_event, round_not_final or final_grading_pending"))])}
    })
}
