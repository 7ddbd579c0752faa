//! The world editor (for teachers): draw walls, lines and curves, colour zones, the start pose and the exit on a grid, and save a scenario file.
//!
//! The editor edits the scenario's TOML *document*, not a model of its own:
//! what it draws is appended to or removed from the document's tables, and
//! every other key (a maze, obstacles, sensors, noise, seeded ranges it has no
//! control for) stays as it was. So nothing the format can say is silently
//! dropped on the way through the editor. The preview is the engine's own
//! reading of the document (`Scenario::parse` + `resolve`), and a document the
//! engine rejects is never written.

use std::path::{Path, PathBuf};

use egui::{Color32, Pos2, RichText, Stroke};
use qiming_sim::Scenario;
use toml::{Table, Value};

use crate::arena::{self, Camera, Map};
use crate::i18n::{Lang, t, tf};

/// What a drag or click on the canvas does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Wall,
    Line,
    Curve,
    Zone,
    Exit,
    Start,
    Erase,
}

const TOOLS: &[(Tool, &str)] = &[
    (Tool::Wall, "tool_wall"),
    (Tool::Line, "tool_line"),
    (Tool::Curve, "tool_curve"),
    (Tool::Zone, "tool_zone"),
    (Tool::Exit, "tool_exit"),
    (Tool::Start, "tool_start"),
    (Tool::Erase, "tool_erase"),
];

/// Colours a teacher can pick (the engine's palette).
const COLORS: &[&str] = &["black", "red", "green", "blue", "yellow", "orange", "purple", "gray", "brown", "cyan", "pink", "white"];

/// Points of a curve drawn from three clicks: a quadratic Bézier sampled into
/// the polyline the format stores (lines are polylines in scenario files).
const CURVE_SEGMENTS: usize = 16;

pub struct WorldEditor {
    pub doc: Table,
    pub path: Option<PathBuf>,
    pub tool: Tool,
    pub color: &'static str,
    /// Grid step for snapping (m).
    pub grid: f64,
    pub seed: u64,
    /// Points placed so far by a multi-click tool (line, curve).
    pending: Vec<[f64; 2]>,
    drag_from: Option<[f64; 2]>,
    camera: Camera,
    /// The engine's verdict on the current document.
    pub problem: Option<String>,
    pub saved: bool,
    /// Where the arena was drawn last frame (tests turn metres into clicks with it).
    pub last_map: Option<Map>,
}

impl Default for WorldEditor {
    fn default() -> Self {
        WorldEditor::new()
    }
}

fn arr(xy: [f64; 2]) -> Value {
    Value::Array(vec![Value::Float(round(xy[0])), Value::Float(round(xy[1]))])
}

/// Millimetres are plenty; keeps saved files readable.
fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Integer(i) => Some(*i as f64),
        // A seeded range: its middle, for drawing.
        Value::Table(t) => Some((num(t.get("min")?)? + num(t.get("max")?)?) / 2.0),
        _ => None,
    }
}

fn point(v: &Value) -> Option<[f64; 2]> {
    let a = v.as_array()?;
    Some([num(a.first()?)?, num(a.get(1)?)?])
}

/// `p` on the nearest grid point (no grid: as is).
fn snap(grid: f64, p: [f64; 2]) -> [f64; 2] {
    if grid <= 0.0 {
        return p;
    }
    [(p[0] / grid).round() * grid, (p[1] / grid).round() * grid]
}

fn dist_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 { 0.0 } else { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0) };
    let (x, y) = (a[0] + t * dx, a[1] + t * dy);
    ((p[0] - x).powi(2) + (p[1] - y).powi(2)).sqrt()
}

impl WorldEditor {
    /// A new, empty 3 m × 2 m arena with the robot on the left.
    pub fn new() -> WorldEditor {
        let source = "format_version = 1\nname = \"my-world\"\ntitle = \"My world\"\nduration = 30.0\n\n[arena]\nsize = [3.0, 2.0]\nfloor = \"white\"\n\n[robot]\nx = 0.4\ny = 1.0\nheading = 0.0\n";
        let doc: Table = toml::from_str(source).expect("the template parses");
        WorldEditor::from_doc(doc, None)
    }

