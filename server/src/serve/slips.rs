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

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use serde::Deserialize;
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

/// One student's card.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slip {
    pub display_name: String,
    pub username: String,
    pub password: String,
    pub student_number: Option<String>,
}

/// Fonts with Chinese *and* Latin glyphs (usernames and passwords are ASCII)
/// that Debian and most systems provide; `slip_font` in the config file names
/// another. CJK-only fallback fonts (Droid Sans Fallback) are not enough.
pub const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
];

/// Fonts tried, in order, for characters the main font lacks: the
/// WenQuanYi fonts stop at the basic CJK block, but names use rarer
/// characters (䶮 U+4DAE is in Extension A; Extension B and beyond are
/// outside the BMP). Hanazono (Debian `fonts-hanazono`) covers Extension A
/// (HanaMinA) and B–F (HanaMinB); Noto CJK and Unifont cover Extension A.
pub const FALLBACK_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/unifont/unifont.otf",
    "/usr/share/fonts/truetype/unifont/unifont.ttf",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "C:\\Windows\\Fonts\\simsunb.ttf",
];

/// Drawn where no font has the character, so a misprinted name is seen (and reported).
pub const PLACEHOLDER: char = '□';

#[derive(Debug, thiserror::Error)]
pub enum SlipError {
    #[error(
        "account cards need a font with Chinese characters and none was found: install one (Debian: `apt install fonts-wqy-microhei`) or set slip_font in the config file"
    )]
    NoFont,
    #[error("cannot read the font {0}: {1}")]
    BadFont(PathBuf, String),
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
}

/// The configured font, or the first candidate that exists.
pub fn find_font(configured: Option<&Path>) -> Option<PathBuf> {
    match configured {
        Some(p) => Some(p.to_path_buf()),
        None => FONT_CANDIDATES.iter().map(PathBuf::from).find(|p| p.is_file()),
    }
}

/// A font file read once: its bytes (for glyph coverage and advances) and krilla's handle (for drawing).
#[derive(Clone)]
struct Loaded {
    bytes: Arc<Vec<u8>>,
    font: Font,
}

fn load_font(path: &Path) -> Result<Loaded, SlipError> {
    // Fonts are megabytes (Hanazono B is 30 MB): read each once per process.
    static CACHE: Mutex<BTreeMap<PathBuf, Loaded>> = Mutex::new(BTreeMap::new());
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(f) = cache.get(path) {
        return Ok(f.clone());
    }
    let bytes = Arc::new(std::fs::read(path).map_err(|e| SlipError::BadFont(path.to_path_buf(), e.to_string()))?);
    if skrifa::FontRef::from_index(&bytes, 0).is_err() {
        return Err(SlipError::BadFont(path.to_path_buf(), "not a font file".into()));
    }
    let font = Font::new(bytes.clone().into(), 0).ok_or_else(|| SlipError::BadFont(path.to_path_buf(), "not a font krilla can read".into()))?;
    let loaded = Loaded { bytes, font };
    cache.insert(path.to_path_buf(), loaded.clone());
    Ok(loaded)
}

/// The main font and its fallbacks; fallbacks are read only when a character needs one.
pub struct FontSet {
    fonts: Vec<(PathBuf, OnceCell<Option<Loaded>>)>,
}

impl std::fmt::Debug for FontSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.fonts.iter().map(|(p, _)| p)).finish()
    }
}

impl FontSet {
    /// The main font (which must load) and the fallbacks that exist on this machine.
    pub fn new(main: &Path, fallbacks: &[PathBuf]) -> Result<FontSet, SlipError> {
        let first = OnceCell::new();
        let _ = first.set(Some(load_font(main)?));
        let mut fonts = vec![(main.to_path_buf(), first)];
        fonts.extend(fallbacks.iter().filter(|p| p.as_path() != main && p.is_file()).map(|p| (p.clone(), OnceCell::new())));
        Ok(FontSet { fonts })
    }

    /// The configured (or first found) main font with the usual fallbacks.
    pub fn standard(configured: Option<&Path>) -> Result<FontSet, SlipError> {
        let main = find_font(configured).ok_or(SlipError::NoFont)?;
        FontSet::new(&main, &FALLBACK_FONTS.iter().map(PathBuf::from).collect::<Vec<_>>())
    }

    /// The file of font `i` (0 is the main font).
    pub fn path(&self, i: usize) -> &Path {
        &self.fonts[i].0
    }

