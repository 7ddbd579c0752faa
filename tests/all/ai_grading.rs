//! Grading AI submissions: bundles (folders and zips, hostile zips refused
//! before extraction), `qiming run --model`, a lab's `[model]` table, model
//! cases with partial credit, and `qiming grade`/`curriculum check` on bundles.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qiming_ai::dataset::{self, NewSample, Split};
use qiming_ai::model::{FORMAT, Header, Input, Layer, Training, VERSION};
use qiming_ai::{Model, ModelKind};
use qiming_curriculum::Lab;
use qiming_grading::bundle::{Bundle, BundleError};
use qiming_grading::grade::{GradeOptions, grade_bundle};

use crate::support::{on_run_thread, repo};

fn temp_dir(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("qiming-aig-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn qiming(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qiming")).args(args).current_dir(repo()).output().expect("run qiming")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A logistic model on `[distance:front]` that says `near` below `threshold` metres.
pub fn threshold_model(threshold: f32, labels: [&str; 2]) -> Model {
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        kind: ModelKind::Logistic,
        labels: labels.map(String::from).to_vec(),
        input: Input::Sensors { names: vec!["distance:front".into()] },
        dataset_sha256: "ab".repeat(32),
        layers: vec![Layer::Dense { inputs: 1, outputs: 2 }],
        parameters: 4,
        training: Training { seed: 1, epochs: 1, samples: 1 },
    };
    // Rows `far`, `near`: far = 10 (d − t), near = −10 (d − t).
    Model::new(header, vec![10.0, -10.0, -10.0 * threshold, 10.0 * threshold]).unwrap()
}

/// Drives at the wall and stops when the model says `near`.
pub const MODEL_PROGRAM: &str = r#"
loop {
    let d = distance("front");
    if classify([d]) == "near" {
        stop();
        break;
    }
    let speed = if d > 0.5 { 0.8 } else { 0.1 + d };
    motors(speed, speed);
}
wait(1);
"#;

/// A sensor dataset of front distances 0.02, 0.04, … labelled `near` below 0.12 m.
fn distance_dataset(dir: &Path, from: usize, to: usize) {
    let samples = (from..to)
        .map(|i| {
            let d = i as f64 * 0.02;
            NewSample { label: if d < 0.119 { "near" } else { "far" }.into(), sensors: vec![d], image: None, split: Split::Train, source: None }
        })
        .collect();
    dataset::Dataset::create(dir, None, vec!["distance:front".into()], samples).unwrap();
}

fn write_bundle(dir: &Path, program: &str, model: Option<&Model>) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("main.rhai"), program).unwrap();
    std::fs::write(dir.join("make-model.sh"), "# how the model was made\n").unwrap();
    if let Some(m) = model {
        m.write(&dir.join("mini.qmodel")).unwrap();
    }
}

