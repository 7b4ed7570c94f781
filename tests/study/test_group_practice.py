"""Group practice on the real engine, from one console: each member in their own sandbox,
one board that ticks as their commands change their sandboxes."""

from __future__ import annotations

import pytest

from bot.coach import Coach
from bot.core.posts import Post
from tests.study.conftest import Terminal

pytestmark = pytest.mark.docker

RUN = '/docker run -d --name ticker busybox sh -c "while true; do date; sleep 5; done"'


def last_board(out: str) -> str:
    """The last practice board printed in ``out``."""
    board = out.rsplit("== Group practice — ", 1)[1]
    return board.split("\n== ", 1)[0].replace("`", "")


def line_of(board: str, name: str) -> str:
    return next(line for line in board.splitlines() if line.startswith(name + " "))


async def test_done_when_three_members_practise_together_in_the_console(
    docker_engine: None, scoach: Coach, terminal: Terminal, posts: list[Post]
) -> None:
    try:
        out = await terminal.type("/study practice first-container")
        assert "alice ▶····· 0/6" in last_board(out)
        await terminal.type("/as bob")
        out = await terminal.type("/study join")
        assert "bob ▶····· 0/6" in last_board(out)
        await terminal.type("/as carol")
        await terminal.type("/study join")
        out = await terminal.type(RUN)  # carol's own sandbox
        board = last_board(out)
        assert "carol ✔▶···· 1/6" in board and "bob ▶····· 0/6" in board
        out = await terminal.type("/docker ps")
        assert line_of(last_board(out), "carol").startswith("carol ✔✔▶··· 2/6")
        await terminal.type("/as bob")
        out = await terminal.type("/practice hint")
        assert "Needed hints" in last_board(out) and "bob (1)" in last_board(out)
        # The hint itself is bob's alone: shown to him, never posted to the channel.
        hint = "keeps it running in the background"
        assert hint in out
        assert not [p for p in posts if hint in p.reply.body + str(p.reply.fields)]
        out = await terminal.type(RUN)  # bob's container: his sandbox, not carol's
        board = last_board(out)
        assert line_of(board, "bob").startswith("bob ✔▶···· 1/6")
        assert line_of(board, "carol").startswith("carol ✔✔▶··· 2/6")
        out = await terminal.type("/study end")
        assert "Only the member who opened this group practice" in out  # bob did not open it
        out = await terminal.type("/as alice", "/study end")
        assert "Group practice summary" in out
        summary = out.split("Group practice summary", 1)[1].replace("`", "")
        assert "0 of 3 members finished" in summary
        assert "carol ✔✔▶··· 2/6" in summary
    finally:
        for name in ("alice", "bob", "carol"):
            await scoach.sandbox.reader.destroy_user(name)
