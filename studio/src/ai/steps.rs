//! The step-by-step views of `ai-perceptron` and `ai-kmeans`: the dataset's points on two chosen sensors, with the perceptron's decision regions and boundary, or the k-means clusters and their centroids' paths, redrawn after every step of `qiming_ai`'s step APIs (`perceptron::Stepper`, `kmeans::Stepper`).

use egui::{Color32, FontId, Pos2, Rect, Stroke, pos2, vec2};
use qiming_ai::Dataset;
use qiming_ai::dataset::Split;
use qiming_ai::{kmeans, perceptron};

/// Which algorithm steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Perceptron,
    KMeans,
}

/// A stepping session over two of a dataset's sensors.
pub struct Session {
    pub algorithm: Algorithm,
    /// The two sensors drawn and learned from (indices into the dataset's sensors).
    pub axes: [usize; 2],
    pub axis_names: [String; 2],
    pub labels: Vec<String>,
    /// Raw points on the two axes, and their label indices.
    pub points: Vec<[f32; 2]>,
    pub targets: Vec<usize>,
    pub seed: u64,
    pub k: usize,
    pub perceptron: Option<perceptron::Stepper>,
    pub kmeans: Option<kmeans::Stepper>,
    /// Where each centroid has been, one entry per step (k-means).
    pub trails: Vec<Vec<[f32; 2]>>,
    /// Playing: steps per second, and the fraction of a step owed.
    pub playing: bool,
    pub speed: f32,
    owed: f32,
}

/// Label colours (a palette readable on white and for common colour blindness).
pub const COLOURS: [Color32; 8] = [
    Color32::from_rgb(0x00, 0x72, 0xB2),
    Color32::from_rgb(0xE6, 0x9F, 0x00),
    Color32::from_rgb(0x00, 0x9E, 0x73),
    Color32::from_rgb(0xCC, 0x79, 0xA7),
    Color32::from_rgb(0xD5, 0x5E, 0x00),
    Color32::from_rgb(0x56, 0xB4, 0xE9),
    Color32::from_rgb(0x44, 0x44, 0x44),
    Color32::from_rgb(0xF0, 0xE4, 0x42),
];

pub fn colour(i: usize) -> Color32 {
    COLOURS[i % COLOURS.len()]
}

impl Session {
    /// A session on the training samples (all samples when none are marked
    /// for training) of a dataset with at least two sensors.
    pub fn new(ds: &Dataset, algorithm: Algorithm, axes: [usize; 2], seed: u64, k: usize) -> Option<Session> {
        let names = &ds.manifest().sensors;
        if names.len() < 2 || axes[0] >= names.len() || axes[1] >= names.len() {
            return None;
        }
        let train: Vec<usize> = (0..ds.samples().len()).filter(|&i| ds.samples()[i].split == Split::Train).collect();
        let chosen = if train.is_empty() { (0..ds.samples().len()).collect() } else { train };
        let points: Vec<[f32; 2]> = chosen.iter().map(|&i| axes.map(|a| ds.samples()[i].sensors[a] as f32)).collect();
        let targets: Vec<usize> = chosen.iter().map(|&i| ds.label_index(i)).collect();
        let mut s = Session {
            algorithm,
            axes,
            axis_names: axes.map(|a| names[a].clone()),
            labels: ds.labels().to_vec(),
            points,
            targets,
            seed,
            k: k.max(1),
            perceptron: None,
            kmeans: None,
            trails: Vec::new(),
            playing: false,
            speed: 10.0,
            owed: 0.0,
        };
        s.reset();
        Some(s)
    }

    /// Back to the start: zero weights, or k-means++ centroids again.
    pub fn reset(&mut self) {
        let pts: Vec<Vec<f32>> = self.points.iter().map(|p| p.to_vec()).collect();
        self.perceptron = None;
        self.kmeans = None;
        self.trails.clear();
        self.owed = 0.0;
        match self.algorithm {
            Algorithm::Perceptron => self.perceptron = Some(perceptron::Stepper::new(&pts, self.targets.clone(), self.labels.len(), self.seed)),
            Algorithm::KMeans => {
                self.kmeans = kmeans::Stepper::new(&pts, self.k, self.seed);
                if let Some(km) = &self.kmeans {
                    self.trails = km.centroids().iter().map(|c| vec![[c[0], c[1]]]).collect();
                }
            }
        }
    }

