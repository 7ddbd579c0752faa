//! The studio driven for real (egui_kittest over AccessKit): open a lab, run, check, errors on their line, languages, replays.

use std::path::PathBuf;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use qiming_studio::{Lang, Options, Screen, Studio};

pub(crate) fn curriculum() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../curriculum")
}

/// A studio on a fresh data folder, in a 1366×768 window.
pub(crate) fn studio(options: Options) -> (Harness<'static, Studio>, tempfile_dir::Dir) {
    let data = tempfile_dir::Dir::new("studio");
    let options = Options { curriculum: Some(curriculum()), data_dir: Some(data.path.clone()), ..options };
    let ctx = egui::Context::default();
    let studio = Studio::new(&ctx, options);
    // Background work (a run, training) repaints for a few frames after it ends; on a busy
    // machine that takes more than kittest's default 4 steps to settle.
    let harness = Harness::builder()
        .with_max_steps(64)
        .with_size(egui::vec2(1366.0, 768.0))
        .with_context_setup(qiming_studio::fonts::install)
        .build_ui_state(|ui, studio: &mut Studio| studio.ui(ui), studio);
    (harness, data)
}

/// A temporary folder removed when dropped.
pub(crate) mod tempfile_dir {
    use std::path::PathBuf;
    pub struct Dir {
        pub path: PathBuf,
    }
    impl Dir {
        pub fn new(tag: &str) -> Dir {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("qiming-test-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("temp dir");
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[test]
fn wall_stop_reference_runs_and_checks_full_marks() {
    let (mut h, _data) = studio(Options { lab: Some("wall-stop".into()), lang: Some(Lang::En), ..Options::default() });
    h.run();
    assert_eq!(h.state().screen, Screen::Lab);
    // Teacher mode shows the reference solution button.
    h.state_mut().settings.teacher = true;
    h.state_mut().bench.as_mut().unwrap().teacher = true;
    h.run();
    h.get_by_label("Load the reference solution").click();
    h.run();
    let reference = std::fs::read_to_string(curriculum().join("labs/wall-stop/reference.rhai")).unwrap();
    assert_eq!(h.state().bench.as_ref().unwrap().editor.text, reference);

    h.get_by_label("▶ Run").click();
    h.run_steps(2);
    h.state_mut().bench.as_mut().unwrap().wait_for_run();
    h.run_steps(3);
    let bench = h.state().bench.as_ref().unwrap();
    let player = bench.player.as_ref().expect("the run finished and plays");
    let first = player.replay.frames.first().unwrap().pose;
    let last = player.replay.frames.last().unwrap().pose;
    assert!((last[0] - first[0]).abs() + (last[1] - first[1]).abs() > 0.2, "the robot moves: {first:?} → {last:?}");

    h.get_by_label("✔ Check my work").click();
    h.run_steps(2);
    h.state_mut().bench.as_mut().unwrap().wait_for_check();
    h.run_steps(3);
    let report = h.state().bench.as_ref().unwrap().check.report.clone().expect("a report");
    assert_eq!(report.score, report.max_score, "{report:#?}");
    assert!(report.passed);
    h.get_by_label_contains("All passed!");
    // Hidden cases are only named: they are graded on the server.
    h.get_by_label_contains("Hidden tests are graded only on your teacher's server");
}

#[test]
fn a_syntax_error_is_shown_on_its_line() {
    let (mut h, _data) = studio(Options { lab: Some("wall-stop".into()), lang: Some(Lang::Zh), ..Options::default() });
    h.run();
    h.state_mut().bench.as_mut().unwrap().editor.text = "motors(0.5, 0.5);\nlet x = ;\nwait(1.0);\n".into();
    h.get_by_label("▶ 运行").click();
    h.run();
    let problem = h.state().bench.as_ref().unwrap().editor.problem.clone().expect("the error is shown");
    assert_eq!(problem.line, Some(2), "{problem:?}");
    assert!(h.state().bench.as_ref().unwrap().player.is_none(), "a program that does not compile does not start the world");
    h.get_by_label("第 2 行");
    h.get_by_label(&problem.explanation.zh);
}

#[test]
fn switching_language_shows_chinese() {
    let (mut h, _data) = studio(Options { lang: Some(Lang::En), ..Options::default() });
    h.run();
    h.get_by_label("Lessons");
    h.get_by_label("Language").click();
    h.run();
    h.get_by_label("中文").click();
    h.run();
    assert_eq!(h.state().lang(), Lang::Zh);
    h.get_by_label("课程");
    h.get_by_label_contains("启明工作室");
    assert!(h.query_by_label("Lessons").is_none());
    // The choice is remembered.
    let saved =
        Studio::new(&egui::Context::default(), Options { curriculum: Some(curriculum()), data_dir: Some(h.state().data_dir.clone()), ..Options::default() });
    assert_eq!(saved.lang(), Lang::Zh);
}

#[test]
fn a_replay_file_opens_and_plays() {
    let dir = tempfile_dir::Dir::new("replay");
    let lab = qiming_curriculum::Lab::load(&curriculum().join("labs/wall-stop")).unwrap();
    let case = lab.cases.iter().find(|c| !c.hidden).unwrap();
    let program = qiming_runtime::Program::load(curriculum().join("labs/wall-stop/reference.rhai")).unwrap();
    let options = qiming_grading::run::RunOptions { seed: case.seed, replay: true, ..Default::default() };
    let scenario = case.scenario.clone();
    let run = qiming_grading::on_run_thread(move || qiming_grading::run::run_program(&program, &scenario, &options)).unwrap();
    let path = dir.path.join("wall-stop.qreplay");
    std::fs::write(&path, run.replay.unwrap().to_bytes()).unwrap();

    let (mut h, _data) = studio(Options { replay: Some(path), lang: Some(Lang::En), ..Options::default() });
    h.run_steps(3);
    assert_eq!(h.state().screen, Screen::Replay);
    assert!(h.state().notice.is_none(), "{:?}", h.state().notice);
    h.get_by_label_contains("Arena:");
    h.state_mut().replay.player.as_mut().unwrap().reset();
    h.run_steps(1);
    h.get_by_label("Step").click();
    h.run_steps(2);
    assert_eq!(h.state().replay.player.as_ref().unwrap().frame_index(), 1);
    assert!(!h.state().replay.player.as_ref().unwrap().playing, "a step pauses playback");

    // Not a replay, a damaged one, a future one: a message naming the file, never a crash.
    for (name, bytes, expect) in [
        ("notes.qreplay", b"hello".to_vec(), "is not a Qiming replay"),
        ("cut.qreplay", b"QMRPLY01\x00\x01\x02".to_vec(), "is damaged"),
        ("future.qreplay", b"QMRPLY07rest".to_vec(), "another Qiming version"),
    ] {
        let bad = dir.path.join(name);
        std::fs::write(&bad, bytes).unwrap();
        h.state_mut().open_replay(&bad);
        h.run_steps(2);
        let notice = h.state().notice.clone().unwrap_or_default();
        assert!(notice.contains(expect) && notice.contains(name), "{name}: {notice}");
    }
}

#[test]
fn a_hostile_program_cannot_freeze_the_window() {
    let (mut h, _data) = studio(Options { lab: Some("wall-stop".into()), lang: Some(Lang::En), ..Options::default() });
    h.run();
    h.state_mut().bench.as_mut().unwrap().editor.text = "let n = 0;\nloop { n += 1; }\n".into();
    h.get_by_label("▶ Run").click();
    // The window keeps drawing while the program runs…
    h.run_steps(5);
    assert!(h.state().bench.as_ref().unwrap().job.is_some());
    // …and Esc stops it.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.state().bench.as_ref().unwrap().job.is_none());
}

#[test]
fn programs_are_autosaved_per_lab_and_restored() {
    let (mut h, data) = studio(Options { lab: Some("wall-stop".into()), lang: Some(Lang::En), ..Options::default() });
    h.run();
    let program = "// my own try\nmotors(0.3, 0.3);\nwait(1.0);\n";
    h.state_mut().bench.as_mut().unwrap().editor.text = program.into();
    h.state_mut().bench.as_mut().unwrap().editor.set_text(&egui::Context::default(), program.into(), qiming_runtime::Language::Rhai);
    h.state_mut().bench.as_mut().unwrap().editor.autosave(Lang::En, true);
    let saved = std::fs::read_to_string(data.path.join("programs/wall-stop.rhai")).unwrap();
    assert_eq!(saved, program);
    // No temporary file is left behind.
    assert!(std::fs::read_dir(data.path.join("programs")).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp")));
    let again = Studio::new(
        &egui::Context::default(),
        Options { lab: Some("wall-stop".into()), curriculum: Some(curriculum()), data_dir: Some(data.path.clone()), ..Options::default() },
    );
    assert_eq!(again.bench.as_ref().unwrap().editor.text, program);
}

#[test]
fn every_studio_string_has_both_languages() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../studio/src");
    let mut missing = Vec::new();
    // Every source file, in sub-folders too (the AI screen lives in src/ai/).
    let mut files = Vec::new();
    let mut folders = vec![src];
    while let Some(dir) = folders.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { folders.push(path) } else { files.push(path) }
        }
    }
    assert!(files.iter().any(|p| p.ends_with("ai/mod.rs")), "the walk reaches sub-folders");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for pattern in ["t(lang, \"", "tf(lang, \"", "t(self.lang(), \""] {
            for (at, _) in text.match_indices(pattern) {
                let rest = &text[at + pattern.len()..];
                let key = &rest[..rest.find('"').unwrap()];
                if !qiming_studio::i18n::has(key) {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "keys without both texts in studio/i18n.toml: {missing:#?}");
    for key in qiming_studio::i18n::keys() {
        assert!(qiming_studio::i18n::has(key), "{key} lacks a language");
    }
}

/// Metres → the screen point where the world editor drew them last frame.
fn world_point(h: &Harness<'static, Studio>, xy: [f64; 2]) -> egui::Pos2 {
    h.state().world.last_map.expect("the arena was drawn").to_screen(xy)
}

fn drag(h: &mut Harness<'static, Studio>, from: [f64; 2], to: [f64; 2]) {
    let (a, b) = (world_point(h, from), world_point(h, to));
    h.drag_at(a);
    h.step();
    h.hover_at(egui::pos2((a.x + b.x) / 2.0, (a.y + b.y) / 2.0));
    h.step();
    h.drop_at(b);
    h.run();
}

fn click(h: &mut Harness<'static, Studio>, at: [f64; 2]) {
    let p = world_point(h, at);
    h.hover_at(p);
    h.step();
    h.drag_at(p);
    h.step();
    h.drop_at(p);
    h.run();
}

#[test]
fn a_world_drawn_in_the_editor_runs_with_qiming_run() {
    let dir = tempfile_dir::Dir::new("world");
    let (mut h, _data) = studio(Options { screen: Some(Screen::World), lang: Some(Lang::En), ..Options::default() });
    h.run();
    // A wall that leaves the middle free, drawn with the mouse on the grid.
    h.get_by_label("Wall").click();
    h.run();
    drag(&mut h, [1.5, 1.3], [1.5, 1.9]);
    // A green exit on the right.
    h.get_by_label("Exit").click();
    h.run();
    drag(&mut h, [2.5, 0.7], [2.9, 1.3]);
    // A curved floor line from three clicks.
    h.get_by_label("Curve").click();
    h.run();
    for p in [[0.5, 0.3], [1.0, 0.7], [1.5, 0.3]] {
        click(&mut h, p);
    }
    // The robot starts on the left, facing east (a drag sets the heading).
    h.get_by_label("Start").click();
    h.run();
    drag(&mut h, [0.4, 1.0], [0.8, 1.0]);
    let world = &h.state().world;
    assert!(world.problem.is_none(), "{:?}", world.problem);
    let doc = &world.doc;
    assert_eq!(doc["walls"].as_array().unwrap().len(), 1, "{}", world.source());
    let wall = &doc["walls"][0];
    assert_eq!((wall["from"][0].as_float(), wall["from"][1].as_float(), wall["to"][1].as_float()), (Some(1.5), Some(1.3), Some(1.9)));
    assert_eq!(doc["zones"][0]["name"].as_str(), Some("exit"));
    assert_eq!(doc["lines"][0]["points"].as_array().unwrap().len(), 17, "a curve is stored as a sampled polyline");
    assert_eq!((doc["robot"]["x"].as_float(), doc["robot"]["heading"].as_float()), (Some(0.4), Some(0.0)));

    // Save through the path prompt, as a teacher would.
    let path = dir.path.join("my-world.toml");
    h.get_by_label("Save as…").click();
    h.run();
    h.get_by_label("File path").type_text(&path.display().to_string());
    h.run();
    h.get_by_label("OK").click();
    h.run();
    assert!(h.state().notice.is_none(), "{:?}", h.state().notice);
    assert!(path.is_file());

    // `qiming run` accepts it: the robot drives under the wall into the exit.
    let program = dir.path.join("drive.rhai");
    std::fs::write(&program, "motors(0.6, 0.6);\nwait(8.0);\nstop();\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qiming"))
        .args(["run", program.to_str().unwrap(), "--scenario", path.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["collisions"], 0, "{run:#}");
    assert!(run["events"].as_array().unwrap().iter().any(|e| e["zone"] == "exit"), "the robot reaches the exit: {run:#}");

    // Reopened, it is the same document.
    let saved = h.state().world.doc.clone();
    h.state_mut().open_world(&path);
    h.run();
    assert_eq!(h.state().world.doc, saved);
}

#[test]
fn the_world_editor_keeps_what_it_cannot_draw() {
    let dir = tempfile_dir::Dir::new("world-keep");
    let ctx = egui::Context::default();
    let mut studio = Studio::new(&ctx, Options { curriculum: Some(curriculum()), data_dir: Some(dir.path.join("data")), ..Options::default() });
    studio.open_world(&curriculum().join("labs/maze/scenarios/maze.toml"));
    assert!(studio.notice.is_none(), "{:?}", studio.notice);
    studio.world.add_wall([0.1, 0.1], [0.3, 0.1], Lang::En);
    let path = dir.path.join("maze-plus.toml");
    studio.save_world(&path);
    assert!(studio.notice.is_none(), "{:?}", studio.notice);
    let saved: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let original: toml::Table = toml::from_str(&std::fs::read_to_string(curriculum().join("labs/maze/scenarios/maze.toml")).unwrap()).unwrap();
    assert_eq!(saved["maze"], original["maze"], "the maze survives the editor");
    assert_eq!(saved["robot"], original["robot"]);

    // An invalid world is never written, and says why in the user's language.
    studio.world.doc.insert("duration".into(), toml::Value::Float(-1.0));
    let bad = dir.path.join("bad.toml");
    studio.save_world(&bad);
    assert!(!bad.exists());
    assert!(studio.notice.as_deref().unwrap_or_default().contains("第 1 行"), "{:?}", studio.notice);
    // A file that is not TOML opens with its line, not a crash.
    let junk = dir.path.join("junk.toml");
    std::fs::write(&junk, "name = \"x\"\nsize = [1,\n").unwrap();
    studio.open_world(&junk);
    assert!(studio.notice.as_deref().unwrap_or_default().contains("junk.toml"), "{:?}", studio.notice);
}

/// Steps the UI until `done` holds (network answers arrive on other threads).
pub(crate) fn step_until(h: &mut Harness<'static, Studio>, what: &str, mut done: impl FnMut(&Studio) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        h.step();
        if done(h.state()) {
            h.run_steps(2);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let s = h.state();
    panic!(
        "timed out waiting for {what}: problem {:?}, user {:?}, session {:?}, outbox {:?}, notice {:?}",
        s.connected.problem,
        s.connected.username,
        s.connected.session.is_some(),
        s.connected.outbox.last().map(|o| &o.delivery),
        s.notice
    );
}

fn delivery(s: &Studio, assignment: i64) -> Option<qiming_studio::connect::Delivery> {
    s.connected.latest(assignment).map(|o| o.delivery.clone())
}

#[test]
fn connected_mode_signs_in_submits_and_survives_a_dropped_network() {
    use crate::process::{free_port, serve};
    use qiming_studio::connect::Delivery;
    let dir = tempfile_dir::Dir::new("connected");
    let data = dir.path.join("server");
    let port = free_port();
    let log = dir.path.join("server.log");
    let server_args = ["--data-dir", data.to_str().unwrap()];
    let env = [("QIMING_ADMIN_PASSWORD", crate::crash::ADMIN_PASSWORD)];
    let mut server = serve(port, &server_args, &env, &log);
    let class = crate::crash::classroom_with_login(port, 10);
    let url = format!("http://127.0.0.1:{port}");

    let (mut h, studio_data) = studio(Options { server: Some(url.clone()), screen: Some(Screen::Connected), lang: Some(Lang::En), ..Options::default() });
    h.run();
    for (field, text) in [("Username", &class.username), ("Password", &class.password)] {
        h.get_by_label(field).focus();
        h.run();
        h.get_by_label(field).type_text(text);
        h.run();
    }
    assert_eq!(h.state().connected.username, class.username);
    h.get_by_label("Sign in").click();
    step_until(&mut h, "signing in", |s| s.connected.session.is_some());
    // The token is kept, the password is not (neither in memory nor on disk).
    let session = std::fs::read_to_string(studio_data.path.join("session.json")).unwrap();
    assert!(session.contains("token") && !session.contains(&class.password), "{session}");
    assert!(h.state().connected.password.is_empty());
    step_until(&mut h, "the assignment list", |s| !s.connected.assignments.is_empty());
    h.get_by_label("Stop before the wall");
    h.get_by_label("Open").click();
    h.run();
    assert_eq!(h.state().screen, Screen::Lab);
    let reference = std::fs::read_to_string(curriculum().join("labs/wall-stop/reference.rhai")).unwrap();
    h.state_mut().bench.as_mut().unwrap().editor.text = reference.clone();
    h.get_by_label("↑ Submit").click();
    step_until(&mut h, "the grade", |s| matches!(delivery(s, class.assignment), Some(Delivery::Graded { .. })));
    let Some(Delivery::Graded { score, max_score, .. }) = delivery(h.state(), class.assignment) else { unreachable!() };
    assert_eq!((score, max_score), (100.0, 100.0));
    h.get_by_label_contains("Graded: 100 / 100");

    // The network drops: the submission waits on disk, says so, and goes out when the server is back.
    server.kill();
    h.get_by_label("↑ Submit").click();
    h.run_steps(3);
    assert_eq!(delivery(h.state(), class.assignment), Some(Delivery::Waiting));
    h.get_by_label_contains("waiting for the network");
    let outbox = std::fs::read_to_string(studio_data.path.join("outbox.json")).unwrap();
    assert!(outbox.contains("\"waiting\""), "{outbox}");
    // A studio restarted while offline still has it.
    let again =
        Studio::new(&egui::Context::default(), Options { curriculum: Some(curriculum()), data_dir: Some(studio_data.path.clone()), ..Options::default() });
    assert_eq!(delivery(&again, class.assignment), Some(Delivery::Waiting));
    drop(again);
    let _server = serve(port, &server_args, &env, &log);
    step_until(&mut h, "the retried submission's grade", |s| matches!(delivery(s, class.assignment), Some(Delivery::Graded { .. })));
    let subs = crate::process::expect(port, "GET", &format!("/api/assignments/{}/submissions", class.assignment), Some(&class.token), None, 200);
    assert_eq!(subs["submissions"].as_array().unwrap().len(), 2, "each submission reached the server once: {subs:#}");
}

/// The studio binary beside this test binary (`.ci/run` builds it first).
pub(crate) fn studio_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    let bin = dir.join(format!("qiming-studio{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

#[test]
fn the_real_window_renders_chinese_under_xvfb_with_software_opengl() {
    let xvfb = std::process::Command::new("xvfb-run").arg("--help").output().is_ok();
    let Some(bin) = studio_binary().filter(|_| xvfb) else {
        assert!(std::env::var_os("CI").is_none(), "CI builds qiming-studio and installs xvfb: both are needed here");
        eprintln!("skipping: build qiming-studio (cargo build -p qiming-studio) and install xvfb to run this test");
        return;
    };
    let dir = tempfile_dir::Dir::new("screenshot");
    let out = dir.path.join("shot.png");
    let status = std::process::Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1366x768x24"])
        .arg(&bin)
        .args(["--lang", "zh-CN", "--lab", "wall-stop", "--run-for", "3", "--size", "1366x768"])
        .arg("--program")
        .arg(curriculum().join("labs/wall-stop/reference.rhai"))
        .arg("--curriculum")
        .arg(curriculum())
        .arg("--data-dir")
        .arg(dir.path.join("data"))
        .arg("--screenshot")
        .arg(&out)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1366, 768));
    let pixels: Vec<[u8; 4]> = buf[..info.buffer_size()].chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
    // The robot (its orange body) is drawn, and the frame is not blank.
    assert!(pixels.iter().filter(|p| p[0] == 0xF5 && p[1] == 0xA6 && p[2] == 0x23).count() > 100, "no robot in the screenshot");
    let distinct: std::collections::BTreeSet<[u8; 4]> = pixels.iter().copied().collect();
    assert!(distinct.len() > 50, "a blank screenshot ({} colours)", distinct.len());
}

#[test]
fn a_link_between_lessons_opens_the_lesson_in_the_studio() {
    let (mut h, _data) = studio(Options { lab: Some("wall-stop".into()), screen: Some(Screen::Lessons), lang: Some(Lang::En), ..Options::default() });
    h.run();
    assert_eq!(h.state().selected_lesson.as_deref(), Some("wall-stop"));
    h.get_by_label("Variables: let").click();
    h.run();
    let target = h.state().selected_lesson.clone().unwrap();
    assert!(target.starts_with("primer-"), "{target}");
    assert_eq!(h.state().screen, Screen::Lessons);
}

/// Copies a dataset folder (manifest and images) so a test may edit it.
fn copy_dataset(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to.join("images")).unwrap();
    std::fs::copy(from.join("manifest.json"), to.join("manifest.json")).unwrap();
    if let Ok(images) = std::fs::read_dir(from.join("images")) {
        for e in images {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join("images").join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn the_ai_screen_splits_trains_steps_and_deploys_a_perceptron() {
    let dir = tempfile_dir::Dir::new("ai-screen");
    let data = dir.path.join("lanes");
    copy_dataset(&curriculum().join("labs/ai-perceptron/hidden/vectors"), &data);
    let (mut h, _data) = studio(Options { lab: Some("ai-perceptron".into()), dataset: Some(data.clone()), lang: Some(Lang::En), ..Options::default() });
    h.run();
    assert_eq!(h.state().screen, Screen::Ai);
    h.get_by_label("AI lab");
    h.get_by_label("274 samples: 0 for training, 274 for testing");
    // The perceptron lab opens on the step-by-step view.
    h.get_by_label("Step by step");
    h.get_by_label_contains("The black line is the boundary");

    // Split a quarter for testing: written back in the documented format.
    h.state_mut().ai.test_fraction = 0.25;
    h.get_by_label("Split and save").click();
    h.run();
    h.get_by_label("274 samples: 205 for training, 69 for testing");
    let ds = qiming_ai::Dataset::open(&data).unwrap();
    assert_eq!(ds.samples().iter().filter(|s| s.split == qiming_ai::dataset::Split::Test).count(), 69);

    // Ten steps of the perceptron on the training points.
    h.get_by_label("10 steps").click();
    h.run();
    assert_eq!(h.state().ai.session.as_ref().unwrap().steps(), 10);
    h.get_by_label_contains("step 10 · pass 1");

    // Train: the model file carries the dataset's hash; deploy it with the lab's runs.
    h.get_by_label("Train a model").click();
    h.run();
    h.get_by_label("▶ Train").click();
    // Training repaints until it ends: step, do not wait for the UI to settle.
    h.run_steps(2);
    h.state_mut().ai.train.as_mut().unwrap().wait();
    h.run_steps(2);
    let job = h.state().ai.train.as_ref().unwrap();
    assert_eq!(job.reports.len() as u32, qiming_ai::ModelKind::Perceptron.default_epochs());
    let trained = job.result.as_ref().unwrap().as_ref().unwrap().clone();
    assert_eq!(qiming_ai::Model::read(&trained.path).unwrap().dataset_sha256(), ds.sha256());
    h.get_by_label_contains("Trained (input: sensor readings)");
    h.get_by_label("✔ Let the robot use this model").click();
    h.run();
    let deployed = h.state().bench.as_ref().unwrap().model.as_ref().expect("deployed").name.clone();
    assert_eq!(deployed, "lanes-perceptron.qmodel");
    h.get_by_label("Runs use the model lanes-perceptron.qmodel (perceptron; labels narrow, wide)");

    // A run of the reference driver now classifies with it (as qiming run --model).
    let bench = h.state_mut().bench.as_mut().unwrap();
    bench.editor.text = std::fs::read_to_string(curriculum().join("labs/ai-perceptron/reference/main.rhai")).unwrap();
    bench.run();
    bench.wait_for_run();
    let report = bench.player.as_ref().unwrap().report.clone().unwrap();
    assert!(!matches!(report.outcome, qiming_runtime::Outcome::Error(_) | qiming_runtime::Outcome::Limit { .. }), "{:?}", report.outcome);
    // Without the model, classify() is a runtime error.
    bench.model = None;
    bench.run();
    bench.wait_for_run();
    let report = bench.player.as_ref().unwrap().report.clone().unwrap();
    assert!(matches!(report.outcome, qiming_runtime::Outcome::Error(_)), "{:?}", report.outcome);

    // A model for other labels is refused with the grader's reason.
    h.state_mut().ai.open(&curriculum().join("labs/ai-kmeans/hidden/vectors"), Lang::En);
    // Split in memory only: the curriculum's folder is never written.
    h.state_mut().ai.dataset.as_mut().unwrap().split(1, 0.25).unwrap();
    h.state_mut().ai.train = None;
    h.state_mut().ai.model_path = dir.path.join("lots.qmodel").display().to_string();
    h.state_mut().ai.start_training(Lang::En);
    h.state_mut().ai.train.as_mut().unwrap().wait();
    h.run_steps(2);
    h.get_by_label("✔ Let the robot use this model").click();
    h.run();
    assert!(h.state().bench.as_ref().unwrap().model.is_none());
    h.get_by_label_contains("this lab uses");
}

#[test]
fn the_q_table_of_the_qlearning_reference_is_drawn_with_its_policy() {
    let (mut h, _data) = studio(Options { lab: Some("ai-qlearning".into()), lang: Some(Lang::Zh), ..Options::default() });
    h.run();
    assert!(qiming_studio::app::load_reference_solution(&h.ctx.clone(), h.state_mut().bench.as_mut().unwrap()));
    h.state_mut().screen = Screen::Ai;
    h.run();
    h.get_by_label("Q 表");
    h.get_by_label("还没有 Q 表：运行程序，让它用 show_q(q) 打印出来。");
    h.get_by_label("▶ 运行实验程序").click();
    h.run_steps(2);
    h.state_mut().bench.as_mut().unwrap().wait_for_run();
    h.run_steps(3);
    h.get_by_label_contains("学了 300 个回合");
    let bench = h.state().bench.as_ref().unwrap();
    let out: String = bench
        .player
        .as_ref()
        .unwrap()
        .replay
        .events
        .iter()
        .filter_map(|e| if let qiming_sim::replay::ReplayEvent::Output { text, .. } = e { Some(text.as_str()) } else { None })
        .collect();
    let view = qiming_studio::ai::qtable::parse(&out);
    assert_eq!(view.q.len(), 20);
    let maze = view.maze.expect("show_map() is read");
    assert_eq!((maze.width, maze.height), (5, 4));
    // The greedy policy leaves the start cell: the learned route begins with a move.
    assert!(qiming_studio::ai::qtable::greedy(&view.q[&0]).is_some());
}

#[test]
fn the_ai_screen_renders_under_xvfb_in_both_languages() {
    let xvfb = std::process::Command::new("xvfb-run").arg("--help").output().is_ok();
    let Some(bin) = studio_binary().filter(|_| xvfb) else {
        assert!(std::env::var_os("CI").is_none(), "CI builds qiming-studio and installs xvfb: both are needed here");
        eprintln!("skipping: build qiming-studio (cargo build -p qiming-studio) and install xvfb to run this test");
        return;
    };
    let dir = tempfile_dir::Dir::new("ai-screenshot");
    let data = dir.path.join("lanes");
    copy_dataset(&curriculum().join("labs/ai-perceptron/hidden/vectors"), &data);
    // Half of the samples for training, so the steps and the training have points to learn from.
    let mut ds = qiming_ai::Dataset::open(&data).unwrap();
    ds.split(1, 0.5).unwrap();
    ds.save().unwrap();
    for (lang, tab, extra) in [("zh-CN", "steps", vec!["--ai-steps", "40"]), ("en", "train", vec!["--ai-train", "perceptron"])] {
        let out = dir.path.join(format!("ai-{lang}.png"));
        let status = std::process::Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 1366x768x24"])
            .arg(&bin)
            .args(["--lang", lang, "--lab", "ai-perceptron", "--screen", "ai", "--ai-tab", tab, "--size", "1366x768"])
            .args(&extra)
            .arg("--dataset")
            .arg(&data)
            .arg("--curriculum")
            .arg(curriculum())
            .arg("--data-dir")
            .arg(dir.path.join(format!("data-{lang}")))
            .arg("--screenshot")
            .arg(&out)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        if let Some(keep) = std::env::var_os("QIMING_KEEP_SCREENSHOTS") {
            std::fs::copy(&out, std::path::Path::new(&keep).join(format!("ai-{lang}.png"))).unwrap();
        }
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (1366, 768));
        let pixels: Vec<[u8; 4]> = buf[..info.buffer_size()].chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
        // The first label's colour (the points, or the training curve) is drawn, and the frame is not blank.
        let blue = pixels.iter().filter(|p| p[0] == 0x00 && p[1] == 0x72 && p[2] == 0xB2).count();
        assert!(blue > 50, "{lang}: nothing in the first label's colour ({blue} pixels)");
        let distinct: std::collections::BTreeSet<[u8; 4]> = pixels.iter().copied().collect();
        assert!(distinct.len() > 50, "{lang}: a blank screenshot ({} colours)", distinct.len());
    }
    // The training wrote its model, with the dataset's hash, in the data folder.
    let model = qiming_ai::Model::read(&dir.path.join("data-en/models/lanes-perceptron.qmodel")).unwrap();
    assert_eq!(model.dataset_sha256(), qiming_ai::Dataset::open(&data).unwrap().sha256());
}
