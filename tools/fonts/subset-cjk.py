#!/usr/bin/env python3
"""Writes studio/assets/fonts/qiming-cjk.ttf: a subset of WenQuanYi Micro Hei.

The studio bundles it so Chinese renders with no system font and no network
(egui's default fonts have no CJK glyphs). The subset covers every character
of GB 2312 (the 6,763 common hanzi), CJK punctuation and full-width forms,
and every character used in the curriculum and the studio's dictionary.
Rare characters outside it fall back to a system CJK font when one exists.

Needs: Debian's fonts-wqy-microhei and `pip install fonttools`.
Run from the repository root: python3 tools/fonts/subset-cjk.py
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = pathlib.Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
OUT = ROOT / "studio/assets/fonts/qiming-cjk.ttf"

chars = set()
# GB 2312: rows 0xB0-0xF7 hold the hanzi (levels 1 and 2), 0xA1-0xA9 symbols.
for hi in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.update(chr(c) for c in range(0x3000, 0x3040))  # CJK punctuation
chars.update(chr(c) for c in range(0xFF00, 0xFFF0))  # full-width forms
chars.update(chr(c) for c in range(0x2000, 0x2070))  # general punctuation
for pattern in ["curriculum/**/*.md", "curriculum/**/*.toml", "studio/i18n.toml", "server/web/i18n.json"]:
    for path in ROOT.glob(pattern):
        chars.update(path.read_text(encoding="utf-8"))
chars = sorted(c for c in chars if ord(c) > 0x7F and not c.isspace())
text = "".join(chars)
OUT.parent.mkdir(parents=True, exist_ok=True)
subprocess.run(
    [sys.executable, "-m", "fontTools.subset", str(SOURCE), "--font-number=0", f"--text={text}",
     "--layout-features=*", "--no-hinting", "--desubroutinize", f"--output-file={OUT}"],
    check=True,
)


def add_copy_icon(path):
    """egui_commonmark's code blocks have a copy button labelled U+1F5D0 (🗐),
    which neither egui's fonts nor WenQuanYi have: draw it (two overlapping
    pages) so the button is never a box."""
    from fontTools.ttLib import TTFont
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    font = TTFont(path)
    upm = font["head"].unitsPerEm
    pen = TTGlyphPen(None)
    def frame(x0, y0, x1, y1, t):
        # An outer rectangle clockwise and an inner one counter-clockwise: a hollow page.
        for (a, b, c, d), clockwise in (((x0, y0, x1, y1), True), ((x0 + t, y0 + t, x1 - t, y1 - t), False)):
            pts = [(a, b), (a, d), (c, d), (c, b)] if clockwise else [(a, b), (c, b), (c, d), (a, d)]
            pen.moveTo(pts[0])
            for p in pts[1:]:
                pen.lineTo(p)
            pen.closePath()
    u = upm / 1000
    frame(int(300 * u), int(250 * u), int(850 * u), int(850 * u), int(70 * u))
    frame(int(120 * u), int(-50 * u), int(670 * u), int(550 * u), int(70 * u))
    glyph = pen.glyph()
    font["glyf"]["uni1F5D0"] = glyph
    font["hmtx"]["uni1F5D0"] = (upm, 0)
    order = font.getGlyphOrder()
    if "uni1F5D0" not in order:
        font.setGlyphOrder(order + ["uni1F5D0"])
    for table in font["cmap"].tables:
        if table.isUnicode() and table.format in (12, 13):
            table.cmap[0x1F5D0] = "uni1F5D0"
    if not any(t.format == 12 for t in font["cmap"].tables):
        from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
        sub = CmapSubtable.newSubtable(12)
        sub.platformID, sub.platEncID, sub.language = 3, 10, 0
        base = next(t for t in font["cmap"].tables if t.isUnicode())
        sub.cmap = dict(base.cmap)
        sub.cmap[0x1F5D0] = "uni1F5D0"
        font["cmap"].tables.append(sub)
    font["maxp"].numGlyphs = len(font.getGlyphOrder())
    font.save(path)


add_copy_icon(OUT)
print(f"{OUT.relative_to(ROOT)}: {len(chars)} characters, {OUT.stat().st_size:,} bytes")
