//! Drawing the assessments: the list in connected mode, one question per screen with its overview, the countdown, the keyboard, and the results.

use egui::text::LayoutJob;
use egui::{FontId, RichText, TextFormat, TextStyle};
use serde_json::{Value, json};

use super::{Account, Assess, AssessmentEntry, FONT_SIZES, ItemView, OpenSitting, Presented, clock, pick};
use crate::connect::{NetError, Session, time_left};
use crate::i18n::{Lang, t, tf};

/// The letter of option `i` (A, B, C, …), as the keyboard chooses it.
fn letter(i: usize) -> char {
    (b'A' + (i % 26) as u8) as char
}

/// A stem or explanation: paragraphs with `code` in monospace, and fenced code blocks.
pub fn rich(ui: &mut egui::Ui, text: &str) {
    let mut para = String::new();
    let mut code = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            if in_code {
                code_block(ui, &code);
                code.clear();
            } else {
                paragraph(ui, &para);
                para.clear();
            }
            in_code = !in_code;
            continue;
        }
        let target = if in_code { &mut code } else { &mut para };
        target.push_str(line);
        target.push('\n');
    }
    paragraph(ui, &para);
    code_block(ui, &code);
}

fn paragraph(ui: &mut egui::Ui, text: &str) {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return;
    }
    let job = inline(ui, text, ui.available_width());
    ui.label(job);
}

/// One line of text with `code` spans in monospace (options, stems), wrapped at `width`.
pub fn inline(ui: &egui::Ui, text: &str, width: f32) -> LayoutJob {
    let mut job = LayoutJob::default();
    let color = ui.visuals().text_color();
    for (i, part) in text.split('`').enumerate() {
        let font = (if i % 2 == 1 { TextStyle::Monospace } else { TextStyle::Body }).resolve(ui.style());
        job.append(part, 0.0, TextFormat { font_id: font, color, ..Default::default() });
    }
    job.wrap.max_width = width;
    job
}

fn code_block(ui: &mut egui::Ui, code: &str) {
    if code.trim().is_empty() {
        return;
    }
    egui::Frame::group(ui.style()).fill(ui.visuals().extreme_bg_color).show(ui, |ui| {
        ui.label(RichText::new(code.trim_end()).monospace());
    });
}

/// A response in words: the options chosen, true/false, the number or text.
pub fn describe(lang: Lang, item: &ItemView, r: Option<&Value>) -> String {
    let Some(r) = r.filter(|r| !r.is_null()) else { return t(lang, "as_no_answer").to_string() };
    let opt = |list: &[super::Choice], id: &Value| {
        let id = id.as_str().unwrap_or_default();
        list.iter().find(|c| c.id == id).map_or_else(|| id.to_string(), |c| pick(lang, &c.text))
    };
    let sep = if lang == Lang::Zh { "；" } else { "; " };
    if let Some(list) = r.get("choices").and_then(Value::as_array) {
        return list.iter().map(|c| opt(&item.options, c)).collect::<Vec<_>>().join(sep);
    }
    if let Some(v) = r.get("value").and_then(Value::as_bool) {
        return t(lang, if v { "as_true" } else { "as_false" }).to_string();
    }
    if let Some(x) = r.get("number").and_then(Value::as_f64) {
        let tol = r.get("tolerance").and_then(Value::as_f64).filter(|t| *t > 0.0);
        return tol.map_or_else(|| format!("{x}"), |tol| format!("{x} (±{tol})"));
    }
    if let Some(s) = r.get("text").and_then(Value::as_str) {
        return s.to_string();
    }
    if let Some(list) = r.get("order").and_then(Value::as_array) {
        return list.iter().map(|c| opt(&item.options, c)).collect::<Vec<_>>().join(" → ");
    }
    if let Some(list) = r.get("pairs").and_then(Value::as_array) {
        return list
            .iter()
            .filter_map(|p| p.as_array().filter(|p| p.len() == 2).map(|p| format!("{} → {}", opt(&item.options, &p[0]), opt(&item.targets, &p[1]))))
            .collect::<Vec<_>>()
            .join(sep);
    }
    if let Some(acc) = r.get("accepted") {
        let list = acc.get(lang.tag()).or_else(|| acc.get("zh-CN")).and_then(Value::as_array).cloned().unwrap_or_default();
        return list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" / ");
    }
    if r.get("submission").is_some() {
        return t(lang, "as_program_handed_in").to_string();
    }
    String::new()
}

