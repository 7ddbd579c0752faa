//! The studio's window: navigation, settings, and the screens (lessons, lab, playground, replays).

use std::path::{Path, PathBuf};

use egui::RichText;
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};
use qiming_curriculum::{Catalogue, Lesson};
use qiming_runtime::Language;
use qiming_sim::{Replay, ReplayError, Scenario, ScenarioError};

use crate::arena::{self, Camera};
use crate::bench::Workbench;
use crate::files::{self, LoadedProgram};
use crate::i18n::{Lang, t, tf};
use crate::run::{Player, SPEEDS, Speed};

/// The screens of the navigation bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Screen {
    Lessons,
    Lab,
    /// Datasets, training, the step-by-step views and the deployed model (`ai/`).
    Ai,
    Playground,
    Replay,
    World,
    Connected,
}

impl Screen {
    pub fn from_name(name: &str) -> Option<Screen> {
        match name {
            "lessons" => Some(Screen::Lessons),
            "lab" | "editor" | "check" => Some(Screen::Lab),
            "ai" => Some(Screen::Ai),
            "playground" => Some(Screen::Playground),
            "replay" => Some(Screen::Replay),
            "world" => Some(Screen::World),
            "connected" | "assignments" => Some(Screen::Connected),
            _ => None,
        }
    }
}

/// What the studio remembers between sessions (`settings.json` in the data folder).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lang: Lang,
    pub font_size: f32,
    pub ui_scale: f32,
    pub high_contrast: bool,
    pub last_lesson: Option<String>,
    pub last_lab: Option<String>,
    pub teacher: bool,
    /// The text size of test questions (A− / A+ in a sitting).
    pub test_font_size: f32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lang: Lang::Zh,
            font_size: 15.0,
            ui_scale: 1.0,
            high_contrast: false,
            last_lesson: None,
            last_lab: None,
            teacher: false,
            test_font_size: 18.0,
        }
    }
}

impl Settings {
    fn path(data: &Path) -> PathBuf {
        data.join("settings.json")
    }
    /// The saved settings; defaults when there are none or they cannot be read
    /// (a damaged settings file must never stop the studio from opening).
    pub fn load(data: &Path) -> Settings {
        std::fs::read(Settings::path(data)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }
    fn save(&self, data: &Path) {
        if let Ok(bytes) = serde_json::to_vec_pretty(self) {
            // Best effort: losing a preference is not worth interrupting a lesson.
            let _ = files::write_atomically(&Settings::path(data), &bytes);
        }
    }
}

/// How the studio is opened (the command line, or a test).
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub lab: Option<String>,
    pub program: Option<PathBuf>,
    pub lang: Option<Lang>,
    pub curriculum: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub replay: Option<PathBuf>,
    pub scenario: Option<PathBuf>,
    pub screen: Option<Screen>,
    /// A scenario file to open in the world editor.
    pub world: Option<PathBuf>,
    /// A Qiming server for connected mode.
    pub server: Option<String>,
    /// A dataset folder to open on the AI screen.
    pub dataset: Option<PathBuf>,
    /// An assessment to open (start or resume) in connected mode once signed in.
    pub assessment: Option<i64>,
}

/// What a path prompt is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PathPurpose {
    OpenProgram,
    SaveProgram,
    OpenReplay,
    OpenScenario,
    OpenWorld,
    SaveWorld,
}

struct PathPrompt {
    purpose: PathPurpose,
    path: String,
}

/// Replays opened from files.
#[derive(Default)]
pub struct ReplayScreen {
    pub player: Option<Player>,
    pub name: String,
    camera: Camera,
    speed: Option<Speed>,
}

pub struct Studio {
    pub settings: Settings,
    pub data_dir: PathBuf,
    pub curriculum_dir: PathBuf,
    pub catalogue: Result<Catalogue, Vec<String>>,
    pub screen: Screen,
    pub selected_lesson: Option<String>,
    markdown: CommonMarkCache,
    pub bench: Option<Workbench>,
    pub playground: Option<Workbench>,
    pub replay: ReplayScreen,
    pub world: crate::world::WorldEditor,
    pub connected: crate::connect::Connected,
    /// Assessments in connected mode (`assess/`).
    pub assess: crate::assess::Assess,
    pub ai: crate::ai::AiScreen,
    prompt: Option<PathPrompt>,
    /// A message about the last file operation (errors in the user's language).
    pub notice: Option<String>,
    applied_style: Option<(f32, bool)>,
}

