"""Fonts for pictures (charts, diagrams): one that draws Hangul, found at a known path.

Pillow's built-in font has no Hangul: a Korean label drawn with it comes out as empty boxes
("tofu"). The coach ships a font with Hangul (Debian's ``fonts-nanum``, installed by
``deploy/dev.sh`` and the image) and finds it through the ``chart_font`` setting or the
known paths it is given; without one, pictures keep to labels the built-in font can draw.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from PIL import ImageFont

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont

HANGUL_PROBE = "한"


def find_font(configured: Path | None, known: Sequence[Path]) -> Path | None:
    """The configured font if it exists, else the first known path that exists."""
    for candidate in (configured, *known):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


@functools.cache
def load_font(path: Path | None, size: int) -> Font:
    """The font at ``path`` in ``size`` pixels, else Pillow's built-in one."""
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def needs_hangul(text: str) -> bool:
    """Whether ``text`` has Hangul syllables or jamo."""
    return any("\u1100" <= ch <= "\u11ff" or "\uac00" <= ch <= "\ud7a3" for ch in text)
