"""The commands a learner used, as practice records, saves and reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.practice.session import PracticeSession
from bot.practice.uses import OUTPUT_CHARS, OUTPUT_KEPT, CommandUse, keep_outputs, record

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("use", "subcommand", "container", "program"),
    [
        (record("docker", "container ls -a", ""), "ps", None, None),
        (record("docker", "exec -it web ps aux", ""), "exec", "web", "ps"),
        (record("docker", "exec two sh -c 'ps > /tmp/seen.txt'", ""), "exec", "two", "ps"),
        (record("docker", "run --rm busybox /bin/uname -r", ""), "run", None, "uname"),
        (record("docker", "cp app.conf app:/etc/app.conf", ""), "cp", "app", None),
        (record("docker", "volume create notes", ""), "volume create", None, None),
        (record("docker", "no-such-command", ""), None, None, None),
        (record("sh", "LANG=C wget -qO- http://web/", ""), None, None, "wget"),
        (record("sh", "/usr/bin/uname -r", ""), None, None, "uname"),
    ],
)
def test_what_a_use_tells_a_check(
    use: CommandUse, subcommand: str | None, container: str | None, program: str | None
) -> None:
    assert (use.subcommand, use.container, use.program) == (subcommand, container, program)


def test_a_use_is_saved_as_one_string_and_read_back() -> None:
    use = record("docker", "ps -a", "NAMES\napp  Exited (3)\n")
    again = CommandUse.decode(use.encode())
    assert again == use and again.output == use.output and again.has_flag("all")
    assert CommandUse.decode(use.without_output().encode()).output is None
    assert len(record("sh", "cat big", "x" * (OUTPUT_CHARS + 10)).output or "") == OUTPUT_CHARS


def test_tokens_saved_before_uses_had_lines_still_count() -> None:
    old_docker, old_shell = CommandUse.decode("volume create"), CommandUse.decode("sh:wget")
    assert (old_docker.subcommand, old_docker.program) == ("volume create", None)
    assert (old_shell.subcommand, old_shell.program) == (None, "wget")


def test_only_the_latest_uses_keep_their_output() -> None:
    uses = [record("docker", f"logs c{n}", f"out {n}") for n in range(OUTPUT_KEPT + 3)]
    kept = keep_outputs(uses)
    assert [u.output for u in kept[:3]] == [None, None, None]
    assert [u.output for u in kept[3:]] == [f"out {n}" for n in range(3, OUTPUT_KEPT + 3)]


def test_a_session_round_trips_its_uses_through_the_store_record() -> None:
    session = PracticeSession("alice", "g1", "isolation", NOW, NOW)
    session.use(record("docker", "exec one ps", "1 root sleep 600"))
    session.step_index = 1
    session.use(record("sh", "wget -qO- http://web/", "Welcome"))
    saved = session.to_record()
    assert all(isinstance(token, str) for _index, token in saved.used)
    again = PracticeSession.from_record(saved)
    assert [u.line for u in again.used_in_session()] == ["exec one ps", "wget -qO- http://web/"]
    assert [u.output for u in again.used_since_step()] == ["Welcome"]