impl Studio {
    pub fn new(ctx: &egui::Context, options: Options) -> Studio {
        crate::fonts::install(ctx);
        let data_dir = options.data_dir.clone().unwrap_or_else(files::data_dir);
        let mut settings = Settings::load(&data_dir);
        if let Some(lang) = options.lang {
            settings.lang = lang;
        }
        let curriculum_dir = options.curriculum.clone().unwrap_or_else(qiming_curriculum::find_dir);
        let catalogue = Catalogue::open(&curriculum_dir).map_err(|e| e.errors.iter().map(|e| e.to_string()).collect());
        let mut studio = Studio {
            settings,
            data_dir: data_dir.clone(),
            curriculum_dir,
            catalogue,
            screen: Screen::Lessons,
            selected_lesson: None,
            markdown: CommonMarkCache::default(),
            bench: None,
            playground: None,
            replay: ReplayScreen::default(),
            world: crate::world::WorldEditor::new(),
            connected: crate::connect::Connected::new(&data_dir, options.server.clone()),
            assess: crate::assess::Assess::new(&data_dir),
            ai: crate::ai::AiScreen::new(&data_dir),
            prompt: None,
            notice: None,
            applied_style: None,
        };
        studio.selected_lesson = studio.settings.last_lesson.clone();
        let lab = options.lab.clone().or_else(|| if options.program.is_some() { studio.settings.last_lab.clone() } else { None });
        if let Some(id) = lab {
            studio.open_lab(&id);
        } else if let Some(id) = studio.settings.last_lab.clone()
            && studio.catalogue.as_ref().is_ok_and(|c| c.lab(&id).is_some())
        {
            // Reopen where the student left off, but start on the lesson list.
            studio.open_lab(&id);
            studio.screen = Screen::Lessons;
        }
        if let Some(path) = &options.program {
            studio.load_program_file(ctx, path);
        }
        if let Some(path) = &options.scenario {
            studio.open_scenario(path);
        }
        if let Some(path) = &options.replay {
            studio.open_replay(path);
        }
        if let Some(path) = &options.world {
            studio.open_world(path);
        }
        if let Some(path) = &options.dataset {
            let lang = studio.lang();
            studio.ai.open(path, lang);
            studio.screen = Screen::Ai;
        }
        studio.assess.font_size = studio.settings.test_font_size.clamp(*crate::assess::FONT_SIZES.start(), *crate::assess::FONT_SIZES.end());
        if let Some(id) = options.assessment {
            studio.assess.want = Some(id);
            studio.screen = Screen::Connected;
        }
        if let Some(screen) = options.screen {
            studio.screen = screen;
        }
        studio
    }

    pub fn lang(&self) -> Lang {
        self.settings.lang
    }

    pub fn set_lang(&mut self, lang: Lang) {
        self.settings.lang = lang;
        self.settings.save(&self.data_dir);
    }

    /// Opens a lab by id beside its lesson.
    pub fn open_lab(&mut self, id: &str) -> bool {
        let lang = self.lang();
        let lab = match &self.catalogue {
            Ok(c) => c.lab(id).cloned(),
            Err(_) => None,
        };
        let Some(lab) = lab else {
            self.notice = Some(tf(lang, "unknown_lab", &[("id", &id)]));
            return false;
        };
        if let Some(lesson) = &lab.lesson {
            self.selected_lesson = Some(lesson.clone());
        }
        let mut bench = Workbench::for_lab(lab, &self.data_dir);
        bench.teacher = self.settings.teacher;
        self.bench = Some(bench);
        self.screen = Screen::Lab;
        self.settings.last_lab = Some(id.to_string());
        self.settings.last_lesson = self.selected_lesson.clone();
        self.settings.save(&self.data_dir);
        true
    }

    /// The bench of the current screen (lab or playground).
    pub fn current_bench(&mut self) -> Option<&mut Workbench> {
        match self.screen {
            Screen::Lab => self.bench.as_mut(),
            Screen::Playground => self.playground.as_mut(),
            _ => None,
        }
    }

    /// Loads a program file into the current bench's editor.
    pub fn load_program_file(&mut self, ctx: &egui::Context, path: &Path) {
        let lang = self.lang();
        let screen = self.screen;
        let bench = match screen {
            Screen::Playground => self.playground.as_mut(),
            _ => self.bench.as_mut(),
        };
        let Some(bench) = bench else {
            self.notice = Some(t(lang, "no_lab_open").to_string());
            return;
        };
        match files::load_program(path, lang) {
            Ok(LoadedProgram::Text { text, language }) => {
                bench.editor.set_text(ctx, text, language);
                self.notice = None;
            }
            Ok(LoadedProgram::Binary(bytes)) => {
                bench.editor.set_binary(bytes);
                self.notice = None;
            }
            Err(message) => self.notice = Some(message),
        }
    }

