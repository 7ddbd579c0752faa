//! The top-down view of the arena: floor, paint, lines, zones, walls, the robot with its sensor rays and trail; zoom and pan.

use egui::{Color32, Pos2, Rect, Sense, Shape, Stroke, Vec2, pos2, vec2};
use qiming_sim::view::{AreaView, SolidView, WorldView};
use qiming_sim::{Replay, ResolvedScenario};

/// Zoom and pan of one view (1.0 = the whole arena fits).
#[derive(Clone, Copy, Debug)]
pub struct Camera {
    pub zoom: f32,
    /// Offset of the arena's centre from the view's centre, in points.
    pub pan: Vec2,
    /// The primary button belongs to editing tools (no panning with it).
    pub tools: bool,
}

impl Default for Camera {
    fn default() -> Self {
        Camera { zoom: 1.0, pan: Vec2::ZERO, tools: false }
    }
}

fn palette(name: &str) -> Color32 {
    qiming_sim::color::PALETTE.iter().find(|(n, _)| *n == name).map_or(Color32::GRAY, |(_, [r, g, b])| Color32::from_rgb(*r, *g, *b))
}

/// Where the arena is on screen: converts metres (y up) to points (y down) and back.
#[derive(Clone, Copy, Debug)]
pub struct Map {
    origin: Pos2,
    scale: f32,
}

impl Map {
    /// Screen point to metres.
    pub fn to_world(&self, p: Pos2) -> [f64; 2] {
        [f64::from((p.x - self.origin.x) / self.scale), f64::from((self.origin.y - p.y) / self.scale)]
    }
    /// Metres to a screen point.
    pub fn to_screen(&self, xy: [f64; 2]) -> Pos2 {
        self.p(xy)
    }
    /// Points per metre.
    pub fn scale(&self) -> f32 {
        self.scale
    }
    /// Metres (y up) to screen points (y down).
    fn p(&self, xy: [f64; 2]) -> Pos2 {
        pos2(self.origin.x + xy[0] as f32 * self.scale, self.origin.y - xy[1] as f32 * self.scale)
    }
    fn len(&self, m: f64) -> f32 {
        m as f32 * self.scale
    }
}

fn area_shape(map: &Map, area: &AreaView<'_>, fill: Color32, stroke: Stroke) -> Shape {
    match area {
        AreaView::Polygon { points } => {
            Shape::Path(egui::epaint::PathShape { points: points.iter().map(|p| map.p(*p)).collect(), closed: true, fill, stroke: stroke.into() })
        }
        AreaView::Circle { center, radius } => Shape::Circle(egui::epaint::CircleShape { center: map.p(*center), radius: map.len(*radius), fill, stroke }),
        AreaView::Stroke { a, b, half_width } => Shape::line_segment([map.p(*a), map.p(*b)], Stroke::new(map.len(half_width * 2.0), fill)),
    }
}