/// A server error about an assessment in the learner's words, saying what to do next.
pub fn problem_text(lang: Lang, e: &NetError) -> String {
    let NetError::Server { status, code, reason } = e else { return crate::connect::problem_text(lang, e) };
    let key = match (code.as_str(), reason.as_deref()) {
        ("assessment_not_open", _) => "as_err_not_open",
        ("assessment_closed", _) => "as_err_closed",
        ("time_up", _) => "as_err_time_up",
        ("sitting_submitted", _) => "as_err_submitted",
        ("not_started", _) => "as_err_not_started",
        ("item_locked", _) => "as_err_item_locked",
        ("answer_first", _) => "as_err_answer_first",
        ("attempts_used_up", _) => "as_err_attempts_used_up",
        ("lab_gone", _) => "as_err_lab_gone",
        ("invalid", Some("length")) => "as_err_too_long",
        ("invalid", Some("language")) => "as_err_language",
        ("invalid", Some("shape")) => "as_err_shape",
        ("invalid" | "payload_too_large" | "too_large", Some("too_large") | None) if *status == 413 => "net_too_large",
        ("not_found", _) => "as_err_not_found",
        ("forbidden", _) => "as_err_forbidden",
        _ => return crate::connect::problem_text(lang, e),
    };
    t(lang, key).to_string()
}

fn now() -> i64 {
    super::now()
}

/// The list of assessments in connected mode (below the assignments).
pub fn list(ui: &mut egui::Ui, lang: Lang, assess: &mut Assess, session: &Session) {
    ui.heading(t(lang, "as_heading"));
    let account = Account::of(session);
    if assess.list.is_empty() {
        ui.label(t(lang, "as_none"));
    }
    let mut open = None;
    egui::Grid::new("assessment-table").num_columns(5).striped(true).spacing([16.0, 8.0]).show(ui, |ui| {
        if !assess.list.is_empty() {
            for key in ["as_col_title", "as_col_window", "as_col_time", "as_col_state"] {
                ui.label(RichText::new(t(lang, key)).strong());
            }
            ui.label("");
            ui.end_row();
        }
        let now = now();
        for a in &assess.list {
            ui.label(&a.title);
            let mine = a.mine.clone().unwrap_or_default();
            let window = match mine.window.as_str() {
                "not_open" => tf(lang, "as_opens_in", &[("when", &time_left(lang, a.opens_at - now))]),
                "closed" => t(lang, "status_closed").to_string(),
                _ => time_left(lang, a.closes_at - now),
            };
            ui.label(window);
            ui.label(tf(lang, "as_minutes", &[("n", &a.time_limit_minutes)]));
            let waiting = assess.queue.pending(&account, a.id).count();
            let state = match mine.status.as_str() {
                "in_progress" => tf(lang, "as_state_in_progress", &[("left", &clock(mine.remaining_seconds.unwrap_or(0)))]),
                "submitted" if mine.grading => t(lang, "as_state_grading").to_string(),
                "submitted" => tf(lang, "as_state_submitted", &[("points", &mine.points.unwrap_or(0)), ("max", &mine.max_points.unwrap_or(0))]),
                _ => t(lang, "as_state_not_started").to_string(),
            };
            if waiting > 0 {
                ui.label(format!("{state} · {}", tf(lang, "as_waiting_n", &[("n", &waiting)])));
            } else {
                ui.label(state);
            }
            let (key, enabled) = match mine.status.as_str() {
                "in_progress" => ("as_resume", true),
                "submitted" => ("as_see_results", true),
                _ => ("as_start", mine.window == "open"),
            };
            let button = ui.add_enabled(enabled, egui::Button::new(t(lang, key)));
            if button.clicked() {
                open = Some(a.id);
            }
            ui.end_row();
        }
    });
    if let Some(id) = open {
        assess.open(session, id);
    }
}

/// Whether a key was pressed (and takes it, so no widget acts on it too).
fn take(ui: &egui::Ui, key: egui::Key) -> bool {
    ui.ctx().input_mut(|i| i.consume_key(egui::Modifiers::NONE, key))
}

const DIGITS: [egui::Key; 9] =
    [egui::Key::Num1, egui::Key::Num2, egui::Key::Num3, egui::Key::Num4, egui::Key::Num5, egui::Key::Num6, egui::Key::Num7, egui::Key::Num8, egui::Key::Num9];
const LETTERS: [egui::Key; 9] = [egui::Key::A, egui::Key::B, egui::Key::C, egui::Key::D, egui::Key::E, egui::Key::F, egui::Key::G, egui::Key::H, egui::Key::I];

