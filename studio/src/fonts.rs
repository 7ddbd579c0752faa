//! Fonts that can write Chinese: egui's defaults have no CJK glyphs, so 启明 would render as boxes.
//!
//! The studio bundles a subset of WenQuanYi Micro Hei (Apache-2.0;
//! `tools/fonts/subset-cjk.py` writes it: GB 2312's 6,763 hanzi, punctuation
//! and every character of the curriculum), so it works offline on a machine
//! with no Chinese font. A system CJK font, when one is found, comes after it
//! as a fallback for rare characters (names such as 䶮).

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};

const BUNDLED: &[u8] = include_bytes!("../assets/fonts/qiming-cjk.ttf");

/// System fonts tried, in order, as a fallback beyond the bundled subset.
const SYSTEM_CJK: &[(&str, u32)] = &[
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf", 0),
    ("C:\\Windows\\Fonts\\msyh.ttc", 0),
    ("C:\\Windows\\Fonts\\simsun.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
];

/// egui's fonts plus the bundled CJK subset (and a system CJK font, when present).
pub fn definitions() -> FontDefinitions {
    let mut fonts = FontDefinitions::default();
    fonts.font_data.insert("qiming-cjk".into(), Arc::new(FontData::from_static(BUNDLED)));
    let mut chain = vec!["qiming-cjk".to_string()];
    if let Some((path, index)) = SYSTEM_CJK.iter().find(|(p, _)| std::path::Path::new(p).is_file())
        && let Ok(bytes) = std::fs::read(path)
    {
        let mut data = FontData::from_owned(bytes);
        data.index = *index;
        fonts.font_data.insert("system-cjk".into(), Arc::new(data));
        chain.push("system-cjk".into());
    }
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        let list = fonts.families.entry(family).or_default();
        // After the Latin fonts (they draw ASCII better), before the emoji fallbacks.
        let at = list.len().min(1);
        for (i, name) in chain.iter().enumerate() {
            list.insert(at + i, name.clone());
        }
    }
    fonts
}

/// Installs [`definitions`] in a context.
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(definitions());
}
