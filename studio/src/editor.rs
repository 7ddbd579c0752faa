//! The program editor: colours, line numbers, the error's line and message, find/replace, undo/redo, autosave.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::text::{CCursor, CCursorRange};
use egui::text_edit::TextEditState;
use egui::{Color32, FontId, RichText};
use qiming_runtime::{Diagnostic, Language, Message, Program};

use crate::highlight::{self, Marks};
use crate::i18n::{Lang, t, tf};

/// A problem to show on a line, in the learner's words.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub line: Option<u32>,
    pub explanation: Message,
    pub suggestion: Option<Message>,
}

impl Problem {
    pub fn of(d: &Diagnostic) -> Problem {
        Problem { line: d.line, explanation: d.explanation.clone(), suggestion: d.suggestion.clone() }
    }
}

#[derive(Default)]
struct FindBar {
    open: bool,
    query: String,
    replacement: String,
    /// Which match was selected last (for "next").
    current: usize,
}

/// Typing pauses this long before the program is written to disk.
const AUTOSAVE_AFTER: Duration = Duration::from_millis(800);

pub struct Editor {
    pub text: String,
    pub language: Language,
    /// A binary WebAssembly module loaded from a file: runs, cannot be edited.
    pub wasm_binary: Option<Vec<u8>>,
    pub problem: Option<Problem>,
    id: egui::Id,
    find: FindBar,
    goto_line: Option<u32>,
    /// Where the program is autosaved, and since when it has unsaved changes.
    pub autosave_path: Option<PathBuf>,
    changed_at: Option<Instant>,
    pub save_error: Option<String>,
    /// Bracket pair next to the cursor, from the last frame.
    brackets: Option<(usize, usize)>,
    /// The label that names the text area for screen readers and UI tests.
    label_id: Option<egui::Id>,
}

impl Editor {
    pub fn new(id: &str, text: String, language: Language) -> Editor {
        Editor {
            text,
            language,
            wasm_binary: None,
            problem: None,
            id: egui::Id::unique(("editor", id.to_string())),
            find: FindBar::default(),
            goto_line: None,
            autosave_path: None,
            changed_at: None,
            save_error: None,
            brackets: None,
            label_id: None,
        }
    }

    /// The program as the engine runs it.
    pub fn program(&self) -> Program {
        match (&self.wasm_binary, self.language) {
            (Some(bytes), _) => Program::wasm(bytes.clone()),
            (None, Language::Wasm) => Program::wasm(self.text.as_bytes().to_vec()),
            (None, Language::Rhai) => Program::rhai(self.text.clone()),
        }
    }

    /// Replaces the program (loading a file, the starter, the reference).
    pub fn set_text(&mut self, ctx: &egui::Context, text: String, language: Language) {
        self.text = text;
        self.language = language;
        self.wasm_binary = None;
        self.problem = None;
        self.touch();
        // A fresh text has its own history.
        if let Some(mut state) = TextEditState::load(ctx, self.id) {
            state.clear_undoer();
            state.store(ctx, self.id);
        }
    }

    pub fn set_binary(&mut self, bytes: Vec<u8>) {
        self.wasm_binary = Some(bytes);
        self.language = Language::Wasm;
        self.problem = None;
    }

    fn touch(&mut self) {
        self.changed_at = Some(Instant::now());
    }

    /// Moves the cursor to a 1-based line.
    pub fn go_to_line(&mut self, line: u32) {
        self.goto_line = Some(line);
    }

    pub fn open_find(&mut self) {
        self.find.open = true;
    }

    /// Writes the program to its autosave file once typing has paused (or at once with `now`).
    pub fn autosave(&mut self, lang: Lang, now: bool) {
        let (Some(path), Some(since)) = (&self.autosave_path, self.changed_at) else { return };
        if self.wasm_binary.is_some() || (!now && since.elapsed() < AUTOSAVE_AFTER) {
            return;
        }
        match crate::files::write_atomically(path, self.text.as_bytes()) {
            Ok(()) => {
                self.changed_at = None;
                self.save_error = None;
            }
            Err(_) => self.save_error = Some(tf(lang, "save_failed", &[("path", &path.display())])),
        }
    }