/// Draws `world` and, when given, the robot at `frame` of `replay`. Returns
/// the response and where the arena was drawn (the world editor turns clicks into metres with it).
pub fn show(ui: &mut egui::Ui, camera: &mut Camera, world: &ResolvedScenario, replay: Option<(&Replay, usize)>, hint: &str) -> (egui::Response, Map) {
    let size = ui.available_size().max(vec2(120.0, 120.0));
    let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
    // Dragging pans with the primary button, except where a tool uses it (the world editor pans with the secondary button).
    if response.dragged_by(egui::PointerButton::Secondary) || (response.dragged_by(egui::PointerButton::Primary) && !camera.tools) {
        camera.pan += response.drag_delta();
    }
    if response.double_clicked() && !camera.tools {
        *camera = Camera { tools: camera.tools, ..Camera::default() };
    }
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            camera.zoom = (camera.zoom * (1.0 + scroll * 0.002)).clamp(0.3, 12.0);
        }
    }
    let painter = ui.painter_at(rect);
    let robot_radius = replay.map_or(world.robot.radius as f32, |(r, _)| r.header.robot_radius);
    let view = WorldView::of(world, robot_radius);
    let [w, h] = view.arena_size;
    let fit = ((rect.width() - 16.0) / w as f32).min((rect.height() - 16.0) / h as f32).max(1.0);
    let scale = fit * camera.zoom;
    let centre = rect.center() + camera.pan;
    let map = Map { origin: pos2(centre.x - w as f32 * scale / 2.0, centre.y + h as f32 * scale / 2.0), scale };
    painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
    painter.rect_filled(Rect::from_two_pos(map.p([0.0, 0.0]), map.p([w, h])), 0.0, palette(view.floor));
    for p in &view.paint {
        painter.add(area_shape(&map, &p.area, palette(p.color), Stroke::NONE));
    }
    for l in &view.lines {
        let mut pts: Vec<Pos2> = l.points.iter().map(|p| map.p(*p)).collect();
        if l.closed
            && let Some(first) = pts.first().copied()
        {
            pts.push(first);
        }
        painter.add(Shape::line(pts, Stroke::new(map.len(l.width).max(1.0), palette(l.color))));
    }
    let zone_stroke = Stroke::new(2.0, Color32::from_rgb(0x1F, 0x77, 0xB4));
    for z in &view.zones {
        painter.add(area_shape(&map, &z.area, Color32::from_rgba_unmultiplied(0x1F, 0x77, 0xB4, 40), zone_stroke));
        let at = match &z.area {
            AreaView::Polygon { points } => points.first().copied().unwrap_or([0.0, 0.0]),
            AreaView::Circle { center, .. } => *center,
            AreaView::Stroke { a, .. } => *a,
        };
        painter.text(map.p(at) + vec2(3.0, 3.0), egui::Align2::LEFT_TOP, z.name, egui::FontId::proportional(12.0), Color32::from_rgb(0x0B, 0x3C, 0x5D));
    }
    for c in &view.checkpoints {
        painter.circle_stroke(map.p(c.center), map.len(c.radius), Stroke::new(2.0, Color32::from_rgb(0x8E, 0x44, 0xAD)));
    }
    for s in &view.solids {
        match s {
            SolidView::Box { center, half_extents, angle, color, sign, .. } => {
                let (sin, cos) = (angle.sin(), angle.cos());
                let corners = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]].map(|[sx, sy]| {
                    let (x, y) = (sx * half_extents[0], sy * half_extents[1]);
                    map.p([center[0] + x * cos - y * sin, center[1] + x * sin + y * cos])
                });
                painter.add(Shape::convex_polygon(corners.to_vec(), palette(color), Stroke::new(1.0, Color32::BLACK)));
                if let Some(kind) = sign {
                    // A sign: its symbol in front of the face (the side `angle` looks to).
                    let mark = match *kind {
                        "stop" => "S",
                        "go" => "G",
                        "left" => "<",
                        "right" => ">",
                        _ => "!",
                    };
                    let at = map.p([center[0] + 0.12 * cos, center[1] + 0.12 * sin]);
                    painter.text(at, egui::Align2::CENTER_CENTER, mark, egui::FontId::proportional(13.0), Color32::from_rgb(0x1A, 0x20, 0x2C));
                }
            }
            SolidView::Circle { center, radius, color, .. } => {
                painter.circle(map.p(*center), map.len(*radius), palette(color), Stroke::new(1.0, Color32::BLACK));
            }
        }
    }
    match replay {
        Some((replay, frame)) => draw_robot(&painter, &map, world, replay, frame),
        None => {
            let [x, y, th] = view.start;
            draw_body(&painter, &map, [x, y], th, f64::from(robot_radius));
        }
    }
    painter.text(rect.left_bottom() + vec2(6.0, -4.0), egui::Align2::LEFT_BOTTOM, hint, egui::FontId::proportional(11.0), ui.visuals().weak_text_color());
    (response, map)
}

fn draw_body(painter: &egui::Painter, map: &Map, at: [f64; 2], heading: f64, radius: f64) {
    let c = map.p(at);
    painter.circle(c, map.len(radius), Color32::from_rgb(0xF5, 0xA6, 0x23), Stroke::new(2.0, Color32::from_rgb(0x33, 0x33, 0x33)));
    let nose = map.p([at[0] + radius * heading.cos(), at[1] + radius * heading.sin()]);
    painter.line_segment([c, nose], Stroke::new(3.0, Color32::from_rgb(0x33, 0x33, 0x33)));
}

fn draw_robot(painter: &egui::Painter, map: &Map, world: &ResolvedScenario, replay: &Replay, frame: usize) {
    let frames = &replay.frames;
    if frames.is_empty() {
        return;
    }
    let frame = frame.min(frames.len() - 1);
    // The trail: every few ticks is enough for the eye, and keeps long runs cheap to draw.
    let stride = (frame / 2000).max(1);
    let trail: Vec<Pos2> = frames[..=frame].iter().step_by(stride).map(|f| map.p([f64::from(f.pose[0]), f64::from(f.pose[1])])).collect();
    painter.add(Shape::line(trail, Stroke::new(2.0, Color32::from_rgba_unmultiplied(0xE6, 0x39, 0x46, 180))));
    let f = &frames[frame];
    let (x, y, th) = (f64::from(f.pose[0]), f64::from(f.pose[1]), f64::from(f.pose[2]));
    let radius = f64::from(replay.header.robot_radius);
    // Sensor rays from the rim, as long as the reading.
    for (spec, reading) in world.robot.distance.iter().zip(&f.distance) {
        let a = th + spec.angle;
        let from = [x + radius * a.cos(), y + radius * a.sin()];
        let len = f64::from(*reading).min(spec.range);
        let to = [from[0] + len * a.cos(), from[1] + len * a.sin()];
        painter.line_segment([map.p(from), map.p(to)], Stroke::new(1.5, Color32::from_rgba_unmultiplied(0x2A, 0x9D, 0x8F, 220)));
        painter.circle_filled(map.p(to), 2.5, Color32::from_rgb(0x2A, 0x9D, 0x8F));
    }
    draw_body(painter, map, [x, y], th, radius);
}
