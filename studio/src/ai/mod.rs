//! The AI screen (AI 实验): a dataset folder viewed and edited (relabel, delete, seeded train/test split, record from a run of the lab's program), training with live curves on a background thread, the perceptron's and k-means' steps drawn live, the Q-table of `ai-qlearning`, and the model the lab's runs deploy for `classify`.

pub mod data;
pub mod qtable;
pub mod steps;
pub mod training;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{RichText, vec2};
use egui_plot::{Legend, Line, Plot, PlotPoints};
use qiming_ai::dataset::{DatasetError, Split};
use qiming_ai::model::Input;
use qiming_ai::{Dataset, InputChoice, Model, ModelKind, TrainError, TrainOptions};
use qiming_runtime::{Outcome, Program};

use crate::bench::Workbench;
use crate::i18n::{Lang, t, tf};
use data::{RecordFailure, RecordJob, RecordRequest};
use steps::{Algorithm, Session};
use training::{TrainFailure, TrainJob};

/// A model deployed with the lab's runs: `classify` asks it, and "check my work" grades with it.
#[derive(Clone, Debug)]
pub struct Deployed {
    pub model: Arc<Model>,
    /// Its file name, for the student.
    pub name: String,
}

/// The AI screen's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AiTab {
    Train,
    Steps,
    QTable,
}

impl AiTab {
    pub fn from_name(name: &str) -> Option<AiTab> {
        match name {
            "train" => Some(AiTab::Train),
            "steps" => Some(AiTab::Steps),
            "qtable" => Some(AiTab::QTable),
            _ => None,
        }
    }
}

/// A message under the dataset or the training controls: text, and whether it is a problem.
type Note = Option<(String, bool)>;

pub struct AiScreen {
    data_dir: PathBuf,
    pub tab: AiTab,
    /// The tab was chosen on the command line: a lab's default does not replace it.
    pub tab_chosen: bool,
    /// The lab whose defaults were applied last.
    lab_id: Option<String>,
    pub dataset_path: String,
    pub dataset: Option<Dataset>,
    pub dataset_note: Note,
    thumbs: BTreeMap<String, egui::TextureHandle>,
    pub selected: Option<String>,
    relabel_to: String,
    pub split_seed: u64,
    pub test_fraction: f64,
    /// 0: the program in the editor; i > 0: the lab's i-th `record*.rhai`.
    record_program: usize,
    record_scenario: usize,
    pub record_seed: u64,
    pub record_job: Option<RecordJob>,
    pub kind: ModelKind,
    pub input: Option<InputChoice>,
    pub train_seed: u64,
    pub epochs: u32,
    pub model_path: String,
    model_path_edited: bool,
    pub train: Option<TrainJob>,
    /// The finished training's result has been said (in `train_note`).
    train_announced: bool,
    pub train_note: Note,
    open_model_path: String,
    pub algorithm: Algorithm,
    pub axes: [usize; 2],
    pub step_seed: u64,
    pub k: usize,
    pub session: Option<Session>,
}

impl AiScreen {
    pub fn new(data_dir: &Path) -> AiScreen {
        AiScreen {
            data_dir: data_dir.to_path_buf(),
            tab: AiTab::Train,
            tab_chosen: false,
            lab_id: None,
            dataset_path: String::new(),
            dataset: None,
            dataset_note: None,
            thumbs: BTreeMap::new(),
            selected: None,
            relabel_to: String::new(),
            split_seed: 1,
            test_fraction: 0.25,
            record_program: 1,
            record_scenario: 0,
            record_seed: 1,
            record_job: None,
            kind: ModelKind::Perceptron,
            input: None,
            train_seed: 1,
            epochs: ModelKind::Perceptron.default_epochs(),
            model_path: String::new(),
            model_path_edited: false,
            train: None,
            train_announced: false,
            train_note: None,
            open_model_path: String::new(),
            algorithm: Algorithm::Perceptron,
            axes: [0, 1],
            step_seed: 1,
            k: 2,
            session: None,
        }
    }

    /// Opens (or re-reads) the dataset folder in `dataset_path`.
    pub fn open(&mut self, path: &Path, lang: Lang) {
        self.dataset_path = path.display().to_string();
        self.thumbs.clear();
        self.session = None;
        match Dataset::open(path) {
            Ok(ds) => {
                if self.selected.as_ref().is_some_and(|id| !ds.samples().iter().any(|s| &s.id == id)) {
                    self.selected = None;
                }
                if !ds.labels().is_empty() {
                    self.k = ds.labels().len();
                }
                self.dataset = Some(ds);
                self.dataset_note = None;
                self.default_model_path();
            }
            Err(e) => {
                self.dataset = None;
                self.selected = None;
                self.dataset_note = Some((dataset_error(lang, path, &e), true));
            }
        }
    }

