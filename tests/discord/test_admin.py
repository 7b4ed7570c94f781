"""The admin capability through the core (as the console uses it): real store, real files."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from bot.concepts.validation import CONCEPTS
from bot.core.commands import MemberRef
from bot.core.reply import Tone
from tests.conftest import CONTENT, make_actor
from tests.discord.conftest import build_coach

ADMIN = make_actor("boss", admin=True)
LEARNER = make_actor("alice")


def text(replies) -> str:
    return "\n".join(f"{r.title or ''} {r.body} {r.code or ''}" for r in replies)


async def test_learners_cannot_use_admin_commands(dcoach):
    paths = (("admin", "reload"), ("admin", "sandboxes"), ("admin", "workers"))
    for path in (*paths, ("admin", "practice-channel")):
        [reply] = await dcoach.run(LEARNER, path, {})
        assert reply.tone is Tone.ERROR and "Manage Server" in reply.body
    [reply] = await dcoach.press(LEARNER, "admin:destroy:alice")
    assert reply.tone is Tone.ERROR


async def test_practice_channel_is_remembered_across_restarts(settings, clock):
    coach = build_coach(settings, clock)
    await coach.start()
    try:
        [reply] = await coach.run(ADMIN, ("admin", "practice-channel"), {"channel": "12345"})
        assert "<#12345>" in reply.body
        assert await coach.admin.practice_channel("g1") == "12345"
        assert await coach.admin.practice_channel("other") is None
    finally:
        await coach.close()
    again = build_coach(settings, clock)
    await again.start()
    try:
        assert await again.admin.practice_channel("g1") == "12345"
        [reply] = await again.run(ADMIN, ("admin", "practice-channel"), {})
        assert await again.admin.practice_channel("g1") is None
        assert again.store is not None
        rows = await again.store.db.fetchall("SELECT * FROM guild_settings")
        assert [(r["guild_id"], r["practice_channel_id"]) for r in rows] == [("g1", None)]
    finally:
        await again.close()
    assert not (settings.data_dir / "guild_settings.json").exists()


async def test_reload_refuses_broken_content_and_applies_good_content(settings, clock, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    coach = build_coach(settings.with_overrides(content_dir=content), clock)
    await coach.start()
    try:
        volume = content / "concepts" / "volume.yaml"
        original = volume.read_text(encoding="utf-8")
        volume.write_text("id: [broken\n", encoding="utf-8")
        [refused] = await coach.run(ADMIN, ("admin", "reload"), {})
        assert refused.tone is Tone.ERROR and "volume.yaml" in (refused.code or "")
        assert coach.concepts.index.get("volume") is not None  # the old content is kept

        renamed = original.replace('title: {en: "Volume"', 'title: {en: "Volumes"', 1)
        assert renamed != original
        volume.write_text(renamed, encoding="utf-8")
        en = content / "i18n" / "en" / "admin.yaml"
        en.write_text(
            en.read_text(encoding="utf-8").replace("Content reloaded", "Fresh content"),
            encoding="utf-8",
        )
        [done] = await coach.run(ADMIN, ("admin", "reload"), {})
        assert done.tone is Tone.SUCCESS and done.body.startswith("Fresh content")
        [shown] = await coach.run(LEARNER, ("concept",), {"topic": "volume"})
        assert shown.title == "Volumes"  # the edited concept is what learners now read
        korean = make_actor("boss", locale="ko", admin=True)
        [done] = await coach.run(korean, ("admin", "reload"), {})
        count = len(coach.library.items(CONCEPTS))
        assert f"개념 {count}개" in done.body and "concepts" not in done.body
    finally:
        await coach.close()


@pytest.mark.docker
async def test_managers_see_and_destroy_members_sandboxes(dcoach):
    alice = make_actor("alice-admin-test")
    await dcoach.run(alice, ("concept",), {"topic": "volume"})  # alice is known on g1
    await dcoach.run(alice, ("docker",), {"command": "ps"})  # alice gets a sandbox
    try:
        [listing] = await dcoach.run(ADMIN, ("admin", "sandboxes"), {})
        assert "alice-admin-test" in listing.body
        [elsewhere] = await dcoach.run(
            make_actor("boss", guild="g2", admin=True), ("admin", "sandboxes"), {}
        )
        assert "alice-admin-test" not in elsewhere.body
        member = MemberRef("alice-admin-test", "alice-admin-test")
        [confirm] = await dcoach.run(ADMIN, ("admin", "destroy"), {"member": member})
        destroy = next(c.action for c in confirm.choices if ":destroy:" in c.action)
        [done] = await dcoach.press(ADMIN, destroy)
        assert done.tone is Tone.SUCCESS
        listed = await dcoach.sandbox.reader.list_sandboxes()
        assert all(s.owner != "alice-admin-test" for s in listed)
    finally:
        await dcoach.sandbox.reader.destroy_user("alice-admin-test")


@pytest.mark.docker
async def test_a_disk_support_question_waits_for_the_detection_under_way(dcoach):
    """Asked while a detection runs (the watchdog's own, at bring-up), the answer is that
    detection's, not "not known yet" (/admin workers once showed '?' on a busy engine)."""
    await dcoach.sandbox.manager.settle()
    watchdog = dcoach.sandbox.watchdog
    worker = dcoach.sandbox.manager.pool.workers[0]
    first = asyncio.create_task(watchdog.support(worker))
    await asyncio.sleep(0)  # the first call is probing now
    second = await watchdog.support(worker)
    assert second is not None and second == await first


@pytest.mark.docker
async def test_managers_see_each_workers_disk_limits_and_free_space(dcoach):
    await dcoach.sandbox.manager.settle()  # the worker brought up (in the background)
    await dcoach.sandbox.watchdog.round()  # the worker's limits and free space, found out now
    [reply] = await dcoach.run(ADMIN, ("admin", "workers"), {})
    assert reply.tone is Tone.INFO
    assert "local" in reply.body and "reachable" in reply.body.lower()
    assert "caps each container" in reply.body and "(btrfs)" in reply.body
    assert "free of" in reply.body and "floor 10%" in reply.body
