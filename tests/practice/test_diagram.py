"""The lifecycle diagram: a PNG with the current state highlighted."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.practice.diagram import HIGHLIGHT, STATES, render_lifecycle


def colour_at(png: bytes, state: str) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x, y = STATES[state]
    return image.getpixel((x - 60, y - 20))  # inside the box, away from its label


@pytest.mark.parametrize("state", sorted(STATES))
def test_only_the_current_state_is_highlighted(state: str) -> None:
    png = render_lifecycle(state, "life")
    assert png.startswith(b"\x89PNG")
    for other in STATES:
        assert (colour_at(png, other) == HIGHLIGHT) is (other == state)


def test_engine_states_map_onto_the_diagram() -> None:
    assert colour_at(render_lifecycle("restarting"), "running") == HIGHLIGHT
    assert colour_at(render_lifecycle("dead"), "exited") == HIGHLIGHT


def test_no_container_highlights_nothing() -> None:
    png = render_lifecycle(None, "life")
    assert all(colour_at(png, state) != HIGHLIGHT for state in STATES)