    /// The lab's defaults the first time its AI screen is shown: a dataset
    /// folder of its own in the data folder, the kind it accepts, the view it teaches with.
    fn lab_defaults(&mut self, bench: Option<&Workbench>, lang: Lang) {
        let Some(lab) = bench.and_then(Workbench::lab) else { return };
        if self.lab_id.as_deref() == Some(lab.id.as_str()) {
            return;
        }
        self.lab_id = Some(lab.id.clone());
        let (tab, algorithm) = match lab.id.as_str() {
            "ai-qlearning" => (AiTab::QTable, Algorithm::Perceptron),
            "ai-kmeans" => (AiTab::Steps, Algorithm::KMeans),
            "ai-perceptron" => (AiTab::Steps, Algorithm::Perceptron),
            _ => (AiTab::Train, Algorithm::Perceptron),
        };
        if !self.tab_chosen {
            self.tab = tab;
        }
        self.algorithm = algorithm;
        if let Some(kind) = lab.model.as_ref().and_then(|m| m.kinds.first()).and_then(|k| ModelKind::parse(k)) {
            self.kind = kind;
            self.epochs = kind.default_epochs();
        }
        self.record_program = 1;
        self.record_scenario = 0;
        if self.dataset.is_none() {
            let dir = self.data_dir.join("datasets").join(&lab.id);
            self.dataset_path = dir.display().to_string();
            if dir.join(qiming_ai::dataset::MANIFEST).is_file() {
                self.open(&dir, lang);
            }
        }
        self.model_path_edited = false;
        self.default_model_path();
    }

    /// `models/<dataset folder>-<kind>.qmodel` in the data folder, unless the student typed a path.
    fn default_model_path(&mut self) {
        if self.model_path_edited {
            return;
        }
        let name = Path::new(self.dataset_path.trim()).file_name().map_or_else(|| "model".to_string(), |n| n.to_string_lossy().into_owned());
        self.model_path = self.data_dir.join("models").join(format!("{name}-{}.qmodel", self.kind)).display().to_string();
    }

    /// Per-frame housekeeping, on every screen: finished recordings and training.
    pub fn tick(&mut self, ctx: &egui::Context, lang: Lang) {
        if let Some(job) = &self.record_job {
            match job.poll() {
                Some(result) => {
                    let out = job.out.clone();
                    self.record_job = None;
                    self.finish_recording(result, &out, lang);
                }
                None => ctx.request_repaint_after(std::time::Duration::from_millis(50)),
            }
        }
        if let Some(job) = &mut self.train {
            job.poll();
            if job.running() {
                ctx.request_repaint_after(std::time::Duration::from_millis(50));
            } else if !self.train_announced {
                self.train_announced = true;
                self.train_note = Some(train_result_text(lang, job));
            }
        }
    }

    fn finish_recording(&mut self, result: Result<data::Recording, RecordFailure>, out: &Path, lang: Lang) {
        match result {
            Ok(r) => {
                self.open(out, lang);
                let by_label: Vec<String> = r.by_label.iter().map(|(l, n)| format!("{l} ×{n}")).collect();
                let mut text = tf(lang, "ai_recorded", &[("n", &r.by_label.values().sum::<usize>()), ("labels", &by_label.join(", "))]);
                if let Outcome::Error(e) = &r.outcome {
                    text.push(' ');
                    text.push_str(&tf(lang, "ai_record_stopped", &[("detail", &lang.pick_msg(&e.diagnostic.explanation))]));
                }
                self.dataset_note = Some((text, false));
            }
            Err(RecordFailure::Scenario(path, e)) => self.dataset_note = Some((crate::app::scenario_error(lang, &path, &e), true)),
            Err(RecordFailure::Nothing(outcome)) => {
                let mut text = t(lang, "ai_record_nothing").to_string();
                if let Outcome::Error(e) = &outcome {
                    text.push(' ');
                    text.push_str(&tf(lang, "ai_record_stopped", &[("detail", &lang.pick_msg(&e.diagnostic.explanation))]));
                }
                self.dataset_note = Some((text, true));
            }
            Err(RecordFailure::Dataset(e)) => self.dataset_note = Some((dataset_error(lang, out, &e), true)),
            Err(RecordFailure::Thread) => self.dataset_note = Some((t(lang, "ai_thread_failed").to_string(), true)),
        }
    }

    /// Starts training the chosen kind on the open dataset (refusing, in the
    /// student's words, what the trainer would refuse).
    pub fn start_training(&mut self, lang: Lang) {
        let Some(ds) = &self.dataset else { return };
        if let Some(problem) = unsuitable(lang, ds, self.kind, self.input) {
            self.train_note = Some((problem, true));
            return;
        }
        let options = TrainOptions { kind: self.kind, seed: self.train_seed, epochs: Some(self.epochs.max(1)), input: self.input };
        let out = PathBuf::from(self.model_path.trim());
        self.train = Some(TrainJob::start(ds.clone(), options, out, Arc::default()));
        self.train_note = None;
        self.train_announced = false;
    }

    /// Deploys a model with the lab's runs, unless it does not fit the lab.
    fn deploy(&mut self, bench: &mut Workbench, model: Arc<Model>, name: String, lang: Lang) {
        if let Some(misfit) = bench.lab().and_then(|lab| qiming_grading::grade::model_misfit(lab, &model)) {
            let reason = if lang == Lang::Zh { misfit.zh_cn() } else { misfit.en() };
            self.train_note = Some((tf(lang, "ai_model_misfit", &[("reason", &reason)]), true));
            return;
        }
        bench.model = Some(Deployed { model, name: name.clone() });
        self.train_note = Some((tf(lang, "ai_deployed", &[("name", &name)]), false));
    }