/// Which option the keyboard picked: 1–9 or A–I.
fn picked_option(ui: &egui::Ui) -> Option<usize> {
    (0..9).find(|&i| take(ui, DIGITS[i]) || take(ui, LETTERS[i]))
}

/// The sitting: a bar with the countdown, the overview, one question, previous/next and submit; the results after.
pub fn sitting(ui: &mut egui::Ui, lang: Lang, assess: &mut Assess, session: &Session) {
    let Some(open) = &assess.sitting else { return };
    if open.view.submitted() {
        results(ui, lang, assess, session);
        return;
    }
    keyboard(ui, assess, session);
    let Some(open) = &assess.sitting else { return };
    let account = Account::of(session);
    let id = open.view.assessment.id;
    let waiting = assess.queue.pending(&account, id).count();
    let adaptive = open.view.assessment.adaptive();
    let remaining = open.remaining();
    let mut back = false;
    let mut font = assess.font_size;
    egui::Panel::top("sitting-bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            if ui.button(format!("← {}", t(lang, "as_back"))).clicked() {
                back = true;
            }
            ui.label(RichText::new(&open.view.assessment.title).strong());
            ui.separator();
            let time = RichText::new(tf(lang, "as_time_left", &[("clock", &clock(remaining))])).strong().monospace();
            ui.label(if remaining < 300 { time.color(ui.visuals().error_fg_color) } else { time });
            ui.separator();
            ui.label(tf(lang, "as_answered_of", &[("n", &open.answered()), ("total", &open.view.sitting.total)]));
            ui.separator();
            ui.label(t(lang, "as_font_size"));
            if ui.add_enabled(font > *FONT_SIZES.start(), egui::Button::new("A-")).on_hover_text(t(lang, "as_font_smaller")).clicked() {
                font = (font - 2.0).max(*FONT_SIZES.start());
            }
            if ui.add_enabled(font < *FONT_SIZES.end(), egui::Button::new("A+")).on_hover_text(t(lang, "as_font_larger")).clicked() {
                font = (font + 2.0).min(*FONT_SIZES.end());
            }
        });
        // Where the answers are: on the server, on their way, or kept here while offline.
        let (saved, bad) = if assess.queue.disk_error {
            (tf(lang, "as_disk_error", &[("path", &assess.queue.path().display())]), true)
        } else if waiting > 0 && matches!(assess.problem, Some(NetError::Offline | NetError::Server { .. } | NetError::Garbled)) {
            (tf(lang, "as_kept_offline", &[("n", &waiting)]), true)
        } else if waiting > 0 {
            (t(lang, "as_saving").to_string(), false)
        } else if open.saved_at.is_some() {
            (t(lang, "as_all_saved").to_string(), false)
        } else {
            (t(lang, "as_saved_as_given").to_string(), false)
        };
        if bad {
            ui.colored_label(ui.visuals().warn_fg_color, saved);
        } else {
            ui.label(RichText::new(saved).small());
        }
    });
    if back {
        assess.font_size = font;
        assess.close(Some(session));
        return;
    }
    let mut go = None;
    if !adaptive {
        egui::Panel::left("sitting-overview").resizable(false).default_size(150.0).show(ui, |ui| {
            ui.label(RichText::new(t(lang, "as_overview")).strong());
            ui.horizontal_wrapped(|ui| {
                for (i, p) in open.view.items.iter().enumerate() {
                    let done = open.responses.get(&p.item.id).is_some_and(|r| !r.is_null());
                    let text = if done { format!("{} ✔", i + 1) } else { format!("{}", i + 1) };
                    let r = ui.selectable_label(i == open.position, RichText::new(text).size(16.0));
                    if r.on_hover_text(tf(lang, "as_go_to", &[("n", &(i + 1))])).clicked() {
                        go = Some(i);
                    }
                }
            });
            ui.add_space(8.0);
            ui.label(RichText::new(t(lang, "as_keys_help")).small());
        });
    }
    let position = open.position;
    let count = open.view.items.len();
    let total = open.view.sitting.total;
    let time_up = remaining == 0;
    let mut action: Option<Action> = None;
    egui::Panel::bottom("sitting-actions").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            if adaptive {
                ui.label(tf(lang, "as_adaptive_step", &[("n", &(position + 1)), ("max", &total)]));
                if ui.add_enabled(!time_up && !assess.busy, egui::Button::new(RichText::new(t(lang, "as_next_question")).strong())).clicked() {
                    action = Some(Action::Advance);
                }
            } else {
                if ui.add_enabled(position > 0, egui::Button::new(format!("← {}", t(lang, "as_prev")))).clicked() {
                    go = Some(position - 1);
                }
                if ui.add_enabled(position + 1 < count, egui::Button::new(format!("{} →", t(lang, "as_next")))).clicked() {
                    go = Some(position + 1);
                }
                ui.separator();
                if ui.add_enabled(!time_up && !assess.submitting(), egui::Button::new(RichText::new(t(lang, "as_submit")).strong())).clicked() {
                    action = Some(Action::Confirm);
                }
            }
            if assess.submitting() {
                ui.spinner();
                ui.label(if waiting > 0 { tf(lang, "as_submit_waiting", &[("n", &waiting)]) } else { t(lang, "as_submitting").to_string() });
            }
            if time_up {
                ui.colored_label(ui.visuals().warn_fg_color, t(lang, "as_time_is_up"));
            }
            if let Some(e) = &open.refusal {
                ui.colored_label(ui.visuals().error_fg_color, problem_text(lang, e));
            }
        });
    });
    let mut given: Option<(String, Option<Value>)> = None;
    let mut draft: Option<(String, String, String)> = None;
    let mut hand_in = None;
    egui::CentralPanel::default().show(ui, |ui| {
        let size = assess.font_size;
        let style = ui.style_mut();
        style.text_styles.insert(TextStyle::Body, FontId::proportional(size));
        style.text_styles.insert(TextStyle::Button, FontId::proportional(size));
        style.text_styles.insert(TextStyle::Monospace, FontId::monospace(size * 0.9));
        style.spacing.item_spacing.y = size * 0.5;
        let Some(open) = &assess.sitting else { return };
        let Some(p) = open.current() else { return };
        egui::ScrollArea::vertical().id_salt(("question", p.item.id.as_str())).show(ui, |ui| {
            ui.label(
                RichText::new(tf(lang, "as_question_n", &[("n", &(position + 1)), ("total", &total), ("points", &p.item.max_points)]))
                    .size(size * 1.2)
                    .strong(),
            );
            ui.add_space(size * 0.3);
            rich(ui, &pick(lang, &p.item.stem));
            ui.add_space(size * 0.5);
            let disabled = time_up;
            ui.add_enabled_ui(!disabled, |ui| {
                if p.item.kind == "performance" {
                    performance(ui, lang, open, p, &mut draft, &mut hand_in);
                } else {
                    given = control(ui, lang, open, p).map(|r| (p.item.id.clone(), r));
                }
            });
        });
    });
    assess.font_size = font;
    if let Some((item, r)) = given {
        assess.answer(session, &item, r);
    }
    if let Some((item, language, program)) = draft {
        assess.set_draft(session, &item, language, program);
    }
    if let Some(item) = hand_in {
        assess.hand_in(session, &item);
    }
    if let Some(i) = go {
        assess.go_to(session, i);
    }
    match action {
        Some(Action::Advance) => assess.advance(session),
        Some(Action::Confirm) => {
            if let Some(open) = &mut assess.sitting {
                open.confirm_submit = true;
            }
        }
        None => {}
    }
    confirm(ui, lang, assess, session);
}

