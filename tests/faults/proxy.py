"""A socket proxy between a coach and a Docker engine that can stop at one exact API call.

    proxy = HoldingProxy(listen_path, engine_socket)
    await proxy.start()
    trap = proxy.arm([r"POST /containers/create\\?name=dc-\\w+--host"], when="before")
    ... drive the coach ...
    await trap.wait()         # the coach is now blocked on exactly that request
    kill the coach; proxy.disarm()

The proxy speaks just enough HTTP/1.1 to find where each request of the client ends (headers,
then a ``Content-Length`` body or chunks), so it can recognize the request a test names: the
method and the target without the API version (``POST /containers/create?name=…``). A trap is
a sequence of patterns: it springs on the first request matching the last pattern after
requests matching the earlier ones were seen, in order (``[start, inspect]`` holds the
inspect that follows a start). It then holds that request:

* ``before`` — the request is never sent to the engine: the coach dies *before* the step;
* ``after`` — the request is sent and done by the engine, its answer is never delivered: the
  coach dies *after* the step, without knowing it happened.

Connections upgraded to raw streams (``docker exec``/``attach``) are passed through as they
are. Every request seen is logged in :attr:`HoldingProxy.seen`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

_VERSION = re.compile(r"^/v\d+\.\d+(?=/)")
When = Literal["before", "after"]


@dataclass
class Trap:
    patterns: list[re.Pattern[str]]
    when: When
    progress: int = 0
    sprung: asyncio.Event = field(default_factory=asyncio.Event)
    request: str = ""

    def offer(self, request: str) -> bool:
        """Whether ``request`` springs the trap (advancing through the patterns)."""
        if self.sprung.is_set() or not self.patterns[self.progress].search(request):
            return False
        self.progress += 1
        if self.progress < len(self.patterns):
            return False
        self.request = request
        self.sprung.set()
        return True

    async def wait(self, timeout: float = 120) -> str:  # noqa: ASYNC109 - a hang guard
        await asyncio.wait_for(self.sprung.wait(), timeout)
        return self.request


class HoldingProxy:
    def __init__(self, path: str, upstream: str) -> None:
        self.path = path
        self.upstream = upstream
        self.server: asyncio.AbstractServer | None = None
        self.trap: Trap | None = None
        self.seen: list[str] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._held: list[asyncio.Future[None]] = []

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.server = await asyncio.start_unix_server(self._serve, path=self.path)

    def arm(self, patterns: list[str], when: When = "before") -> Trap:
        self.trap = Trap([re.compile(p) for p in patterns], when)
        return self.trap

    def disarm(self) -> None:
        """No more traps; connections held by a sprung one are closed."""
        self.trap = None
        for held in self._held:
            if not held.done():
                held.set_result(None)
        self._held.clear()

    async def stop(self) -> None:
        self.disarm()
        if self.server is not None:
            self.server.close()
            for writer in list(self._writers):
                writer.close()
            await self.server.wait_closed()
            self.server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    # one client connection -------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.upstream)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        answers = _Gate()
        back = asyncio.create_task(_copy(up_reader, writer, answers))
        try:
            if await self._requests(reader, up_writer, answers):
                # a raw stream whose client stopped writing (stdin closed): the engine's
                # answer still comes back in full
                with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                    await back
        finally:
            for each in (writer, up_writer):
                each.close()
                self._writers.discard(each)
            back.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await back

    async def _requests(
        self, reader: asyncio.StreamReader, up: asyncio.StreamWriter, answers: _Gate
    ) -> bool:
        """Forward the client's requests; True when the connection became a raw stream that
        the client half-closed (its answer is still to be passed back)."""
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return False
            method, target, headers = _parse_head(head)
            body = await _read_body(reader, headers)
            request = f"{method} {_VERSION.sub('', urlsplit(target).path)}"
            query = urlsplit(target).query
            request += f"?{query}" if query else ""
            self.seen.append(request)
            trap = self.trap
            sprung = trap is not None and trap.offer(request)
            if sprung and trap is not None and trap.when == "before":
                await self._hold()
                return False
            up.write(head + body)
            await up.drain()
            if sprung:
                answers.closed = True  # the engine does it; the coach never hears back
                await self._hold()
                return False
            if "upgrade" in headers.get("connection", "").lower():
                await _copy(reader, up, _Gate())  # a raw stream from now on
                with contextlib.suppress(ConnectionError, OSError):
                    if up.can_write_eof():
                        up.write_eof()  # the client's end of input, passed on
                return True

    async def _hold(self) -> None:
        held: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._held.append(held)
        await held


@dataclass
class _Gate:
    closed: bool = False  # drop what comes through from now on


async def _copy(source: asyncio.StreamReader, target: asyncio.StreamWriter, gate: _Gate) -> None:
    try:
        while data := await source.read(65536):
            if gate.closed:
                continue
            target.write(data)
            await target.drain()
        if not gate.closed and target.can_write_eof():
            target.write_eof()  # the end of a raw stream (an exec's output) passed on
    except (ConnectionError, OSError):
        pass


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = [*lines[0].split(" ", 2), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, target, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            chunk = await reader.readexactly(size + 2)
            raw += chunk
            if size == 0:
                return raw
    length = int(headers.get("content-length", "0") or 0)
    return await reader.readexactly(length) if length else b""
