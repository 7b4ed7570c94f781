"""The plan chart: for each concept of the week, the share of members who read it, passed its
questions and completed its scenario, labelled in the reader's language.

Concept titles are drawn with a font that has Hangul (``bot.core.fonts``), so a Korean
reader sees 컨테이너, not empty boxes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from bot.core.fonts import Font, load_font

WIDTH = 760
ROW = 66
TOP = 44
LABEL_WIDTH = 230
PALETTE = (
    (43, 45, 49),  # background
    (220, 221, 222),  # text
    (60, 63, 69),  # empty bar
    (88, 101, 242),  # read
    (254, 231, 92),  # passed
    (87, 242, 135),  # completed
)
BACKGROUND, TEXT, EMPTY, READ, PASSED, COMPLETED = range(len(PALETTE))
BARS = (READ, PASSED, COMPLETED)


@dataclass(frozen=True, slots=True)
class PlanRow:
    label: str
    read: int
    passed: int
    completed: int


def render_plan_chart(
    rows: Sequence[PlanRow], members: int, legend: tuple[str, str, str], font_path: Path | None
) -> bytes:
    """A PNG: three bars per concept (read, passed, completed) out of ``members``."""
    height = TOP + ROW * max(1, len(rows)) + 10
    image = Image.new("RGB", (WIDTH, height), PALETTE[BACKGROUND])
    draw = ImageDraw.Draw(image)
    font = load_font(font_path, 15)
    small = load_font(font_path, 12)
    x = 10
    for colour, name in zip(BARS, legend, strict=True):
        draw.rectangle((x, 14, x + 12, 26), fill=PALETTE[colour])
        draw.text((x + 18, 12), name, fill=PALETTE[TEXT], font=small)
        x += 30 + int(draw.textlength(name, font=small))
    for index, row in enumerate(rows):
        _row(draw, font, small, row, members, TOP + index * ROW)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _row(
    draw: ImageDraw.ImageDraw, font: Font, small: Font, row: PlanRow, members: int, top: int
) -> None:
    draw.text(
        (10, top + 18), _fit(draw, row.label, font, LABEL_WIDTH - 20), fill=PALETTE[TEXT], font=font
    )
    left, right = LABEL_WIDTH, WIDTH - 70
    for offset, (colour, value) in enumerate(
        zip(BARS, (row.read, row.passed, row.completed), strict=True)
    ):
        y0 = top + 4 + offset * 19
        draw.rectangle((left, y0, right, y0 + 14), fill=PALETTE[EMPTY])
        share = value / members if members else 0.0
        if share:
            draw.rectangle((left, y0, left + (right - left) * share, y0 + 14), fill=PALETTE[colour])
        draw.text((right + 8, y0), f"{value}/{members}", fill=PALETTE[TEXT], font=small)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def render_label(text: str, font_path: Path | None, size: int = 24) -> Image.Image:
    """``text`` alone, black on white, as the chart draws it (for checking the font)."""
    font = load_font(font_path, size)
    image = Image.new("L", (size * (len(text) + 2), size * 2), 255)
    ImageDraw.Draw(image).text((size // 2, size // 3), text, fill=0, font=font)
    return image
