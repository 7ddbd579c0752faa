//! Printable 账号卡 (account cards, PDF): one cut-out card per student with
//! their name, username, first password and where to sign in (as text and
//! a QR code), rendered with a CJK font so Chinese names print.
//!
//! Nothing is stored: the teacher's browser sends back the passwords it was
//! shown once, and gets a PDF to print and cut. Text is laid out here, not
//! left to the PDF viewer: long names wrap and shrink to stay inside their
//! card, and a character the main font lacks (a rare name character such
//! as 䶮, CJK Extension A/B) is drawn with a fallback font that has it — or,
//! if none has it, as a visible □ reported back to the caller, never dropped.

use std::path::Path;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::TextDirection;
use serde::Deserialize;

pub use crate::fonts::{Block, FALLBACK_FONTS, FONT_CANDIDATES, FontError, FontSet, Line, PLACEHOLDER, Run, find_font};

/// Why the cards could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlipError {
    /// No usable font.
    #[error("account cards: {0}")]
    Font(#[from] FontError),
    /// krilla refused the document.
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
}

/// One student's card.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slip {
    pub display_name: String,
    pub username: String,
    pub password: String,
    pub student_number: Option<String>,
}

/// A rendered PDF and the characters that no font could draw.
#[derive(Debug)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    /// Distinct characters printed as [`PLACEHOLDER`], in order of first appearance.
    pub missing: Vec<char>,
}

// A4 in points, two columns of five cards.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 36.0;
const COLS: usize = 2;
const ROWS: usize = 5;
/// Inner padding of a card, the QR code's side and the gap beside it (points).
const PAD: f32 = 12.0;
const QR_SIDE: f32 = 62.0;
const QR_GAP: f32 = 8.0;

/// The width of a card (points).
pub const CARD_W: f32 = (PAGE_W - 2.0 * MARGIN) / COLS as f32;
/// The width a name may take beside the QR code (points).
pub const NAME_W: f32 = CARD_W - 2.0 * PAD - QR_SIDE - QR_GAP;
/// A name's largest and smallest font size and its most lines.
pub const NAME_SIZES: (f32, f32, usize) = (18.0, 8.0, 2);

/// Renders the cards as a PDF. `sign_in_at` is the address students type
/// (printed, and as a QR code) — None when the server does not know it.
pub fn render(title: &str, slips: &[Slip], font: Option<&Path>, sign_in_at: Option<&str>) -> Result<Rendered, SlipError> {
    let fonts = FontSet::standard(font)?;
    let qr = sign_in_at.and_then(|url| qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M).ok());
    let mut document = Document::new();
    let card_h = (PAGE_H - 2.0 * MARGIN) / ROWS as f32;
    let mut missing: Vec<char> = Vec::new();
    for page_slips in slips.chunks(COLS * ROWS) {
        let mut page = document.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| SlipError::Pdf("page size".into()))?);
        let mut surface = page.surface();
        for (i, slip) in page_slips.iter().enumerate() {
            let x = MARGIN + (i % COLS) as f32 * CARD_W;
            let y = MARGIN + (i / COLS) as f32 * card_h;
            cut_lines(&mut surface, x, y, CARD_W, card_h);
            surface.set_fill(Some(Fill { paint: rgb::Color::new(0, 0, 0).into(), ..Fill::default() }));
            let full = CARD_W - 2.0 * PAD;
            let beside_qr = if qr.is_some() { NAME_W } else { full };
            let mut put = |top: f32, width: f32, sizes: (f32, f32, usize), text: &str| {
                let block = fonts.layout(text, width, sizes.0, sizes.1, sizes.2);
                for (k, line) in block.lines.iter().enumerate() {
                    let baseline = y + top + block.size * (0.88 + 1.15 * k as f32);
                    let mut cx = x + PAD;
                    for run in &line.runs {
                        if let Some(f) = fonts.font(run.font) {
                            surface.draw_text(Point::from_xy(cx, baseline), f, block.size, &run.text, false, TextDirection::Auto);
                        }
                        cx += run.width;
                    }
                }
                for c in block.missing {
                    if !missing.contains(&c) {
                        missing.push(c);
                    }
                }
            };
            let heading = if title.trim().is_empty() {
                "启明 Qiming · 账号卡 Account card".to_string()
            } else {
                format!("账号卡 Account card · {}", title.trim())
            };
            put(9.0, full, (8.5, 6.0, 1), &heading);
            put(24.0, beside_qr, NAME_SIZES, &slip.display_name);
            if let Some(n) = slip.student_number.as_deref().filter(|n| !n.is_empty()) {
                put(67.0, beside_qr, (9.0, 6.0, 1), &format!("学号 No.  {n}"));
            }
            put(80.0, beside_qr, (11.0, 6.0, 1), &format!("用户名 Username:  {}", slip.username));
            put(96.0, beside_qr, (11.0, 6.0, 1), &format!("初始密码 Password:  {}", slip.password));
            if let Some(url) = sign_in_at {
                put(113.0, full, (8.5, 5.5, 1), &format!("登录网址 Sign in at:  {url}"));
            }
            put(126.0, full, (7.0, 5.0, 1), "首次登录后请设置自己的密码，并妥善保管。");
            put(136.0, full, (7.0, 5.0, 1), "Set your own password at first sign-in and keep it secret.");
            if let Some(code) = &qr {
                draw_qr(&mut surface, code, x + CARD_W - PAD - QR_SIDE, y + 22.0, QR_SIDE);
            }
        }
        surface.finish();
        page.finish();
    }
    let pdf = document.finish().map_err(|e| SlipError::Pdf(format!("{e:?}")))?;
    Ok(Rendered { pdf, missing })
}

/// Dashed cut lines around a card.
fn cut_lines(surface: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32) {
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: rgb::Color::new(150, 150, 150).into(),
        width: 0.6,
        dash: Some(StrokeDash { array: vec![4.0, 3.0], offset: 0.0 }),
        ..Stroke::default()
    }));
    let mut pb = PathBuilder::new();
    if let Some(rect) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(rect);
    }
    if let Some(path) = pb.finish() {
        surface.draw_path(&path);
    }
    surface.set_stroke(None);
}

/// Draws a QR code's dark modules as filled rectangles (one per horizontal
/// run of dark modules, to keep the PDF small) in a `side`-point square.
pub(crate) fn draw_qr(surface: &mut Surface<'_>, code: &qrcode::QrCode, x: f32, y: f32, side: f32) {
    let n = code.width();
    let module = side / n as f32;
    let colors = code.to_colors();
    let mut pb = PathBuilder::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] == qrcode::Color::Dark {
                let start = col;
                while col < n && colors[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                if let Some(r) = Rect::from_xywh(x + start as f32 * module, y + row as f32 * module, (col - start) as f32 * module, module) {
                    pb.push_rect(r);
                }
            } else {
                col += 1;
            }
        }
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(Fill { paint: rgb::Color::new(0, 0, 0).into(), ..Fill::default() }));
        surface.draw_path(&path);
    }
}