enum Action {
    Advance,
    Confirm,
}

/// The submit dialog: how many are answered, and that answers cannot change afterwards.
fn confirm(ui: &mut egui::Ui, lang: Lang, assess: &mut Assess, session: &Session) {
    let Some(open) = &assess.sitting else { return };
    if !open.confirm_submit {
        return;
    }
    let (n, total) = (open.answered(), open.view.sitting.total);
    let mut choice = None;
    egui::Window::new(t(lang, "as_submit")).collapsible(false).resizable(false).anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO).show(ui.ctx(), |ui| {
        ui.label(tf(lang, "as_submit_confirm", &[("n", &n), ("total", &total)]));
        ui.horizontal(|ui| {
            if ui.button(RichText::new(t(lang, "as_submit_now")).strong()).clicked() {
                choice = Some(true);
            }
            if ui.button(t(lang, "as_keep_answering")).clicked() {
                choice = Some(false);
            }
        });
    });
    match choice {
        Some(true) => assess.submit(session),
        Some(false) => {
            if let Some(open) = &mut assess.sitting {
                open.confirm_submit = false;
            }
        }
        None => {}
    }
}

/// Keys: 1–9 / A–I pick options, ←/→ and PageUp/PageDown move, ↑/↓ move an ordering's chosen row, Enter confirms.
fn keyboard(ui: &egui::Ui, assess: &mut Assess, session: &Session) {
    let Some(open) = &assess.sitting else { return };
    let typing = ui.ctx().text_edit_focused();
    let focused = ui.ctx().memory(|m| m.focused().is_some());
    let (position, count, adaptive) = (open.position, open.view.items.len(), open.view.assessment.adaptive());
    if open.confirm_submit {
        if !focused && take(ui, egui::Key::Enter) {
            assess.submit(session);
        }
        return;
    }
    let back = take(ui, egui::Key::PageUp) || (!typing && take(ui, egui::Key::ArrowLeft));
    let forward = take(ui, egui::Key::PageDown) || (!typing && take(ui, egui::Key::ArrowRight));
    if !adaptive && back && position > 0 {
        assess.go_to(session, position - 1);
        return;
    }
    if !adaptive && forward && position + 1 < count {
        assess.go_to(session, position + 1);
        return;
    }
    if typing || open.remaining() == 0 {
        return;
    }
    if !focused && take(ui, egui::Key::Enter) {
        if adaptive {
            assess.advance(session);
        } else if position + 1 < count {
            assess.go_to(session, position + 1);
        } else if let Some(open) = &mut assess.sitting {
            open.confirm_submit = true;
        }
        return;
    }
    let Some(p) = open.current().cloned() else { return };
    let current = open.responses.get(&p.item.id).cloned().unwrap_or(Value::Null);
    let response = match p.item.kind.as_str() {
        "single" => picked_option(ui).and_then(|i| p.item.options.get(i)).map(|o| json!({"choices": [o.id]})),
        "multiple" => picked_option(ui).and_then(|i| p.item.options.get(i)).map(|o| {
            let mut chosen = chosen_ids(&current, "choices");
            if chosen.contains(&o.id) {
                chosen.retain(|c| c != &o.id);
            } else {
                chosen.push(o.id.clone());
            }
            json!({"choices": in_option_order(&p.item, &chosen)})
        }),
        "true_false" => match picked_option(ui) {
            Some(0) => Some(json!({"value": true})),
            Some(1) => Some(json!({"value": false})),
            _ => None,
        },
        "ordering" => {
            if let Some(i) = picked_option(ui).filter(|&i| i < p.item.options.len()) {
                assess.row = Some(i);
            }
            let up = take(ui, egui::Key::ArrowUp);
            let down = take(ui, egui::Key::ArrowDown);
            match assess.row {
                Some(i) if up || down => {
                    let mut order = order_of(&p.item, &current);
                    let j = if up { i.checked_sub(1) } else { Some(i + 1).filter(|&j| j < order.len()) };
                    j.map(|j| {
                        order.swap(i, j);
                        assess.row = Some(j);
                        json!({"order": order})
                    })
                }
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(r) = response {
        assess.answer(session, &p.item.id, Some(r));
    }
}

fn chosen_ids(response: &Value, key: &str) -> Vec<String> {
    response.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn in_option_order(item: &ItemView, chosen: &[String]) -> Vec<String> {
    item.options.iter().filter(|o| chosen.contains(&o.id)).map(|o| o.id.clone()).collect()
}

/// The order on screen: the saved one when it is complete, else the options as given.
fn order_of(item: &ItemView, response: &Value) -> Vec<String> {
    let saved = chosen_ids(response, "order");
    if saved.len() == item.options.len() { saved } else { item.options.iter().map(|o| o.id.clone()).collect() }
}

/// The controls of one question; returns a new response when the taker changed it
/// (`Some(None)`: cleared).
fn control(ui: &mut egui::Ui, lang: Lang, open: &OpenSitting, p: &Presented) -> Option<Option<Value>> {
    let item = &p.item;
    let current = open.responses.get(&item.id).cloned().unwrap_or(Value::Null);
    let mut out = None;
    match item.kind.as_str() {
        "single" | "multiple" => {
            let chosen = chosen_ids(&current, "choices");
            if item.kind == "multiple" {
                ui.label(RichText::new(t(lang, "as_choose_all")).italics());
            }
            let width = (ui.available_width() - 40.0).max(200.0);
            for (i, o) in item.options.iter().enumerate() {
                let text = inline(ui, &format!("{}. {}", letter(i), pick(lang, &o.text)), width);
                let on = chosen.contains(&o.id);
                if item.kind == "single" {
                    if ui.radio(on, text).clicked() && !on {
                        out = Some(Some(json!({"choices": [o.id]})));
                    }
                } else {
                    let mut b = on;
                    if ui.checkbox(&mut b, text).changed() {
                        let mut next = chosen.clone();
                        if b {
                            next.push(o.id.clone());
                        } else {
                            next.retain(|c| c != &o.id);
                        }
                        out = Some(Some(json!({"choices": in_option_order(item, &next)})));
                    }
                }
            }
        }
        "true_false" => {
            let value = current.get("value").and_then(Value::as_bool);
            for (i, (v, key)) in [(true, "as_true"), (false, "as_false")].into_iter().enumerate() {
                if ui.radio(value == Some(v), format!("{}. {}", letter(i), t(lang, key))).clicked() && value != Some(v) {
                    out = Some(Some(json!({"value": v})));
                }
            }
        }
        "numeric" | "text" => {
            let id = ui.make_persistent_id(("answer-input", item.id.as_str()));
            let saved = match item.kind.as_str() {
                "numeric" => current.get("number").and_then(Value::as_f64).map(|x| format!("{x}")).unwrap_or_default(),
                _ => current.get("text").and_then(Value::as_str).unwrap_or_default().to_string(),
            };
            let mut buffer: String = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or(saved);
            ui.horizontal(|ui| {
                let label = ui.label(t(lang, "as_your_answer"));
                let edit = egui::TextEdit::singleline(&mut buffer)
                    .id(id.with("edit"))
                    .desired_width(if item.kind == "numeric" { 160.0 } else { 420.0 })
                    .char_limit(200);
                let r = ui.add(edit).labelled_by(label.id);
                let unit = pick(lang, &item.unit);
                if !unit.is_empty() {
                    ui.label(unit);
                }
                if r.changed() {
                    let trimmed = buffer.trim();
                    if trimmed.is_empty() {
                        out = Some(None);
                    } else if item.kind == "numeric" {
                        if let Some(x) = parse_number(trimmed) {
                            out = Some(Some(json!({"number": x})));
                        }
                    } else {
                        out = Some(Some(json!({"text": buffer.replace(['\n', '\r', '\t'], " ")})));
                    }
                }
            });
            if item.kind == "numeric" && !buffer.trim().is_empty() && parse_number(buffer.trim()).is_none() {
                ui.colored_label(ui.visuals().warn_fg_color, t(lang, "as_not_a_number"));
            }
            ui.data_mut(|d| d.insert_temp(id, buffer));
        }
        "ordering" => {
            let order = order_of(item, &current);
            ui.label(RichText::new(t(lang, "as_ordering_help")).italics());
            let mut moved = None;
            for (i, oid) in order.iter().enumerate() {
                let text = item.options.iter().find(|o| &o.id == oid).map_or_else(|| oid.clone(), |o| pick(lang, &o.text));
                ui.horizontal(|ui| {
                    ui.label(inline(ui, &format!("{}. {text}", i + 1), 600.0));
                    if ui.add_enabled(i > 0, egui::Button::new("↑")).on_hover_text(t(lang, "as_move_up")).clicked() {
                        moved = Some((i, i - 1));
                    }
                    if ui.add_enabled(i + 1 < order.len(), egui::Button::new("↓")).on_hover_text(t(lang, "as_move_down")).clicked() {
                        moved = Some((i, i + 1));
                    }
                });
            }
            if let Some((i, j)) = moved {
                let mut order = order.clone();
                order.swap(i, j);
                out = Some(Some(json!({"order": order})));
            }
            if current.is_null() && ui.button(t(lang, "as_keep_order")).clicked() {
                out = Some(Some(json!({"order": order})));
            }
        }
        "matching" => {
            let pairs: Vec<(String, String)> = current
                .get("pairs")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), p.get(1)?.as_str()?.to_string()))).collect())
                .unwrap_or_default();
            let mut changed = None;
            egui::Grid::new(("matching", item.id.as_str())).num_columns(2).spacing([16.0, 8.0]).show(ui, |ui| {
                for o in &item.options {
                    let label = ui.label(inline(ui, &format!("{} →", pick(lang, &o.text)), 520.0));
                    let now = pairs.iter().find(|(a, _)| a == &o.id).map(|(_, b)| b.clone());
                    let shown = now.as_ref().and_then(|b| item.targets.iter().find(|t| &t.id == b)).map_or_else(|| "—".to_string(), |t| pick(lang, &t.text));
                    let mut pick_id = now.clone();
                    egui::ComboBox::from_id_salt(("match", item.id.as_str(), o.id.as_str()))
                        .selected_text(shown)
                        .width(260.0)
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut pick_id, None, "—");
                            for target in &item.targets {
                                ui.selectable_value(&mut pick_id, Some(target.id.clone()), pick(lang, &target.text));
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    if pick_id != now {
                        changed = Some((o.id.clone(), pick_id));
                    }
                    ui.end_row();
                }
            });
            if let Some((option, target)) = changed {
                let mut next: Vec<(String, String)> = pairs.into_iter().filter(|(a, _)| a != &option).collect();
                if let Some(target) = target {
                    next.push((option, target));
                }
                // In the options' order, so the same answer is always the same JSON.
                next.sort_by_key(|(a, _)| item.options.iter().position(|o| &o.id == a));
                out = Some(if next.is_empty() { None } else { Some(json!({"pairs": next.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>()})) });
            }
        }
        _ => {
            ui.colored_label(ui.visuals().warn_fg_color, t(lang, "as_unsupported"));
        }
    }
    out
}