/// A small AI lab in a temporary folder: the wall-stop scenario driven by a
/// distance model, a hidden model case (accuracy) and a visible one over two
/// datasets (worst-group recall), a reference bundle and a wrong bundle.
fn mini_lab(required: bool) -> PathBuf {
    let root = temp_dir("lab");
    let dir = root.join("ai-mini");
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::copy(repo().join("curriculum/labs/wall-stop/scenarios/wall-stop.toml"), dir.join("scenarios/wall-stop.toml")).unwrap();
    distance_dataset(&dir.join("hidden/data"), 1, 21);
    distance_dataset(&dir.join("groups/close"), 1, 8);
    distance_dataset(&dir.join("groups/far"), 4, 30);
    std::fs::write(dir.join("starter.rhai"), "// drive\n").unwrap();
    write_bundle(&dir.join("reference"), MODEL_PROGRAM, Some(&threshold_model(0.11, ["far", "near"])));
    write_bundle(&dir.join("wrong-early"), MODEL_PROGRAM, Some(&threshold_model(0.6, ["far", "near"])));
    let toml = format!(
        r#"
format_version = 1
id = "ai-mini"
version = 1
grade_band = "7-9"
module = "process-control"
literacies = ["computational-thinking"]
languages = ["rhai"]
wrong = [{{ bundle = "wrong-early" }}]
title = {{ zh-CN = "模型停车", en = "Stop by the model" }}
instructions = {{ zh-CN = "用模型判断离墙远近。", en = "Let the model tell near from far." }}

[starter]
rhai = "starter.rhai"

[reference]
bundle = "reference"

[model]
labels = ["far", "near"]
input = ["distance:front"]
kinds = ["logistic", "perceptron"]
required = {required}

[[checks]]
kind = "rest_near_wall"
min = 0.05
max = 0.20

[[cases]]
name = "practice-1"
scenario = "scenarios/wall-stop.toml"
seed = 1

[[cases]]
name = "hidden-1"
scenario = "scenarios/wall-stop.toml"
seed = 9001
hidden = true

[[cases]]
name = "hidden-2"
kind = "model"
dataset = "hidden/data"
hidden = true
weight = 2
metric = {{ kind = "accuracy", full = 0.9, zero = 0.6 }}

[[cases]]
name = "groups"
title = {{ zh-CN = "分组评估", en = "Per-group check" }}
kind = "model"
datasets = ["groups/close", "groups/far"]
metric = {{ kind = "min_group_recall", full = 0.9, zero = 0.5 }}
"#
    );
    std::fs::write(dir.join("lab.toml"), toml).unwrap();
    dir
}