    fn open_model(&mut self, bench: &mut Workbench, lang: Lang) {
        let path = PathBuf::from(self.open_model_path.trim());
        match Model::read(&path) {
            Ok(m) => {
                let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
                self.deploy(bench, Arc::new(m), name, lang);
            }
            Err(e) => self.train_note = Some((tf(lang, "ai_model_unreadable", &[("path", &path.display()), ("detail", &e)]), true)),
        }
    }

    /// Prepares the screen for `--screenshot`: trains and waits, steps, or runs the lab's program.
    pub fn prepare_screenshot(&mut self, bench: Option<&mut Workbench>, lang: Lang, train: Option<ModelKind>, steps: u32) {
        self.lab_defaults(bench.as_deref(), lang);
        if let Some(kind) = train {
            self.kind = kind;
            self.epochs = kind.default_epochs();
            self.model_path_edited = false;
            self.default_model_path();
            self.start_training(lang);
            if let Some(job) = &mut self.train {
                job.wait();
                self.train_note = Some(train_result_text(lang, job));
                self.train_announced = true;
            }
        }
        if steps > 0 {
            self.ensure_session();
            if let Some(s) = &mut self.session {
                for _ in 0..steps {
                    s.step();
                }
            }
        }
        if self.tab == AiTab::QTable
            && let Some(b) = bench
        {
            b.run();
            b.wait_for_run();
            if let Some(p) = &mut b.player {
                p.position = p.last() as f64;
                p.playing = false;
            }
        }
    }

    /// The step session for the current dataset and settings, rebuilt when they changed.
    fn ensure_session(&mut self) {
        let Some(ds) = &self.dataset else {
            self.session = None;
            return;
        };
        let stale =
            self.session.as_ref().is_none_or(|s| s.algorithm != self.algorithm || s.axes != self.axes || s.seed != self.step_seed || s.k != self.k.max(1));
        if stale {
            self.session = Session::new(ds, self.algorithm, self.axes, self.step_seed, self.k);
        }
    }

