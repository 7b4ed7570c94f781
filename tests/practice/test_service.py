"""The practice flow against a fake sandbox and a real SQLite store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.content.library import ContentLibrary
from bot.core.clock import FixedClock
from bot.core.commands import Request
from bot.core.context import Actor
from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.metrics import REGISTRY
from bot.core.reply import Placement, Reply, Tone
from bot.practice.content import SCENARIOS
from bot.practice.service import PracticeService, in_order, step_ids
from bot.store import Store
from tests.conftest import make_actor
from tests.practice.fakes import FakeSandbox, container

ALICE = make_actor("alice")
BOB = make_actor("bob")


@pytest.fixture
async def store(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "coach.sqlite3", clock)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def fake() -> FakeSandbox:
    return FakeSandbox()


def practice_service(
    library: ContentLibrary, fake: FakeSandbox, store: Store, clock: FixedClock
) -> PracticeService:
    """The service as the coach registers it, over a fake sandbox and a real store."""
    scenarios = in_order(library.items(SCENARIOS))
    return PracticeService(lambda: scenarios, fake, lambda: store.practice, clock)


@pytest.fixture
def service(
    library: ContentLibrary, fake: FakeSandbox, store: Store, clock: FixedClock
) -> PracticeService:
    return practice_service(library, fake, store, clock)


class Driver:
    """Calls the service the way the coach does, for one actor."""

    def __init__(self, service: PracticeService, library: ContentLibrary, actor: Actor) -> None:
        self.service = service
        self.library = library
        self.actor = actor

    def request(self, **options: Any) -> Request:
        return Request(self.actor, Translator(self.library.catalog, self.actor.locale), options)

    async def start(self, scenario: str) -> list[Reply]:
        return await self.service.start(self.request(scenario=scenario))

    async def docker(self, line: str, replies: list[Reply] | None = None) -> list[Reply]:
        return await self.service.after_command(
            self.request(command=line), ("docker",), replies or []
        )

    async def sh(self, line: str) -> list[Reply]:
        return await self.service.after_command(self.request(command=line), ("sh",), [])


@pytest.fixture
def alice(service: PracticeService, library: ContentLibrary) -> Driver:
    return Driver(service, library, ALICE)


def text(replies: list[Reply]) -> str:
    return "\n".join(f"{r.title or ''}\n{r.body}" for r in replies)


async def test_start_shows_the_intro_and_the_first_step(alice: Driver) -> None:
    replies = await alice.start("web-cp")
    assert [r.meta.get("practice") for r in replies] == ["intro", "step"]
    assert step_ids(replies, "step") == ["run-web"]
    assert "Step 1/6" in (replies[1].title or "")


async def test_a_passing_command_advances_and_shows_the_next_step(
    alice: Driver, fake: FakeSandbox
) -> None:
    await alice.start("web-cp")
    assert await alice.docker("ps") == []  # nothing changed: nothing to say
    fake.put("alice", container("web", image="nginx:latest"))
    replies = await alice.docker("run -d --name web nginx")
    assert step_ids(replies, "passed") == ["run-web"]
    assert step_ids(replies, "step") == ["see-default"]
    assert replies[0].tone is Tone.SUCCESS


async def test_a_fail_hint_is_given_once_per_wrong_state(alice: Driver, fake: FakeSandbox) -> None:
    await alice.start("web-cp")
    fake.put("alice", container("web", status="created", image="nginx"))
    first = await alice.docker("create --name web nginx")
    assert step_ids(first, "fail") == ["not-running"]
    assert "/docker start web" in text(first)
    assert await alice.docker("ps") == []  # same wrong state: no nagging
    again = await alice.service.check(alice.request())  # asked for: shown again
    assert step_ids(again, "fail") == ["not-running"]
    fake.put("alice", container("web", status="running", image="busybox"))
    assert step_ids(await alice.docker("run -d --name web busybox"), "fail") == ["wrong-image"]


async def test_check_on_demand_says_not_yet(alice: Driver) -> None:
    await alice.start("web-cp")
    replies = await alice.service.check(alice.request())
    assert [r.meta.get("practice") for r in replies] == ["not_yet"]


async def test_a_learner_who_is_ahead_moves_through_several_steps(
    alice: Driver, fake: FakeSandbox
) -> None:
    await alice.start("web-cp")
    fake.put("alice", container("web", image="nginx"))
    await alice.docker("run -d --name web nginx")
    fake.pages[("alice", "http://web/")] = "Welcome to nginx!"
    fake.files[("alice", None, "/home/coach/index.html")] = b"<h1>Hello</h1>"
    replies = await alice.sh("wget -qO- http://web/")
    assert step_ids(replies, "passed") == ["see-default", "write-page"]
    assert step_ids(replies, "step") == ["copy-in"]


async def test_used_commands_count_only_when_the_command_worked(
    alice: Driver, fake: FakeSandbox
) -> None:
    await alice.start("search-pull")
    failed = [Reply(body="boom", tone=Tone.ERROR)]
    assert step_ids(await alice.docker("search nginx", failed), "passed") == []
    assert step_ids(await alice.docker("search nginx"), "passed") == ["search"]


async def test_hints_come_one_at_a_time(alice: Driver) -> None:
    await alice.start("web-cp")
    first = await alice.service.hint(alice.request())
    second = await alice.service.hint(alice.request())
    third = await alice.service.hint(alice.request())
    assert first.title == "Hint 1/2" and second.title == "Hint 2/2"
    assert "last hint" in second.body
    assert third.tone is Tone.WARNING
    status = await alice.service.status(alice.request())
    assert [f.name for f in status.fields][-2:] == ["Hint 1/2", "Hint 2/2"]


async def test_skipping_to_the_end_finishes_and_records(
    alice: Driver, store: Store, fake: FakeSandbox
) -> None:
    await alice.start("search-pull")
    await alice.docker("search nginx")
    await alice.service.skip(alice.request())
    replies = await alice.service.skip(alice.request())
    finished = [r for r in replies if r.meta.get("practice") == "finished"]
    assert finished and "/quiz image" in text(finished) + str(finished[0].fields)
    assert "(2 skipped" in finished[0].body
    summary = await store.practice.summary("alice", "g1")
    assert summary.steps_done == 1 and summary.steps_skipped == 2
    assert summary.scenarios_completed == ("search-pull",)
    assert await store.practice.steps_done("alice", "g1") == 1
    assert await store.practice.steps_done("alice", "g1") == 1
    with pytest.raises(UserError) as info:
        await alice.service.status(alice.request())
    assert info.value.key == "practice.no_session"
    listing = await alice.service.list_scenarios(alice.request())
    assert "✅ **Find, pull and list images**" in listing.body


async def test_a_session_resumes_with_a_new_service(
    library: ContentLibrary, fake: FakeSandbox, store: Store, clock: FixedClock, alice: Driver
) -> None:
    await alice.start("web-cp")
    fake.put("alice", container("web", image="nginx"))
    await alice.docker("run -d --name web nginx")
    await alice.service.hint(alice.request())
    restarted = practice_service(library, fake, store, clock)
    status = await restarted.status(Driver(restarted, library, ALICE).request())
    assert status.meta["step"] == "see-default"
    assert [f.name for f in status.fields][-1] == "Hint 1/1"


async def test_two_learners_do_not_share_progress(
    service: PracticeService, library: ContentLibrary, fake: FakeSandbox, alice: Driver
) -> None:
    bob = Driver(service, library, BOB)
    await alice.start("web-cp")
    await bob.start("web-cp")
    fake.put("alice", container("web", image="nginx"))
    assert step_ids(await alice.docker("run -d --name web nginx"), "passed") == ["run-web"]
    assert await bob.docker("ps") == []
    assert (await service.status(bob.request())).meta["step"] == "run-web"


async def test_starting_again_resumes_and_another_replaces(alice: Driver) -> None:
    await alice.start("web-cp")
    again = await alice.start("web-cp")
    assert again[0].tone is Tone.WARNING and step_ids(again, "step") == ["run-web"]
    other = await alice.start("volumes")
    assert "web server" in other[0].body and step_ids(other, "step") == ["create-volume"]


async def test_leftover_containers_are_pointed_out(alice: Driver, fake: FakeSandbox) -> None:
    fake.put("alice", container("web"))
    replies = await alice.start("web-cp")
    assert replies[0].tone is Tone.WARNING and "`web`" in replies[0].body


async def test_the_lifecycle_steps_carry_the_diagram(alice: Driver, fake: FakeSandbox) -> None:
    replies = await alice.start("lifecycle")
    image = replies[-1].image
    assert image is not None and image.data.startswith(b"\x89PNG")
    fake.put("alice", container("life", status="created", cid="1" * 64))
    replies = await alice.docker("create --name life busybox sleep 600")
    assert step_ids(replies, "step") == ["start"] and replies[-1].image is not None
    status = await alice.service.status(alice.request())
    assert status.image is not None
    assert "'life' is in the created state" in status.image.description


async def test_the_diagram_is_described_in_the_learners_language(
    service: PracticeService, library: ContentLibrary
) -> None:
    # the picture's fonts have no Hangul: its sentences live in the translated alt text
    korean = Driver(service, library, make_actor("minji", locale="ko"))
    replies = await korean.start("lifecycle")
    assert replies[-1].image is not None
    assert "'life' 컨테이너는 아직 없어요" in replies[-1].image.description


async def test_unknown_scenario_and_no_session(alice: Driver) -> None:
    with pytest.raises(UserError) as info:
        await alice.start("nope")
    assert info.value.key == "practice.unknown_scenario"
    for call in (alice.service.check, alice.service.hint, alice.service.skip, alice.service.stop):
        with pytest.raises(UserError):
            await call(alice.request())
    assert await alice.docker("ps") == []


async def test_stop_ends_the_session(alice: Driver) -> None:
    await alice.start("web-cp")
    reply = await alice.service.stop(alice.request())
    assert "Stopped" in reply.body
    assert await alice.docker("ps") == []


async def test_forgetting_a_user_removes_practice_data(alice: Driver, store: Store) -> None:
    await alice.start("search-pull")
    await alice.docker("search nginx")
    assert await store.practice.load_session("alice") is not None
    await store.forget_user("alice")
    assert await store.practice.load_session("alice") is None
    assert await store.practice.steps_done("alice", "g1") == 0


async def test_korean_replies(service: PracticeService, library: ContentLibrary) -> None:
    driver = Driver(service, library, make_actor("minsu", locale="ko"))
    replies = await driver.start("web-cp")
    assert "1/6단계" in (replies[-1].title or "")


async def test_autocomplete_matches_ids_and_titles(alice: Driver) -> None:
    found = await alice.service.complete_scenario(alice.request(), "vol")
    assert [s.value for s in found] == ["volumes"]
    everything = await alice.service.complete_scenario(alice.request(), "")
    assert len(everything) == len(alice.library.items(SCENARIOS))


async def test_a_failing_check_stays_quiet_for_the_learner_but_is_logged(
    alice: Driver,
    fake: FakeSandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await alice.start("web-cp")

    async def broken(_actor: Actor) -> None:
        raise RuntimeError("engine hiccup")

    monkeypatch.setattr(fake, "state", broken)
    with caplog.at_level(logging.ERROR, logger="bot.practice"):
        assert await alice.docker("ps") == []  # the command's own output is left alone
    [record] = [r for r in caplog.records if r.message == "practice check failed"]
    assert record.exc_info is not None and "engine hiccup" in str(record.exc_info[1])


async def test_the_step_message_checks_and_hints_in_place(alice: Driver, fake: FakeSandbox) -> None:
    """A step's buttons answer by taking its message's place: a live status."""
    [_intro, step] = await alice.start("web-cp")
    check, hint = (c.action for c in step.choices)
    assert check == "practice:check:alice" and hint == "practice:hint:alice"
    not_yet = await alice.service.press(alice.request(), check, None)
    assert [r.meta.get("practice") for r in not_yet] == ["not_yet", "step"]
    assert all(r.placement is Placement.REPLACE for r in not_yet)
    hinted = await alice.service.press(alice.request(), hint, None)
    assert [r.meta.get("practice") for r in hinted] == ["step"]
    assert any(f.name.startswith("Hint 1/") for f in hinted[0].fields)
    fake.put("alice", container("web", image="nginx:latest"))
    moved = await alice.service.press(alice.request(), check, None)
    assert [r.meta.get("practice") for r in moved] == ["passed", "step"]
    assert step_ids(moved, "step") == ["see-default"]
    with pytest.raises(UserError):  # someone else's status message
        bob = Driver(alice.service, alice.library, BOB)
        await bob.service.press(bob.request(), check, None)


async def test_what_a_command_printed_is_what_an_output_check_reads(
    library: ContentLibrary, fake: FakeSandbox, store: Store, clock: FixedClock, alice: Driver
) -> None:
    await alice.start("isolation")
    fake.put("alice", container("one", hostname="lab"))
    assert step_ids(await alice.docker("run -d --name one -h lab busybox sleep 600"), "passed") == [
        "own-hostname"
    ]
    # the same command run in another container printed something else: not this step
    inside_two = [Reply(body="", code="PID   USER     COMMAND\n    7 root     sleep 900")]
    assert await alice.docker("exec two ps", inside_two) == []
    inside_one = [Reply(body="", code="PID   USER     COMMAND\n    7 root     sleep 600")]
    replies = await alice.docker("exec one ps", inside_one)
    assert step_ids(replies, "passed") == ["look-inside"]
    # a wrong view of the next step is recognised from its output, after a restart too
    await alice.docker("exec one ps", inside_one)
    restarted = practice_service(library, fake, store, clock)
    again = await restarted.check(Driver(restarted, library, ALICE).request())
    assert step_ids(again, "fail") == ["inside-view"]


async def test_a_failed_command_records_no_output(alice: Driver, fake: FakeSandbox) -> None:
    await alice.start("isolation")
    fake.put("alice", container("one", hostname="lab"))
    await alice.docker("run -d --name one -h lab busybox sleep 600")
    failed = [Reply(body="boom", code="sleep 600", tone=Tone.ERROR)]
    assert step_ids(await alice.docker("exec one ps", failed), "passed") == []


async def test_steps_passed_are_counted_in_the_metrics_and_skipped_ones_are_not(
    alice: Driver, fake: FakeSandbox
) -> None:
    """/metrics' coach_practice_steps_completed_total: one per step the sandbox showed done."""

    def completed() -> float:
        return REGISTRY.get_sample_value("coach_practice_steps_completed_total") or 0.0

    before = completed()
    await alice.start("web-cp")
    fake.put("alice", container("web", image="nginx"))
    await alice.docker("run -d --name web nginx")
    fake.pages[("alice", "http://web/")] = "Welcome to nginx!"
    fake.files[("alice", None, "/home/coach/index.html")] = b"<h1>Hello</h1>"
    await alice.sh("wget -qO- http://web/")  # run-web, then see-default and write-page
    assert completed() - before == 3
    await alice.service.skip(alice.request())
    assert completed() - before == 3
