"""Files: ``docker cp`` between the host shell and a container (``-`` for a tar archive
sent back as a file, or an attached one), uploads and downloads.

Archives travel through the coach (``get_archive`` → ``put_archive``), capped in size. The
destination directory must exist, like ``docker cp``.
"""

from __future__ import annotations

import base64
import io
import json
import posixpath
import tarfile
from typing import Any
from urllib.parse import quote

from docker.api import APIClient

from bot.core.errors import UserError
from bot.core.text import human_bytes
from bot.dockercli.model import DockerCommand
from bot.dockercli.parser import parse_copy
from bot.dockercli.values import parse_env_lines
from bot.sandbox import objects
from bot.sandbox.errors import EngineNotFound, TooBig
from bot.sandbox.ops.base import Ctx, Output, note
from bot.sandbox.provision import HOME

MODE_DIR = 1 << 31
TAR_SLACK_BYTES = 64 * 1024  # a tar adds headers and padding to what it holds


def host_path(path: str) -> str:
    """A host-shell path: relative ones start at the home directory."""
    path = path.strip() or "."
    joined = path if path.startswith("/") else posixpath.join(HOME, path)
    return posixpath.normpath(joined)


def container_path(path: str) -> str:
    path = path.strip() or "/"
    return posixpath.normpath(path if path.startswith("/") else "/" + path)


def stat_path(api: APIClient, cid: str, path: str) -> dict[str, Any] | None:
    """``HEAD /containers/{id}/archive``: the path's stat, or None when it does not exist.

    docker-py has no call for it; the request goes through the client's own session (its
    public ``base_url``, ``api_version`` and ``timeout``). A failure raises
    ``requests.HTTPError``, which the worker maps like any engine error.
    """
    url = f"{api.base_url}/v{api.api_version}/containers/{quote(cid, safe='')}/archive"
    response = api.head(url, params={"path": path}, timeout=api.timeout)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    header = response.headers.get("X-Docker-Container-Path-Stat")
    stat: dict[str, Any] = json.loads(base64.b64decode(header)) if header else {}
    return stat


def read_archive(api: APIClient, cid: str, path: str, max_bytes: int) -> bytes:
    chunks, _stat = api.get_archive(cid, path, chunk_size=65536)
    data = bytearray()
    try:
        for chunk in chunks:
            data += chunk
            if len(data) > max_bytes + TAR_SLACK_BYTES:
                raise TooBig(max_bytes)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return bytes(data)


def rename_top(archive: bytes, new_name: str) -> bytes:
    """The archive with its top-level entry renamed (``docker cp a.txt web:/b.txt``)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive)) as source,
        tarfile.open(fileobj=out, mode="w") as target,
    ):
        for member in source.getmembers():
            member.name = _renamed(member.name, new_name)
            if member.islnk():  # a hard link names another member of the archive
                member.linkname = _renamed(member.linkname, new_name)
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
    return out.getvalue()


def _renamed(name: str, new_top: str) -> str:
    _top, _, rest = name.partition("/")
    return new_top + ("/" + rest if rest else "")


def _is_dir(stat: dict[str, Any] | None) -> bool:
    return stat is not None and bool(int(stat.get("mode", 0)) & MODE_DIR)


def check_room(size: int, room: int) -> None:
    """Refuse to write ``size`` bytes into a sandbox with ``room`` bytes left of its budget."""
    if size > room:
        raise UserError(
            "sandbox.disk.no_room", size=human_bytes(size), room=human_bytes(max(0, room))
        )


def copy_blocking(
    api: APIClient, src: tuple[str, str], dst: tuple[str, str], max_bytes: int, room: int
) -> None:
    """Copy ``src`` (id, path) to ``dst`` (id, path) with docker cp's rules; what is copied
    counts against the sandbox's disk budget (``room``: bytes left of it)."""
    src_stat = stat_path(api, *src)
    if src_stat is None:
        raise UserError("sandbox.cp_no_source", path=src[1])
    archive = read_archive(api, src[0], src[1], max_bytes)
    check_room(archived_bytes(archive), room)
    dst_id, dst_path = dst
    dst_stat = stat_path(api, dst_id, dst_path)
    if _is_dir(dst_stat):
        api.put_archive(dst_id, dst_path, archive)
        return
    if dst_stat is not None and _is_dir(src_stat):
        raise UserError("sandbox.cp_dir_onto_file", path=dst_path)
    parent = posixpath.dirname(dst_path) or "/"
    if not _is_dir(stat_path(api, dst_id, parent)):
        raise UserError("sandbox.cp_no_destination", path=parent)
    archive = rename_top(archive, posixpath.basename(dst_path))
    api.put_archive(dst_id, parent, archive)


