"""This week's plan (table and chart) and Hangul in pictures."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageChops

from bot.coach import Coach
from bot.core.fonts import find_font
from bot.settings import FONT_PATHS
from bot.study.chart import PlanRow, render_label, render_plan_chart
from tests.conftest import make_actor

LABEL = "컨테이너"
TOFU = "\ue000\ue001\ue002\ue003"  # private-use characters: no font draws them but as boxes


def draws_hangul(font: Path | None) -> bool:
    """Whether ``font`` draws the Korean label differently from four missing-glyph boxes."""
    label, tofu = render_label(LABEL, font), render_label(TOFU, font)
    return ImageChops.difference(label, tofu).getbbox() is not None


def test_the_shipped_font_draws_hangul_and_the_builtin_one_does_not() -> None:
    font = find_font(None, FONT_PATHS)
    assert font is not None, "no Hangul font: deploy/dev.sh installs fonts-nanum"
    assert draws_hangul(font)
    assert not draws_hangul(None)  # the check can fail: Pillow's own font shows tofu


def test_a_configured_font_wins_and_a_missing_one_falls_back(tmp_path: Path) -> None:
    known = find_font(None, FONT_PATHS)
    assert known is not None
    assert find_font(known, ()) == known
    assert find_font(tmp_path / "nope.ttf", (known,)) == known
    assert find_font(tmp_path / "nope.ttf", ()) is None


async def test_plan_for_a_korean_reader_is_a_table_and_a_chart_with_hangul(
    scoach: Coach,
) -> None:
    manager = make_actor("mod", guild="g", admin=True, locale="ko")
    learner = make_actor("bob", guild="g", locale="ko")
    [nothing] = await scoach.run(learner, ("study", "plan"), {})
    assert "계획이 없어요" in nothing.body
    [refused] = await scoach.run(learner, ("study", "plan"), {"set": "set volume"})
    assert refused.tone.value == "error"
    await scoach.run(learner, ("concept",), {"topic": "volume"})
    [report] = await scoach.run(manager, ("study", "plan"), {"set": "set volume container"})
    assert report.code is not None and "볼륨" in report.code and "컨테이너" in report.code
    assert "볼륨      1/1" in report.code  # bob, the one learner here, read "volume"
    assert report.image is not None
    chart = Image.open(io.BytesIO(report.image.data))
    assert chart.format == "PNG"
    # Drawn with the Hangul font: the same rows with Pillow's own font look different.
    font = scoach.chart_font()
    assert font is not None and draws_hangul(font)
    rows = [PlanRow("볼륨", 1, 0, 0), PlanRow("컨테이너", 0, 0, 0)]
    legend = ("읽음", "문제 통과", "시나리오 완료")
    assert render_plan_chart(rows, 2, legend, font) != render_plan_chart(rows, 2, legend, None)
    [unknown] = await scoach.run(manager, ("study", "plan"), {"set": "set volume nosuchthing"})
    assert "nosuchthing" in unknown.body


def test_the_progress_chart_names_topics_in_korean_with_the_hangul_font() -> None:
    from datetime import date

    from bot.progress.chart import TopicMastery, render_chart

    font = find_font(None, FONT_PATHS)
    mastery = [TopicMastery("basics", 3, 25), TopicMastery("storage", 1, 21)]
    korean = {"basics": "도커 기초", "storage": "저장소"}
    today = date(2026, 1, 1)
    with_font = render_chart([], mastery, today, labels=korean, font_path=font)
    assert with_font != render_chart([], mastery, today, font_path=font)  # names, not ids
    # Without a Hangul font, topic ids are drawn rather than boxes.
    assert render_chart([], mastery, today, labels=korean) == render_chart([], mastery, today)


def test_the_lifecycle_diagram_captions_states_in_korean() -> None:
    from bot.practice.diagram import render_lifecycle

    font = find_font(None, FONT_PATHS)
    captions = {"running": "실행 중", "exited": "종료됨"}
    korean = render_lifecycle("running", "web", captions, font)
    assert korean != render_lifecycle("running", "web")
    # Without a Hangul font no caption is drawn (never boxes of tofu).
    assert render_lifecycle("running", "web", captions, None) == render_lifecycle("running", "web")
