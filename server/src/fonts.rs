//! CJK-capable text for the PDFs the server and the CLI write (账号卡, assessment reports):
//! finding a font with Chinese and Latin glyphs, falling back per character to fonts that
//! cover rarer characters, and laying text out in lines that fit a width.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use krilla::text::Font;
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

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

/// Why no usable font was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FontError {
    /// No font with Chinese characters is installed or configured.
    #[error(
        "PDFs need a font with Chinese characters and none was found: install one (Debian: `apt install fonts-wqy-microhei`) or set slip_font in the config file"
    )]
    NoFont,
    /// The font file cannot be read or parsed.
    #[error("cannot read the font {0}: {1}")]
    BadFont(PathBuf, String),
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

fn load_font(path: &Path) -> Result<Loaded, FontError> {
    // Fonts are megabytes (Hanazono B is 30 MB): read each once per process.
    static CACHE: Mutex<BTreeMap<PathBuf, Loaded>> = Mutex::new(BTreeMap::new());
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(f) = cache.get(path) {
        return Ok(f.clone());
    }
    let bytes = Arc::new(std::fs::read(path).map_err(|e| FontError::BadFont(path.to_path_buf(), e.to_string()))?);
    if skrifa::FontRef::from_index(&bytes, 0).is_err() {
        return Err(FontError::BadFont(path.to_path_buf(), "not a font file".into()));
    }
    let font = Font::new(bytes.clone().into(), 0).ok_or_else(|| FontError::BadFont(path.to_path_buf(), "not a font krilla can read".into()))?;
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
    pub fn new(main: &Path, fallbacks: &[PathBuf]) -> Result<FontSet, FontError> {
        let first = OnceCell::new();
        let _ = first.set(Some(load_font(main)?));
        let mut fonts = vec![(main.to_path_buf(), first)];
        fonts.extend(fallbacks.iter().filter(|p| p.as_path() != main && p.is_file()).map(|p| (p.clone(), OnceCell::new())));
        Ok(FontSet { fonts })
    }

    /// The configured (or first found) main font with the usual fallbacks.
    pub fn standard(configured: Option<&Path>) -> Result<FontSet, FontError> {
        let main = find_font(configured).ok_or(FontError::NoFont)?;
        FontSet::new(&main, &FALLBACK_FONTS.iter().map(PathBuf::from).collect::<Vec<_>>())
    }

    /// The file of font `i` (0 is the main font).
    pub fn path(&self, i: usize) -> &Path {
        &self.fonts[i].0
    }

    /// krilla's handle of font `i`, for drawing a [`Run`] (None: a fallback that failed to load).
    pub fn font(&self, i: usize) -> Option<Font> {
        self.loaded(i).map(|f| f.font.clone())
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
