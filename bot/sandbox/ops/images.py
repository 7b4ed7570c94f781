"""Image subcommands: search, pull, images; and the checked pull that ``run`` uses.

Images are shared by every sandbox on a worker. Only references the policy allows are
ever pulled or shown; a pull has a timeout and its size is checked afterwards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from docker.api import APIClient

from bot.core.errors import NotFound, UserError
from bot.dockercli import output
from bot.dockercli.model import DockerCommand
from bot.dockercli.parser import parse_filters
from bot.dockercli.values import ImageRef
from bot.dockercli.views import ImageView, SearchResult
from bot.sandbox import naming, policy
from bot.sandbox.errors import EngineError, EngineNotFound, TookTooLong
from bot.sandbox.ops.base import Ctx, Note, Output, note
from bot.sandbox.workers import engine_call, inspect_image

log = logging.getLogger("bot.sandbox.images")
SEARCH_TIMEOUT = 20.0
CHECK_SECONDS = 30.0  # how long an image found present and small enough is trusted
_CHECKED: dict[tuple[str, str, int], float] = {}


def check(ctx: Ctx, reference: str) -> ImageRef:
    """The policy's :class:`ImageRef` for ``reference`` (raises ``Refused``)."""
    return policy.check_image_reference(reference, ctx.policy)


def engine_name(ref: ImageRef) -> str:
    """``repository:tag`` as the engine knows it (``nginx:latest``)."""
    return ref.name


def image_size(api: APIClient, name: str) -> int | None:
    try:
        return int(engine_call(inspect_image, api, name).get("Size") or 0)
    except EngineNotFound:
        return None


def pull_blocking(api: APIClient, name: str, max_bytes: int) -> tuple[str, bool]:
    """Blocking pull; returns the last status line and whether the image was new."""
    before = image_size(api, name)
    repository, _, tag = name.rpartition(":")
    last = ""
    for event in api.pull(repository, tag=tag, stream=True, decode=True):
        if "error" in event:
            raise EngineError(str(event["error"]))
        last = event.get("status", last)
    after = image_size(api, name)
    if after is not None and after > max_bytes:
        if before is None:  # new and too big: it goes again (unless someone uses it already)
            try:
                engine_call(api.remove_image, name)
            except EngineError as exc:  # in use: it stays, and the size check refuses it
                log.info("too-big image kept", extra={"image": name, "error": exc.explanation})
        raise UserError("sandbox.image_too_big", image=name, size=after, limit=max_bytes)
    return last, before is None


async def ensure_present(ctx: Ctx, ref: ImageRef, pull: bool = True) -> list[Note]:
    """Pull ``ref`` (checked) when the worker does not have it yet; notes for the user."""
    name = engine_name(ref)
    limit = ctx.settings.max_image_bytes
    key = (ctx.worker.name, name, limit)
    if time.monotonic() - _CHECKED.get(key, -CHECK_SECONDS) < CHECK_SECONDS:
        return []
    size = await ctx.run(lambda api: image_size(api, name))
    if size is not None and size <= limit:
        _CHECKED[key] = time.monotonic()
    if size is None and not pull:
        raise EngineNotFound(f"No such image: {name}")
    if size is not None:
        if size > limit:
            raise UserError("sandbox.image_too_big", image=name, size=size, limit=limit)
        return []
    await _pull_checked(ctx, name)
    return [note("sandbox.pulled_first", image=name)]


async def _pull_checked(ctx: Ctx, name: str) -> tuple[str, bool]:
    seconds, limit = ctx.settings.pull_timeout_seconds, ctx.settings.max_image_bytes
    try:
        return await ctx.worker.slow(lambda api: pull_blocking(api, name, limit), timeout=seconds)
    except EngineError as exc:
        reason = naming.for_user(exc.explanation, ctx.scope)
        raise UserError("sandbox.pull_failed", image=name, reason=reason) from exc
    except TookTooLong as exc:
        raise UserError("sandbox.pull_slow", image=name, seconds=round(seconds)) from exc


