"""Reading a container's output as a stream, with a byte cap and a wall-clock limit.

``exec``, ``/sh`` and a foreground ``run`` attach to the engine's multiplexed stream (an
8-byte header per frame: stream type and length). The reader runs on an executor thread,
polls the socket (``select``) with a short timeout so that it notices the deadline even when
the process prints nothing, keeps at most ``cap`` bytes and then stops reading. The caller
decides how to stop the process itself.
"""

from __future__ import annotations

import contextlib
import os
import select
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


def _readable(sock: Any, seconds: float) -> bool:
    """Whether ``sock`` has data (or its end) to read within ``seconds``."""
    pending = getattr(sock, "pending", None)  # a TLS socket may hold decrypted bytes already
    if callable(pending) and pending() > 0:
        return True
    ready, _, _ = select.select([sock], [], [], seconds)
    return bool(ready)


def _receive(sock: Any, size: int) -> bytes:
    """Up to ``size`` bytes from a socket docker-py handed out (a socket, ``socket.SocketIO``
    for unix sockets, an SSH channel); empty at the end of the stream."""
    if hasattr(sock, "recv"):
        return bytes(sock.recv(size))
    return bytes(sock.read(size) or b"")


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
    deadline = time.monotonic() + seconds
    buffer = _Buffer(cap)
    pending = b""
    result = Captured()
    try:
        while True:
            if time.monotonic() >= deadline:
                result.timed_out = True
                break
            try:
                if not _readable(sock, POLL_SECONDS):
                    continue
                chunk = _receive(sock, 65536)
            except OSError:  # the engine closed the connection: the stream is over
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
        _close(sock)
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


def _close(sock: Any) -> None:
    """Close the stream's connection for sure, so the engine stops sending.

    ``socket.SocketIO.close`` alone leaves the connection open while the HTTP response still
    references it; shutting down a duplicate of its descriptor ends the connection itself.
    """
    try:
        descriptor = int(sock.fileno())
    except (AttributeError, OSError, ValueError):
        descriptor = -1
    if descriptor >= 0:
        duplicate = os.dup(descriptor)
        try:
            twin = socket.socket(fileno=duplicate)
        except OSError:  # not a socket (an SSH channel's pipe): closing it is enough
            os.close(duplicate)
        else:
            with twin, contextlib.suppress(OSError):
                twin.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):  # already closed
        sock.close()
