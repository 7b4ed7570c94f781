"""Logging is written by a listener thread: a stream that blocks never blocks who logs."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from bot.core import logs
from bot.core.logs import configure_logging, flush_logs


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """Whatever the test configures, the root logger is as it was afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        logs.stop_logging()
        root.handlers[:] = handlers
        root.setLevel(level)


class BlockingStream(io.StringIO):
    """A log reader that stops reading until released (a full pipe, a stuck disk)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait(10)
        return super().write(text)


def test_a_blocked_log_stream_does_not_block_the_caller_and_loses_nothing() -> None:
    stream = BlockingStream()
    configure_logging("INFO", "json", stream=stream)
    try:
        log = logging.getLogger("bot.test")
        for index in range(3):
            log.info("record %d", index, extra={"user": "u1"})  # returns although blocked
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
        assert stream.getvalue() == ""
        stream.release.set()
        flush_logs()
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [line["msg"] for line in lines] == ["record 0", "record 1", "record 2", "failed"]
        assert lines[0]["user"] == "u1"
        assert "ValueError: boom" in lines[3]["exc"]
    finally:
        stream.release.set()


def test_the_message_is_fixed_when_logged() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "text", stream=stream)
    try:
        values = ["before"]
        logging.getLogger("bot.test").info("value %s", values)
        values[0] = "after"
        flush_logs()
        assert "value ['before']" in stream.getvalue()
    finally:
        flush_logs()