    /// Whether a change is waiting to be autosaved.
    pub fn unsaved(&self) -> bool {
        self.changed_at.is_some()
    }

    fn undo_redo(&mut self, ctx: &egui::Context, redo: bool) {
        let Some(mut state) = TextEditState::load(ctx, self.id) else { return };
        let mut undoer = state.undoer();
        let current = (state.cursor.char_range().unwrap_or_default(), self.text.clone());
        let restored = if redo { undoer.redo(&current).cloned() } else { undoer.undo(&current).cloned() };
        if let Some((cursor, text)) = restored {
            self.text = text;
            state.cursor.set_char_range(Some(cursor));
            state.set_undoer(undoer);
            state.store(ctx, self.id);
            self.touch();
        }
    }

    fn matches(&self) -> Vec<std::ops::Range<usize>> {
        if self.find.query.is_empty() {
            return Vec::new();
        }
        self.text.match_indices(&self.find.query).map(|(i, m)| i..i + m.len()).collect()
    }

    fn select_bytes(&self, ctx: &egui::Context, range: std::ops::Range<usize>) {
        let mut state = TextEditState::load(ctx, self.id).unwrap_or_default();
        let a = self.text[..range.start].chars().count();
        let b = a + self.text[range].chars().count();
        state.cursor.set_char_range(Some(CCursorRange::two(CCursor::new(a), CCursor::new(b))));
        state.store(ctx, self.id);
    }

