"""Reading a container's output as a stream, with a byte cap and a wall-clock limit.

``exec``, ``/sh`` and a foreground ``run`` attach to the engine's multiplexed stream (an
8-byte header per frame: stream type and length). The reader runs on an executor thread,
polls the socket with a short timeout so that it notices the deadline even when the process
prints nothing, keeps at most ``cap`` bytes and then stops reading. The caller decides how
to stop the process itself.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

POLL_SECONDS = 0.2


@dataclass
class Captured:
    """What a stream produced."""

    data: bytes = b""
    total: int = 0  # bytes seen (at least len(data); more when cut)
    cut: bool = False  # stopped reading at the byte cap
    timed_out: bool = False  # stopped reading at the deadline
    ended: bool = False  # the stream ended by itself (the process finished)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def _raw_socket(sock: Any) -> Any:
    """The real socket under docker-py's wrappers (SocketIO, NpipeSocket, SSH sockets)."""
    for attribute in ("_sock", "sock"):
        inner = getattr(sock, attribute, None)
        if inner is not None and hasattr(inner, "recv"):
            return inner
    return sock


class _Buffer:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[bytes] = []
        self.size = 0
        self.total = 0

    def add(self, chunk: bytes) -> bool:
        """Keep what fits; return True once the cap is reached."""
        self.total += len(chunk)
        room = self.cap - self.size
        if room > 0:
            kept = chunk[:room]
            self.parts.append(kept)
            self.size += len(kept)
        return self.total > self.cap


def read_multiplexed(sock: Any, cap: int, seconds: float, tty: bool = False) -> Captured:
    """Read an attach/exec socket until it ends, ``cap`` bytes pass, or ``seconds`` elapse."""
    raw = _raw_socket(sock)
    deadline = time.monotonic() + seconds
    buffer = _Buffer(cap)
    pending = b""
    result = Captured()
    with contextlib.suppress(AttributeError, OSError):
        raw.settimeout(POLL_SECONDS)
    try:
        while True:
            if time.monotonic() >= deadline:
                result.timed_out = True
                break
            try:
                chunk = raw.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                result.ended = True
                break
            if not chunk:
                result.ended = True
                break
            if tty:
                payload, pending = chunk, b""
            else:
                payload, pending = _demux(pending + chunk)
            if payload and buffer.add(payload):
                result.cut = True
                break
    finally:
        _close(sock, raw)
    result.data = b"".join(buffer.parts)
    result.total = buffer.total
    return result


def _demux(data: bytes) -> tuple[bytes, bytes]:
    """Payloads of the complete frames in ``data`` (stdout and stderr together) and the rest."""
    out: list[bytes] = []
    offset = 0
    while len(data) - offset >= 8:
        _stream, length = struct.unpack(">BxxxL", data[offset : offset + 8])
        if len(data) - offset - 8 < length:
            break
        out.append(data[offset + 8 : offset + 8 + length])
        offset += 8 + length
    return b"".join(out), data[offset:]


def read_chunks(chunks: Iterable[bytes], cap: int, seconds: float) -> Captured:
    """Read an already demultiplexed stream (``logs``) up to ``cap`` bytes or ``seconds``."""
    deadline = time.monotonic() + seconds
    buffer = _Buffer(cap)
    result = Captured()
    try:
        for chunk in chunks:
            if buffer.add(chunk):
                result.cut = True
                break
            if time.monotonic() >= deadline:
                result.timed_out = True
                break
        else:
            result.ended = True
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # closing a finished stream is best effort
                close()
    result.data = b"".join(buffer.parts)
    result.total = buffer.total
    return result


def _close(sock: Any, raw: Any) -> None:
    for target in (raw, sock):
        try:
            if hasattr(target, "shutdown"):
                target.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        with contextlib.suppress(Exception):  # already closed
            target.close()