    /// Opens a replay file for playback, or says (in the user's language) why it cannot.
    pub fn open_replay(&mut self, path: &Path) {
        let lang = self.lang();
        self.screen = Screen::Replay;
        let shown = path.display();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(_) => {
                self.notice = Some(tf(lang, "file_unreadable", &[("path", &shown)]));
                return;
            }
        };
        let replay = match Replay::from_bytes(&bytes) {
            Ok(r) => r,
            Err(ReplayError::BadMagic) => {
                self.notice = Some(tf(lang, "replay_bad_magic", &[("path", &shown)]));
                return;
            }
            Err(ReplayError::Version(v)) => {
                self.notice = Some(tf(lang, "replay_version", &[("path", &shown), ("version", &v)]));
                return;
            }
            Err(_) => {
                self.notice = Some(tf(lang, "replay_corrupt", &[("path", &shown)]));
                return;
            }
        };
        // The replay carries its arena's source: rebuild the world from it.
        let scenario = match Scenario::parse(&replay.header.scenario_source, &replay.header.scenario_name) {
            Ok(s) => s,
            Err(_) => {
                self.notice = Some(tf(lang, "replay_corrupt", &[("path", &shown)]));
                return;
            }
        };
        let world = scenario.resolve(replay.header.seed);
        self.replay.name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.replay.player = Some(Player::new(world, replay, None));
        self.notice = None;
    }

    /// Opens a scenario file in the playground.
    pub fn open_scenario(&mut self, path: &Path) {
        let lang = self.lang();
        self.screen = Screen::Playground;
        match Scenario::load(path) {
            Ok(s) => {
                self.playground = Some(Workbench::for_scenario(s, path.display().to_string(), &self.data_dir));
                self.notice = None;
            }
            Err(e) => self.notice = Some(scenario_error(lang, path, &e)),
        }
    }

    fn apply_style(&mut self, ctx: &egui::Context) {
        let wanted = (self.settings.ui_scale, self.settings.high_contrast);
        if self.applied_style == Some(wanted) {
            return;
        }
        self.applied_style = Some(wanted);
        ctx.set_zoom_factor(self.settings.ui_scale.clamp(0.75, 2.5));
        let mut visuals = if self.settings.high_contrast { egui::Visuals::dark() } else { egui::Visuals::light() };
        if self.settings.high_contrast {
            visuals.override_text_color = Some(egui::Color32::WHITE);
            visuals.panel_fill = egui::Color32::BLACK;
            visuals.window_fill = egui::Color32::BLACK;
            visuals.extreme_bg_color = egui::Color32::BLACK;
            visuals.widgets.noninteractive.bg_stroke.color = egui::Color32::WHITE;
            visuals.selection.bg_fill = egui::Color32::from_rgb(0x00, 0x5F, 0xCC);
        }
        ctx.set_visuals(visuals);
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let pressed = |key| ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, key));
        let lang = self.lang();
        let (run, step, stop) = (pressed(egui::Key::F5), pressed(egui::Key::F6), pressed(egui::Key::Escape));
        let save = ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::S));
        let find = ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::F));
        if let Some(bench) = self.current_bench() {
            if run {
                bench.run();
            }
            if step {
                bench.step();
            }
            if stop {
                bench.stop();
            }
            if save {
                bench.editor.autosave(lang, true);
            }
            if find {
                bench.editor.open_find();
            }
        }
    }

    /// Draws the whole window (called by eframe each frame, and by the UI tests).
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.apply_style(&ctx);
        self.shortcuts(&ctx);
        let lang = self.lang();
        for bench in [self.bench.as_mut(), self.playground.as_mut()].into_iter().flatten() {
            bench.tick(&ctx, lang);
        }
        self.connected.tick(&ctx);
        self.assess.tick(&ctx, self.connected.session.as_ref());
        if self.assess.font_size != self.settings.test_font_size {
            self.settings.test_font_size = self.assess.font_size;
            self.settings.save(&self.data_dir);
        }
        self.ai.tick(&ctx, lang);
        if let Some(p) = &mut self.replay.player
            && p.playing
        {
            p.advance(f64::from(ctx.input(|i| i.stable_dt)).min(0.1), self.replay.speed.unwrap_or(Speed::Times(1)));
            ctx.request_repaint();
        }
        egui::Panel::top("nav").show(ui, |ui| self.nav(ui));
        if let Some(notice) = self.notice.clone() {
            egui::Panel::top("notice").show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.colored_label(ui.visuals().error_fg_color, notice);
                    if ui.button(t(lang, "ok")).clicked() {
                        self.notice = None;
                    }
                });
            });
        }
        match self.screen {
            Screen::Lessons => self.lessons_screen(ui),
            Screen::Lab => self.lab_screen(ui),
            Screen::Ai => self.ai.show(ui, lang, self.bench.as_mut()),
            Screen::Playground => self.playground_screen(ui),
            Screen::Replay => self.replay_screen(ui),
            Screen::Connected => self.connected_screen(ui),
            Screen::World => {
                if let Some(save) = self.world.show(ui, lang) {
                    let purpose = if save { PathPurpose::SaveWorld } else { PathPurpose::OpenWorld };
                    let path = self.world.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
                    self.prompt = Some(PathPrompt { purpose, path });
                }
            }
        }
        self.path_prompt(&ctx);
        self.follow_lesson_links(&ctx);
    }

    /// A click on a link between lessons (`primer-2.md#let`) opens that lesson
    /// here; links outside the curriculum are left to the system (never a browser for a lesson).
    fn follow_lesson_links(&mut self, ctx: &egui::Context) {
        let mut target = None;
        ctx.output_mut(|o| {
            o.commands.retain(|c| match c {
                egui::OutputCommand::OpenUrl(open) => match lesson_link(&open.url) {
                    Some(id) => {
                        target = Some(id);
                        false
                    }
                    None => true,
                },
                _ => true,
            })
        });
        if let Some(id) = target
            && self.catalogue.as_ref().is_ok_and(|c| c.lessons.iter().any(|l| l.id == id))
        {
            self.selected_lesson = Some(id);
            self.screen = Screen::Lessons;
            self.settings.last_lesson = self.selected_lesson.clone();
            self.settings.save(&self.data_dir);
        }
    }

    fn nav(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(t(lang, "app_title")).heading().strong());
            ui.separator();
            for (screen, key) in [
                (Screen::Lessons, "nav_lessons"),
                (Screen::Lab, "nav_lab"),
                (Screen::Ai, "nav_ai"),
                (Screen::Playground, "nav_playground"),
                (Screen::Replay, "nav_replay"),
                (Screen::World, "nav_world_editor"),
                (Screen::Connected, "nav_connected"),
            ] {
                ui.selectable_value(&mut self.screen, screen, t(lang, key));
            }
            ui.separator();
            let label = ui.label(t(lang, "language"));
            let mut chosen = lang;
            egui::ComboBox::from_id_salt("lang")
                .selected_text(lang.native_name())
                .show_ui(ui, |ui| {
                    for l in [Lang::Zh, Lang::En] {
                        ui.selectable_value(&mut chosen, l, l.native_name());
                    }
                })
                .response
                .labelled_by(label.id);
            if chosen != lang {
                self.set_lang(chosen);
            }
            ui.menu_button(t(lang, "settings"), |ui| {
                let before = self.settings.clone();
                ui.add(egui::Slider::new(&mut self.settings.font_size, 10.0..=32.0).text(t(lang, "font_size")));
                ui.add(egui::Slider::new(&mut self.settings.ui_scale, 0.75..=2.0).text(t(lang, "ui_scale")));
                ui.checkbox(&mut self.settings.high_contrast, t(lang, "high_contrast"));
                ui.checkbox(&mut self.settings.teacher, t(lang, "teacher_mode")).on_hover_text(t(lang, "teacher_mode_hint"));
                if self.settings != before {
                    if let Some(bench) = &mut self.bench {
                        bench.teacher = self.settings.teacher;
                    }
                    self.settings.save(&self.data_dir);
                }
            });
        });
    }

    fn lesson_tree(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang();
        let Ok(catalogue) = &self.catalogue else { return };
        let mut chosen = None;
        egui::ScrollArea::vertical().id_salt("tree").show(ui, |ui| {
            let primers: Vec<&Lesson> = catalogue.lessons.iter().filter(|l| l.kind == "primer").collect();
            if !primers.is_empty() {
                egui::CollapsingHeader::new(t(lang, "primer")).default_open(true).show(ui, |ui| {
                    for l in &primers {
                        if ui.selectable_label(self.selected_lesson.as_deref() == Some(&l.id), lang.pick(&l.title)).clicked() {
                            chosen = Some(l.id.clone());
                        }
                    }
                });
            }
            for band in qiming_curriculum::meta::GRADE_BANDS {
                let lessons: Vec<&Lesson> = catalogue.lessons.iter().filter(|l| l.kind != "primer" && l.grade_band == *band).collect();
                if lessons.is_empty() {
                    continue;
                }
                egui::CollapsingHeader::new(tf(lang, "band", &[("band", band)])).default_open(true).show(ui, |ui| {
                    let mut modules: Vec<&str> = lessons.iter().map(|l| l.module.as_str()).collect();
                    modules.dedup();
                    modules.sort_by_key(|m| qiming_curriculum::meta::MODULES.iter().position(|(id, ..)| id == m));
                    modules.dedup();
                    for module in modules {
                        let name = qiming_curriculum::meta::module_name(module)
                            .map_or(module.to_string(), |(zh, en)| if lang == Lang::Zh { zh } else { en }.to_string());
                        egui::CollapsingHeader::new(name).id_salt((band, module)).default_open(true).show(ui, |ui| {
                            for l in lessons.iter().filter(|l| l.module == module) {
                                if ui.selectable_label(self.selected_lesson.as_deref() == Some(&l.id), lang.pick(&l.title)).clicked() {
                                    chosen = Some(l.id.clone());
                                }
                            }
                        });
                    }
                });
            }
        });
        if let Some(id) = chosen {
            self.selected_lesson = Some(id);
            self.settings.last_lesson = self.selected_lesson.clone();
            self.settings.save(&self.data_dir);
        }
    }

    fn lessons_screen(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang();
        if let Err(errors) = &self.catalogue {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.colored_label(ui.visuals().error_fg_color, t(lang, "catalogue_error"));
                ui.label(tf(lang, "catalogue_where", &[("dir", &self.curriculum_dir.display())]));
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for e in errors {
                        ui.monospace(e);
                    }
                });
            });
            return;
        }
        egui::Panel::left("lesson-tree").resizable(true).default_size(280.0).show(ui, |ui| self.lesson_tree(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            let Some(id) = self.selected_lesson.clone() else {
                ui.label(t(lang, "pick_lesson"));
                return;
            };
            let Ok(catalogue) = &self.catalogue else { return };
            let Some(lesson) = catalogue.lessons.iter().find(|l| l.id == id).cloned() else {
                ui.label(t(lang, "pick_lesson"));
                return;
            };
            let lab_id = catalogue.labs.iter().find(|l| l.lesson.as_deref() == Some(&lesson.id) || l.id == lesson.id).map(|l| l.id.clone());
            ui.horizontal(|ui| {
                ui.heading(lang.pick(&lesson.title));
                ui.label(tf(lang, "minutes", &[("n", &lesson.minutes)]));
                if let Some(lab) = &lab_id
                    && ui.button(RichText::new(format!("▶ {}", t(lang, "open_lab"))).strong()).clicked()
                {
                    self.open_lab(lab);
                }
            });
            ui.separator();
            egui::ScrollArea::vertical().id_salt("lesson-body").show(ui, |ui| {
                CommonMarkViewer::new().show(ui, &mut self.markdown, &display_markdown(lang.pick(&lesson.body)));
            });
        });
    }

    fn lab_screen(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang();
        let font_size = self.settings.font_size;
        let high_contrast = self.settings.high_contrast;
        let Some(bench) = self.bench.as_mut() else {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.label(t(lang, "no_lab_open"));
            });
            return;
        };
        let lesson_body = bench
            .lab()
            .and_then(|lab| lab.lesson.as_ref())
            .and_then(|id| self.catalogue.as_ref().ok().and_then(|c| c.lessons.iter().find(|l| &l.id == id)))
            .map(|l| (lang.pick(&l.title).to_string(), display_markdown(lang.pick(&l.body))));
        let (title, instructions) = bench.lab().map(|l| (lang.pick(&l.title).to_string(), lang.pick(&l.instructions).to_string())).unwrap_or_default();
        let markdown = &mut self.markdown;
        egui::Panel::left("lab-lesson").resizable(true).default_size(330.0).show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("lab-lesson-scroll").show(ui, |ui| {
                ui.heading(&title);
                ui.label(RichText::new(t(lang, "task")).strong());
                CommonMarkViewer::new().show(ui, markdown, &instructions);
                if let Some((lesson_title, body)) = &lesson_body {
                    ui.separator();
                    egui::CollapsingHeader::new(format!("{}：{lesson_title}", t(lang, "lesson"))).default_open(true).show(ui, |ui| {
                        CommonMarkViewer::new().show(ui, markdown, body);
                    });
                }
            });
        });
        let mut prompt = None;
        let delivery = bench.assignment.as_ref().and_then(|a| self.connected.latest(a.id)).map(|o| crate::connect::delivery_text(lang, &o.delivery));
        let submit = Self::bench_panels(ui, bench, lang, font_size, high_contrast, &mut prompt, delivery);
        if let Some(p) = prompt {
            self.prompt = Some(p);
        }
        if submit {
            self.submit_current();
        }
    }

    /// Sends the lab's program as the open assignment's submission (through the outbox).
    pub fn submit_current(&mut self) {
        let lang = self.lang();
        let Some(bench) = self.bench.as_ref() else { return };
        let Some(assignment) = bench.assignment.clone() else { return };
        let (program, encoding) = match &bench.editor.wasm_binary {
            Some(bytes) => {
                use base64::Engine;
                (base64::engine::general_purpose::STANDARD.encode(bytes), Some("base64".to_string()))
            }
            None => (bench.editor.text.clone(), None),
        };
        let lab_id = bench.lab().map(|l| l.id.clone()).unwrap_or_default();
        let language = bench.editor.language.as_str().to_string();
        if self.connected.submit(assignment.id, &lab_id, &language, program, encoding).is_err() {
            self.notice = Some(tf(lang, "outbox_failed", &[("path", &self.data_dir.join("outbox.json").display())]));
        }
    }

    /// Opens a connected assignment's lab, with a Submit button.
    pub fn open_assignment(&mut self, assignment: &qiming_api::Assignment) {
        let lang = self.lang();
        if !self.catalogue.as_ref().is_ok_and(|c| c.lab(&assignment.lab_id).is_some()) {
            self.notice = Some(tf(lang, "lab_not_here", &[("id", &assignment.lab_id)]));
            return;
        }
        if self.open_lab(&assignment.lab_id)
            && let Some(bench) = &mut self.bench
        {
            bench.assignment = Some(crate::bench::AssignmentLink { id: assignment.id, title: assignment.title.clone() });
        }
    }

    fn connected_screen(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang();
        if self.assess.sitting.is_some()
            && let Some(session) = self.connected.session.clone()
        {
            crate::assess::ui::sitting(ui, lang, &mut self.assess, &session);
            return;
        }
        let mut open = None;
        let assess = &mut self.assess;
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label(t(lang, "connect_intro"));
            ui.separator();
            let c = &mut self.connected;
            match c.session.clone() {
                None => {
                    egui::Grid::new("login").num_columns(2).show(ui, |ui| {
                        let l = ui.label(t(lang, "server_url"));
                        ui.add(egui::TextEdit::singleline(&mut c.server).hint_text("http://192.168.1.10:8080").desired_width(320.0)).labelled_by(l.id);
                        ui.end_row();
                        let l = ui.label(t(lang, "username"));
                        ui.add(egui::TextEdit::singleline(&mut c.username).desired_width(320.0)).labelled_by(l.id);
                        ui.end_row();
                        let l = ui.label(t(lang, "password"));
                        let pw = ui.add(egui::TextEdit::singleline(&mut c.password).password(true).desired_width(320.0)).labelled_by(l.id);
                        ui.end_row();
                        let enter = pw.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                        ui.label("");
                        ui.horizontal(|ui| {
                            if (ui.add_enabled(!c.busy, egui::Button::new(t(lang, "login"))).clicked() || enter) && !c.busy {
                                c.login();
                            }
                            if c.busy {
                                ui.spinner();
                            }
                        });
                        ui.end_row();
                    });
                    ui.label(RichText::new(t(lang, "password_not_kept")).small());
                }
                Some(session) => {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(tf(lang, "signed_in_as", &[("user", &session.username), ("server", &session.server)]));
                        if ui.add_enabled(!c.busy, egui::Button::new(t(lang, "refresh"))).clicked() {
                            c.refresh();
                            assess.refresh(&session);
                        }
                        if ui.button(t(lang, "logout")).clicked() {
                            c.logout();
                        }
                        if c.busy {
                            ui.spinner();
                        }
                    });
                    ui.separator();
                    if c.assignments.is_empty() {
                        ui.label(t(lang, "no_assignments"));
                    }
                    egui::ScrollArea::vertical().id_salt("assignments").show(ui, |ui| {
                        egui::Grid::new("assignment-table").num_columns(7).striped(true).spacing([16.0, 8.0]).show(ui, |ui| {
                            for key in ["col_assignment", "col_class", "col_due", "col_status", "col_attempts", "col_score"] {
                                ui.label(RichText::new(t(lang, key)).strong());
                            }
                            ui.label("");
                            ui.end_row();
                            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
                            for a in &c.assignments {
                                ui.label(lang.pick(&a.title));
                                ui.label(&a.class_name);
                                ui.label(crate::connect::time_left(lang, a.due_at - now));
                                let progress = a.progress.as_ref();
                                let status = progress.map(|p| t(lang, status_key(p.status))).unwrap_or_default();
                                let delivery = c.latest(a.id).map(|o| crate::connect::delivery_text(lang, &o.delivery));
                                ui.label(delivery.unwrap_or_else(|| status.to_string()));
                                ui.label(progress.map(|p| format!("{} / {}", p.attempts_used, a.attempt_limit)).unwrap_or_default());
                                ui.label(progress.and_then(|p| p.score).map(|s| format!("{s}")).unwrap_or_else(|| "—".into()));
                                if ui.button(t(lang, "open_assignment")).clicked() {
                                    open = Some(a.clone());
                                }
                                ui.end_row();
                            }
                        });
                    });
                    ui.separator();
                    crate::assess::ui::list(ui, lang, assess, &session);
                    if assess.busy {
                        ui.spinner();
                    }
                }
            }
            if let Some(problem) = &c.problem {
                ui.colored_label(ui.visuals().error_fg_color, crate::connect::problem_text(lang, problem));
            } else if let Some(problem) = &assess.problem {
                ui.colored_label(ui.visuals().error_fg_color, crate::assess::ui::problem_text(lang, problem));
            }
        });
        if let Some(a) = open {
            self.open_assignment(&a);
        }
    }

    fn bench_panels(
        ui: &mut egui::Ui,
        bench: &mut Workbench,
        lang: Lang,
        font_size: f32,
        high_contrast: bool,
        prompt: &mut Option<PathPrompt>,
        delivery: Option<String>,
    ) -> bool {
        let mut submit = false;
        let ctx = ui.ctx().clone();
        let width = ui.available_width();
        egui::Panel::right("arena-panel").resizable(true).default_size((width * 0.5).max(320.0)).show(ui, |ui| {
            bench.controls(ui, lang);
            egui::Panel::bottom("bench-bottom").resizable(true).default_size(270.0).min_size(220.0).show(ui, |ui| bench.bottom(ui, lang));
            egui::CentralPanel::default().show(ui, |ui| bench.arena(ui, lang));
        });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                if ui.button(t(lang, "open_file")).clicked() {
                    *prompt = Some(PathPrompt { purpose: PathPurpose::OpenProgram, path: String::new() });
                }
                if ui.button(t(lang, "save_file")).on_hover_text("Ctrl+S").clicked() {
                    *prompt = Some(PathPrompt { purpose: PathPurpose::SaveProgram, path: String::new() });
                }
                if let Some(lab) = bench.lab().cloned() {
                    if ui.button(t(lang, "load_starter")).clicked() {
                        let language = bench.editor.language;
                        bench.editor.set_text(&ctx, crate::bench::starter(&lab, language), language);
                    }
                    if bench.teacher
                        && let Some(reference) = lab.reference.first()
                        && ui.button(t(lang, "load_reference")).clicked()
                    {
                        load_reference(&ctx, bench, reference);
                    }
                }
            });
            if let Some(a) = &bench.assignment {
                ui.horizontal_wrapped(|ui| {
                    ui.label(tf(lang, "submit_for", &[("title", &lang.pick(&a.title))]));
                    if ui.button(RichText::new(format!("↑ {}", t(lang, "submit"))).strong()).clicked() {
                        submit = true;
                    }
                    if let Some(d) = &delivery {
                        ui.label(d);
                    }
                });
            }
            bench.editor.show(ui, lang, font_size, high_contrast);
        });
        submit
    }

    fn playground_screen(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang();
        let (font_size, high_contrast) = (self.settings.font_size, self.settings.high_contrast);
        egui::Panel::top("playground-top").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label(t(lang, "playground_intro"));
                if ui.button(format!("{}…", t(lang, "playground_scenario"))).clicked() {
                    self.prompt = Some(PathPrompt { purpose: PathPurpose::OpenScenario, path: String::new() });
                }
                if let Some(crate::bench::World::Scenario { path, .. }) = self.playground.as_ref().map(|b| &b.world) {
                    ui.monospace(path);
                }
            });
        });
        let mut prompt = None;
        if let Some(bench) = self.playground.as_mut() {
            Self::bench_panels(ui, bench, lang, font_size, high_contrast, &mut prompt, None);
        }
        if let Some(p) = prompt {
            self.prompt = Some(p);
        }
    }

    fn replay_screen(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang();
        egui::Panel::top("replay-top").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                if ui.button(t(lang, "replay_open")).clicked() {
                    self.prompt = Some(PathPrompt { purpose: PathPurpose::OpenReplay, path: String::new() });
                }
                if let Some(p) = &mut self.replay.player {
                    ui.label(&self.replay.name);
                    let length = format!("{:.2}", p.last() as f64 / f64::from(p.replay.header.tick_hz.max(1)));
                    ui.label(tf(lang, "replay_info", &[("scenario", &p.replay.header.scenario_name), ("seed", &p.replay.header.seed), ("t", &length)]));
                    ui.separator();
                    let label = if p.playing { t(lang, "pause") } else { t(lang, "resume") };
                    if ui.button(label).clicked() {
                        p.playing = !p.playing;
                    }
                    if ui.button(t(lang, "step")).clicked() {
                        p.step();
                    }
                    if ui.button(t(lang, "reset")).clicked() {
                        p.reset();
                    }
                    let speed = self.replay.speed.get_or_insert(Speed::Times(1));
                    let label = ui.label(t(lang, "speed"));
                    egui::ComboBox::from_id_salt("replay-speed")
                        .selected_text(match speed {
                            Speed::Times(k) => format!("{k}×"),
                            Speed::Fastest => t(lang, "fastest").to_string(),
                        })
                        .show_ui(ui, |ui| {
                            for &k in SPEEDS {
                                ui.selectable_value(speed, Speed::Times(k), format!("{k}×"));
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    let mut pos = p.frame_index() as f64;
                    // The time names the slider for screen readers (and kittest's accessibility check).
                    let time = ui.label(tf(lang, "time_label", &[("t", &format!("{:.2}", p.time()))]));
                    if ui.add(egui::Slider::new(&mut pos, 0.0..=(p.last() as f64).max(1.0)).show_value(false)).labelled_by(time.id).changed() {
                        p.position = pos;
                        p.playing = false;
                    }
                }
            });
        });
        egui::CentralPanel::default().show(ui, |ui| match &self.replay.player {
            Some(p) => {
                arena::show(ui, &mut self.replay.camera, &p.world, Some((&p.replay, p.frame_index())), t(lang, "zoom_hint"));
            }
            None => {
                ui.label(t(lang, "replay_none"));
            }
        });
    }

    fn path_prompt(&mut self, ctx: &egui::Context) {
        let lang = self.lang();
        let Some(prompt) = &mut self.prompt else { return };
        let title = match prompt.purpose {
            PathPurpose::OpenProgram => t(lang, "open_file"),
            PathPurpose::SaveProgram => t(lang, "save_file"),
            PathPurpose::OpenReplay => t(lang, "replay_open"),
            PathPurpose::OpenScenario => t(lang, "playground_scenario"),
            PathPurpose::OpenWorld => t(lang, "open_file"),
            PathPurpose::SaveWorld => t(lang, "save_file"),
        };
        let mut done = None;
        egui::Window::new(title).collapsible(false).resizable(false).anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO).show(ctx, |ui| {
            let label = ui.label(t(lang, "file_path"));
            let edit = ui.add(egui::TextEdit::singleline(&mut prompt.path).desired_width(420.0)).labelled_by(label.id);
            edit.request_focus();
            ui.horizontal(|ui| {
                if ui.button(t(lang, "ok")).clicked() || (edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))) {
                    done = Some(true);
                }
                if ui.button(t(lang, "cancel")).clicked() {
                    done = Some(false);
                }
            });
        });
        match done {
            Some(true) => {
                let prompt = self.prompt.take().expect("prompt is open");
                let path = PathBuf::from(prompt.path.trim());
                match prompt.purpose {
                    PathPurpose::OpenProgram => self.load_program_file(ctx, &path),
                    PathPurpose::SaveProgram => self.save_program_as(&path),
                    PathPurpose::OpenReplay => self.open_replay(&path),
                    PathPurpose::OpenScenario => self.open_scenario(&path),
                    PathPurpose::OpenWorld => self.open_world(&path),
                    PathPurpose::SaveWorld => self.save_world(&path),
                }
            }
            Some(false) => self.prompt = None,
            None => {}
        }
    }

    /// Opens a scenario file in the world editor.
    pub fn open_world(&mut self, path: &Path) {
        self.screen = Screen::World;
        match crate::world::WorldEditor::open(path, self.lang()) {
            Ok(editor) => {
                self.world = editor;
                self.notice = None;
            }
            Err(message) => self.notice = Some(message),
        }
    }

    /// Saves the world editor's scenario; refused (with the engine's reason) when invalid.
    pub fn save_world(&mut self, path: &Path) {
        self.notice = self.world.save(path, self.lang()).err();
    }

    /// Saves the current bench's program to a file the student names.
    pub fn save_program_as(&mut self, path: &Path) {
        let lang = self.lang();
        let Some(bench) = self.current_bench() else { return };
        let bytes = match &bench.editor.wasm_binary {
            Some(b) => b.clone(),
            None => bench.editor.text.clone().into_bytes(),
        };
        self.notice = files::write_atomically(path, &bytes).err().map(|_| tf(lang, "save_failed", &[("path", &path.display())]));
    }
}

