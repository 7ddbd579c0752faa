//! The workbench: one program in one world — a lab (with its lesson, cases and "check my work") or a free scenario (the playground).

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use egui::RichText;
use egui_plot::{Legend, Line, Plot, PlotPoints};
use qiming_curriculum::Lab;
use qiming_grading::grade::{GradeOptions, GradeReport, RUN_STACK, grade, lab_run_options};
use qiming_grading::run::RunOptions;
use qiming_runtime::{Cancel, Language, Limits, Outcome};
use qiming_sim::{Replay, Scenario};

use crate::arena::{self, Camera};
use crate::editor::{Editor, Problem};
use crate::files;
use crate::i18n::{Lang, t, tf};
use crate::run::{Finished, Job, Player, SPEEDS, Speed};

/// What the program runs against.
pub enum World {
    Lab(Box<Lab>),
    Scenario { scenario: Arc<Scenario>, path: String },
}

/// The tab under the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BottomTab {
    Output,
    Plots,
    Check,
}

/// "Check my work": a grading in progress or its report.
#[derive(Default)]
pub struct CheckState {
    job: Option<(Receiver<GradeReport>, Cancel)>,
    pub report: Option<GradeReport>,
}

pub struct Workbench {
    pub world: World,
    pub editor: Editor,
    /// The visible case run by Run (index into the lab's cases).
    pub case: usize,
    pub seed: u64,
    pub job: Option<Job>,
    pub player: Option<Player>,
    pub speed: Speed,
    camera: Camera,
    pub check: CheckState,
    pub tab: BottomTab,
    /// Jump to this many simulated seconds when the next run finishes (`--run-for`).
    pub seek_on_finish: Option<f64>,
    /// Show the reference solution button (teacher mode).
    pub teacher: bool,
    /// The server assignment this lab was opened for (connected mode).
    pub assignment: Option<AssignmentLink>,
    /// The model deployed with runs and "check my work" (chosen on the AI screen).
    pub model: Option<crate::ai::Deployed>,
}

/// A lab opened from a server assignment.
#[derive(Clone, Debug)]
pub struct AssignmentLink {
    pub id: i64,
    pub title: qiming_curriculum::Text,
}

impl Workbench {
    /// A lab, with the student's autosaved program or else the starter.
    pub fn for_lab(lab: Lab, data_dir: &Path) -> Workbench {
        let language = if lab.starter.contains_key("rhai") || lab.languages.iter().any(|l| l == "rhai") { Language::Rhai } else { Language::Wasm };
        let autosave = files::autosave_path(data_dir, &lab.id, language);
        let text = std::fs::read_to_string(&autosave).ok().unwrap_or_else(|| starter(&lab, language));
        let mut editor = Editor::new(&lab.id, text, language);
        editor.autosave_path = Some(autosave);
        let case = lab.cases.iter().position(|c| !c.hidden).unwrap_or(0);
        let seed = lab.cases.get(case).map_or(0, |c| c.seed);
        Workbench::new(World::Lab(Box::new(lab)), editor, case, seed)
    }

    /// A scenario file, no grading.
    pub fn for_scenario(scenario: Scenario, path: String, data_dir: &Path) -> Workbench {
        let autosave = files::autosave_path(data_dir, "playground", Language::Rhai);
        let text = std::fs::read_to_string(&autosave).unwrap_or_else(|_| "motors(0.5, 0.5);\nwait(2.0);\nstop();\n".to_string());
        let mut editor = Editor::new("playground", text, Language::Rhai);
        editor.autosave_path = Some(autosave);
        Workbench::new(World::Scenario { scenario: Arc::new(scenario), path }, editor, 0, 1)
    }

    fn new(world: World, editor: Editor, case: usize, seed: u64) -> Workbench {
        Workbench {
            world,
            editor,
            case,
            seed,
            job: None,
            player: None,
            speed: Speed::Times(1),
            camera: Camera::default(),
            check: CheckState::default(),
            tab: BottomTab::Output,
            seek_on_finish: None,
            teacher: false,
            assignment: None,
            model: None,
        }
    }

    pub fn lab(&self) -> Option<&Lab> {
        match &self.world {
            World::Lab(lab) => Some(lab),
            World::Scenario { .. } => None,
        }
    }

    fn scenario(&self) -> Option<Arc<Scenario>> {
        match &self.world {
            World::Lab(lab) => lab.cases.get(self.case).map(|c| c.scenario.clone()),
            World::Scenario { scenario, .. } => Some(scenario.clone()),
        }
    }

