//! A report document as PDF (krilla): A4 pages, CJK text through the shared font set with
//! per-character fallback (`crate::fonts`), tables that wrap and repeat their header across
//! pages, and charts — grouped columns, stacked level bars — drawn as vector paths.
//!
//! Layout runs first into a list of drawing operations per page, then the operations are drawn:
//! page breaks are decided without holding krilla's page borrows.

use std::path::Path;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;

use super::ReportError;
use super::layout::{Block, Cell, Chart, ChartKind, Doc, Table};
use crate::fonts::FontSet;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 48.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const BOTTOM: f32 = PAGE_H - MARGIN;

/// Series colours (colour-blind-safe Okabe–Ito order).
const PALETTE: [(u8, u8, u8); 8] =
    [(0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (213, 94, 0), (240, 228, 66), (100, 100, 100)];
/// Level colours, from level 1 (light) to 5 (dark).
const LEVEL_COLOURS: [(u8, u8, u8); 5] = [(222, 235, 247), (158, 202, 225), (107, 174, 214), (49, 130, 189), (8, 81, 156)];

#[derive(Clone, Debug)]
enum Op {
    Text { x: f32, y: f32, size: f32, font: usize, text: String, grey: bool },
    Rect { x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8) },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, colour: (u8, u8, u8), width: f32 },
}

struct Writer<'f> {
    fonts: &'f FontSet,
    pages: Vec<Vec<Op>>,
    y: f32,
    missing: Vec<char>,
}

