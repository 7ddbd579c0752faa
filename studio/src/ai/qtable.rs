//! The Q-table view of `ai-qlearning`: the Q-learning runs inside the student's own program, so the studio reads what the lab's helper functions print — `show_map()`'s text maze and `show_q()`'s `q CELL E N W S` lines, and one `episode N STEPS TOTAL` line per episode — and draws the Q-values, the greedy policy and the learning curve on the grid.
//!
//! Cells are numbered `s = row * width + column` from the bottom-left, and the
//! actions are 0 east, 1 north, 2 west, 3 south, as in the lab's starter.

use std::collections::BTreeMap;

use egui::{Color32, FontId, Pos2, Rect, Stroke, pos2, vec2};

/// The maze as `show_map()` prints it (rows top first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Maze {
    pub width: usize,
    pub height: usize,
    /// `north[i][c]`: a wall above printed row `i` (row `height` is the bottom edge).
    pub north: Vec<Vec<bool>>,
    /// `west[i][c]`: a wall left of column `c` in printed row `i` (`c == width` is the right edge).
    pub west: Vec<Vec<bool>>,
    /// What the cell shows: ' ', 'M' mud, 'E' exit, 'S' start; by cell number.
    pub marks: BTreeMap<usize, char>,
}

/// Everything the program printed that the view draws.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QLearning {
    pub maze: Option<Maze>,
    /// The last printed Q-values of each cell: east, north, west, south.
    pub q: BTreeMap<usize, [f64; 4]>,
    /// (episode, steps, total reward) per `episode` line.
    pub episodes: Vec<(f64, f64, f64)>,
}

/// Reads the lines the lab's program prints; other lines are ignored.
pub fn parse(output: &str) -> QLearning {
    let mut out = QLearning::default();
    let mut map_lines: Vec<&str> = Vec::new();
    let mut maze_done = false;
    for line in output.lines() {
        let line = line.trim_end();
        let mut words = line.split_whitespace();
        match words.next() {
            Some("q") => {
                let nums: Vec<f64> = words.filter_map(|w| w.parse().ok()).collect();
                if let [s, e, n, w, so] = nums[..]
                    && s >= 0.0
                    && s.fract() == 0.0
                {
                    out.q.insert(s as usize, [e, n, w, so]);
                }
            }
            Some("episode") => {
                let nums: Vec<f64> = words.filter_map(|w| w.parse().ok()).collect();
                if let [ep, steps, total] = nums[..] {
                    out.episodes.push((ep, steps, total));
                }
            }
            _ if !maze_done && (line.starts_with('+') || line.starts_with('|')) => map_lines.push(line),
            _ => {
                if !map_lines.is_empty() {
                    maze_done = true;
                }
            }
        }
        if !maze_done && map_lines.len() >= 3 && line.starts_with('+') && map_lines.len() % 2 == 1 {
            // A complete maze so far: keep reading in case more rows follow.
            out.maze = parse_maze(&map_lines);
        }
    }
    out
}

/// `+---+   +` lines (north walls) alternating with `| M     |` lines (cells, west walls).
fn parse_maze(lines: &[&str]) -> Option<Maze> {
    let first = lines.first()?;
    let width = first.chars().count().checked_sub(1)? / 4;
    if width == 0 || lines.len().is_multiple_of(2) {
        return None;
    }
    let height = lines.len() / 2;
    let mut maze = Maze { width, height, ..Maze::default() };
    for (k, line) in lines.iter().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        if k % 2 == 0 {
            maze.north.push((0..width).map(|c| chars.get(1 + 4 * c) == Some(&'-')).collect());
        } else {
            let row = height - 1 - k / 2;
            maze.west.push((0..=width).map(|c| chars.get(4 * c) == Some(&'|')).collect());
            for c in 0..width {
                let mark = chars.get(4 * c + 2).copied().unwrap_or(' ');
                if mark != ' ' {
                    maze.marks.insert(row * width + c, mark);
                }
            }
        }
    }
    Some(maze)
}

/// The greedy action in a cell (the lowest on a tie, as the lab's `best()`),
/// or `None` while all four values are equal (the cell has not been learned).
pub fn greedy(q: &[f64; 4]) -> Option<usize> {
    if q.iter().all(|&v| v == q[0]) {
        return None;
    }
    let mut best = 0;
    for a in 1..4 {
        if q[a] > q[best] {
            best = a;
        }
    }
    Some(best)
}

/// Unit vector of an action on screen (y grows downwards).
fn direction(a: usize) -> egui::Vec2 {
    match a {
        0 => vec2(1.0, 0.0),
        1 => vec2(0.0, -1.0),
        2 => vec2(-1.0, 0.0),
        _ => vec2(0.0, 1.0),
    }
}