    /// Starts a run of the editor's program (F5).
    pub fn run(&mut self) {
        self.stop();
        let program = self.editor.program();
        let Some(scenario) = self.scenario() else { return };
        let mut options = match self.lab() {
            Some(lab) => lab_run_options(lab, &Limits::default(), self.seed, Cancel::new()),
            None => RunOptions { seed: self.seed, settle: false, ..RunOptions::default() },
        };
        // As `qiming run --model`: classify() asks the deployed model.
        options.model = self.model.as_ref().map(|d| d.model.clone() as Arc<dyn qiming_ai::Classifier>);
        // Compile first: a syntax error is shown on its line without starting the world.
        if let Some(Outcome::Error(e)) = qiming_runtime::prepare(&program, &options.limits) {
            self.editor.problem = Some(Problem::of(&e.diagnostic));
            self.player = None;
            return;
        }
        match Job::start(program, scenario, options) {
            Ok(job) => {
                self.job = Some(job);
                self.editor.problem = None;
            }
            Err(_) => self.job = None,
        }
    }

    /// Stops a run in progress and pauses playback (Esc).
    pub fn stop(&mut self) {
        if let Some(job) = self.job.take() {
            job.cancel();
        }
        if let Some(p) = &mut self.player {
            p.playing = false;
        }
    }

    /// Waits for the current run to finish (tests and screenshots).
    pub fn wait_for_run(&mut self) {
        if let Some(job) = self.job.take()
            && let Some(f) = job.wait()
        {
            self.finish(f);
        }
    }

    fn finish(&mut self, f: Finished) {
        if let Outcome::Error(e) = &f.report.outcome {
            self.editor.problem = Some(Problem::of(&e.diagnostic));
        }
        let mut player = Player::new(f.world, f.replay, Some(f.report));
        if let Some(s) = self.seek_on_finish.take() {
            player.seek_seconds(s);
            player.playing = false;
        }
        self.player = Some(player);
    }

    /// Grades the program on the lab's visible cases, as `qiming grade` would.
    pub fn start_check(&mut self) {
        let Some(lab) = self.lab().cloned() else { return };
        let program = self.editor.program();
        let (tx, rx) = channel();
        let cancel = Cancel::new();
        let options = GradeOptions { keep_replays: true, threads: 1, cancel: cancel.clone(), ..GradeOptions::default() };
        let visible = visible_only(lab);
        // With a deployed model, grade the bundle a student would hand in: the program and its model.
        let bundle = self.model.as_ref().map(|d| qiming_grading::Bundle {
            program: program.clone(),
            program_name: "program".into(),
            model: Some(d.model.clone()),
            model_name: Some(d.name.clone()),
        });
        let spawned = std::thread::Builder::new().name("studio-check".into()).stack_size(RUN_STACK).spawn(move || {
            let report = match &bundle {
                Some(b) => qiming_grading::grade_bundle(&visible, b, &options),
                None => grade(&visible, &program, &options),
            };
            let _ = tx.send(report);
        });
        if spawned.is_ok() {
            self.check = CheckState { job: Some((rx, cancel)), report: None };
            self.tab = BottomTab::Check;
        }
    }

    /// Waits for "check my work" to finish (tests and screenshots).
    pub fn wait_for_check(&mut self) {
        if let Some((rx, _)) = self.check.job.take() {
            self.check.report = rx.recv().ok();
        }
    }

    /// Plays the replay of a graded case.
    fn watch(&mut self, case_name: &str) {
        let Some(lab) = self.lab() else { return };
        let Some(case) = lab.cases.iter().find(|c| c.name == case_name) else { return };
        let world = case.scenario.resolve(case.seed);
        let bytes = self.check.report.as_ref().and_then(|r| r.cases.iter().find(|c| c.name == case_name)).and_then(|c| c.replay_bytes.clone());
        if let Some(replay) = bytes.and_then(|b| Replay::from_bytes(&b).ok()) {
            self.player = Some(Player::new(world, replay, None));
        }
    }