fn load_reference(ctx: &egui::Context, bench: &mut Workbench, reference: &qiming_curriculum::ProgramFile) {
    if reference.path.extension().is_some_and(|e| e == "wasm") {
        bench.editor.set_binary(reference.source.clone());
    } else {
        let language = Language::from_name(&reference.language).unwrap_or(Language::Rhai);
        bench.editor.set_text(ctx, String::from_utf8_lossy(&reference.source).into_owned(), language);
    }
}

/// Loads a lab's reference solution into a bench (teacher mode, tests).
pub fn load_reference_solution(ctx: &egui::Context, bench: &mut Workbench) -> bool {
    let Some(reference) = bench.lab().and_then(|l| l.reference.first().cloned()) else { return false };
    load_reference(ctx, bench, &reference);
    true
}

/// The lesson id a lesson link points at: `primer-2.md#let` → `primer-2`.
pub fn lesson_link(url: &str) -> Option<String> {
    let path = url.split('#').next()?;
    let stem = path.strip_suffix(".md")?;
    (!stem.contains(['/', '\\', ':'])).then(|| stem.to_string())
}

/// The dictionary key of an assignment status the server sends.
fn status_key(status: qiming_api::AssignmentStatus) -> &'static str {
    use qiming_api::AssignmentStatus as S;
    match status {
        S::NotOpen => "status_not_open",
        S::Open => "status_open",
        S::Submitted => "status_submitted",
        S::AttemptsUsedUp => "status_attempts_used_up",
        S::Closed => "status_closed",
    }
}

/// A lesson body as the Markdown viewer should show it: heading anchors
/// (`{#let}`) are for links, not for reading.
pub fn display_markdown(body: &str) -> String {
    body.lines()
        .map(|line| {
            if line.trim_start().starts_with('#')
                && let Some(at) = line.rfind(" {#")
                && line.trim_end().ends_with('}')
            {
                return line[..at].to_string();
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A scenario file's error in the user's language, with its line and column.
pub fn scenario_error(lang: Lang, path: &Path, e: &ScenarioError) -> String {
    match e {
        ScenarioError::Invalid { line, column, message, .. } => {
            tf(lang, "scenario_invalid", &[("path", &path.display()), ("line", line), ("column", column), ("detail", message)])
        }
        _ => tf(lang, "file_unreadable", &[("path", &path.display())]),
    }
}
