"""The /progress picture: activity per day, and mastery per topic, drawn with Pillow.

Topic names are drawn in the reader's language with the font that has Hangul
(:mod:`bot.core.fonts`: the ``chart_font`` setting or Debian's fonts-nanum); without such a
font, topic ids are drawn instead, which Pillow's own font can show.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.core.fonts import load_font, needs_hangul
from bot.store.progress import DayActivity

WIDTH = 720
ACTIVITY_HEIGHT = 210
ROW = 28
MAX_TOPICS = 6
# A palette image: drawing uses colour indices, and PNG encoding is ~15x faster than RGB.
PALETTE = (
    (43, 45, 49),  # background
    (70, 73, 79),  # grid
    (220, 221, 222),  # text
    (88, 101, 242),  # activity
    (87, 242, 135),  # correct answers
    (254, 231, 92),  # mastery
    (60, 63, 69),  # empty bar
)
BACKGROUND, GRID, TEXT, ACTIVITY, CORRECT, MASTERY, EMPTY_BAR = range(len(PALETTE))
Font = ImageFont.ImageFont | ImageFont.FreeTypeFont
Box = tuple[int, int, int, int]  # left, top, right, bottom


@dataclass(frozen=True, slots=True)
class TopicMastery:
    topic: str
    mastered: int
    total: int

    @property
    def share(self) -> float:
        return self.mastered / self.total if self.total else 0.0


@functools.cache
def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def render_chart(
    days: Sequence[DayActivity],
    mastery: Sequence[TopicMastery],
    today: date,
    span: int = 14,
    labels: Mapping[str, str] | None = None,
    font_path: Path | None = None,
) -> bytes:
    """A PNG: the last ``span`` days of activity on top, mastery bars below; ``labels`` names
    the topics in the reader's language (drawn with ``font_path``, a font with Hangul)."""
    mastery = mastery[:MAX_TOPICS]
    height = ACTIVITY_HEIGHT + ROW * max(1, len(mastery)) + 12
    image = Image.new("P", (WIDTH, height), BACKGROUND)
    image.putpalette([channel for colour in PALETTE for channel in colour])
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"  # no anti-aliasing: a palette has no in-between colours
    small = _font(12)
    names = {m.topic: _label(m.topic, labels, font_path) for m in mastery}
    label_font = load_font(font_path, 13) if font_path is not None else small
    _activity(draw, small, days, today, span, (40, 16, WIDTH - 16, 190))
    _mastery(draw, label_font, mastery, names, (120, ACTIVITY_HEIGHT, WIDTH - 60, height - 12))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _activity(
    draw: ImageDraw.ImageDraw,
    font: Font,
    days: Sequence[DayActivity],
    today: date,
    span: int,
    box: Box,
) -> None:
    left, top, right, bottom = box
    by_day = {d.day: d for d in days}
    window = [today - timedelta(days=span - 1 - i) for i in range(span)]
    peak = max([by_day[d].events for d in window if d in by_day] + [1])
    axis = bottom - 16
    draw.line((left, axis, right, axis), fill=GRID)
    draw.text((4, top), str(peak), fill=TEXT, font=font)
    draw.text((4, axis - 12), "0", fill=TEXT, font=font)
    slot = (right - left) / span
    for index, day in enumerate(window):
        x0 = left + index * slot + 3
        x1 = left + (index + 1) * slot - 3
        activity = by_day.get(day)
        if activity is not None and activity.events:
            height = (axis - top) * activity.events / peak
            draw.rectangle((x0, axis - height, x1, axis), fill=ACTIVITY)
            good = (axis - top) * activity.correct / peak
            if good:
                draw.rectangle((x0, axis - good, x1, axis), fill=CORRECT)
        if index % 2 == (span - 1) % 2:
            draw.text((x0, axis + 3), day.strftime("%m-%d"), fill=TEXT, font=font)


def _label(topic: str, labels: Mapping[str, str] | None, font_path: Path | None) -> str:
    """The topic's name, when the font can draw it; else its id."""
    name = (labels or {}).get(topic, topic)
    if needs_hangul(name) and font_path is None:
        return topic
    return name


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _mastery(
    draw: ImageDraw.ImageDraw,
    font: Font,
    mastery: Sequence[TopicMastery],
    names: Mapping[str, str],
    box: Box,
) -> None:
    left, top, right, bottom = box
    if not mastery:
        return
    row = min(ROW, (bottom - top) / len(mastery))
    for index, item in enumerate(mastery):
        y0 = top + index * row + 4
        y1 = y0 + row - 8
        draw.text((8, y0), _fit(draw, names[item.topic], font, left - 14), fill=TEXT, font=font)
        draw.rectangle((left, y0, right, y1), fill=EMPTY_BAR)
        if item.share:
            draw.rectangle((left, y0, left + (right - left) * item.share, y1), fill=MASTERY)
        draw.text((right + 6, y0), f"{round(item.share * 100)}%", fill=TEXT, font=font)
