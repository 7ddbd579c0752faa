//! Printable login slips (PDF): one cut-out card per student with their name,
//! username and first password, rendered with a CJK font so Chinese names print.
//!
//! Nothing is stored: the teacher's browser sends back the passwords it was
//! shown once at import, and gets a PDF to print and cut.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::text::{Font, TextDirection};
use serde::Deserialize;

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

#[derive(Debug, thiserror::Error)]
pub enum SlipError {
    #[error(
        "login slips need a font with Chinese characters and none was found: install one (Debian: `apt install fonts-wqy-microhei`) or set slip_font in the config file"
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

fn load_font(path: &Path) -> Result<Font, SlipError> {
    // Fonts are megabytes: read each once per process.
    static CACHE: Mutex<Option<(PathBuf, Font)>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((p, f)) = cache.as_ref()
        && p == path
    {
        return Ok(f.clone());
    }
    let bytes = std::fs::read(path).map_err(|e| SlipError::BadFont(path.to_path_buf(), e.to_string()))?;
    let font = Font::new(Arc::new(bytes).into(), 0).ok_or_else(|| SlipError::BadFont(path.to_path_buf(), "not a font krilla can read".into()))?;
    *cache = Some((path.to_path_buf(), font.clone()));
    Ok(font)
}

// A4 in points, two columns of five cards.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 36.0;
const COLS: usize = 2;
const ROWS: usize = 5;

/// Renders the slips as a PDF.
pub fn render(title: &str, slips: &[Slip], font: Option<&Path>) -> Result<Vec<u8>, SlipError> {
    let font_path = find_font(font).ok_or(SlipError::NoFont)?;
    let font = load_font(&font_path)?;
    let mut document = Document::new();
    let card_w = (PAGE_W - 2.0 * MARGIN) / COLS as f32;
    let card_h = (PAGE_H - 2.0 * MARGIN) / ROWS as f32;
    for page_slips in slips.chunks(COLS * ROWS) {
        let mut page = document.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| SlipError::Pdf("page size".into()))?);
        let mut surface = page.surface();
        for (i, slip) in page_slips.iter().enumerate() {
            let x = MARGIN + (i % COLS) as f32 * card_w;
            let y = MARGIN + (i / COLS) as f32 * card_h;
            // Dashed cut lines around each card.
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke {
                paint: rgb::Color::new(150, 150, 150).into(),
                width: 0.6,
                dash: Some(StrokeDash { array: vec![4.0, 3.0], offset: 0.0 }),
                ..Stroke::default()
            }));
            let mut pb = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(x, y, card_w, card_h) {
                pb.push_rect(rect);
            }
            if let Some(path) = pb.finish() {
                surface.draw_path(&path);
            }
            surface.set_stroke(None);
            surface.set_fill(Some(Fill { paint: rgb::Color::new(0, 0, 0).into(), ..Fill::default() }));
            let mut line = |dy: f32, size: f32, text: &str| {
                surface.draw_text(Point::from_xy(x + 14.0, y + dy), font.clone(), size, text, false, TextDirection::Auto);
            };
            line(22.0, 10.0, &format!("启明 Qiming · {title}"));
            let number = slip.student_number.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
            line(50.0, 18.0, &format!("{}{number}", slip.display_name));
            line(82.0, 12.0, &format!("用户名 Username:  {}", slip.username));
            line(104.0, 12.0, &format!("初始密码 Password:  {}", slip.password));
            line(128.0, 8.5, "首次登录后请修改密码，并妥善保管。");
            line(140.0, 8.5, "Change the password at first login and keep it secret.");
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| SlipError::Pdf(format!("{e:?}")))
}
