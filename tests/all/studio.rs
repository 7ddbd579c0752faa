//! The studio driven for real (egui_kittest over AccessKit): open a lab, run, check, errors on their line, languages, replays.

use std::path::PathBuf;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use qiming_studio::{Lang, Options, Screen, Studio};

fn curriculum() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../curriculum")
}

/// A studio on a fresh data folder, in a 1366×768 window.
fn studio(options: Options) -> (Harness<'static, Studio>, tempfile_dir::Dir) {
    let data = tempfile_dir::Dir::new("studio");
    let options = Options { curriculum: Some(curriculum()), data_dir: Some(data.path.clone()), ..options };
    let ctx = egui::Context::default();
    let studio = Studio::new(&ctx, options);
    let harness = Harness::builder()
        .with_size(egui::vec2(1366.0, 768.0))
        .with_context_setup(qiming_studio::fonts::install)
        .build_ui_state(|ui, studio: &mut Studio| studio.ui(ui), studio);
    (harness, data)
}

/// A temporary folder removed when dropped.
mod tempfile_dir {
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
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
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
