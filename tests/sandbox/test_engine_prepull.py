"""Images pulled ahead on the real engine: the scenarios' images are asked for at start, present
ones cost no pull, what cannot be pulled is retried and never stops the rest, what the policy
refuses is never pulled."""

from __future__ import annotations

import logging

import pytest

from bot.coach import Coach
from bot.settings import Settings
from tests.sandbox.engine_support import isolated_service, start

pytestmark = [pytest.mark.docker]


async def test_images_present_on_the_worker_prepare_it_without_a_pull(
    caplog: pytest.LogCaptureFixture,
) -> None:
    svc = isolated_service()
    svc.prepare_images(["busybox", "nginx:latest"])
    await start(svc)  # once the worker is ready, its images are checked
    try:
        await svc.manager.images.wait()
        assert svc.manager.images.images == ["busybox:latest", "nginx:latest"]
        assert svc.manager.images.prepared == {"local"}
        assert "image pulled ahead" not in caplog.text  # both were there already
    finally:
        await svc.close()


async def test_an_image_that_cannot_be_pulled_is_retried_and_the_others_still_checked() -> None:
    svc = isolated_service()
    svc.prepare_images(["busybox:no-such-tag", "busybox"])
    await start(svc)  # once the worker is ready, its images are checked
    try:
        await svc.manager.images.wait()
        assert svc.manager.images.failed == {"local": ["busybox:no-such-tag"]}
        assert svc.manager.images.prepared == set()
        first = svc.manager.images._tasks["local"]
        svc.manager.images.start()  # what every reaper round does: the worker is tried again
        assert svc.manager.images._tasks["local"] is not first
        await svc.manager.images.wait()
        assert svc.manager.images.failed == {"local": ["busybox:no-such-tag"]}
    finally:
        await svc.close()


async def test_what_the_policy_refuses_is_never_pulled(caplog: pytest.LogCaptureFixture) -> None:
    svc = isolated_service()
    with caplog.at_level(logging.WARNING, logger="bot.sandbox.prepull"):
        svc.prepare_images(["quay.io/evil/miner", "busybox"])
    assert svc.manager.images.images == ["busybox:latest"]
    assert "image not pulled ahead" in caplog.text
    await svc.close()


async def test_the_coach_asks_for_the_images_its_scenarios_use(settings: Settings) -> None:
    coach = await Coach.open(settings)
    try:
        wanted = coach.sandbox.manager.images.images
        assert wanted == [f"{image}:latest" for image in coach.practice.images()]
        assert "busybox:latest" in wanted
    finally:
        await coach.close()