impl Writer<'_> {
    fn page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        self.pages.last_mut().expect("a page")
    }

    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > MARGIN + 1.0 {
            self.page();
        }
    }

    /// Lays out `text` at (x, top) within `width`; returns the height used. Draws only when `draw`.
    #[allow(clippy::too_many_arguments)]
    fn text_at(&mut self, text: &str, x: f32, top: f32, width: f32, size: f32, max_lines: usize, grey: bool, draw: bool) -> f32 {
        let block = self.fonts.layout(text, width, size, size, max_lines);
        let lh = block.size * 1.35;
        if draw {
            for c in &block.missing {
                if !self.missing.contains(c) {
                    self.missing.push(*c);
                }
            }
            for (k, line) in block.lines.iter().enumerate() {
                let baseline = top + block.size * 0.95 + lh * k as f32;
                let mut cx = x;
                for run in &line.runs {
                    self.ops().push(Op::Text { x: cx, y: baseline, size: block.size, font: run.font, text: run.text.clone(), grey });
                    cx += run.width;
                }
            }
        }
        lh * block.lines.len().max(1) as f32
    }

    fn paragraph(&mut self, text: &str, size: f32, grey: bool) {
        let h = self.text_at(text, MARGIN, self.y, CONTENT_W, size, 60, grey, false);
        self.ensure(h);
        let y = self.y;
        self.text_at(text, MARGIN, y, CONTENT_W, size, 60, grey, true);
        self.y += h + size * 0.6;
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8)) {
        if w > 0.0 && h > 0.0 {
            self.ops().push(Op::Rect { x, y, w, h, colour });
        }
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, colour: (u8, u8, u8), width: f32) {
        self.ops().push(Op::Line { x1, y1, x2, y2, colour, width });
    }

    fn table(&mut self, t: &Table) {
        if t.records {
            return self.records(t);
        }
        let cols = t.headers.len().max(1);
        // The first column (names) gets twice the width of a figure column.
        let unit = CONTENT_W / (cols as f32 + 1.0);
        let widths: Vec<f32> = (0..cols).map(|c| if c == 0 { 2.0 * unit } else { unit }).collect();
        let size = if cols > 9 { 6.5 } else { 8.0 };
        let pad = 3.0;
        let row_h = |w: &mut Self, cells: &[String], draw_y: Option<f32>, header: bool| -> f32 {
            let mut h: f32 = 0.0;
            let mut x = MARGIN;
            for (c, text) in cells.iter().enumerate() {
                let width = widths.get(c).copied().unwrap_or(unit) - 2.0 * pad;
                let used = match draw_y {
                    Some(y) => w.text_at(text, x + pad, y + pad, width, size, 6, header, true),
                    None => w.text_at(text, x + pad, 0.0, width, size, 6, header, false),
                };
                h = h.max(used);
                x += widths.get(c).copied().unwrap_or(unit);
            }
            h + 2.0 * pad
        };
        let header = t.headers.clone();
        let draw_header = |w: &mut Self| {
            let h = row_h(w, &header, None, true);
            w.ensure(h + 20.0);
            let y = w.y;
            w.rect(MARGIN, y, CONTENT_W, h, (235, 238, 242));
            row_h(w, &header, Some(y), true);
            w.y += h;
        };
        draw_header(self);
        for row in &t.rows {
            let cells: Vec<String> = row.iter().map(Cell::text).collect();
            let h = row_h(self, &cells, None, false);
            if self.y + h > BOTTOM {
                self.page();
                draw_header(self);
            }
            let y = self.y;
            row_h(self, &cells, Some(y), false);
            self.line(MARGIN, y + h, MARGIN + CONTENT_W, y + h, (210, 210, 210), 0.4);
            self.y += h;
        }
        self.y += 10.0;
    }

    /// Each row as a record: the first cell as a heading, then "header: value" paragraphs.
    fn records(&mut self, t: &Table) {
        for row in &t.rows {
            let title = row.first().map(Cell::text).unwrap_or_default();
            self.ensure(60.0);
            self.line(MARGIN, self.y, MARGIN + CONTENT_W, self.y, (180, 180, 180), 0.5);
            self.y += 4.0;
            self.paragraph(&title, 10.0, false);
            for (h, cell) in t.headers.iter().zip(row).skip(1) {
                let v = cell.text();
                if !v.is_empty() {
                    self.paragraph(&format!("{h}: {v}"), 8.5, false);
                }
            }
            self.y += 4.0;
        }
    }

    fn charts(&mut self, charts: &[Chart]) {
        let n = charts.len().max(1) as f32;
        let gap = 16.0;
        let w = (CONTENT_W - gap * (n - 1.0)) / n;
        let h = if charts.len() > 1 { 150.0 } else { 190.0 };
        let legend_h = 12.0 * charts.iter().map(|c| if c.series.len() > 1 { c.series.len().div_ceil(3) } else { 0 }).max().unwrap_or(0) as f32;
        self.ensure(h + legend_h + 24.0);
        let top = self.y;
        for (k, c) in charts.iter().enumerate() {
            let x = MARGIN + k as f32 * (w + gap);
            match c.kind {
                ChartKind::Columns => self.columns(c, x, top, w, h, legend_h),
                ChartKind::StackedPercent => self.stacked(c, x, top, w, h, legend_h),
            }
        }
        self.y = top + h + legend_h + 30.0;
    }

    fn legend(&mut self, c: &Chart, x: f32, y: f32, w: f32, colours: &dyn Fn(usize) -> (u8, u8, u8)) {
        if c.series.len() < 2 {
            return;
        }
        let cell = w / 3.0;
        for (s, (name, _)) in c.series.iter().enumerate() {
            let lx = x + (s % 3) as f32 * cell;
            let ly = y + (s / 3) as f32 * 12.0;
            self.rect(lx, ly + 2.0, 8.0, 8.0, colours(s));
            self.text_at(name, lx + 11.0, ly, cell - 13.0, 7.0, 1, false, true);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn columns(&mut self, c: &Chart, x: f32, top: f32, w: f32, h: f32, legend_h: f32) {
        self.text_at(&c.title, x, top, w, 9.0, 1, false, true);
        self.legend(c, x, top + 14.0, w, &|s| PALETTE[s % PALETTE.len()]);
        let values = c.series.iter().flat_map(|s| s.1.iter().copied()).filter(|v| v.is_finite());
        let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        // Percentages from 0; scale scores from a round 100 below the smallest bar.
        let (lo, hi) = if max <= 100.0 {
            (0.0, ((max.max(1.0) / 20.0).ceil() * 20.0).max(20.0))
        } else {
            (((min.max(0.0) - 50.0) / 100.0).floor().max(0.0) * 100.0, ((max + 30.0) / 100.0).ceil() * 100.0)
        };
        let plot_top = top + 16.0 + legend_h;
        let label_w = 26.0;
        let (px, pw, ph) = (x + label_w, w - label_w, h - 30.0);
        for k in 0..=4 {
            let v = lo + (hi - lo) * f64::from(k) / 4.0;
            let y = plot_top + ph - ph * k as f32 / 4.0;
            self.line(px, y, px + pw, y, (225, 225, 225), 0.4);
            self.text_at(&format!("{v:.0}"), x, y - 4.0, label_w - 3.0, 6.0, 1, true, true);
        }
        let groups = c.categories.len().max(1) as f32;
        let gw = pw / groups;
        let series = c.series.len().max(1) as f32;
        let bw = gw * 0.8 / series;
        for (g, cat) in c.categories.iter().enumerate() {
            for (s, (_, vals)) in c.series.iter().enumerate() {
                let v = vals.get(g).copied().unwrap_or(0.0);
                let frac = ((v - lo) / (hi - lo)).clamp(0.0, 1.0) as f32;
                let bh = ph * frac;
                let bx = px + gw * g as f32 + gw * 0.1 + bw * s as f32;
                self.rect(bx, plot_top + ph - bh, bw * 0.92, bh, PALETTE[s % PALETTE.len()]);
            }
            self.text_at(cat, px + gw * g as f32, plot_top + ph + 3.0, gw, if groups > 6.0 { 5.0 } else { 7.0 }, 2, false, true);
        }
        self.line(px, plot_top + ph, px + pw, plot_top + ph, (80, 80, 80), 0.6);
    }

    #[allow(clippy::too_many_arguments)]
    fn stacked(&mut self, c: &Chart, x: f32, top: f32, w: f32, h: f32, legend_h: f32) {
        self.text_at(&c.title, x, top, w, 9.0, 1, false, true);
        self.legend(c, x, top + 14.0, w, &|s| LEVEL_COLOURS[s % LEVEL_COLOURS.len()]);
        let plot_top = top + 18.0 + legend_h;
        let label_w = 110.0;
        let rows = c.categories.len().max(1) as f32;
        let rh = (h - 24.0) / rows;
        for (r, cat) in c.categories.iter().enumerate() {
            let y = plot_top + rh * r as f32;
            self.text_at(cat, x, y + rh * 0.2, label_w - 4.0, 7.5, 2, false, true);
            let total: f64 = c.series.iter().map(|s| s.1.get(r).copied().unwrap_or(0.0)).sum::<f64>().max(1e-9);
            let mut bx = x + label_w;
            for (s, (_, vals)) in c.series.iter().enumerate() {
                let v = vals.get(r).copied().unwrap_or(0.0);
                let bw = (w - label_w) * (v / total) as f32;
                self.rect(bx, y + rh * 0.15, bw, rh * 0.7, LEVEL_COLOURS[s % LEVEL_COLOURS.len()]);
                if bw > 18.0 {
                    self.text_at(&format!("{v:.0}%"), bx + 2.0, y + rh * 0.5 - 4.0, bw - 3.0, 6.5, 1, s < 3, true);
                }
                bx += bw;
            }
        }
    }
}

/// Renders a document to PDF bytes and the characters no font could draw. `font`: the main font
/// (default: the first CJK font found, as for the account cards).
pub fn render(doc: &Doc, font: Option<&Path>) -> Result<(Vec<u8>, Vec<char>), ReportError> {
    let fonts = FontSet::standard(font).map_err(|e| ReportError::Pdf(e.to_string()))?;
    let mut w = Writer { fonts: &fonts, pages: Vec::new(), y: MARGIN, missing: Vec::new() };
    w.page();
    w.paragraph(&doc.title, 18.0, false);
    w.paragraph(&doc.subtitle, 10.0, true);
    for (k, section) in doc.sections.iter().enumerate() {
        if k > 0 {
            w.page();
        }
        w.paragraph(&section.heading, 14.0, false);
        for block in &section.blocks {
            match block {
                Block::Paragraph(p) => w.paragraph(p, 9.5, false),
                Block::Table(t) => w.table(t),
                Block::Charts(c) => w.charts(c),
            }
        }
    }
    let pages = std::mem::take(&mut w.pages);
    let missing = std::mem::take(&mut w.missing);
    let total = pages.len();
    let mut document = Document::new();
    for (number, ops) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| ReportError::Pdf("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Rect { x, y, w, h, colour } => {
                    let mut pb = PathBuilder::new();
                    if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                        pb.push_rect(r);
                    }
                    if let Some(path) = pb.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(Fill { paint: rgb::Color::new(colour.0, colour.1, colour.2).into(), ..Fill::default() }));
                        surface.draw_path(&path);
                    }
                }
                Op::Line { x1, y1, x2, y2, colour, width } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y1);
                    pb.line_to(*x2, *y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke { paint: rgb::Color::new(colour.0, colour.1, colour.2).into(), width: *width, ..Stroke::default() }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
                Op::Text { .. } => {}
            }
        }
        let mut draw_text = |x: f32, y: f32, size: f32, font: usize, text: &str, grey: bool| {
            if let Some(f) = fonts.font(font) {
                let c = if grey { rgb::Color::new(90, 90, 90) } else { rgb::Color::new(20, 20, 20) };
                surface.set_fill(Some(Fill { paint: c.into(), ..Fill::default() }));
                surface.draw_text(Point::from_xy(x, y), f, size, text, false, TextDirection::Auto);
            }
        };
        // The page number, in digits (no words: the same in both languages).
        let footer = fonts.layout(&format!("{} / {total}", number + 1), 80.0, 7.0, 7.0, 1);
        let mut fx = PAGE_W / 2.0 - footer.lines.first().map_or(0.0, |l| l.width) / 2.0;
        for line in &footer.lines {
            for run in &line.runs {
                draw_text(fx, PAGE_H - 24.0, 7.0, run.font, &run.text, true);
                fx += run.width;
            }
        }
        for op in ops {
            match op {
                Op::Text { x, y, size, font, text, grey } => draw_text(*x, *y, *size, *font, text, *grey),
                Op::Rect { .. } | Op::Line { .. } => {}
            }
        }
        surface.finish();
        page.finish();
    }
    let pdf = document.finish().map_err(|e| ReportError::Pdf(format!("{e:?}")))?;
    Ok((pdf, missing))
}
