"""A small bar chart as a PNG, in pure Python (zlib + struct), for the e-mail digests.

E-mail clients show PNG images reliably (not SVG, not scripts); this draws bars, axes, a title and a few
labels in a built-in 5×7 pixel font, with nothing to install. ``bar_chart(values, labels, title=...)`` returns
the PNG's bytes.
"""

from __future__ import annotations

import struct
import zlib

# 5x7 glyphs: 7 rows of 5 bits each (most significant bit on the left).
_FONT = {
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11110 00001 00001 01110 00001 00001 11110",
    "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110", "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001", "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110", "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111", "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111", "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110", "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001", "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001", "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110", "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101", "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110", "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110", "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010", "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100", "Z": "11111 00001 00010 00100 01000 10000 11111",
    "$": "00100 01111 10100 01110 00101 11110 00100", ".": "00000 00000 00000 00000 00000 01100 01100",
    ",": "00000 00000 00000 00000 01100 00100 01000", "-": "00000 00000 00000 11111 00000 00000 00000",
    "+": "00000 00100 00100 11111 00100 00100 00000", "%": "11000 11001 00010 00100 01000 10011 00011",
    "/": "00001 00010 00010 00100 01000 01000 10000", ":": "00000 01100 01100 00000 01100 01100 00000",
    "(": "00010 00100 01000 01000 01000 00100 00010", ")": "01000 00100 00010 00010 00010 00100 01000",
    " ": "00000 00000 00000 00000 00000 00000 00000", "'": "00100 00100 01000 00000 00000 00000 00000",
}
_GLYPHS = {ch: [int(row, 2) for row in bits.split()] for ch, bits in _FONT.items()}

WHITE = (255, 255, 255)
INK = (31, 41, 55)
GRID = (229, 231, 235)
BLUE = (29, 78, 216)
LIGHT = (147, 173, 235)
RED = (220, 38, 38)


class Canvas:
    def __init__(self, width: int, height: int, background=WHITE):
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color) -> None:
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        if x0 >= x1 or y0 >= y1:
            return
        run = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start:start + len(run)] = run

    def text(self, x: int, y: int, text: str, color=INK, scale: int = 1) -> int:
        """Draw ``text`` with its top-left corner at (x, y); returns the x after it."""
        for ch in text.upper():
            glyph = _GLYPHS.get(ch, _GLYPHS[" "])
            for row, bits in enumerate(glyph):
                for col in range(5):
                    if bits & (1 << (4 - col)):
                        self.rect(x + col * scale, y + row * scale, x + (col + 1) * scale, y + (row + 1) * scale, color)
            x += 6 * scale
        return x

    @staticmethod
    def text_width(text: str, scale: int = 1) -> int:
        return 6 * scale * len(text) - scale if text else 0

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3:(y + 1) * self.width * 3])
                       for y in range(self.height))

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
                + chunk(b"IEND", b""))


def short_money(value: float) -> str:
    v = abs(float(value))
    sign = "-" if value < 0 else ""
    if v >= 1e6:
        return f"{sign}${v / 1e6:.1f}M"
    if v >= 1e3:
        return f"{sign}${v / 1e3:.0f}K"
    return f"{sign}${v:.0f}"


def bar_chart(values: list[float], labels: list[str], *, title: str = "", width: int = 600, height: int = 220,
              highlight: set[int] | None = None, money: bool = True) -> bytes:
    """Bars of ``values`` with ``labels`` under some of them (first, middle, last); ``highlight``: indexes drawn
    in the strong colour (the rest lighter)."""
    canvas = Canvas(width, height)
    left, right, top, bottom = 54, 12, 30, 24
    if title:
        canvas.text(left, 8, title, INK, scale=2 if canvas.text_width(title, 2) < width - left - right else 1)
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([float(v) for v in values] + [0.0]) or 1.0
    fmt = short_money if money else (lambda v: f"{v:,.0f}")
    for k in range(5):  # grid lines and y labels
        y = top + plot_h - round(plot_h * k / 4)
        canvas.rect(left, y, left + plot_w, y + 1, GRID)
        label = fmt(peak * k / 4)
        canvas.text(left - 6 - canvas.text_width(label), y - 3, label, INK)
    n = max(1, len(values))
    slot = plot_w / n
    gap = max(1, round(slot * 0.2))
    for i, v in enumerate(values):
        x0 = left + round(i * slot) + gap // 2
        x1 = left + round((i + 1) * slot) - (gap - gap // 2)
        h = round(plot_h * max(float(v), 0.0) / peak)
        color = BLUE if highlight is None or i in highlight else LIGHT
        canvas.rect(x0, top + plot_h - h, max(x1, x0 + 1), top + plot_h, color)
    canvas.rect(left, top + plot_h, left + plot_w, top + plot_h + 1, INK)
    for i in sorted({0, len(labels) // 2, len(labels) - 1}) if labels else []:
        label = labels[i]
        x = left + round((i + 0.5) * slot) - canvas.text_width(label) // 2
        canvas.text(max(0, min(x, width - canvas.text_width(label))), top + plot_h + 8, label, INK)
    return canvas.png()