/// A number as typed: `3.5`, `3,5` or full-width digits.
pub fn parse_number(s: &str) -> Option<f64> {
    let s: String = s
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '，' | ',' | '。' => '.',
            '－' => '-',
            c => c,
        })
        .collect();
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A performance task: the lab's task, the program editor, hand-in, and each program's grade.
fn performance(ui: &mut egui::Ui, lang: Lang, open: &OpenSitting, p: &Presented, draft: &mut Option<(String, String, String)>, hand_in: &mut Option<String>) {
    let Some(task) = &p.task else {
        ui.colored_label(ui.visuals().warn_fg_color, t(lang, "as_err_lab_gone"));
        return;
    };
    ui.label(RichText::new(tf(lang, "as_task", &[("title", &lang.pick(&task.summary.title))])).strong());
    rich(ui, lang.pick(&task.instructions));
    ui.label(RichText::new(t(lang, "as_program_help")).small());
    let (mut language, mut program) =
        open.drafts.get(&p.item.id).cloned().unwrap_or_else(|| (task.summary.languages.first().cloned().unwrap_or_else(|| "rhai".into()), String::new()));
    let before = (language.clone(), program.clone());
    if task.summary.languages.len() > 1 {
        ui.horizontal(|ui| {
            let label = ui.label(t(lang, "language"));
            egui::ComboBox::from_id_salt(("program-language", p.item.id.as_str()))
                .selected_text(language.clone())
                .show_ui(ui, |ui| {
                    for l in &task.summary.languages {
                        ui.selectable_value(&mut language, l.clone(), l.as_str());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        // A fresh starter follows the language; the taker's own program stays.
        if language != before.0 && task.starter.get(&before.0).is_some_and(|s| s == &program) {
            program = task.starter.get(&language).cloned().unwrap_or_default();
        }
    }
    let label = ui.label(t(lang, "as_your_program"));
    ui.add(egui::TextEdit::multiline(&mut program).code_editor().desired_rows(12).desired_width(f32::INFINITY)).labelled_by(label.id);
    if (language.clone(), program.clone()) != before {
        *draft = Some((p.item.id.clone(), language, program));
    }
    let used = p.programs.iter().filter(|x| x.status != "failed").count() as i64;
    let limit = p.attempt_limit.unwrap_or(10);
    let left = (limit - used).max(0);
    ui.horizontal_wrapped(|ui| {
        let label = if open.handing_in { t(lang, "as_handing_in") } else { t(lang, "as_hand_in") };
        if ui.add_enabled(left > 0 && !open.handing_in, egui::Button::new(RichText::new(format!("↑ {label}")).strong())).clicked() {
            *hand_in = Some(p.item.id.clone());
        }
        ui.label(tf(lang, "as_attempts_left", &[("n", &left), ("max", &limit)]));
    });
    for (i, x) in p.programs.iter().enumerate() {
        let status = match x.status.as_str() {
            "done" => tf(lang, "as_points_of", &[("points", &x.points.unwrap_or(0)), ("max", &p.item.max_points)]),
            "failed" => t(lang, "as_program_failed").to_string(),
            _ => t(lang, "as_grading").to_string(),
        };
        let cases = x.report.as_ref().and_then(|r| r.get("cases")).and_then(Value::as_array);
        let passed = cases.map(|c| (c.iter().filter(|c| c.get("passed").and_then(Value::as_bool) == Some(true)).count(), c.len()));
        let extra = passed.map(|(n, total)| format!(" · {}", tf(lang, "as_cases_passed", &[("n", &n), ("total", &total)]))).unwrap_or_default();
        ui.label(format!("{} · {status}{extra}", tf(lang, "as_program_n", &[("n", &(i + 1))])));
    }
}

/// The results: total, per literacy, and per question the answer given, the right one and why.
fn results(ui: &mut egui::Ui, lang: Lang, assess: &mut Assess, session: &Session) {
    let mut back = false;
    egui::Panel::top("results-bar").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            if ui.button(format!("← {}", t(lang, "as_back"))).clicked() {
                back = true;
            }
            if let Some(open) = &assess.sitting {
                ui.label(RichText::new(&open.view.assessment.title).strong());
            }
        });
    });
    if back {
        assess.close(Some(session));
        return;
    }
    let size = assess.font_size;
    let Some(open) = &assess.sitting else { return };
    egui::CentralPanel::default().show(ui, |ui| {
        let style = ui.style_mut();
        style.text_styles.insert(TextStyle::Body, FontId::proportional(size));
        style.text_styles.insert(TextStyle::Monospace, FontId::monospace(size * 0.9));
        egui::ScrollArea::vertical().id_salt("results").show(ui, |ui| {
            ui.heading(t(lang, "as_results"));
            let r = open.view.results.clone();
            if open.closed_by.as_deref() == Some("time_up") || r.as_ref().and_then(|r| r.submitted_by.as_deref()) == Some("deadline") {
                ui.colored_label(ui.visuals().warn_fg_color, t(lang, "as_closed_by_deadline"));
            }
            if open.dropped > 0 {
                ui.colored_label(ui.visuals().warn_fg_color, tf(lang, "as_dropped", &[("n", &open.dropped)]));
            }
            match &r {
                Some(r) if r.grading => {
                    ui.label(RichText::new(t(lang, "as_grading_results")).strong());
                }
                Some(r) => {
                    ui.label(
                        RichText::new(tf(lang, "as_total", &[("points", &r.points.unwrap_or(0)), ("max", &r.max_points.unwrap_or(0))]))
                            .size(size * 1.4)
                            .strong(),
                    );
                    egui::Grid::new("literacy-results").num_columns(2).striped(true).show(ui, |ui| {
                        for l in &r.literacies {
                            let name = qiming_curriculum::meta::LITERACIES
                                .iter()
                                .find(|x| x.0 == l.literacy)
                                .map_or_else(|| pick(lang, &l.name), |x| (if lang == Lang::Zh { x.1 } else { x.2 }).to_string());
                            ui.label(name);
                            ui.label(tf(lang, "as_points_of", &[("points", &l.points), ("max", &l.max_points)]));
                            ui.end_row();
                        }
                    });
                }
                None => {}
            }
            ui.separator();
            for (i, p) in open.view.items.iter().enumerate() {
                let points = match p.points {
                    Some(x) => tf(lang, "as_points_of", &[("points", &x), ("max", &p.item.max_points)]),
                    None => t(lang, "as_grading").to_string(),
                };
                ui.label(RichText::new(format!("{} · {points}", tf(lang, "as_question_short", &[("n", &(i + 1))]))).strong());
                rich(ui, &pick(lang, &p.item.stem));
                let yours = if p.item.kind == "performance" {
                    tf(lang, "as_programs_handed_in", &[("n", &p.programs.len())])
                } else {
                    describe(lang, &p.item, p.response.as_ref())
                };
                ui.label(format!("{}{}{yours}", t(lang, "as_your_answer"), colon(lang)));
                if p.item.kind != "performance" {
                    ui.label(format!("{}{}{}", t(lang, "as_correct_answer"), colon(lang), describe(lang, &p.item, p.correct.as_ref())));
                }
                if let Some(e) = p.explanation.as_ref().map(|e| pick(lang, e)).filter(|e| !e.is_empty()) {
                    ui.label(RichText::new(format!("{}{}", t(lang, "as_explanation"), colon(lang).trim_end())).strong());
                    rich(ui, &e);
                }
                ui.separator();
            }
        });
    });
}

/// "：" in Chinese, ": " in English.
fn colon(lang: Lang) -> &'static str {
    if lang == Lang::Zh { "：" } else { ": " }
}

/// The entry for an assessment id, when the list has it.
pub fn entry(assess: &Assess, id: i64) -> Option<&AssessmentEntry> {
    assess.list.iter().find(|a| a.id == id)
}