    fn find_bar(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let found = self.matches();
        ui.horizontal(|ui| {
            ui.label(t(lang, "find"));
            let q = ui.add(egui::TextEdit::singleline(&mut self.find.query).desired_width(140.0));
            if q.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) && !found.is_empty() {
                self.find.current = (self.find.current + 1) % found.len();
                self.select_bytes(ui.ctx(), found[self.find.current].clone());
            }
            ui.label(tf(lang, "matches", &[("n", &found.len())]));
            ui.label(t(lang, "replace"));
            ui.add(egui::TextEdit::singleline(&mut self.find.replacement).desired_width(140.0));
            if ui.button(t(lang, "replace_all")).clicked() && !found.is_empty() {
                self.text = self.text.replace(&self.find.query, &self.find.replacement);
                self.touch();
            }
            if ui.button("✕").on_hover_text(t(lang, "cancel")).clicked() {
                self.find.open = false;
            }
        });
    }

    /// Draws the editor. Returns whether the text changed.
    pub fn show(&mut self, ui: &mut egui::Ui, lang: Lang, font_size: f32, high_contrast: bool) -> bool {
        let ctx = ui.ctx().clone();
        ui.horizontal(|ui| {
            let language = if self.language == Language::Wasm { "language_wasm" } else { "language_rhai" };
            self.label_id = Some(ui.label(RichText::new(t(lang, language)).strong()).id);
            if ui.button(t(lang, "undo")).on_hover_text("Ctrl+Z").clicked() {
                self.undo_redo(&ctx, false);
            }
            if ui.button(t(lang, "redo")).on_hover_text("Ctrl+Y").clicked() {
                self.undo_redo(&ctx, true);
            }
            if ui.button(t(lang, "find")).on_hover_text("Ctrl+F").clicked() {
                self.find.open = !self.find.open;
            }
            if self.save_error.is_none() && self.autosave_path.is_some() && !self.unsaved() {
                ui.label(RichText::new(format!("✔ {}", t(lang, "saved_at"))).small());
            }
        });
        if let Some(e) = &self.save_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if self.find.open {
            self.find_bar(ui, lang);
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Y)) {
            self.undo_redo(&ctx, true);
        }
        if let Some(bytes) = &self.wasm_binary {
            ui.label(tf(lang, "wasm_binary", &[("n", &bytes.len())]));
            return false;
        }
        let mut changed = false;
        self.problem_banner(ui, lang);
        let font = FontId::monospace(font_size);
        let dark = ui.visuals().dark_mode;
        let wat = self.language == Language::Wasm;
        let marks = Marks { error_line: self.problem.as_ref().and_then(|p| p.line), brackets: self.brackets, found: self.matches() };
        let line_count = self.text.split('\n').count().max(1);
        let error_line = marks.error_line;
        egui::ScrollArea::both().id_salt(self.id.with("scroll")).auto_shrink([false, false]).show(ui, |ui| {
            ui.horizontal_top(|ui| {
                // The gutter: line numbers, the error's line in the error colour.
                let mut gutter = egui::text::LayoutJob::default();
                let width = line_count.to_string().len();
                for n in 1..=line_count {
                    let is_error = error_line == Some(n as u32);
                    let color = if is_error { ui.visuals().error_fg_color } else { ui.visuals().weak_text_color() };
                    let text = format!("{}{n:>width$}{}", if is_error { "▶" } else { " " }, if n < line_count { "\n" } else { "" });
                    gutter.append(&text, 0.0, egui::TextFormat { font_id: font.clone(), color, ..Default::default() });
                }
                ui.add_space(2.0);
                ui.label(gutter);
                let mut layouter = |ui: &egui::Ui, buf: &dyn egui::TextBuffer, _wrap: f32| -> Arc<egui::Galley> {
                    let job = highlight::layout(buf.as_str(), wat, font.clone(), dark, high_contrast, &marks);
                    ui.fonts_mut(|f| f.layout_job(job))
                };
                let output = egui::TextEdit::multiline(&mut self.text)
                    .id(self.id)
                    .code_editor()
                    .font(FontId::monospace(font_size))
                    .desired_width(f32::INFINITY)
                    .desired_rows(24)
                    .layouter(&mut layouter)
                    .show(ui);
                if let Some(label) = self.label_id {
                    let named: egui::Response = (*output.response).clone();
                    named.labelled_by(label);
                }
                if output.response.changed() {
                    changed = true;
                }
                if let Some(line) = self.goto_line.take()
                    && let Some(range) = highlight::line_range(&self.text, line)
                {
                    let mut state = output.state.clone();
                    let c = self.text[..range.start].chars().count();
                    state.cursor.set_char_range(Some(CCursorRange::one(CCursor::new(c))));
                    state.store(ui.ctx(), self.id);
                    output.response.request_focus();
                }
                self.brackets = output.cursor_range.and_then(|r| {
                    let at = r.primary.index.0;
                    let byte = self.text.char_indices().nth(at).map_or(self.text.len(), |(b, _)| b);
                    highlight::matching_bracket(&self.text, byte, wat)
                });
            });
        });
        if changed {
            // The old message may no longer be true.
            self.problem = None;
            self.touch();
        }
        changed
    }

    fn problem_banner(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let Some(p) = self.problem.clone() else { return };
        egui::Frame::group(ui.style())
            .fill(if ui.visuals().dark_mode { Color32::from_rgb(0x40, 0x18, 0x18) } else { Color32::from_rgb(0xFF, 0xEE, 0xEE) })
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    if let Some(line) = p.line {
                        ui.label(RichText::new(tf(lang, "line_n", &[("n", &line)])).strong().color(ui.visuals().error_fg_color));
                    }
                    ui.label(lang.pick_msg(&p.explanation));
                });
                if let Some(s) = &p.suggestion {
                    ui.label(format!("{} {}", t(lang, "try_this"), lang.pick_msg(s)));
                }
                if let Some(line) = p.line
                    && ui.button(t(lang, "jump_to_line")).clicked()
                {
                    self.go_to_line(line);
                }
            });
    }
}
