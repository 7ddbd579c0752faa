//! The floor and wall colour palette: names students read back from `color()`.
//!
//! Scenarios name colours from this fixed palette so that the colour sensor can
//! answer with a stable lowercase English word on every machine.

/// A colour of the palette, stored as its index in [`PALETTE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaletteColor(pub u8);

/// (name, sRGB) of every colour a scenario may use. The order is part of the
/// replay format (colour readings are stored as indices): only append.
pub const PALETTE: &[(&str, [u8; 3])] = &[
    ("white", [255, 255, 255]),
    ("black", [20, 20, 20]),
    ("red", [220, 40, 40]),
    ("green", [40, 170, 70]),
    ("blue", [40, 90, 220]),
    ("yellow", [245, 210, 40]),
    ("orange", [245, 140, 30]),
    ("purple", [140, 60, 180]),
    ("gray", [128, 128, 128]),
    ("brown", [140, 90, 50]),
    ("cyan", [40, 200, 220]),
    ("pink", [245, 150, 190]),
];

impl PaletteColor {
    pub const WHITE: PaletteColor = PaletteColor(0);
    pub const BLACK: PaletteColor = PaletteColor(1);
    pub const GRAY: PaletteColor = PaletteColor(8);
    pub const BROWN: PaletteColor = PaletteColor(9);

    /// Looks a colour up by name (case-insensitive; "grey" is accepted for "gray").
    pub fn from_name(name: &str) -> Option<PaletteColor> {
        let lower = name.trim().to_ascii_lowercase();
        let lower = if lower == "grey" { "gray".to_string() } else { lower };
        PALETTE.iter().position(|(n, _)| *n == lower).map(|i| PaletteColor(i as u8))
    }

    pub fn name(self) -> &'static str {
        PALETTE[self.0 as usize].0
    }

    pub fn rgb(self) -> [u8; 3] {
        PALETTE[self.0 as usize].1
    }

    /// How dark the colour looks to an infrared line sensor: 0.0 white … 1.0 black.
    /// Uses Rec. 601 luma, scaled so that the palette's black reads exactly 1.0.
    pub fn darkness(self) -> f64 {
        let [r, g, b] = self.rgb();
        let luma = 0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64;
        let black = 20.0;
        ((255.0 - luma) / (255.0 - black)).clamp(0.0, 1.0)
    }

    /// All names, for error messages.
    pub fn names() -> Vec<&'static str> {
        PALETTE.iter().map(|(n, _)| *n).collect()
    }
}
