"""Logging set-up: readable text or one JSON object per line, written off the event loop.

Records are put on a queue by the thread that logs (the event loop, mostly) and formatted and
written by a listener thread: a slow log reader (a full pipe to a container runtime's log
driver, a busy disk) never blocks the loop, and neither does formatting a traceback.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        line = super().format(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


class _Enqueue(logging.handlers.QueueHandler):
    """Hands the record itself to the listener thread (no formatting here): the message is
    fixed now, so that arguments changed later do not change it."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.message = record.getMessage()
        record.msg, record.args = record.message, None
        return record


_LISTENER: logging.handlers.QueueListener | None = None
_QUEUE: queue.Queue[logging.LogRecord] | None = None


def flush_logs() -> None:
    """Block until every record logged so far is written."""
    if _QUEUE is not None and _LISTENER is not None:
        _QUEUE.join()


def stop_logging() -> None:
    """Write what is queued and end the listener thread (at exit, or before reconfiguring)."""
    global _LISTENER
    if _LISTENER is not None:
        _LISTENER.stop()  # writes what is queued, then ends the thread
        _LISTENER = None


LOG_FILE_BYTES = 1_000_000  # a log file is rotated at this size…
LOG_FILE_BACKUPS = 2  # …keeping this many before it


def configure_logging(
    level: str = "INFO", fmt: str = "text", stream: TextIO | None = None, file: Path | None = None
) -> None:
    """Records at ``level`` and above, as text or JSON lines, to ``stream`` (default stderr) —
    or to ``file`` (rotated at :data:`LOG_FILE_BYTES`), where the terminal is the learner's
    and a log line would land in the middle of the coach's answers."""
    global _LISTENER, _QUEUE
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stop_logging()
    _QUEUE = queue.Queue()
    _LISTENER = logging.handlers.QueueListener(_QUEUE, handler, respect_handler_level=True)
    _LISTENER.start()
    root = logging.getLogger()
    root.handlers[:] = [_Enqueue(_QUEUE)]
    root.setLevel(level)
    logging.getLogger("discord").setLevel(max(logging.getLevelName(level), logging.INFO))
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("docker").setLevel(logging.WARNING)


atexit.register(stop_logging)