    /// Draws the screen. `bench` is the open lab: its program records, its runs deploy the model.
    pub fn show(&mut self, ui: &mut egui::Ui, lang: Lang, mut bench: Option<&mut Workbench>) {
        self.lab_defaults(bench.as_deref(), lang);
        let width = ui.available_width();
        egui::Panel::left("ai-dataset").resizable(true).default_size((width * 0.36).clamp(340.0, 520.0)).show(ui, |ui| {
            // Only the sample list scrolls (by rows, so a big dataset draws only what is visible).
            self.dataset_panel(ui, lang, bench.as_deref());
        });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.tab, AiTab::Train, t(lang, "ai_tab_train"));
                ui.selectable_value(&mut self.tab, AiTab::Steps, t(lang, "ai_tab_steps"));
                ui.selectable_value(&mut self.tab, AiTab::QTable, t(lang, "ai_tab_qtable"));
            });
            ui.separator();
            match self.tab {
                AiTab::Train => self.train_tab(ui, lang, bench.as_deref_mut()),
                AiTab::Steps => self.steps_tab(ui, lang),
                AiTab::QTable => qtable_tab(ui, lang, bench),
            }
        });
    }

    fn dataset_panel(&mut self, ui: &mut egui::Ui, lang: Lang, bench: Option<&Workbench>) {
        let ctx = ui.ctx().clone();
        ui.heading(t(lang, "ai_dataset"));
        ui.horizontal(|ui| {
            let label = ui.label(t(lang, "ai_dataset_folder"));
            ui.add(egui::TextEdit::singleline(&mut self.dataset_path).desired_width(ui.available_width() - 90.0)).labelled_by(label.id);
            if ui.button(t(lang, "ai_open")).clicked() {
                let path = PathBuf::from(self.dataset_path.trim());
                self.open(&path, lang);
            }
        });
        self.record_section(ui, lang, bench);
        if let Some((text, problem)) = &self.dataset_note {
            if *problem {
                ui.colored_label(ui.visuals().error_fg_color, text);
            } else {
                ui.label(RichText::new(text).color(egui::Color32::from_rgb(0x1B, 0x7F, 0x3B)));
            }
        }
        let Some(ds) = &self.dataset else {
            ui.weak(t(lang, "ai_no_dataset"));
            return;
        };
        ui.separator();
        let (by_label, test) = data::counts(ds);
        let n = ds.samples().len();
        ui.label(RichText::new(tf(lang, "ai_dataset_summary", &[("n", &n), ("train", &(n - test)), ("test", &test)])).strong());
        ui.horizontal_wrapped(|ui| {
            for (i, label) in ds.labels().iter().enumerate() {
                let count = by_label.get(label).copied().unwrap_or(0);
                ui.label(RichText::new(format!("● {label} ×{count}")).color(steps::colour(i)));
            }
        });
        if !ds.manifest().sensors.is_empty() {
            ui.label(RichText::new(tf(lang, "ai_sensors_are", &[("names", &ds.manifest().sensors.join(", "))])).small());
        }
        ui.horizontal_wrapped(|ui| {
            let l = ui.label(t(lang, "ai_test_fraction"));
            ui.add(egui::Slider::new(&mut self.test_fraction, 0.0..=0.5).step_by(0.05).fixed_decimals(2)).labelled_by(l.id);
            let l = ui.label(t(lang, "seed"));
            ui.add(egui::DragValue::new(&mut self.split_seed).range(0..=u32::MAX as u64)).labelled_by(l.id);
            if ui.button(t(lang, "ai_split")).on_hover_text(t(lang, "ai_split_hint")).clicked() {
                let (seed, fraction) = (self.split_seed, self.test_fraction);
                self.edit(lang, |ds| data::split(ds, seed, fraction));
            }
        });
        self.selected_sample(ui, lang);
        ui.separator();
        let Some(ds) = &self.dataset else { return };
        let has_images = ds.has_images();
        let row_height = if has_images { 40.0 } else { 22.0 };
        let mut clicked = None;
        let ids: Vec<usize> = (0..ds.samples().len()).collect();
        egui::ScrollArea::vertical().id_salt("ai-samples").max_height(ui.available_height().max(200.0)).show_rows(ui, row_height, ids.len(), |ui, range| {
            for i in range {
                let s = &ds.samples()[i];
                ui.horizontal(|ui| {
                    if let Some(px) = ds.pixels(i) {
                        let tex = self.thumbs.entry(s.id.clone()).or_insert_with(|| {
                            ctx.load_texture(
                                format!("ai-sample-{}", s.id),
                                egui::ColorImage::from_rgb([qiming_ai::IMAGE_WIDTH, qiming_ai::IMAGE_HEIGHT], px),
                                egui::TextureOptions::NEAREST,
                            )
                        });
                        ui.add(egui::Image::new((tex.id(), vec2(48.0, 36.0))));
                    }
                    let selected = self.selected.as_deref() == Some(s.id.as_str());
                    let split = if s.split == Split::Test { t(lang, "ai_split_test") } else { t(lang, "ai_split_train") };
                    let label_i = ds.label_index(i);
                    if ui.selectable_label(selected, RichText::new(format!("{}  {}", s.id, s.label)).color(steps::colour(label_i))).clicked() {
                        clicked = Some(s.id.clone());
                    }
                    ui.weak(split);
                    let values: Vec<String> = s.sensors.iter().map(|v| format!("{v:.3}")).collect();
                    ui.label(RichText::new(values.join("  ")).monospace().small());
                });
            }
        });
        if let Some(id) = clicked {
            self.relabel_to = self.dataset.as_ref().and_then(|ds| ds.samples().iter().find(|s| s.id == id)).map(|s| s.label.clone()).unwrap_or_default();
            self.selected = Some(id);
        }
    }

    /// The selected sample, bigger, with its sensors and where it came from; relabel and delete.
    fn selected_sample(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let Some(ds) = &self.dataset else { return };
        let Some(id) = self.selected.clone() else {
            ui.weak(t(lang, "ai_pick_sample"));
            return;
        };
        let Some(i) = ds.samples().iter().position(|s| s.id == id) else { return };
        let s = ds.samples()[i].clone();
        let labels = ds.labels().to_vec();
        let names = ds.manifest().sensors.clone();
        ui.group(|ui| {
            ui.horizontal(|ui| {
                if let Some(tex) = self.thumbs.get(&id) {
                    ui.add(egui::Image::new((tex.id(), vec2(128.0, 96.0))));
                }
                ui.vertical(|ui| {
                    ui.label(RichText::new(tf(lang, "ai_sample", &[("id", &s.id), ("label", &s.label)])).strong());
                    for (name, v) in names.iter().zip(&s.sensors) {
                        ui.label(RichText::new(format!("{name} = {v:.3}")).monospace());
                    }
                    if let Some(src) = &s.source {
                        ui.label(RichText::new(tf(lang, "ai_sample_source", &[("scenario", &src.scenario), ("seed", &src.seed), ("tick", &src.tick)])).small());
                    }
                });
            });
            ui.horizontal_wrapped(|ui| {
                let l = ui.label(t(lang, "ai_label"));
                ui.add(egui::TextEdit::singleline(&mut self.relabel_to).desired_width(110.0)).labelled_by(l.id);
                egui::ComboBox::from_id_salt("ai-labels")
                    .selected_text(t(lang, "ai_labels"))
                    .show_ui(ui, |ui| {
                        for name in &labels {
                            ui.selectable_value(&mut self.relabel_to, name.clone(), name);
                        }
                    })
                    .response
                    .labelled_by(l.id);
                let new_label = self.relabel_to.trim().to_string();
                if ui.add_enabled(!new_label.is_empty() && new_label != s.label, egui::Button::new(t(lang, "ai_relabel"))).clicked() {
                    let id = id.clone();
                    self.edit(lang, move |ds| data::relabel(ds, &id, &new_label));
                }
                if ui.button(RichText::new(t(lang, "ai_delete")).color(ui.visuals().error_fg_color)).clicked() {
                    let id = id.clone();
                    self.edit(lang, move |ds| data::delete(ds, &id));
                    self.selected = None;
                    self.thumbs.clear();
                }
            });
        });
    }

    /// Applies an edit that saves the dataset; on failure the folder is read again, so what is shown is what is on disk.
    fn edit(&mut self, lang: Lang, f: impl FnOnce(&mut Dataset) -> Result<(), DatasetError>) {
        let Some(ds) = &mut self.dataset else { return };
        let dir = ds.dir().to_path_buf();
        match f(ds) {
            Ok(()) => {
                self.dataset_note = Some((t(lang, "ai_saved").to_string(), false));
                self.session = None;
            }
            Err(e) => {
                self.open(&dir, lang);
                self.dataset_note = Some((dataset_error(lang, &dir, &e), true));
            }
        }
    }

    fn record_section(&mut self, ui: &mut egui::Ui, lang: Lang, bench: Option<&Workbench>) {
        egui::CollapsingHeader::new(t(lang, "ai_record")).default_open(self.dataset.is_none()).show(ui, |ui| {
            let Some(bench) = bench else {
                ui.weak(t(lang, "ai_record_needs_lab"));
                return;
            };
            let Some(lab) = bench.lab() else { return };
            let programs = data::lab_record_programs(&lab.dir);
            let scenarios = data::lab_scenarios(&lab.dir);
            let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            self.record_program = self.record_program.min(programs.len());
            ui.horizontal_wrapped(|ui| {
                let l = ui.label(t(lang, "ai_record_program"));
                let name = |i: usize| if i == 0 { t(lang, "ai_editor_program").to_string() } else { file_name(&programs[i - 1]) };
                egui::ComboBox::from_id_salt("ai-record-program")
                    .selected_text(name(self.record_program))
                    .show_ui(ui, |ui| {
                        for i in 0..=programs.len() {
                            ui.selectable_value(&mut self.record_program, i, name(i));
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            ui.horizontal_wrapped(|ui| {
                let l = ui.label(t(lang, "ai_record_scenario"));
                self.record_scenario = self.record_scenario.min(scenarios.len().saturating_sub(1));
                egui::ComboBox::from_id_salt("ai-record-scenario")
                    .selected_text(scenarios.get(self.record_scenario).map(|p| file_name(p)).unwrap_or_default())
                    .show_ui(ui, |ui| {
                        for (i, p) in scenarios.iter().enumerate() {
                            ui.selectable_value(&mut self.record_scenario, i, file_name(p));
                        }
                    })
                    .response
                    .labelled_by(l.id);
                let l = ui.label(t(lang, "seed"));
                ui.add(egui::DragValue::new(&mut self.record_seed).range(0..=u32::MAX as u64)).labelled_by(l.id);
            });
            ui.horizontal_wrapped(|ui| {
                let busy = self.record_job.is_some();
                let ready = !busy && !scenarios.is_empty() && !self.dataset_path.trim().is_empty();
                if ui.add_enabled(ready, egui::Button::new(format!("● {}", t(lang, "ai_record_button")))).on_hover_text(t(lang, "ai_record_hint")).clicked() {
                    let program = match self.record_program {
                        0 => Some(bench.editor.program()),
                        i => Program::load(&programs[i - 1]).ok(),
                    };
                    match program {
                        Some(program) => {
                            let out = PathBuf::from(self.dataset_path.trim());
                            self.record_job = Some(RecordJob::start(RecordRequest {
                                program,
                                scenario: scenarios[self.record_scenario].clone(),
                                seed: self.record_seed,
                                out,
                            }));
                            self.dataset_note = None;
                        }
                        None => self.dataset_note = Some((tf(lang, "file_unreadable", &[("path", &file_name(&programs[self.record_program - 1]))]), true)),
                    }
                }
                if busy {
                    ui.spinner();
                    ui.label(t(lang, "ai_recording"));
                }
            });
        });
    }

    fn train_tab(&mut self, ui: &mut egui::Ui, lang: Lang, bench: Option<&mut Workbench>) {
        let running = self.train.as_ref().is_some_and(TrainJob::running);
        ui.horizontal_wrapped(|ui| {
            let l = ui.label(t(lang, "ai_kind"));
            let before = self.kind;
            egui::ComboBox::from_id_salt("ai-kind")
                .selected_text(kind_text(lang, self.kind))
                .width(230.0)
                .show_ui(ui, |ui| {
                    for k in ModelKind::ALL {
                        ui.selectable_value(&mut self.kind, k, kind_text(lang, k));
                    }
                })
                .response
                .labelled_by(l.id);
            if self.kind != before {
                self.epochs = self.kind.default_epochs();
                self.default_model_path();
            }
            let l = ui.label(t(lang, "ai_input"));
            let input_text = |i: Option<InputChoice>| match i {
                None => t(lang, "ai_input_auto"),
                Some(InputChoice::Image) => t(lang, "ai_input_image"),
                Some(InputChoice::Sensors) => t(lang, "ai_input_sensors"),
            };
            egui::ComboBox::from_id_salt("ai-input")
                .selected_text(input_text(self.input))
                .show_ui(ui, |ui| {
                    for i in [None, Some(InputChoice::Image), Some(InputChoice::Sensors)] {
                        ui.selectable_value(&mut self.input, i, input_text(i));
                    }
                })
                .response
                .labelled_by(l.id);
            let l = ui.label(t(lang, "seed"));
            ui.add(egui::DragValue::new(&mut self.train_seed).range(0..=u32::MAX as u64)).labelled_by(l.id);
            let l = ui.label(t(lang, "ai_epochs"));
            ui.add(egui::DragValue::new(&mut self.epochs).range(1..=1000)).labelled_by(l.id);
        });
        ui.horizontal(|ui| {
            let l = ui.label(t(lang, "ai_model_file"));
            if ui.add(egui::TextEdit::singleline(&mut self.model_path).desired_width(ui.available_width() - 10.0)).labelled_by(l.id).changed() {
                self.model_path_edited = true;
            }
        });
        ui.horizontal_wrapped(|ui| {
            let ready = self.dataset.is_some() && !running && !self.model_path.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new(RichText::new(format!("▶ {}", t(lang, "ai_train"))).strong())).clicked() {
                self.start_training(lang);
            }
            if running {
                if ui.button(t(lang, "cancel")).clicked()
                    && let Some(job) = &self.train
                {
                    job.cancel();
                }
                ui.spinner();
            }
            if let Some(job) = &self.train {
                let done = job.reports.last().map_or(0, |r| r.epoch);
                let fraction = done as f32 / job.epochs.max(1) as f32;
                ui.add(egui::ProgressBar::new(fraction).desired_width(220.0).text(tf(lang, "ai_epoch_of", &[("n", &done), ("of", &job.epochs)])));
            }
        });
        if self.dataset.is_none() {
            ui.weak(t(lang, "ai_open_first"));
        }
        if let Some((text, problem)) = &self.train_note {
            if *problem {
                ui.colored_label(ui.visuals().error_fg_color, text);
            } else {
                ui.label(RichText::new(text).color(egui::Color32::from_rgb(0x1B, 0x7F, 0x3B)));
            }
        }
        // Deploying: the trained model, or a model file, goes with the lab's runs.
        if let Some(bench) = bench {
            ui.horizontal_wrapped(|ui| {
                let trained = self.train.as_ref().and_then(|j| j.result.as_ref()).and_then(|r| r.as_ref().ok()).cloned();
                if let Some(tr) = trained
                    && ui.button(RichText::new(format!("✔ {}", t(lang, "ai_deploy"))).strong()).on_hover_text(t(lang, "ai_deploy_hint")).clicked()
                {
                    let name = tr.path.file_name().map_or_else(|| tr.path.display().to_string(), |n| n.to_string_lossy().into_owned());
                    self.deploy(bench, tr.model.clone(), name, lang);
                }
                let l = ui.label(t(lang, "ai_open_model"));
                ui.add(egui::TextEdit::singleline(&mut self.open_model_path).desired_width(220.0).hint_text("…/model.qmodel")).labelled_by(l.id);
                if ui.add_enabled(!self.open_model_path.trim().is_empty(), egui::Button::new(t(lang, "ai_use_model"))).clicked() {
                    self.open_model(bench, lang);
                }
            });
            ui.horizontal_wrapped(|ui| match &bench.model {
                Some(d) => {
                    ui.label(
                        RichText::new(tf(
                            lang,
                            "ai_runs_use",
                            &[("name", &d.name), ("kind", &d.model.kind()), ("labels", &d.model.header().labels.join(", "))],
                        ))
                        .strong(),
                    );
                    if ui.button(t(lang, "ai_undeploy")).clicked() {
                        bench.model = None;
                    }
                }
                None => {
                    ui.weak(t(lang, "ai_runs_no_model"));
                }
            });
        }
        ui.separator();
        let Some(job) = &self.train else {
            ui.weak(t(lang, "ai_curves_hint"));
            return;
        };
        let loss: Vec<[f64; 2]> = job.reports.iter().map(|r| [f64::from(r.epoch), r.loss]).collect();
        let val_loss: Vec<[f64; 2]> = job.reports.iter().filter_map(|r| Some([f64::from(r.epoch), r.validation_loss?])).collect();
        let acc: Vec<[f64; 2]> = job.reports.iter().map(|r| [f64::from(r.epoch), r.accuracy * 100.0]).collect();
        let val_acc: Vec<[f64; 2]> = job.reports.iter().filter_map(|r| Some([f64::from(r.epoch), r.validation_accuracy? * 100.0])).collect();
        let height = (ui.available_height() - 30.0).max(160.0);
        let loss_name = t(lang, loss_key(self.train_kind(job)));
        ui.columns(2, |cols| {
            cols[0].label(RichText::new(loss_name).strong());
            Plot::new("ai-loss")
                .height(height)
                .legend(Legend::default())
                .allow_scroll(false)
                .include_y(0.0)
                .include_x(1.0)
                .x_axis_label(t(lang, "ai_epoch"))
                .show(&mut cols[0], |p| {
                    p.line(Line::new(t(lang, "ai_curve_train"), PlotPoints::from(loss)).color(steps::colour(0)).width(2.0));
                    if !val_loss.is_empty() {
                        p.line(Line::new(t(lang, "ai_curve_validation"), PlotPoints::from(val_loss)).color(steps::colour(1)).width(2.0));
                    }
                });
            cols[1].label(RichText::new(t(lang, "ai_accuracy")).strong());
            Plot::new("ai-accuracy")
                .height(height)
                .legend(Legend::default())
                .allow_scroll(false)
                .include_y(0.0)
                .include_y(100.0)
                .include_x(1.0)
                .x_axis_label(t(lang, "ai_epoch"))
                .show(&mut cols[1], |p| {
                    p.line(Line::new(t(lang, "ai_curve_train"), PlotPoints::from(acc)).color(steps::colour(0)).width(2.0));
                    if !val_acc.is_empty() {
                        p.line(Line::new(t(lang, "ai_curve_validation"), PlotPoints::from(val_acc)).color(steps::colour(1)).width(2.0));
                    }
                });
        });
    }

    /// The kind the job trains (its reports' meaning of "loss" depends on it).
    fn train_kind(&self, job: &TrainJob) -> ModelKind {
        job.result.as_ref().and_then(|r| r.as_ref().ok()).map_or(self.kind, |tr| tr.model.kind())
    }

    fn steps_tab(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let Some(ds) = &self.dataset else {
            ui.weak(t(lang, "ai_open_first"));
            return;
        };
        let names = ds.manifest().sensors.clone();
        if names.len() < 2 {
            ui.label(t(lang, "ai_steps_need_two"));
            return;
        }
        ui.horizontal_wrapped(|ui| {
            ui.radio_value(&mut self.algorithm, Algorithm::Perceptron, t(lang, "ai_kind_perceptron"));
            ui.radio_value(&mut self.algorithm, Algorithm::KMeans, t(lang, "ai_kind_kmeans"));
            ui.separator();
            for (k, key) in [(0, "ai_axis_x"), (1, "ai_axis_y")] {
                let l = ui.label(t(lang, key));
                egui::ComboBox::from_id_salt(("ai-axis", k))
                    .selected_text(names[self.axes[k].min(names.len() - 1)].clone())
                    .show_ui(ui, |ui| {
                        for (i, n) in names.iter().enumerate() {
                            ui.selectable_value(&mut self.axes[k], i, n);
                        }
                    })
                    .response
                    .labelled_by(l.id);
            }
            let l = ui.label(t(lang, "seed"));
            ui.add(egui::DragValue::new(&mut self.step_seed).range(0..=u32::MAX as u64)).labelled_by(l.id);
            if self.algorithm == Algorithm::KMeans {
                let l = ui.label(t(lang, "ai_clusters"));
                ui.add(egui::DragValue::new(&mut self.k).range(1..=8)).labelled_by(l.id);
            }
        });
        self.ensure_session();
        let Some(s) = &mut self.session else { return };
        let dt = ui.input(|i| i.stable_dt).min(0.1);
        if s.advance(dt) {
            ui.ctx().request_repaint();
        }
        ui.horizontal_wrapped(|ui| {
            if ui.button(t(lang, "step")).clicked() {
                s.step();
            }
            if ui.button(t(lang, "ai_ten_steps")).clicked() {
                for _ in 0..10 {
                    s.step();
                }
            }
            let play = if s.playing { t(lang, "pause") } else { t(lang, "ai_play") };
            if ui.button(play).clicked() {
                s.playing = !s.playing;
            }
            if ui.button(t(lang, "reset")).clicked() {
                s.reset();
            }
            let l = ui.label(t(lang, "ai_steps_per_second"));
            ui.add(egui::Slider::new(&mut s.speed, 1.0..=60.0).logarithmic(true).fixed_decimals(0)).labelled_by(l.id);
        });
        let status = match (&s.perceptron, &s.kmeans) {
            (Some(p), _) => {
                let last = match &p.last {
                    Some((_, u)) if u.changed => t(lang, "ai_step_mistake"),
                    Some(_) => t(lang, "ai_step_right"),
                    None => "",
                };
                let acc = format!("{:.0}", p.accuracy() * 100.0);
                format!(
                    "{} {last}",
                    tf(lang, "ai_perceptron_status", &[("steps", &p.steps), ("pass", &(p.epoch + 1)), ("mistakes", &p.mistakes), ("acc", &acc)])
                )
            }
            (None, Some(k)) => {
                let (changed, inertia) = k.last.as_ref().map_or((0, 0.0), |l| (l.changed, l.inertia));
                let mut text = tf(lang, "ai_kmeans_status", &[("steps", &k.iterations), ("changed", &changed), ("inertia", &format!("{inertia:.3}"))]);
                if k.converged() {
                    text.push(' ');
                    text.push_str(t(lang, "ai_kmeans_converged"));
                }
                text
            }
            _ => String::new(),
        };
        ui.label(RichText::new(status).strong());
        ui.horizontal_wrapped(|ui| {
            for (i, l) in s.labels.iter().enumerate() {
                ui.label(RichText::new(format!("● {l}")).color(steps::colour(i)));
            }
            ui.weak(if s.algorithm == Algorithm::Perceptron { t(lang, "ai_perceptron_legend") } else { t(lang, "ai_kmeans_legend") });
        });
        let size = ui.available_size() - vec2(4.0, 4.0);
        s.draw(ui, size.max(vec2(200.0, 160.0)));
    }
}

/// The Q-table tab: what the lab's program printed, drawn on the grid.
fn qtable_tab(ui: &mut egui::Ui, lang: Lang, bench: Option<&mut Workbench>) {
    let Some(bench) = bench else {
        ui.weak(t(lang, "ai_record_needs_lab"));
        return;
    };
    ui.horizontal_wrapped(|ui| {
        if ui.button(format!("▶ {}", t(lang, "ai_run_program"))).clicked() {
            bench.run();
        }
        if bench.job.is_some() {
            ui.spinner();
            ui.label(t(lang, "running"));
        }
        ui.weak(t(lang, "ai_qtable_hint"));
    });
    let output = bench.player.as_ref().map(|p| full_output(&p.replay)).unwrap_or_default();
    let view = qtable::parse(&output);
    if view.q.is_empty() {
        ui.label(t(lang, "ai_qtable_empty"));
        return;
    }
    if let Some(&(_, steps, total)) = view.episodes.last() {
        ui.label(RichText::new(tf(lang, "ai_qtable_status", &[("n", &view.episodes.len()), ("steps", &steps), ("total", &total)])).strong());
    }
    ui.weak(t(lang, "ai_qtable_legend"));
    let avail = ui.available_size();
    let curve_height = if view.episodes.is_empty() { 0.0 } else { (avail.y * 0.3).clamp(110.0, 200.0) };
    qtable::draw(ui, &view, vec2(avail.x, (avail.y - curve_height - 12.0).max(160.0)));
    if !view.episodes.is_empty() {
        let steps: Vec<[f64; 2]> = view.episodes.iter().map(|e| [e.0, e.1]).collect();
        let totals: Vec<[f64; 2]> = view.episodes.iter().map(|e| [e.0, e.2]).collect();
        Plot::new("ai-episodes").height(curve_height).legend(Legend::default()).allow_scroll(false).x_axis_label(t(lang, "ai_episode")).show(ui, |p| {
            p.line(Line::new(t(lang, "ai_episode_steps"), PlotPoints::from(steps)).color(steps::colour(0)));
            p.line(Line::new(t(lang, "ai_episode_reward"), PlotPoints::from(totals)).color(steps::colour(1)));
        });
    }
}

/// Everything a run printed.
fn full_output(replay: &qiming_sim::Replay) -> String {
    let mut out = String::new();
    for e in &replay.events {
        if let qiming_sim::replay::ReplayEvent::Output { text, .. } = e {
            out.push_str(text);
        }
    }
    out
}

fn kind_text(lang: Lang, kind: ModelKind) -> String {
    let key = match kind {
        ModelKind::Cnn => "ai_kind_cnn",
        ModelKind::Mlp => "ai_kind_mlp",
        ModelKind::Perceptron => "ai_kind_perceptron",
        ModelKind::Logistic => "ai_kind_logistic",
        ModelKind::Kmeans => "ai_kind_kmeans",
    };
    // The kind's name is a contract (`--model perceptron`); its translation only when it says more.
    let words = t(lang, key);
    if words == kind.name() { words.to_string() } else { format!("{kind} · {words}") }
}

/// What the loss curve measures for each kind.
fn loss_key(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Perceptron => "ai_loss_mistakes",
        ModelKind::Kmeans => "ai_loss_inertia",
        _ => "ai_loss_cross_entropy",
    }
}

/// What the trainer would refuse, said before training starts.
fn unsuitable(lang: Lang, ds: &Dataset, kind: ModelKind, input: Option<InputChoice>) -> Option<String> {
    let has_sensors = !ds.manifest().sensors.is_empty();
    if (kind == ModelKind::Cnn || input == Some(InputChoice::Image)) && !ds.has_images() {
        return Some(t(lang, "ai_needs_images").to_string());
    }
    if input == Some(InputChoice::Sensors) && (!has_sensors || kind == ModelKind::Cnn) {
        return Some(t(lang, "ai_needs_sensors").to_string());
    }
    if ds.labels().len() < 2 {
        return Some(t(lang, "ai_needs_two_labels").to_string());
    }
    if !ds.samples().iter().any(|s| s.split == Split::Train) {
        return Some(t(lang, "ai_needs_train").to_string());
    }
    None
}

/// The sentence for a finished training.
fn train_result_text(lang: Lang, job: &TrainJob) -> (String, bool) {
    match &job.result {
        Some(Ok(tr)) => {
            let last = job.reports.last();
            let acc = format!("{:.1}", last.map_or(0.0, |r| r.accuracy * 100.0));
            let val = last
                .and_then(|r| r.validation_accuracy)
                .map_or_else(|| t(lang, "ai_no_validation").to_string(), |v| tf(lang, "ai_validation", &[("acc", &format!("{:.1}", v * 100.0))]));
            let input = match tr.model.header().input {
                Input::Image { .. } => t(lang, "ai_input_image"),
                Input::Sensors { .. } => t(lang, "ai_input_sensors"),
            };
            let hash = tr.model.dataset_sha256().get(..12).unwrap_or_default();
            (tf(lang, "ai_trained", &[("path", &tr.path.display()), ("acc", &acc), ("val", &val), ("input", &input), ("hash", &hash)]), false)
        }
        Some(Err(TrainFailure::Cancelled)) => (t(lang, "ai_train_cancelled").to_string(), true),
        Some(Err(TrainFailure::Train(TrainError::Diverged))) => (t(lang, "ai_train_diverged").to_string(), true),
        Some(Err(TrainFailure::Train(e))) => (tf(lang, "ai_train_unsuitable", &[("detail", &e)]), true),
        Some(Err(TrainFailure::Save(detail))) => (tf(lang, "ai_model_save_failed", &[("detail", &detail)]), true),
        Some(Err(TrainFailure::Thread)) | None => (t(lang, "ai_thread_failed").to_string(), true),
    }
}

/// A dataset folder's problem in the user's language (the format's own detail kept for teachers).
fn dataset_error(lang: Lang, path: &Path, e: &DatasetError) -> String {
    match e {
        DatasetError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => tf(lang, "ai_dataset_missing", &[("path", &path.display())]),
        _ => tf(lang, "ai_dataset_unreadable", &[("path", &path.display()), ("detail", &e)]),
    }
}