/// Draws the grid: each cell tinted by its best Q-value, its four values
/// beside their edges, an arrow for the greedy action, walls, mud and the exit.
pub fn draw(ui: &mut egui::Ui, view: &QLearning, size: egui::Vec2) {
    let (width, height) = match &view.maze {
        Some(m) => (m.width, m.height),
        None => {
            let cells = view.q.keys().next_back().map_or(0, |&s| s + 1);
            let w = if cells.is_multiple_of(5) && cells > 0 { 5 } else { (cells as f64).sqrt().ceil() as usize };
            (w.max(1), cells.div_ceil(w.max(1)).max(1))
        }
    };
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let cell = (rect.width() / width as f32).min(rect.height() / height as f32);
    let origin = rect.left_top() + vec2((rect.width() - cell * width as f32) / 2.0, 0.0);
    let cell_rect = |row_from_top: usize, c: usize| Rect::from_min_size(origin + vec2(c as f32 * cell, row_from_top as f32 * cell), vec2(cell, cell));
    let values: Vec<f64> = view.q.values().flat_map(|q| q.iter().copied()).collect();
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let text = ui.visuals().text_color();
    let small = FontId::proportional((cell / 7.0).clamp(8.0, 12.0));
    for i in 0..height {
        let row = height - 1 - i;
        for c in 0..width {
            let s = row * width + c;
            let r = cell_rect(i, c);
            let mark = view.maze.as_ref().and_then(|m| m.marks.get(&s)).copied();
            let q = view.q.get(&s);
            let fill = match (mark, q) {
                (Some('M'), _) => Color32::from_rgb(0xB5, 0x8B, 0x5A),
                (Some('E'), _) => Color32::from_rgb(0x8F, 0xD1, 0x8F),
                (_, Some(q)) if hi > lo => {
                    // Pale red (low) to pale green (high) by the cell's best value.
                    let best = q.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let t = ((best - lo) / (hi - lo)) as f32;
                    Color32::from_rgb((250.0 - 60.0 * t) as u8, (200.0 + 50.0 * t) as u8, 200)
                }
                _ => ui.visuals().extreme_bg_color,
            };
            painter.rect_filled(r.shrink(1.0), 2.0, fill);
            painter.text(r.left_top() + vec2(3.0, 2.0), egui::Align2::LEFT_TOP, s.to_string(), small.clone(), ui.visuals().weak_text_color());
            if let Some(m) = mark.filter(|m| *m == 'S' || *m == 'E') {
                painter.text(r.right_top() + vec2(-3.0, 2.0), egui::Align2::RIGHT_TOP, m.to_string(), small.clone(), text);
            }
            let Some(q) = q else { continue };
            let centre = r.center();
            for (a, v) in q.iter().enumerate() {
                let at = centre + direction(a) * cell * 0.34;
                painter.text(at, egui::Align2::CENTER_CENTER, format!("{v:.1}"), small.clone(), text);
            }
            if mark != Some('E')
                && let Some(a) = greedy(q)
            {
                arrow(
                    &painter,
                    centre - direction(a) * cell * 0.1,
                    centre + direction(a) * cell * 0.13,
                    Stroke::new((cell / 22.0).max(2.0), Color32::from_rgb(0x1F, 0x4E, 0x9A)),
                );
            }
        }
    }
    if let Some(m) = &view.maze {
        let wall = Stroke::new(3.0, Color32::from_rgb(0x33, 0x33, 0x33));
        for (i, row) in m.north.iter().enumerate() {
            for (c, &w) in row.iter().enumerate() {
                if w {
                    let y = origin.y + i as f32 * cell;
                    painter.line_segment([pos2(origin.x + c as f32 * cell, y), pos2(origin.x + (c + 1) as f32 * cell, y)], wall);
                }
            }
        }
        for (i, row) in m.west.iter().enumerate() {
            for (c, &w) in row.iter().enumerate() {
                if w {
                    let x = origin.x + c as f32 * cell;
                    painter.line_segment([pos2(x, origin.y + i as f32 * cell), pos2(x, origin.y + (i + 1) as f32 * cell)], wall);
                }
            }
        }
    }
}

fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, stroke: Stroke) {
    painter.line_segment([from, to], stroke);
    let d = (to - from).normalized();
    let side = vec2(-d.y, d.x);
    let head = stroke.width * 2.5;
    painter.add(egui::Shape::convex_polygon(vec![to + d * head * 0.6, to - d * head + side * head, to - d * head - side * head], stroke.color, Stroke::NONE));
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
+---+---+---+
| S     | E |
+   +---+   +
|   | M     |
+---+---+---+
episode 0 17 -25
episode 1 9 -4.5
q 0 -1.5 0 -2 -2
q 3 1 1 1 1
q 5 9.5 0 0 0
q 5 9.75 0 0 -0.25
stray text
";

    #[test]
    fn the_printed_maze_q_table_and_episodes_are_read() {
        let v = parse(OUTPUT);
        let m = v.maze.clone().unwrap();
        assert_eq!((m.width, m.height), (3, 2));
        // Printed top row first: the start is cell 3 (row 1, column 0), the exit cell 5, mud cell 1.
        assert_eq!(m.marks.get(&3), Some(&'S'));
        assert_eq!(m.marks.get(&5), Some(&'E'));
        assert_eq!(m.marks.get(&1), Some(&'M'));
        assert_eq!(m.north[0], [true, true, true]);
        assert_eq!(m.north[1], [false, true, false]);
        assert_eq!(m.west[0], [true, false, true, true]);
        assert_eq!(m.west[1], [true, true, false, true]);
        assert_eq!(v.episodes, [(0.0, 17.0, -25.0), (1.0, 9.0, -4.5)]);
        assert_eq!(v.q.len(), 3);
        assert_eq!(v.q[&5], [9.75, 0.0, 0.0, -0.25], "the last printed values win");
        assert_eq!(greedy(&v.q[&0]), Some(1));
        assert_eq!(greedy(&v.q[&3]), None, "an unlearned cell has no arrow");
        assert_eq!(greedy(&[2.0, 5.0, 5.0, 0.0]), Some(1), "ties go to the lower action, as best() does");
    }

    #[test]
    fn output_without_a_maze_still_gives_the_table() {
        let v = parse("q 0 1 2 3 4\nq 19 0 0 0 0\nepisode x\n");
        assert!(v.maze.is_none());
        assert_eq!(v.q.len(), 2);
        assert!(v.episodes.is_empty());
    }
}