    /// One step: one point shown to the perceptron, or one k-means iteration.
    pub fn step(&mut self) {
        if let Some(p) = &mut self.perceptron {
            p.step();
        }
        if let Some(km) = &mut self.kmeans {
            km.step();
            for (trail, c) in self.trails.iter_mut().zip(km.centroids()) {
                trail.push([c[0], c[1]]);
            }
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.perceptron.as_ref().map_or(0, |p| p.steps) + self.kmeans.as_ref().map_or(0, |k| u64::from(k.iterations))
    }

    /// Whether stepping can change nothing more (k-means converged).
    pub fn done(&self) -> bool {
        self.kmeans.as_ref().is_some_and(kmeans::Stepper::converged)
    }

    /// Advances playback by `dt` seconds; true while playing.
    pub fn advance(&mut self, dt: f32) -> bool {
        if !self.playing {
            return false;
        }
        self.owed += dt * self.speed;
        while self.owed >= 1.0 {
            self.owed -= 1.0;
            self.step();
            if self.done() {
                self.playing = false;
                break;
            }
        }
        self.playing
    }

    /// Draws the points, and the regions and boundary or the clusters and centroids.
    pub fn draw(&self, ui: &mut egui::Ui, size: egui::Vec2) {
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, Color32::WHITE);
        let plot = Rect::from_min_max(rect.min + vec2(46.0, 24.0), rect.max - vec2(8.0, 34.0));
        let (min, max) = bounds(&self.points);
        let to_screen = |p: [f32; 2]| -> Pos2 {
            pos2(plot.left() + (p[0] - min[0]) / (max[0] - min[0]) * plot.width(), plot.bottom() - (p[1] - min[1]) / (max[1] - min[1]) * plot.height())
        };
        let to_data = |q: Pos2| -> [f32; 2] {
            [min[0] + (q.x - plot.left()) / plot.width() * (max[0] - min[0]), min[1] + (plot.bottom() - q.y) / plot.height() * (max[1] - min[1])]
        };
        // Decision regions: a coarse grid tinted by the predicted label.
        if let Some(p) = &self.perceptron
            && p.steps > 0
        {
            let (nx, ny) = (48, 32);
            let (w, h) = (plot.width() / nx as f32, plot.height() / ny as f32);
            for i in 0..nx {
                for j in 0..ny {
                    let cell = Rect::from_min_size(pos2(plot.left() + i as f32 * w, plot.top() + j as f32 * h), vec2(w + 0.5, h + 0.5));
                    let label = p.predict(&to_data(cell.center()));
                    painter.rect_filled(cell, 0.0, tint(colour(label)));
                }
            }
            if self.labels.len() == 2
                && let Some((coef, c)) = p.boundary(1, 0)
                && let Some([a, b]) = clip_line(coef[0], coef[1], c, min, max)
            {
                painter.line_segment([to_screen(a), to_screen(b)], Stroke::new(3.0, Color32::from_rgb(0x22, 0x22, 0x22)));
            }
        }
        let axis = Stroke::new(1.0, Color32::from_gray(120));
        painter.rect_stroke(plot, 0.0, axis, egui::StrokeKind::Outside);
        let small = FontId::proportional(11.0);
        let ink = Color32::from_gray(40);
        painter.text(pos2(plot.left(), plot.bottom() + 4.0), egui::Align2::LEFT_TOP, format!("{:.2}", min[0]), small.clone(), ink);
        painter.text(pos2(plot.right(), plot.bottom() + 4.0), egui::Align2::RIGHT_TOP, format!("{:.2}", max[0]), small.clone(), ink);
        painter.text(pos2(plot.center().x, plot.bottom() + 18.0), egui::Align2::CENTER_TOP, &self.axis_names[0], small.clone(), ink);
        painter.text(pos2(plot.left() - 4.0, plot.bottom()), egui::Align2::RIGHT_BOTTOM, format!("{:.2}", min[1]), small.clone(), ink);
        painter.text(pos2(plot.left() - 4.0, plot.top()), egui::Align2::RIGHT_TOP, format!("{:.2}", max[1]), small.clone(), ink);
        painter.text(pos2(plot.left(), plot.top() - 4.0), egui::Align2::LEFT_BOTTOM, format!("↑ {}", self.axis_names[1]), small.clone(), ink);

        let assignments = self.kmeans.as_ref().map(|k| k.assignments().to_vec());
        for (i, (p, &t)) in self.points.iter().zip(&self.targets).enumerate() {
            let at = to_screen(*p);
            match &assignments {
                // k-means: filled by cluster (grey before the first step), ringed by the recorded label.
                Some(a) => {
                    let fill = a.get(i).filter(|&&c| c != usize::MAX).map_or(Color32::from_gray(170), |&c| colour(c + 4));
                    painter.circle(at, 4.5, fill, Stroke::new(1.5, colour(t)));
                }
                None => {
                    painter.circle(at, 4.0, colour(t), Stroke::new(1.0, Color32::WHITE));
                }
            }
        }
        // The point the perceptron saw last: red ring when it was a mistake.
        if let Some(p) = &self.perceptron
            && let Some((i, u)) = &p.last
            && let Some(pt) = self.points.get(*i)
        {
            let ring = if u.changed { Color32::from_rgb(0xD0, 0x1C, 0x1C) } else { Color32::from_rgb(0x1B, 0x7F, 0x3B) };
            painter.circle_stroke(to_screen(*pt), 9.0, Stroke::new(2.5, ring));
        }
        for (j, trail) in self.trails.iter().enumerate() {
            let pts: Vec<Pos2> = trail.iter().map(|p| to_screen(*p)).collect();
            painter.add(egui::Shape::line(pts.clone(), Stroke::new(2.0, colour(j + 4).gamma_multiply(0.7))));
            if let Some(&last) = pts.last() {
                let s = 8.0;
                painter.line_segment([last - vec2(s, s), last + vec2(s, s)], Stroke::new(5.0, Color32::BLACK));
                painter.line_segment([last - vec2(s, -s), last + vec2(s, -s)], Stroke::new(5.0, Color32::BLACK));
                painter.line_segment([last - vec2(s, s), last + vec2(s, s)], Stroke::new(3.0, colour(j + 4)));
                painter.line_segment([last - vec2(s, -s), last + vec2(s, -s)], Stroke::new(3.0, colour(j + 4)));
            }
        }
    }
}