fn grade_dir(lab: &Lab, bundle: Bundle) -> qiming_grading::GradeReport {
    let lab = lab.clone();
    on_run_thread(move || grade_bundle(&lab, &bundle, &GradeOptions::default()))
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_lab_with_model_cases_loads_and_its_reference_bundle_scores_100() {
    let dir = mini_lab(false);
    let lab = Lab::load(&dir).unwrap();
    assert_eq!(lab.model_cases.len(), 2);
    assert_eq!(lab.reference_bundles, vec![dir.join("reference")]);
    let reference = Bundle::load(&dir.join("reference")).unwrap();
    assert_eq!(reference.model_name.as_deref(), Some("mini.qmodel"));
    let report = grade_dir(&lab, reference);
    assert_eq!(report.score, 100.0, "{report:#?}");
    let json = serde_json::to_value(&report).unwrap();
    let hidden = &json["cases"][2];
    assert_eq!(hidden["name"], "hidden-2");
    assert_eq!(hidden["metric"]["kind"], "accuracy");
    assert_eq!(hidden["metric"]["value"], 1.0);
    assert!(hidden.get("run").is_none() && hidden.get("checks").is_none());
    assert_eq!(json["cases"][3]["metric"]["kind"], "min_group_recall");
    assert_eq!(json["model_kind"], "logistic");

    // The known-wrong bundle stops half a metre early and misjudges the data.
    let wrong = grade_dir(&lab, Bundle::load(&dir.join("wrong-early")).unwrap());
    assert!(wrong.score < 50.0, "{wrong:#?}");
    let hidden = &wrong.cases[2];
    assert_eq!((hidden.score, hidden.passed), (0.0, false));
    // 5 of 20 are near, and it calls all of them near: accuracy 0.25.
    assert_eq!(hidden.metric.as_ref().unwrap().value, 0.25);
    assert!(hidden.feedback[0].en.contains("0.25") && hidden.feedback[0].zh.contains("0.25"), "{:?}", hidden.feedback);

    // `curriculum check`'s lab check agrees.
    let problems = on_run_thread(move || qiming_grading::check_lab(&lab));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn model_cases_give_linear_partial_credit() {
    let dir = mini_lab(false);
    let lab = Lab::load(&dir).unwrap();
    // Threshold 0.07: of 5 near samples (0.02–0.10) it gets 3 → accuracy 18/20 = 0.9 → full;
    // threshold 0.05: 2 of 5 → 17/20 = 0.85 → (0.85 − 0.6) / 0.3 of the case.
    let report =
        grade_dir(&lab, Bundle { model: Some(std::sync::Arc::new(threshold_model(0.05, ["far", "near"]))), ..Bundle::load(&dir.join("reference")).unwrap() });
    let case = &report.cases[2];
    assert_eq!(case.metric.as_ref().unwrap().value, 0.85);
    let want = (0.85 - 0.6) / 0.3 * case.max_score;
    assert!((case.score - want).abs() < 0.011, "{} vs {want}", case.score);
    assert!(!case.passed);
}

#[test]
fn a_submission_without_a_model_scores_nothing_on_model_cases() {
    let dir = mini_lab(false);
    let lab = Lab::load(&dir).unwrap();
    let report = grade_dir(&lab, Bundle::program(qiming_runtime::Program::rhai(MODEL_PROGRAM), "main.rhai"));
    for case in &report.cases[2..] {
        assert_eq!(case.score, 0.0);
        assert!(case.feedback[0].en.starts_with("No model was handed in") && case.feedback[0].zh.contains("没有提交模型"), "{:?}", case.feedback);
    }
    // The run cases ran, and `classify` without a model is a runtime error the child reads about.
    let run = report.cases[0].run.as_ref().unwrap();
    assert_eq!(run.outcome, "error");

    // With `required = true`, nothing runs at all.
    let lab = Lab::load(&mini_lab(true)).unwrap();
    let report = grade_dir(&lab, Bundle::program(qiming_runtime::Program::rhai(MODEL_PROGRAM), "main.rhai"));
    assert_eq!(report.score, 0.0);
    assert!(report.cases.iter().all(|c| c.run.is_none() && c.feedback[0].en.starts_with("No model was handed in")));
}

#[test]
fn a_model_that_does_not_fit_the_lab_is_a_graded_zero_with_its_message() {
    let dir = mini_lab(false);
    let lab = Lab::load(&dir).unwrap();
    let other = Bundle { model: Some(std::sync::Arc::new(threshold_model(0.12, ["go", "halt"]))), ..Bundle::load(&dir.join("reference")).unwrap() };
    let report = grade_dir(&lab, other);
    assert_eq!(report.score, 0.0);
    for case in &report.cases {
        let f = &case.feedback[0];
        assert!(f.en.contains("does not fit this lab") && f.en.contains("this lab uses [\"far\", \"near\"]"), "{f:?}");
        assert!(f.zh.contains("模型不适用于本实验") && f.zh.contains("本实验使用"), "{f:?}");
        assert!(case.run.is_none());
    }
    // A kind the lab does not accept.
    let mut cnn_header = threshold_model(0.11, ["far", "near"]).header().clone();
    cnn_header.kind = ModelKind::Mlp;
    let mlp = Model::new(cnn_header, threshold_model(0.11, ["far", "near"]).weights().to_vec()).unwrap();
    let report = grade_dir(&lab, Bundle { model: Some(std::sync::Arc::new(mlp)), ..Bundle::load(&dir.join("reference")).unwrap() });
    assert!(report.cases[0].feedback[0].en.contains("accepts only logistic, perceptron"), "{:?}", report.cases[0].feedback);
}

#[test]
fn grade_and_run_commands_take_bundles() {
    let dir = mini_lab(false);
    let work = temp_dir("cli");
    let zip = work.join("submission.zip");
    let model = threshold_model(0.11, ["far", "near"]).to_bytes();
    std::fs::write(&zip, zip_of(&[("mine/main.rhai", MODEL_PROGRAM.as_bytes()), ("mine/mini.qmodel", &model), ("mine/notes.txt", b"hi")])).unwrap();
    let out = qiming(&["grade", path(&dir), path(&zip), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["score"], 100.0);
    assert_eq!(report["cases"][2]["metric"]["value"], 1.0);

    // The folder itself, too.
    let out = qiming(&["grade", path(&dir), path(&dir.join("reference")), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["score"], 100.0);

    // `qiming run --model`: the program stops near the wall.
    let program = work.join("main.rhai");
    std::fs::write(&program, MODEL_PROGRAM).unwrap();
    let m = work.join("mini.qmodel");
    std::fs::write(&m, &model).unwrap();
    let scenario = repo().join("curriculum/labs/wall-stop/scenarios/wall-stop.toml");
    let out = qiming(&["run", path(&program), "--scenario", path(&scenario), "--model", path(&m), "--seed", "1", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["outcome"], "finished");
    assert!(run["final_pose"]["x"].as_f64().unwrap() > 2.6, "{run}");
    // The same from the zip bundle.
    let out = qiming(&["run", path(&zip), "--scenario", path(&scenario), "--seed", "1", "--json"]);
    let from_zip: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_zip["state_digest"], run["state_digest"]);
    // A model reading a sensor this robot lacks is refused with its message.
    let mut header = threshold_model(0.11, ["far", "near"]).header().clone();
    header.input = Input::Sensors { names: vec!["distance:rear".into()] };
    let rear = Model::new(header, vec![0.0; 4]).unwrap();
    rear.write(&m).unwrap();
    let out = qiming(&["run", path(&program), "--scenario", path(&scenario), "--model", path(&m)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[\"distance:rear\"], which this robot does not have") && err.contains("这个机器人没有"), "{err}");
    // Without a model, the program's classify is a runtime error (an outcome, not a refusal).
    let out = qiming(&["run", path(&program), "--scenario", path(&scenario), "--json"]);
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["error"]["code"], "no_model");
}

#[test]
fn hostile_zips_are_refused_before_extraction() {
    let model = threshold_model(0.11, ["far", "near"]).to_bytes();
    let ok = zip_of(&[("main.rhai", b"stop();"), ("m.qmodel", &model)]);
    let b = Bundle::from_zip(&ok).unwrap();
    assert!(b.model.is_some() && b.program_name == "main.rhai");

    // A zip bomb: 16 MiB of zeros deflate to about 16 KB.
    let zeros = vec![0u8; 16 << 20];
    let bomb = zip_of(&[("main.rhai", b"stop();"), ("m.qmodel", &zeros)]);
    assert!(bomb.len() < 100_000);
    let err = Bundle::from_zip(&bomb).unwrap_err();
    assert!(matches!(err, BundleError::ZipBomb { .. }), "{err}");
    assert!(err.user_message().zh.contains("压缩炸弹"));

    // A header that lies about the size: the stream is capped, whatever it claims.
    let big = vec![b' '; 3 << 20];
    let mut liar = zip_of(&[("main.rhai", &big)]);
    for sig in [[0x50u8, 0x4b, 0x03, 0x04], [0x50, 0x4b, 0x01, 0x02]] {
        let at = liar.windows(4).position(|w| w == sig).unwrap();
        let field = if sig[2] == 3 { at + 22 } else { at + 24 };
        liar[field..field + 4].copy_from_slice(&1000u32.to_le_bytes());
    }
    let err = Bundle::from_zip(&liar).unwrap_err();
    assert!(matches!(err, BundleError::ZipBomb { .. } | BundleError::ZipCorrupt(_)), "{err}");

    // Path traversal and absolute paths.
    for name in ["../main.rhai", "a/../../main.rhai", "/etc/main.rhai", "C:\\main.rhai"] {
        let err = Bundle::from_zip(&zip_of(&[(name, b"stop();")])).unwrap_err();
        assert!(matches!(err, BundleError::ZipUnsafePath { .. }), "{name}: {err}");
    }
    // A symbolic link.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.add_symlink("main.rhai", "/etc/passwd", zip::write::SimpleFileOptions::default()).unwrap();
    let link = w.finish().unwrap().into_inner();
    assert!(matches!(Bundle::from_zip(&link), Err(BundleError::ZipSymlink { .. })));

    // Two programs, two models, none.
    let two = zip_of(&[("a.rhai", b"stop();"), ("b/b.wat", b"(module)")]);
    let err = Bundle::from_zip(&two).unwrap_err();
    assert!(matches!(err, BundleError::TwoPrograms { .. }), "{err}");
    assert!(err.user_message().zh.contains("两个程序") && err.user_message().en.contains("two programs"));
    let two = zip_of(&[("a.rhai", b"stop();"), ("a.qmodel", &model), ("b.qmodel", &model)]);
    assert!(matches!(Bundle::from_zip(&two), Err(BundleError::TwoModels { .. })));
    assert!(matches!(Bundle::from_zip(&zip_of(&[("notes.txt", b"hi")])), Err(BundleError::NoProgram)));

    // A corrupt model, and a truncated archive.
    let mut broken = model.clone();
    broken[40] ^= 0xff;
    let err = Bundle::from_zip(&zip_of(&[("main.rhai", b"stop();"), ("m.qmodel", &broken)])).unwrap_err();
    assert!(matches!(err, BundleError::Model { .. }), "{err}");
    assert!(err.user_message().zh.contains("损坏"), "{:?}", err.user_message());
    assert!(matches!(Bundle::from_zip(&ok[..ok.len() / 2]), Err(BundleError::ZipCorrupt(_))));

    // Too many entries.
    let names: Vec<String> = (0..100).map(|i| format!("f{i}.txt")).collect();
    let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    assert!(matches!(Bundle::from_zip(&zip_of(&many)), Err(BundleError::ZipTooManyEntries { .. })));

    // The CLI says so in both languages and grades nothing.
    let work = temp_dir("bomb");
    std::fs::write(work.join("bomb.zip"), &bomb).unwrap();
    let out = qiming(&["grade", "wall-stop", path(&work.join("bomb.zip")), "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("zip bomb") && err.contains("压缩炸弹"), "{err}");
}

/// The server takes a zip bundle for an AI assignment, refuses a hostile or
/// misplaced one before queueing it (422/400, the reason in zh-CN and en),
/// stores it like any submission and grades it with its model.
async fn server_bundles(backend: &str) {
    use axum::http::StatusCode;
    use base64::Engine as _;
    use serde_json::json;

    use crate::classroom::{School, graded, school, workers};
    use crate::server::{call, fresh_db, import_roster, login};

    let db = fresh_db(backend, "ai-bundles").await;
    let mut catalogue = qiming_curriculum::Catalogue::open(&repo().join("curriculum")).unwrap();
    catalogue.labs.push(Lab::load(&mini_lab(false)).unwrap());
    let s = qiming::serve::http::AppState::new(db, catalogue);
    let stop = workers(&s, 1);
    let School { teacher, .. } = school(&s).await;
    let (st, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "七年级（1）班"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{class}");
    let class = class["id"].as_i64().unwrap();
    let (st, v) = import_roster(&s, &teacher, class, "学号,姓名\n7001,张一\n").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let kid = &v["created"][0];
    let first = login(&s, kid["username"].as_str().unwrap(), kid["password"].as_str().unwrap()).await;
    let body = json!({"current_password": kid["password"], "new_password": "red panda 2024"});
    assert_eq!(call(&s, "POST", "/api/password", Some(&first), Some(body)).await.0, StatusCode::NO_CONTENT);
    let student = login(&s, kid["username"].as_str().unwrap(), "red panda 2024").await;
    let due = qiming::serve::now() + 7 * 24 * 3600;
    let mut ids = Vec::new();
    for lab in ["ai-mini", "wall-stop"] {
        let (st, a, _) = call(&s, "POST", &format!("/api/classes/{class}/assignments"), Some(&teacher), Some(json!({"lab_id": lab, "due_at": due}))).await;
        assert_eq!(st, StatusCode::CREATED, "{a}");
        ids.push(a["id"].as_i64().unwrap());
    }
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let model = threshold_model(0.11, ["far", "near"]).to_bytes();
    let good = zip_of(&[("main.rhai", MODEL_PROGRAM.as_bytes()), ("mini.qmodel", &model)]);
    let submit = |aid: i64, program: String| {
        let (s, student) = (&s, &student);
        async move {
            call(
                s,
                "POST",
                &format!("/api/assignments/{aid}/submissions"),
                Some(student),
                Some(json!({"language": "rhai", "encoding": "zip", "program": program})),
            )
            .await
        }
    };

    // Refused before anything is stored: a zip bomb, a traversal path, two programs.
    let bomb = zip_of(&[("main.rhai", b"stop();"), ("m.qmodel", &vec![0u8; 8 << 20])]);
    let two = zip_of(&[("a.rhai", b"stop();"), ("b.rhai", b"stop();")]);
    let traversal = zip_of(&[("../main.rhai", b"stop();")]);
    for (zip, words) in [(&bomb, "压缩炸弹"), (&two, "两个程序"), (&traversal, "路径不安全")] {
        let (st, e, _) = submit(ids[0], b64(zip)).await;
        assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_bundle")), "{e}");
        assert!(e["error"]["detail"]["zh-CN"].as_str().unwrap().contains(words), "{e}");
        assert!(!e["error"]["detail"]["en"].as_str().unwrap().is_empty(), "{e}");
    }
    // A lab without a [model] takes programs, not bundles.
    let (st, e, _) = submit(ids[1], b64(&good)).await;
    assert_eq!((st, e["error"]["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("bundle_not_ai")), "{e}");
    let (st, list, _) = call(&s, "GET", &format!("/api/assignments/{}/submissions", ids[0]), Some(&teacher), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["submissions"].as_array().map_or(0, |l| l.len()), 0, "refused bundles are not stored: {list}");

    // A good bundle is queued, stored as handed in, and graded with its model.
    let (st, sub, _) = submit(ids[0], b64(&good)).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{sub}");
    assert_eq!(sub["language"], "bundle");
    let done = graded(&s, &student, sub["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["score"], 100.0, "{done}");
    assert_eq!(done["program"], b64(&good));
    let cases = done["report"]["cases"].as_array().unwrap();
    let hidden = cases.iter().find(|c| c["name"] == "hidden-2").unwrap();
    assert_eq!((hidden["metric"]["kind"].as_str(), hidden["metric"]["value"].as_f64()), (Some("accuracy"), Some(1.0)), "{hidden}");
    // The editor gets the bundle's program back as text.
    let (_, a, _) = call(&s, "GET", &format!("/api/assignments/{}", ids[0]), Some(&student), None).await;
    assert_eq!(a["last_program"]["program"], MODEL_PROGRAM, "{}", a["last_program"]);
    drop(stop);
}

#[tokio::test]
async fn server_grades_zip_bundles_on_sqlite() {
    server_bundles("sqlite").await;
}

#[tokio::test]
async fn server_grades_zip_bundles_on_postgres() {
    server_bundles("postgres").await;
}

/// The lab JSON the web page reads tells it what an AI lab's model must be
/// (from the lab's `[model]` table) and how large a `.zip` may be; a robot
/// lab says it takes no model (`model: null`, no bundle limit). The same in
/// the catalogue (`GET /api/labs`) and in an assignment's lab payload.
#[tokio::test]
async fn the_lab_json_tells_the_page_what_model_an_ai_lab_takes() {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::classroom::{School, school};
    use crate::server::{call, state};

    let s = state("sqlite", "ai-lab-model").await;
    let School { teacher, .. } = school(&s).await;
    let (st, list, _) = call(&s, "GET", "/api/labs", Some(&teacher), None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let lab = |id: &str| list["labs"].as_array().unwrap().iter().find(|l| l["id"] == id).unwrap_or_else(|| panic!("no {id} in {list}")).clone();

    let signs = lab("ai-signs");
    assert_eq!(
        signs["model"],
        json!({"labels": ["left", "none", "right", "stop"], "input": "image", "sensors": [], "kinds": ["cnn"], "required": false}),
        "{signs}"
    );
    let max_bundle = signs["limits"]["max_bundle_bytes"].as_u64().unwrap_or_else(|| panic!("no bundle limit: {}", signs["limits"]));
    // Its base64 must fit the server's request body, and the lab's own reference bundle must fit it.
    assert!(max_bundle * 4 / 3 < qiming::serve::http::MAX_BODY as u64, "{max_bundle}");
    let reference = std::fs::metadata(repo().join("curriculum/labs/ai-signs/reference/model.qmodel")).unwrap().len();
    assert!(reference < max_bundle, "the reference model ({reference} bytes) does not fit {max_bundle}");
    let perceptron = lab("ai-perceptron");
    assert_eq!(perceptron["model"]["input"], "sensors", "{perceptron}");
    assert_eq!(perceptron["model"]["sensors"], json!(["distance:left", "distance:right"]), "{perceptron}");
    assert_eq!(perceptron["model"]["labels"], json!(["narrow", "wide"]), "{perceptron}");

    let wall = lab("wall-stop");
    assert!(wall.as_object().unwrap().contains_key("model") && wall["model"].is_null(), "a robot lab says it takes no model: {wall}");
    assert!(wall["limits"]["max_bundle_bytes"].is_null(), "{wall}");
    // Every lab: a model exactly when the curriculum gives it a [model] table.
    for l in &s.catalogue.labs {
        assert_eq!(lab(&l.id)["model"].is_null(), l.model.is_none(), "{}", l.id);
    }

    // An assignment's lab payload (what the assignment page reads) says the same.
    let (st, class, _) = call(&s, "POST", "/api/classes", Some(&teacher), Some(json!({"name": "八年级（2）班"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{class}");
    let due = qiming::serve::now() + 7 * 24 * 3600;
    for (id, ai) in [("ai-signs", true), ("wall-stop", false)] {
        let path = format!("/api/classes/{}/assignments", class["id"]);
        let (st, a, _) = call(&s, "POST", &path, Some(&teacher), Some(json!({"lab_id": id, "due_at": due}))).await;
        assert_eq!(st, StatusCode::CREATED, "{a}");
        let (st, a, _) = call(&s, "GET", &format!("/api/assignments/{}", a["id"]), Some(&teacher), None).await;
        assert_eq!(st, StatusCode::OK, "{a}");
        if ai {
            assert_eq!(a["lab"]["model"], signs["model"], "{}", a["lab"]);
            assert_eq!(a["lab"]["limits"]["max_bundle_bytes"], max_bundle, "{}", a["lab"]);
        } else {
            assert!(a["lab"]["model"].is_null() && a["lab"]["limits"]["max_bundle_bytes"].is_null(), "{}", a["lab"]);
        }
    }
}

/// A lab whose hidden dataset is damaged grades the model case 0 with a
/// message for the teacher, in Chinese without the parser's English words.
#[test]
fn a_damaged_lab_dataset_is_reported_in_both_languages() {
    let dir = mini_lab(false);
    let manifest = dir.join("hidden/data/manifest.json");
    std::fs::write(&manifest, "{\"format\": \"qiming-dataset\", \"version\": 1,\n  \"labels\": oops}").unwrap();
    let lab = Lab::load(&dir).unwrap();
    let report = grade_dir(&lab, Bundle::load(&dir.join("reference")).unwrap());
    let case = report.cases.iter().find(|c| c.name == "hidden-2").unwrap();
    assert_eq!(case.score, 0.0);
    let why = &case.feedback[0];
    assert!(why.zh.starts_with("本实验的数据集无法读取，请告诉老师："), "{why:?}");
    assert!(why.zh.contains("第 2 行第"), "{why:?}");
    assert!(why.en.starts_with("This lab's dataset cannot be read; tell your teacher:"), "{why:?}");
    // The zh-CN text carries no English words: only the path and the format's name.
    let zh = why.zh.replace(path(&manifest), "").replace("JSON", "");
    assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "English in {zh:?}");

    // A missing image file is named as such.
    std::fs::remove_file(&manifest).unwrap();
    let zh = qiming_ai::Dataset::open(&dir.join("hidden/data")).unwrap_err().zh_cn();
    assert!(zh.ends_with("：文件不存在"), "{zh}");
}