async def pull(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_image")
    ref = check(ctx, cmd.args[0])
    name = engine_name(ref)
    status, _new = await _pull_checked(ctx, name)
    repository, _, tag = name.rpartition(":")
    lines = [
        f"{tag}: Pulling from library/{repository}"
        if "/" not in repository
        else f"{tag}: Pulling from {repository}"
    ]
    if not status.startswith("Status:"):
        status = f"Status: {status or 'Image is up to date for ' + name}"
    lines.append(status)
    lines.append(f"docker.io/{'library/' if '/' not in repository else ''}{name}")
    return Output(text="\n".join(lines), name="docker-pull.txt")


def allowed_tags(
    listed: Iterable[dict[str, Any]], config: policy.PolicyConfig
) -> Iterator[tuple[dict[str, Any], str]]:
    """``(image, tag)`` for every tag of the engine-listed images that the policy allows
    (tags of other registries, such as the worker's mirror, are refused by it)."""
    for image in listed:
        for tag in image.get("RepoTags") or []:
            if policy.image_allowed(tag, config):
                yield image, tag


async def images(ctx: Ctx, cmd: DockerCommand) -> Output:
    """The allowlisted images present on the worker (images are shared by its sandboxes)."""
    wanted = cmd.args[0] if cmd.args else None
    views: list[ImageView] = []
    listed: list[dict[str, Any]] = await ctx.run(lambda api: api.images())
    for image, tag in allowed_tags(listed, ctx.policy):
        repository, _, version = tag.rpartition(":")
        if wanted and repository != wanted.split(":")[0]:
            continue
        created = image.get("Created")
        views.append(
            ImageView(
                repository,
                version,
                image["Id"],
                int(image.get("Size") or 0),
                datetime.fromtimestamp(created, UTC) if created else None,
            )
        )
    views.sort(key=lambda v: (v.repository, v.tag))
    text = output.images_table(views, ctx.now, quiet=cmd.has("quiet"), no_trunc=cmd.has("no-trunc"))
    return Output(text=text, name="docker-images.txt")


async def inspect(ctx: Ctx, ref: ImageRef) -> Any:
    name = engine_name(ref)
    try:
        return await ctx.run(lambda api: inspect_image(api, name))
    except EngineNotFound as exc:
        raise NotFound("sandbox.no_such_object", ref=name) from exc


def search_term(index: str, term: str) -> str:
    """Docker Hub takes the term as is; any other index is addressed by prefixing it."""
    if index in ("docker.io", "index.docker.io", "registry-1.docker.io", ""):
        return term
    return f"{index}/{term}"


async def search(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_term")
    term = search_term(ctx.settings.search_index, cmd.args[0])
    limit = max(1, min(cmd.int_flag("limit", 25) or 25, 100))
    try:
        results = await ctx.worker.slow(
            lambda api: api.search(term, limit=limit), timeout=SEARCH_TIMEOUT
        )
    except EngineError as exc:
        reason = naming.for_user(exc.explanation, ctx.scope)[:300]
        raise UserError("sandbox.index_unreachable", reason=reason) from exc
    except TookTooLong as exc:
        raise UserError("sandbox.index_unreachable", reason=str(exc)[:300]) from exc
    found = [
        SearchResult(
            str(r.get("name", "")),
            str(r.get("description") or ""),
            int(r.get("star_count") or 0),
            bool(r.get("is_official")),
        )
        for r in results
    ]
    filters = parse_filters(cmd)
    for value in filters.get("is-official", ()):
        found = [r for r in found if r.official == (value == "true")]
    for value in filters.get("stars", ()):
        found = [r for r in found if r.stars >= int(value)]
    text = output.search_table(found, no_trunc=cmd.has("no-trunc"), template=cmd.text("format"))
    return Output(text=text, name="docker-search.txt")