    /// Per-frame housekeeping: collect finished work, advance playback, autosave.
    pub fn tick(&mut self, ctx: &egui::Context, lang: Lang) {
        if let Some(job) = &self.job {
            if let Some(f) = job.poll() {
                self.job = None;
                self.finish(f);
            } else {
                ctx.request_repaint();
            }
        }
        if let Some((rx, _)) = &self.check.job {
            match rx.try_recv() {
                Ok(report) => {
                    self.check.report = Some(report);
                    self.check.job = None;
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => self.check.job = None,
                Err(std::sync::mpsc::TryRecvError::Empty) => ctx.request_repaint(),
            }
        }
        if let Some(p) = &mut self.player
            && p.playing
        {
            let dt = f64::from(ctx.input(|i| i.stable_dt)).min(0.1);
            p.advance(dt, self.speed);
            ctx.request_repaint();
        }
        self.editor.autosave(lang, false);
        if self.editor.unsaved() {
            ctx.request_repaint_after(std::time::Duration::from_millis(900));
        }
    }

    pub fn step(&mut self) {
        if let Some(p) = &mut self.player {
            p.step();
        } else {
            self.run();
        }
    }

    /// The controls row: run, pause, step, stop, reset, speed, case and seed.
    pub fn controls(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal_wrapped(|ui| {
            if ui.button(format!("▶ {}", t(lang, "run"))).on_hover_text("F5").clicked() {
                self.run();
            }
            let playing = self.player.as_ref().is_some_and(|p| p.playing);
            let pause_label = if playing { t(lang, "pause") } else { t(lang, "resume") };
            if ui.add_enabled(self.player.as_ref().is_some_and(|p| !p.at_end() || playing), egui::Button::new(pause_label)).clicked()
                && let Some(p) = &mut self.player
            {
                p.playing = !p.playing;
            }
            if ui.button(t(lang, "step")).on_hover_text("F6").clicked() {
                self.step();
            }
            if ui.button(t(lang, "stop")).on_hover_text("Esc").clicked() {
                self.stop();
            }
            if ui.button(t(lang, "reset")).clicked()
                && let Some(p) = &mut self.player
            {
                p.reset();
            }
            let speed_label = ui.label(t(lang, "speed"));
            let label = |s: Speed| match s {
                Speed::Times(k) => format!("{k}×"),
                Speed::Fastest => t(lang, "fastest").to_string(),
            };
            egui::ComboBox::from_id_salt("speed")
                .selected_text(label(self.speed))
                .show_ui(ui, |ui| {
                    for &k in SPEEDS {
                        ui.selectable_value(&mut self.speed, Speed::Times(k), label(Speed::Times(k)));
                    }
                    ui.selectable_value(&mut self.speed, Speed::Fastest, label(Speed::Fastest));
                })
                .response
                .labelled_by(speed_label.id);
            if let World::Lab(lab) = &self.world {
                let visible: Vec<(usize, String)> = lab
                    .cases
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.hidden)
                    .map(|(i, c)| (i, c.title.as_ref().map_or_else(|| case_label(lang, &c.name), |t| lang.pick(t).to_string())))
                    .collect();
                if visible.len() > 1 {
                    let case_label_id = ui.label(t(lang, "case")).id;
                    let current = visible.iter().find(|(i, _)| *i == self.case).map_or_else(String::new, |(_, n)| n.clone());
                    let mut chosen = self.case;
                    egui::ComboBox::from_id_salt("case")
                        .selected_text(current)
                        .show_ui(ui, |ui| {
                            for (i, name) in &visible {
                                ui.selectable_value(&mut chosen, *i, name);
                            }
                        })
                        .response
                        .labelled_by(case_label_id);
                    if chosen != self.case {
                        self.case = chosen;
                        self.seed = lab.cases[chosen].seed;
                        self.player = None;
                    }
                }
            }
            let seed_label = ui.label(t(lang, "seed"));
            ui.add(egui::DragValue::new(&mut self.seed).range(0..=u32::MAX as u64)).labelled_by(seed_label.id);
            if let Some(d) = &self.model {
                ui.label(RichText::new(tf(lang, "ai_bench_model", &[("name", &d.name)])).strong()).on_hover_text(t(lang, "ai_deploy_hint"));
            }
        });
        if self.job.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(t(lang, "running"));
            });
        } else if let Some(p) = &mut self.player {
            let mut pos = p.frame_index() as f64;
            let last = p.last() as f64;
            ui.horizontal(|ui| {
                let time = ui.label(tf(lang, "time_label", &[("t", &format!("{:.2}", p.time()))]));
                let slider = ui.add(egui::Slider::new(&mut pos, 0.0..=last.max(1.0)).show_value(false)).labelled_by(time.id);
                if slider.changed() {
                    p.position = pos;
                    p.playing = false;
                }
            });
        }
    }

    /// The arena with the robot where playback is.
    pub fn arena(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let hint = t(lang, "zoom_hint");
        match &self.player {
            Some(p) => {
                arena::show(ui, &mut self.camera, &p.world, Some((&p.replay, p.frame_index())), hint);
            }
            None => {
                let world = match &self.world {
                    World::Lab(lab) => lab.cases.get(self.case).map(|c| c.scenario.resolve(self.seed)),
                    World::Scenario { scenario, .. } => Some(scenario.resolve(self.seed)),
                };
                if let Some(w) = world {
                    arena::show(ui, &mut self.camera, &w, None, hint);
                }
            }
        }
    }

    /// The tabs under the arena: output and outcome, sensor plots, check results.
    pub fn bottom(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, BottomTab::Output, t(lang, "output"));
            ui.selectable_value(&mut self.tab, BottomTab::Plots, t(lang, "plots"));
            if self.lab().is_some() {
                ui.selectable_value(&mut self.tab, BottomTab::Check, t(lang, "check_results"));
                ui.separator();
                let checking = self.check.job.is_some();
                if ui.add_enabled(!checking, egui::Button::new(RichText::new(format!("✔ {}", t(lang, "check"))).strong())).clicked() {
                    self.start_check();
                }
            }
        });
        ui.separator();
        match self.tab {
            BottomTab::Output => self.output_tab(ui, lang),
            BottomTab::Plots => self.plots_tab(ui, lang),
            BottomTab::Check => self.check_tab(ui, lang),
        }
    }

    fn output_tab(&mut self, ui: &mut egui::Ui, lang: Lang) {
        egui::ScrollArea::vertical().id_salt("output").auto_shrink([false, false]).stick_to_bottom(true).show(ui, |ui| {
            let Some(p) = &self.player else {
                ui.weak(t(lang, "no_output"));
                return;
            };
            let out = p.output_so_far();
            if out.is_empty() {
                ui.weak(t(lang, "no_output"));
            } else {
                ui.label(RichText::new(out).monospace());
            }
            if p.at_end()
                && let Some(report) = &p.report
            {
                ui.separator();
                outcome_text(ui, lang, &report.outcome);
            }
        });
    }

    fn plots_tab(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let Some(p) = &self.player else {
            ui.weak(t(lang, "no_output"));
            return;
        };
        let frame = p.frame_index();
        let hz = f64::from(p.replay.header.tick_hz.max(1));
        let f = &p.replay.frames[frame];
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(t(lang, "sensors")).strong());
            for (name, v) in p.replay.header.distance_sensors.iter().zip(&f.distance) {
                ui.label(format!("distance(\"{name}\") = {v:.3}"));
            }
            for (name, v) in p.replay.header.line_sensors.iter().zip(&f.line) {
                ui.label(format!("line(\"{name}\") = {v:.2}"));
            }
            for (name, c) in p.replay.header.color_sensors.iter().zip(&f.color) {
                ui.label(format!("color(\"{name}\") = \"{}\"", qiming_sim::PaletteColor(*c).name()));
            }
            ui.label(format!("motors = ({:.2}, {:.2})", f.motors[0], f.motors[1]));
        });
        let step = (frame / 1500).max(1);
        Plot::new("sensor-plot").legend(Legend::default()).allow_scroll(false).show(ui, |plot| {
            for (i, name) in p.replay.header.distance_sensors.iter().enumerate() {
                let pts: PlotPoints =
                    p.replay.frames[..=frame].iter().enumerate().step_by(step).map(|(k, f)| [k as f64 / hz, f64::from(f.distance[i])]).collect();
                plot.line(Line::new(format!("distance(\"{name}\")"), pts));
            }
            for (i, name) in p.replay.header.line_sensors.iter().enumerate() {
                let pts: PlotPoints = p.replay.frames[..=frame].iter().enumerate().step_by(step).map(|(k, f)| [k as f64 / hz, f64::from(f.line[i])]).collect();
                plot.line(Line::new(format!("line(\"{name}\")"), pts));
            }
        });
    }

    fn check_tab(&mut self, ui: &mut egui::Ui, lang: Lang) {
        if self.check.job.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(t(lang, "checking"));
            });
            return;
        }
        let Some(report) = self.check.report.clone() else {
            ui.weak(t(lang, "check"));
            return;
        };
        let mut watch = None;
        egui::ScrollArea::vertical().id_salt("check").auto_shrink([false, false]).show(ui, |ui| {
            ui.heading(tf(lang, "check_score", &[("score", &report.score), ("max", &report.max_score)]));
            ui.label(if report.passed { t(lang, "check_passed") } else { t(lang, "check_not_yet") });
            for case in &report.cases {
                ui.separator();
                ui.horizontal(|ui| {
                    let mark = if case.passed { format!("✔ {}", t(lang, "passed")) } else { format!("✘ {}", t(lang, "failed")) };
                    let color = if case.passed { egui::Color32::from_rgb(0x1B, 0x7F, 0x3B) } else { ui.visuals().error_fg_color };
                    ui.label(RichText::new(mark).color(color).strong());
                    let title =
                        self.lab().and_then(|l| l.cases.iter().find(|c| c.name == case.name)).and_then(|c| c.title.as_ref()).map(|t| lang.pick(t).to_string());
                    ui.label(title.unwrap_or_else(|| case_label(lang, &case.name)));
                    ui.label(format!("{} / {}", case.score, case.max_score));
                    if case.replay_bytes.is_some() && ui.button(t(lang, "watch_replay")).clicked() {
                        watch = Some(case.name.clone());
                    }
                });
                for f in &case.feedback {
                    ui.label(lang.pick(f));
                }
                for c in case.checks.iter().filter(|c| !c.passed) {
                    ui.label(format!("• {}", lang.pick(&c.feedback)));
                    if let Some(h) = &c.hint {
                        ui.label(RichText::new(format!("{} {}", t(lang, "hint"), lang.pick(h))).italics());
                    }
                }
                if let Some(err) = case.run.as_ref().and_then(|r| r.error.as_ref()) {
                    let line = err.line.map(|n| tf(lang, "line_n", &[("n", &n)])).unwrap_or_default();
                    ui.colored_label(ui.visuals().error_fg_color, format!("{line} {}", lang.pick(&err.explanation)));
                }
            }
            if let Some(lab) = self.lab() {
                let hidden = lab.cases.iter().filter(|c| c.hidden).count();
                if hidden > 0 {
                    ui.separator();
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(tf(lang, "hidden_cases", &[("n", &hidden)])).strong());
                        ui.label(t(lang, "hidden_local"));
                    });
                }
            }
        });
        if let Some(name) = watch {
            self.watch(&name);
        }
    }
}