async def _cp_stream_out(ctx: Ctx, cid: str, path: str, shown: str) -> Output:
    """``docker cp web:/path -``: the path as a tar archive, sent back as a file."""
    limit = ctx.settings.upload_max_bytes
    if await ctx.run(lambda api: stat_path(api, cid, path)) is None:
        raise UserError("sandbox.cp_no_source", path=path)
    try:
        archive = await ctx.run(lambda api: read_archive(api, cid, path, limit))
    except TooBig as exc:
        raise UserError("sandbox.too_big", limit=exc.limit) from exc
    name = safe_filename((posixpath.basename(path.rstrip("/")) or "root") + ".tar")
    return Output(text="", notes=[note("sandbox.cp_tar_sent", path=shown, name=name)],
                  files=[(name, archive)])  # fmt: skip


async def _cp_stream_in(ctx: Ctx, cid: str, path: str, shown: str) -> Output:
    """``docker cp - web:/dir``: the attached tar archive extracted into a directory."""
    tars = [(name, data) for name, data in ctx.attached if _is_tar(data)]
    if len(tars) != 1:
        raise UserError("sandbox.cp_needs_tar", dest=shown)
    name, data = tars[0]
    stat = await ctx.run(lambda api: stat_path(api, cid, path))
    if stat is None:
        raise UserError("sandbox.cp_no_destination", path=path)
    if not _is_dir(stat):
        raise UserError("sandbox.cp_tar_onto_file", path=path)
    await ctx.run(lambda api: api.put_archive(cid, path, data))
    return Output(text="", notes=[note("sandbox.cp_tar_extracted", name=name, path=shown)])


def _is_tar(data: bytes) -> bool:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.getmembers()
    except (tarfile.TarError, EOFError):
        return False
    return True


async def cp(ctx: Ctx, cmd: DockerCommand) -> Output:
    spec = parse_copy(cmd)
    found = await objects.container(ctx.worker, ctx.scope, spec.container)
    if spec.local_path == "-":
        path = container_path(spec.container_path)
        if spec.to_container:
            return await _cp_stream_in(ctx, found.id, path, cmd.args[1])
        return await _cp_stream_out(ctx, found.id, path, cmd.args[0])
    inside = (found.id, container_path(spec.container_path))
    local = (ctx.scope.host_name, host_path(spec.local_path))
    src, dst = (local, inside) if spec.to_container else (inside, local)
    limit, room = ctx.settings.upload_max_bytes, ctx.disk.room(ctx.sandbox)
    try:
        await ctx.run(lambda api: copy_blocking(api, src, dst, limit, room))
    except TooBig as exc:
        raise UserError("sandbox.too_big", limit=exc.limit) from exc
    return Output(text=f"Successfully copied {cmd.args[0]} to {cmd.args[1]}")


def archived_bytes(archive: bytes) -> int:
    """What the files of a tar archive hold, in bytes (what writing them adds, about)."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        return sum(member.size for member in opened if member.isfile())


def single_file_tar(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def put_file(api: APIClient, cid: str, directory: str, name: str, data: bytes) -> None:
    """Blocking: write ``data`` as ``directory/name`` into the container."""
    api.put_archive(cid, directory, single_file_tar(name, data))


async def put_home_file(ctx: Ctx, name: str, data: bytes) -> None:
    """Write ``data`` as ``name`` into the home directory of the learner's host shell."""
    host = ctx.scope.host_name
    await ctx.run(lambda api: put_file(api, host, HOME, name, data))


ENV_FILE_BYTES = 64 * 1024


async def environment(ctx: Ctx, cmd: DockerCommand) -> list[str]:
    """``--env-file`` files read from the learner's host shell (where the sandbox's CLI runs),
    then ``-e``, which wins, as docker orders them."""
    found: list[str] = []
    host = ctx.scope.host_name
    for name in cmd.values("env-file"):
        path = host_path(name)

        def read(api: APIClient, path: str = path) -> tuple[bytes, tuple[str, bytes] | None]:
            return read_file(api, host, path, ENV_FILE_BYTES)

        try:
            _archive, single = await ctx.run(read)
        except EngineNotFound:
            single = None
        except TooBig as exc:
            raise UserError("sandbox.too_big", limit=exc.limit) from exc
        if single is None:
            raise UserError("sandbox.no_env_file", path=name)
        found += parse_env_lines(single[1].decode(errors="replace"))
    return [*found, *cmd.values("env")]


def read_file(
    api: APIClient, cid: str, path: str, max_bytes: int
) -> tuple[bytes, tuple[str, bytes] | None]:
    """Blocking: the archive of ``path`` and, when it is one file, that file (see
    :func:`first_file`); :class:`TooBig` past ``max_bytes``."""
    archive = read_archive(api, cid, path, max_bytes)
    return archive, first_file(archive)


def first_file(archive: bytes) -> tuple[str, bytes] | None:
    """The first regular file in ``archive`` (name and bytes), or None for a directory."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        for member in opened:
            if member.isfile():
                handle = opened.extractfile(member)
                return member.name, handle.read() if handle else b""
            if member.isdir():
                return None
    return None


def safe_filename(name: str) -> str:
    base = posixpath.basename(name.replace("\\", "/")).strip()
    cleaned = "".join(c for c in base if c.isalnum() or c in "._-")
    return cleaned.lstrip(".") or "upload.bin"