    fn loaded(&self, i: usize) -> Option<&Loaded> {
        let (path, cell) = &self.fonts[i];
        cell.get_or_init(|| match load_font(path) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a fallback font");
                None
            }
        })
        .as_ref()
    }

    fn glyph(&self, i: usize, c: char) -> Option<skrifa::GlyphId> {
        let f = self.loaded(i)?;
        let font = skrifa::FontRef::from_index(&f.bytes, 0).ok()?;
        font.charmap().map(c).filter(|g| g.to_u32() != 0)
    }

    /// The first font with a glyph for `c` (None: no font has one).
    pub fn font_for(&self, c: char) -> Option<usize> {
        (0..self.fonts.len()).find(|&i| self.glyph(i, c).is_some())
    }

    /// How far `c` advances in font `i`, per point of font size.
    fn advance(&self, i: usize, c: char) -> f32 {
        let fallback = if c.is_ascii() { 0.55 } else { 1.0 };
        let Some(f) = self.loaded(i) else { return fallback };
        let Ok(font) = skrifa::FontRef::from_index(&f.bytes, 0) else { return fallback };
        let Some(glyph) = font.charmap().map(c) else { return fallback };
        let upem = font.metrics(Size::unscaled(), LocationRef::default()).units_per_em.max(1) as f32;
        font.glyph_metrics(Size::unscaled(), LocationRef::default()).advance_width(glyph).map_or(fallback, |w| w / upem)
    }

    /// Lays `text` out in at most `max_lines` lines of at most `width`
    /// points: at `max_size` if it fits, else smaller (down to `min_size`),
    /// breaking between words and between CJK characters; what still does
    /// not fit at `min_size` is cut with "…". Never wider than `width`.
    pub fn layout(&self, text: &str, width: f32, max_size: f32, min_size: f32, max_lines: usize) -> Block {
        let mut missing = Vec::new();
        let glyphs: Vec<(char, usize, f32)> = text
            .chars()
            .filter(|c| !c.is_control())
            .map(|c| match self.font_for(c) {
                Some(f) => (c, f, self.advance(f, c)),
                None => {
                    missing.push(c);
                    let f = self.font_for(PLACEHOLDER).map_or(('?', 0), |f| (PLACEHOLDER, f));
                    (f.0, f.1, self.advance(f.1, f.0))
                }
            })
            .collect();
        let max_lines = max_lines.max(1);
        let mut size = max_size;
        loop {
            let lines = wrap(&glyphs, width / size);
            if lines.len() <= max_lines || size <= min_size {
                let mut lines: Vec<Vec<(char, usize, f32)>> = lines.into_iter().map(|(a, b)| glyphs[a..b].to_vec()).collect();
                if lines.len() > max_lines {
                    lines.truncate(max_lines);
                    if let Some(last) = lines.last_mut() {
                        let dots = self.font_for('…').map_or(('.', 0), |f| ('…', f));
                        let dots = (dots.0, dots.1, self.advance(dots.1, dots.0));
                        while !last.is_empty() && (last.iter().map(|g| g.2).sum::<f32>() + dots.2) * size > width {
                            last.pop();
                        }
                        last.push(dots);
                    }
                }
                let lines = lines.iter().map(|l| Line::of(l, size)).collect();
                return Block { size, lines, missing };
            }
            size = (size - 1.0).max(min_size);
        }
    }
}

/// Greedy line breaking of glyphs (advances per point) into lines of at
/// most `width` (in points per point of size): (start, end) ranges.
fn wrap(glyphs: &[(char, usize, f32)], width: f32) -> Vec<(usize, usize)> {
    let n = glyphs.len();
    let mut lines = Vec::new();
    let (mut start, mut i, mut x) = (0, 0, 0.0f32);
    let mut last_break: Option<usize> = None;
    // A line may start before a character after a space, a '/', or next to CJK text.
    let breakable = |i: usize| {
        let (prev, c) = (glyphs[i - 1].0, glyphs[i].0);
        prev == ' ' || prev == '/' || !c.is_ascii() || !prev.is_ascii()
    };
    while i < n {
        let w = glyphs[i].2;
        if i > start && x + w > width && glyphs[i].0 != ' ' {
            let cut = last_break.filter(|&b| b > start).unwrap_or(i);
            lines.push((start, trim_end(glyphs, start, cut)));
            start = cut;
            while start < n && glyphs[start].0 == ' ' {
                start += 1;
            }
            last_break = None;
            if start > i {
                i = start;
                x = 0.0;
            } else {
                x = glyphs[start..i].iter().map(|g| g.2).sum();
            }
            continue;
        }
        if i > start && breakable(i) {
            last_break = Some(i);
        }
        x += w;
        i += 1;
    }
    if start < n {
        lines.push((start, trim_end(glyphs, start, n)));
    }
    lines
}

fn trim_end(glyphs: &[(char, usize, f32)], start: usize, mut end: usize) -> usize {
    while end > start && glyphs[end - 1].0 == ' ' {
        end -= 1;
    }
    end
}

/// Text laid out for one place on a card.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Font size (points).
    pub size: f32,
    pub lines: Vec<Line>,
    /// Characters no font has (drawn as [`PLACEHOLDER`]).
    pub missing: Vec<char>,
}

/// One line: runs of text that share a font.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub runs: Vec<Run>,
    /// Width in points.
    pub width: f32,
}

/// Text drawn with one font of the set.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Index in the [`FontSet`] (0: the main font).
    pub font: usize,
    pub text: String,
    /// Width in points.
    pub width: f32,
}

impl Line {
    fn of(glyphs: &[(char, usize, f32)], size: f32) -> Line {
        let mut runs: Vec<Run> = Vec::new();
        for &(c, font, adv) in glyphs {
            match runs.last_mut() {
                Some(r) if r.font == font => {
                    r.text.push(c);
                    r.width += adv * size;
                }
                _ => runs.push(Run { font, text: c.to_string(), width: adv * size }),
            }
        }
        let width = runs.iter().map(|r| r.width).sum();
        Line { runs, width }
    }

    /// The line's text.
    pub fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
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
                        if let Some(f) = fonts.loaded(run.font) {
                            surface.draw_text(Point::from_xy(cx, baseline), f.font.clone(), block.size, &run.text, false, TextDirection::Auto);
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
fn draw_qr(surface: &mut Surface<'_>, code: &qrcode::QrCode, x: f32, y: f32, side: f32) {
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