/// The starter program of a lab in a language (empty when it has none).
pub fn starter(lab: &Lab, language: Language) -> String {
    lab.starter.get(language.as_str()).and_then(|p| std::fs::read_to_string(lab.dir.join(p)).ok()).unwrap_or_default()
}

/// A lab with its hidden cases removed: what "check my work" grades locally.
/// Hidden cases run on seeds only the server knows, so grading them here would
/// show a score the server would not give.
pub fn visible_only(mut lab: Lab) -> Lab {
    lab.cases.retain(|c| !c.hidden);
    lab
}

/// `practice-2` → "练习场地 2" / "Practice arena 2".
pub fn case_label(lang: Lang, name: &str) -> String {
    match name.strip_prefix("practice-").or_else(|| name.strip_prefix("practice")) {
        Some(n) => tf(lang, "practice_case", &[("n", &n.trim_start_matches('-'))]),
        None => name.to_string(),
    }
}

/// How a run ended, in the learner's words.
pub fn outcome_text(ui: &mut egui::Ui, lang: Lang, outcome: &Outcome) {
    match outcome {
        Outcome::Finished => {
            ui.label(t(lang, "outcome_finished"));
        }
        Outcome::TimeUp => {
            ui.label(t(lang, "outcome_time_up"));
        }
        Outcome::Cancelled => {
            ui.label(t(lang, "outcome_cancelled"));
        }
        Outcome::Limit { limit, .. } => {
            ui.colored_label(ui.visuals().error_fg_color, tf(lang, "outcome_limit", &[("limit", &t(lang, limit_key(limit.as_str())))]));
        }
        Outcome::Error(e) => {
            ui.colored_label(ui.visuals().error_fg_color, t(lang, "outcome_error"));
            let d = &e.diagnostic;
            let line = d.line.map(|n| tf(lang, "line_n", &[("n", &n)])).unwrap_or_default();
            ui.label(format!("{line} {}", lang.pick_msg(&d.explanation)));
            if let Some(s) = &d.suggestion {
                ui.label(format!("{} {}", t(lang, "try_this"), lang.pick_msg(s)));
            }
        }
    }
}

/// The dictionary key of a limit's name.
pub fn limit_key(limit: &str) -> &'static str {
    match limit {
        "program_size" => "limit_program_size",
        "memory" => "limit_memory",
        "table" => "limit_table",
        "instances" => "limit_instances",
        "stack" => "limit_stack",
        "call_depth" => "limit_call_depth",
        "variables" => "limit_variables",
        "expression_depth" => "limit_expression_depth",
        "string_size" => "limit_string_size",
        "array_size" => "limit_array_size",
        "map_size" => "limit_map_size",
        "output" => "limit_output",
        "cpu_time" => "limit_cpu_time",
        _ => "limit_wall_clock",
    }
}
