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
print(f"{OUT.relative_to(ROOT)}: {len(chars)} characters, {OUT.stat().st_size:,} bytes")
