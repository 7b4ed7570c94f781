"""A PNG of the container lifecycle with the user's container's state highlighted."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.core.fonts import load_font

WIDTH, HEIGHT = 760, 400
BOX_W, BOX_H = 150, 56
BACKGROUND = (47, 49, 54)
BOX = (64, 68, 75)
TEXT = (230, 230, 230)
MUTED = (170, 175, 180)
ARROW = (140, 150, 160)
HIGHLIGHT = (59, 165, 93)

# Centres of the state boxes.
STATES: dict[str, tuple[int, int]] = {
    "created": (110, 120),
    "running": (380, 120),
    "paused": (650, 120),
    "exited": (380, 300),
    "removed": (650, 300),
}
# (from, to, label, bend): bend shifts a pair of opposite arrows apart.
TRANSITIONS: tuple[tuple[str, str, str, int], ...] = (
    ("created", "running", "start", 0),
    ("running", "paused", "pause", -12),
    ("paused", "running", "unpause", 12),
    ("running", "exited", "stop / kill", -14),
    ("exited", "running", "start / restart", 14),
    ("exited", "removed", "rm", 0),
)
STATE_ALIASES = {"restarting": "running", "dead": "exited"}


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def _edge_point(centre: tuple[int, int], towards: tuple[int, int]) -> tuple[float, float]:
    """Where the line from ``centre`` to ``towards`` leaves the box around ``centre``."""
    cx, cy = centre
    dx, dy = towards[0] - cx, towards[1] - cy
    scale = min(
        (BOX_W / 2) / abs(dx) if dx else math.inf,
        (BOX_H / 2) / abs(dy) if dy else math.inf,
    )
    return cx + dx * scale, cy + dy * scale


def _arrow(draw: ImageDraw.ImageDraw, start: str, end: str, label: str, bend: int) -> None:
    a, b = STATES[start], STATES[end]
    horizontal = a[1] == b[1]
    offset = (0, bend) if horizontal else (bend, 0)
    a2 = (a[0] + offset[0], a[1] + offset[1])
    b2 = (b[0] + offset[0], b[1] + offset[1])
    x1, y1 = _edge_point(a2, b2) if horizontal or a[0] == b[0] else _edge_point(a, b)
    x2, y2 = _edge_point(b2, a2) if horizontal or a[0] == b[0] else _edge_point(b, a)
    draw.line((x1, y1, x2, y2), fill=ARROW, width=2)
    angle = math.atan2(y2 - y1, x2 - x1)
    head = [
        (x2, y2),
        (x2 - 11 * math.cos(angle - 0.4), y2 - 11 * math.sin(angle - 0.4)),
        (x2 - 11 * math.cos(angle + 0.4), y2 - 11 * math.sin(angle + 0.4)),
    ]
    draw.polygon(head, fill=ARROW)
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    if horizontal:
        my += -12 if bend <= 0 else 12
    else:
        mx += 8 if bend >= 0 else -8
    anchor = "mm" if horizontal else ("lm" if bend >= 0 else "rm")
    draw.text((mx, my), label, fill=MUTED, font=_font(14), anchor=anchor)


def _box(
    draw: ImageDraw.ImageDraw,
    state: str,
    current: bool,
    caption: str | None = None,
    font_path: Path | None = None,
) -> None:
    cx, cy = STATES[state]
    rect = (cx - BOX_W / 2, cy - BOX_H / 2, cx + BOX_W / 2, cy + BOX_H / 2)
    draw.rounded_rectangle(
        rect,
        radius=12,
        fill=HIGHLIGHT if current else BOX,
        outline=(255, 255, 255) if current else ARROW,
        width=4 if current else 1,
    )
    if caption is None:
        draw.text((cx, cy), state, fill=TEXT, font=_font(20), anchor="mm")
        return
    draw.text((cx, cy - 10), state, fill=TEXT, font=_font(18), anchor="mm")
    draw.text((cx, cy + 13), caption, fill=TEXT, font=load_font(font_path, 15), anchor="mm")


def diagram_state(current: str | None) -> str | None:
    """The diagram's box for an engine state (``restarting`` is drawn as ``running``)."""
    state = STATE_ALIASES.get(current or "", current)
    return state if state in STATES else None


def render_lifecycle(
    current: str | None,
    container: str | None = None,
    captions: Mapping[str, str] | None = None,
    font_path: Path | None = None,
) -> bytes:
    """The lifecycle diagram as PNG bytes; ``current`` is highlighted (None: nothing) and
    labelled with the ``container``'s name.

    The picture holds Docker's own words (states, commands) and the user's name for the
    container; ``captions`` adds each state's name in the reader's language under it, drawn
    with ``font_path`` (a font with Hangul: :mod:`bot.core.fonts`).
    """
    current = diagram_state(current)
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((20, 18), "docker run = create + start", fill=TEXT, font=_font(20))
    draw.text(
        (20, HEIGHT - 28),
        "docker rm -f: created / running / paused / exited -> removed",
        fill=MUTED,
        font=_font(14),
    )
    for start, end, label, bend in TRANSITIONS:
        _arrow(draw, start, end, label, bend)
    for state in STATES:
        caption = captions.get(state) if captions and font_path is not None else None
        _box(draw, state, state == current, caption, font_path)
    if container and current is not None:
        cx, cy = STATES[current]
        draw.text(
            (cx, cy + BOX_H / 2 + 14), container[:24], fill=HIGHLIGHT, font=_font(15), anchor="mm"
        )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