/// A label's colour, faded into white and opaque: neighbouring cells of the
/// decision regions overlap by half a pixel, and opaque cells show no seams.
fn tint(c: Color32) -> Color32 {
    let fade = |v: u8| (255.0 - (255.0 - f32::from(v)) * 0.2) as u8;
    Color32::from_rgb(fade(c.r()), fade(c.g()), fade(c.b()))
}

/// The points' bounding box with a margin (never empty).
fn bounds(points: &[[f32; 2]]) -> ([f32; 2], [f32; 2]) {
    let mut min = [f32::INFINITY; 2];
    let mut max = [f32::NEG_INFINITY; 2];
    for p in points {
        for k in 0..2 {
            min[k] = min[k].min(p[k]);
            max[k] = max[k].max(p[k]);
        }
    }
    for k in 0..2 {
        if !min[k].is_finite() || !max[k].is_finite() {
            (min[k], max[k]) = (0.0, 1.0);
        }
        let pad = ((max[k] - min[k]) * 0.08).max(0.05);
        min[k] -= pad;
        max[k] += pad;
    }
    (min, max)
}

/// The part of the line `a·x + b·y + c = 0` inside the box, if any.
pub fn clip_line(a: f32, b: f32, c: f32, min: [f32; 2], max: [f32; 2]) -> Option<[[f32; 2]; 2]> {
    let mut hits: Vec<[f32; 2]> = Vec::new();
    if b.abs() > 1e-12 {
        for x in [min[0], max[0]] {
            let y = -(a * x + c) / b;
            if (min[1]..=max[1]).contains(&y) {
                hits.push([x, y]);
            }
        }
    }
    if a.abs() > 1e-12 {
        for y in [min[1], max[1]] {
            let x = -(b * y + c) / a;
            if (min[0]..=max[0]).contains(&x) {
                hits.push([x, y]);
            }
        }
    }
    let first = *hits.first()?;
    let far = hits.iter().copied().max_by(|p, q| dist2(*p, first).total_cmp(&dist2(*q, first)))?;
    (dist2(far, first) > 0.0).then_some([first, far])
}

fn dist2(p: [f32; 2], q: [f32; 2]) -> f32 {
    (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_clipped_to_the_box() {
        // x = 0.5 crosses the unit box top to bottom.
        let [p, q] = clip_line(1.0, 0.0, -0.5, [0.0, 0.0], [1.0, 1.0]).unwrap();
        assert_eq!((p[0], q[0]), (0.5, 0.5));
        assert_eq!((p[1] - q[1]).abs(), 1.0);
        // y = x: corner to corner.
        let [p, q] = clip_line(1.0, -1.0, 0.0, [0.0, 0.0], [1.0, 1.0]).unwrap();
        assert_eq!(dist2(p, q), 2.0);
        // Outside the box: nothing to draw.
        assert!(clip_line(1.0, 0.0, -5.0, [0.0, 0.0], [1.0, 1.0]).is_none());
    }
}