    fn from_doc(doc: Table, path: Option<PathBuf>) -> WorldEditor {
        let mut editor = WorldEditor {
            doc,
            path,
            tool: Tool::Wall,
            color: "black",
            grid: 0.1,
            seed: 1,
            pending: Vec::new(),
            drag_from: None,
            camera: Camera { tools: true, ..Camera::default() },
            problem: None,
            saved: true,
            last_map: None,
        };
        editor.validate(Lang::En);
        editor
    }

    /// Opens a scenario file; a file the engine rejects opens too (so it can be fixed), with its error shown.
    pub fn open(path: &Path, lang: Lang) -> Result<WorldEditor, String> {
        let text = std::fs::read_to_string(path).map_err(|_| tf(lang, "file_unreadable", &[("path", &path.display())]))?;
        let doc: Table = toml::from_str(&text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| qiming_sim::scenario::line_col(&text, s.start));
            tf(lang, "scenario_invalid", &[("path", &path.display()), ("line", &line), ("column", &column), ("detail", &e.message())])
        })?;
        let mut editor = WorldEditor::from_doc(doc, Some(path.to_path_buf()));
        editor.validate(lang);
        Ok(editor)
    }

    /// The document as TOML text.
    pub fn source(&self) -> String {
        toml::to_string(&self.doc).unwrap_or_default()
    }

    /// The engine's reading of the document, or its error in the user's words.
    pub fn scenario(&self, lang: Lang) -> Result<Scenario, String> {
        let source = self.source();
        let name = self.path.as_ref().map_or_else(|| "world.toml".to_string(), |p| p.display().to_string());
        Scenario::parse(&source, &name).map_err(|e| crate::app::scenario_error(lang, Path::new(&name), &e))
    }

    fn validate(&mut self, lang: Lang) {
        self.problem = self.scenario(lang).err();
    }

    fn changed(&mut self, lang: Lang) {
        self.saved = false;
        self.validate(lang);
    }

    fn snap(&self, p: [f64; 2]) -> [f64; 2] {
        snap(self.grid, p)
    }

    fn list(&mut self, key: &str) -> &mut Vec<Value> {
        let entry = self.doc.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        entry.as_array_mut().expect("just made an array")
    }

    pub fn add_wall(&mut self, from: [f64; 2], to: [f64; 2], lang: Lang) {
        let mut wall = Table::new();
        wall.insert("from".into(), arr(from));
        wall.insert("to".into(), arr(to));
        if self.color != "black" && self.color != "gray" {
            wall.insert("color".into(), Value::String(self.color.into()));
        }
        self.list("walls").push(Value::Table(wall));
        self.changed(lang);
    }

    pub fn add_line(&mut self, points: &[[f64; 2]], lang: Lang) {
        let mut line = Table::new();
        line.insert("points".into(), Value::Array(points.iter().map(|p| arr(*p)).collect()));
        line.insert("color".into(), Value::String(self.color.into()));
        line.insert("width".into(), Value::Float(0.03));
        self.list("lines").push(Value::Table(line));
        self.changed(lang);
    }

    /// A curve through three clicks (start, control, end), stored as a polyline.
    pub fn add_curve(&mut self, a: [f64; 2], control: [f64; 2], b: [f64; 2], lang: Lang) {
        let points: Vec<[f64; 2]> = (0..=CURVE_SEGMENTS)
            .map(|i| {
                let t = i as f64 / CURVE_SEGMENTS as f64;
                let u = 1.0 - t;
                [u * u * a[0] + 2.0 * u * t * control[0] + t * t * b[0], u * u * a[1] + 2.0 * u * t * control[1] + t * t * b[1]]
            })
            .collect();
        self.add_line(&points, lang);
    }

    /// A named rectangular zone painted in the current colour.
    pub fn add_zone(&mut self, name: &str, a: [f64; 2], b: [f64; 2], color: &str, lang: Lang) {
        let zones = self.list("zones");
        zones.retain(|z| z.get("name").and_then(Value::as_str) != Some(name));
        let mut zone = Table::new();
        zone.insert("name".into(), Value::String(name.into()));
        zone.insert(
            "rect".into(),
            Value::Array([a[0].min(b[0]), a[1].min(b[1]), a[0].max(b[0]), a[1].max(b[1])].into_iter().map(|v| Value::Float(round(v))).collect()),
        );
        zone.insert("color".into(), Value::String(color.into()));
        zones.push(Value::Table(zone));
        self.changed(lang);
    }

    fn next_zone_name(&self) -> String {
        let taken =
            |n: &str| self.doc.get("zones").and_then(Value::as_array).is_some_and(|z| z.iter().any(|z| z.get("name").and_then(Value::as_str) == Some(n)));
        (1..).map(|i| format!("zone-{i}")).find(|n| !taken(n)).expect("some name is free")
    }

    /// Places the robot; a drag sets its heading too.
    pub fn set_start(&mut self, at: [f64; 2], heading_deg: Option<f64>, lang: Lang) {
        let robot = self.doc.entry("robot".to_string()).or_insert_with(|| Value::Table(Table::new()));
        if let Some(r) = robot.as_table_mut() {
            r.insert("x".into(), Value::Float(round(at[0])));
            r.insert("y".into(), Value::Float(round(at[1])));
            if let Some(h) = heading_deg {
                r.insert("heading".into(), Value::Float(h.round()));
            }
        }
        self.changed(lang);
    }

    /// Removes the wall, line or zone nearest to `p` (within 10 cm).
    pub fn erase_near(&mut self, p: [f64; 2], lang: Lang) -> bool {
        let mut best: Option<(f64, &str, usize)> = None;
        let mut consider = |d: f64, key: &'static str, i: usize| {
            if d < 0.1 && best.is_none_or(|(bd, ..)| d < bd) {
                best = Some((d, key, i));
            }
        };
        for (key, items) in [("walls", self.doc.get("walls")), ("lines", self.doc.get("lines")), ("zones", self.doc.get("zones"))] {
            for (i, item) in items.and_then(Value::as_array).into_iter().flatten().enumerate() {
                let d = match key {
                    "walls" => match (item.get("from").and_then(point), item.get("to").and_then(point)) {
                        (Some(a), Some(b)) => dist_to_segment(p, a, b),
                        _ => f64::INFINITY,
                    },
                    "lines" => {
                        let pts: Vec<[f64; 2]> = item.get("points").and_then(Value::as_array).into_iter().flatten().filter_map(point).collect();
                        pts.windows(2).map(|w| dist_to_segment(p, w[0], w[1])).fold(f64::INFINITY, f64::min)
                    }
                    _ => match item.get("rect").and_then(Value::as_array).map(|r| r.iter().filter_map(num).collect::<Vec<_>>()) {
                        Some(r) if r.len() == 4 && p[0] >= r[0] && p[0] <= r[2] && p[1] >= r[1] && p[1] <= r[3] => 0.05,
                        _ => f64::INFINITY,
                    },
                };
                consider(d, key, i);
            }
        }
        let Some((_, key, i)) = best else { return false };
        self.list(key).remove(i);
        self.changed(lang);
        true
    }

    /// Saves the document to `path`, only if the engine accepts it.
    pub fn save(&mut self, path: &Path, lang: Lang) -> Result<(), String> {
        self.path = Some(path.to_path_buf());
        self.scenario(lang)?;
        let text = format!("# Made with the Qiming Studio world editor; `qiming run` and labs read it.\n{}", self.source());
        crate::files::write_atomically(path, text.as_bytes()).map_err(|_| tf(lang, "save_failed", &[("path", &path.display())]))?;
        self.saved = true;
        Ok(())
    }

    fn canvas_input(&mut self, response: &egui::Response, map: &Map, lang: Lang) {
        let grid = self.grid;
        let at = move |pos: Pos2| snap(grid, map.to_world(pos));
        let primary_press = response.drag_started_by(egui::PointerButton::Primary);
        let primary_release = response.drag_stopped_by(egui::PointerButton::Primary);
        match self.tool {
            Tool::Wall | Tool::Zone | Tool::Exit | Tool::Start => {
                // Where the button went down, not where the drag was recognised (a few points later).
                if primary_press && let Some(p) = response.ctx.input(|i| i.pointer.press_origin()).or(response.interact_pointer_pos()) {
                    self.drag_from = Some(at(p));
                }
                let end = if primary_release {
                    response.interact_pointer_pos()
                } else if response.clicked() {
                    self.drag_from = response.interact_pointer_pos().map(at);
                    response.interact_pointer_pos()
                } else {
                    None
                };
                if let (Some(from), Some(to)) = (self.drag_from, end.map(at)) {
                    self.drag_from = None;
                    let moved = (to[0] - from[0]).abs() + (to[1] - from[1]).abs() > 1e-9;
                    match self.tool {
                        Tool::Wall if moved => self.add_wall(from, to, lang),
                        Tool::Zone if moved => {
                            let name = self.next_zone_name();
                            let color = self.color;
                            self.add_zone(&name, from, to, color, lang);
                        }
                        Tool::Exit if moved => self.add_zone("exit", from, to, "green", lang),
                        Tool::Start => {
                            let heading = moved.then(|| (to[1] - from[1]).atan2(to[0] - from[0]).to_degrees());
                            self.set_start(from, heading, lang);
                        }
                        _ => {}
                    }
                }
            }
            Tool::Line | Tool::Curve => {
                if response.clicked()
                    && let Some(p) = response.interact_pointer_pos()
                {
                    self.pending.push(at(p));
                    if self.tool == Tool::Curve && self.pending.len() == 3 {
                        let [a, c, b] = [self.pending[0], self.pending[1], self.pending[2]];
                        self.pending.clear();
                        self.add_curve(a, c, b, lang);
                    }
                }
                if self.tool == Tool::Line && (response.double_clicked() || response.ctx.input(|i| i.key_pressed(egui::Key::Enter))) {
                    let mut pts = std::mem::take(&mut self.pending);
                    pts.dedup_by(|a, b| (a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
                    if pts.len() >= 2 {
                        self.add_line(&pts, lang);
                    }
                }
            }
            Tool::Erase => {
                if response.clicked()
                    && let Some(p) = response.interact_pointer_pos()
                {
                    self.erase_near(map.to_world(p), lang);
                }
            }
        }
    }

    /// Draws the editor. Returns a path prompt request (open or save), if any.
    pub fn show(&mut self, ui: &mut egui::Ui, lang: Lang) -> Option<bool> {
        let mut prompt = None;
        egui::Panel::left("world-tools").resizable(true).default_size(300.0).show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("world-tools-scroll").show(ui, |ui| prompt = self.side_panel(ui, lang));
        });
        egui::CentralPanel::default().show(ui, |ui| {
            let scenario = self.scenario(lang);
            match scenario {
                Ok(s) => {
                    let world = s.resolve(self.seed);
                    let (response, map) = arena::show(ui, &mut self.camera, &world, None, t(lang, "world_hint"));
                    self.draw_grid_and_pending(ui, &response, &map, &world);
                    self.last_map = Some(map);
                    self.canvas_input(&response, &map, lang);
                }
                Err(message) => {
                    ui.colored_label(ui.visuals().error_fg_color, message);
                }
            }
        });
        prompt
    }

    fn draw_grid_and_pending(&self, ui: &egui::Ui, response: &egui::Response, map: &Map, world: &qiming_sim::ResolvedScenario) {
        let painter = ui.painter_at(response.rect);
        let [w, h] = world.arena_size;
        if self.grid > 0.0 && map.scale() * self.grid as f32 >= 6.0 {
            let stroke = Stroke::new(0.5, Color32::from_rgba_unmultiplied(0x80, 0x80, 0xA0, 70));
            let mut x = 0.0;
            while x <= w + 1e-9 {
                painter.line_segment([map.to_screen([x, 0.0]), map.to_screen([x, h])], stroke);
                x += self.grid;
            }
            let mut y = 0.0;
            while y <= h + 1e-9 {
                painter.line_segment([map.to_screen([0.0, y]), map.to_screen([w, y])], stroke);
                y += self.grid;
            }
        }
        let accent = Stroke::new(2.0, Color32::from_rgb(0xE6, 0x39, 0x46));
        for p in &self.pending {
            painter.circle_stroke(map.to_screen(*p), 4.0, accent);
        }
        if let (Some(from), Some(pointer)) = (self.drag_from, response.hover_pos()) {
            let to = self.snap(map.to_world(pointer));
            match self.tool {
                Tool::Zone | Tool::Exit => {
                    painter.rect_stroke(egui::Rect::from_two_pos(map.to_screen(from), map.to_screen(to)), 0.0, accent, egui::StrokeKind::Middle);
                }
                _ => {
                    painter.line_segment([map.to_screen(from), map.to_screen(to)], accent);
                }
            }
        }
    }

    fn side_panel(&mut self, ui: &mut egui::Ui, lang: Lang) -> Option<bool> {
        let mut prompt = None;
        ui.horizontal_wrapped(|ui| {
            if ui.button(t(lang, "world_new")).clicked() {
                *self = WorldEditor::new();
            }
            if ui.button(t(lang, "open_file")).clicked() {
                prompt = Some(false);
            }
            if ui.button(t(lang, "save_file")).clicked() {
                prompt = Some(true);
            }
        });
        if let Some(p) = &self.path {
            ui.monospace(p.display().to_string());
        }
        match &self.problem {
            Some(problem) => {
                ui.colored_label(ui.visuals().error_fg_color, problem);
            }
            None => {
                ui.label(RichText::new(format!("✔ {}", t(lang, "world_valid"))).color(Color32::from_rgb(0x1B, 0x7F, 0x3B)));
            }
        }
        ui.separator();
        ui.label(RichText::new(t(lang, "world_tools")).strong());
        ui.horizontal_wrapped(|ui| {
            for (tool, key) in TOOLS {
                if ui.selectable_label(self.tool == *tool, t(lang, key)).clicked() {
                    self.tool = *tool;
                    self.pending.clear();
                }
            }
        });
        ui.label(RichText::new(t(lang, tool_help(self.tool))).small());
        ui.horizontal_wrapped(|ui| {
            ui.label(t(lang, "world_color"));
            for c in COLORS {
                let color = qiming_sim::color::PALETTE.iter().find(|(n, _)| n == c).map_or(Color32::GRAY, |(_, [r, g, b])| Color32::from_rgb(*r, *g, *b));
                let (rect, response) = ui.allocate_exact_size(egui::vec2(18.0, 18.0), egui::Sense::click());
                ui.painter().rect_filled(rect, 3.0, color);
                if self.color == *c {
                    ui.painter().rect_stroke(rect, 3.0, Stroke::new(2.0, ui.visuals().strong_text_color()), egui::StrokeKind::Outside);
                }
                if response.on_hover_text(*c).clicked() {
                    self.color = c;
                }
            }
        });
        let grid_label = ui.label(t(lang, "world_grid"));
        ui.add(egui::Slider::new(&mut self.grid, 0.0..=0.5).step_by(0.05).suffix(" m")).labelled_by(grid_label.id);
        ui.separator();
        self.properties(ui, lang);
        ui.separator();
        self.element_list(ui, lang);
        let leftovers: Vec<&String> = self.doc.keys().filter(|k| !KNOWN.contains(&k.as_str())).collect();
        if !leftovers.is_empty() || self.doc.contains_key("maze") || self.doc.contains_key("obstacles") {
            ui.separator();
            ui.label(RichText::new(t(lang, "world_kept")).small());
        }
        prompt
    }

    fn properties(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let mut changed = false;
        egui::Grid::new("world-props").num_columns(2).show(ui, |ui| {
            for key in ["name", "title"] {
                let label = ui.label(t(lang, if key == "name" { "world_name" } else { "world_title" }));
                let mut value = self.doc.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
                if ui.text_edit_singleline(&mut value).labelled_by(label.id).changed() {
                    self.doc.insert(key.into(), Value::String(value));
                    changed = true;
                }
                ui.end_row();
            }
            let label = ui.label(t(lang, "world_duration"));
            let mut duration = self.doc.get("duration").and_then(num).unwrap_or(30.0);
            if ui.add(egui::DragValue::new(&mut duration).range(1.0..=600.0).suffix(" s")).labelled_by(label.id).changed() {
                self.doc.insert("duration".into(), Value::Float(duration));
                changed = true;
            }
            ui.end_row();
            let arena = self.doc.entry("arena".to_string()).or_insert_with(|| Value::Table(Table::new()));
            if let Some(arena) = arena.as_table_mut() {
                let mut size = arena.get("size").and_then(point).unwrap_or([3.0, 2.0]);
                let label = ui.label(t(lang, "world_size"));
                ui.horizontal(|ui| {
                    let a = ui.add(egui::DragValue::new(&mut size[0]).range(0.5..=50.0).speed(0.05).suffix(" m")).labelled_by(label.id);
                    let b = ui.add(egui::DragValue::new(&mut size[1]).range(0.5..=50.0).speed(0.05).suffix(" m")).labelled_by(label.id);
                    if a.changed() || b.changed() {
                        arena.insert("size".into(), arr(size));
                        changed = true;
                    }
                });
                ui.end_row();
            }
            let robot = self.doc.entry("robot".to_string()).or_insert_with(|| Value::Table(Table::new()));
            if let Some(robot) = robot.as_table_mut() {
                for (key, label_key, lo, hi) in
                    [("x", "world_start_x", 0.0, 50.0), ("y", "world_start_y", 0.0, 50.0), ("heading", "world_heading", -360.0, 360.0)]
                {
                    let label = ui.label(t(lang, label_key));
                    ui.horizontal(|ui| {
                        let current = robot.get(key).cloned().unwrap_or(Value::Float(0.0));
                        let mut ranged = current.is_table();
                        let (mut a, mut b) = match &current {
                            Value::Table(r) => (r.get("min").and_then(num).unwrap_or(0.0), r.get("max").and_then(num).unwrap_or(0.0)),
                            v => (num(v).unwrap_or(0.0), num(v).unwrap_or(0.0)),
                        };
                        let speed = if key == "heading" { 1.0 } else { 0.01 };
                        let mut edited = ui.add(egui::DragValue::new(&mut a).range(lo..=hi).speed(speed)).labelled_by(label.id).changed();
                        if ranged {
                            ui.label("–");
                            edited |= ui.add(egui::DragValue::new(&mut b).range(lo..=hi).speed(speed)).labelled_by(label.id).changed();
                        }
                        let toggled = ui.checkbox(&mut ranged, t(lang, "world_seeded")).on_hover_text(t(lang, "world_seeded_hint")).changed();
                        if edited || toggled {
                            let value = if ranged {
                                let mut r = Table::new();
                                r.insert("min".into(), Value::Float(round(a.min(b.max(a)))));
                                r.insert("max".into(), Value::Float(round(b.max(a))));
                                Value::Table(r)
                            } else {
                                Value::Float(round(a))
                            };
                            robot.insert(key.into(), value);
                            changed = true;
                        }
                    });
                    ui.end_row();
                }
            }
            let label = ui.label(t(lang, "seed"));
            ui.add(egui::DragValue::new(&mut self.seed)).labelled_by(label.id).on_hover_text(t(lang, "world_seed_hint"));
            ui.end_row();
        });
        if changed {
            self.changed(lang);
        }
    }

    fn element_list(&mut self, ui: &mut egui::Ui, lang: Lang) {
        let mut remove = None;
        for (key, label) in [("walls", "world_walls"), ("lines", "world_lines"), ("zones", "world_zones")] {
            let items = self.doc.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
            egui::CollapsingHeader::new(tf(lang, label, &[("n", &items.len())])).id_salt(key).show(ui, |ui| {
                for (i, item) in items.iter().enumerate() {
                    ui.horizontal(|ui| {
                        let text = match key {
                            "zones" => item.get("name").and_then(Value::as_str).unwrap_or("?").to_string(),
                            "walls" => format!(
                                "{:?} → {:?}",
                                item.get("from").and_then(point).map(|p| [round(p[0]), round(p[1])]).unwrap_or_default(),
                                item.get("to").and_then(point).map(|p| [round(p[0]), round(p[1])]).unwrap_or_default()
                            ),
                            _ => tf(lang, "world_points", &[("n", &item.get("points").and_then(Value::as_array).map_or(0, Vec::len))]),
                        };
                        ui.label(text);
                        if ui.small_button(t(lang, "world_delete")).clicked() {
                            remove = Some((key, i));
                        }
                    });
                }
            });
        }
        if let Some((key, i)) = remove {
            self.list(key).remove(i);
            self.changed(lang);
        }
    }
}

/// Top-level keys the editor has controls for; anything else is kept as is and mentioned.
const KNOWN: &[&str] = &["format_version", "name", "title", "description", "duration", "arena", "robot", "walls", "lines", "zones"];

fn tool_help(tool: Tool) -> &'static str {
    match tool {
        Tool::Wall => "help_wall",
        Tool::Line => "help_line",
        Tool::Curve => "help_curve",
        Tool::Zone => "help_zone",
        Tool::Exit => "help_exit",
        Tool::Start => "help_start",
        Tool::Erase => "help_erase",
    }
}
