"""Image subcommands: search, pull, images; and the checked pull that ``run`` uses.

Images are shared by every sandbox on a worker. Only references the policy allows are
ever pulled or shown; a pull has a timeout and its size is checked afterwards.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from docker.api import APIClient
from docker.errors import APIError, ImageNotFound

from bot.core.errors import UserError
from bot.sandbox import cli, policy, render
from bot.sandbox.ops.base import Ctx, Output
from bot.sandbox.workers import TookTooLong

SEARCH_TIMEOUT = 20.0
CHECK_SECONDS = 30.0  # how long an image found present and small enough is trusted
_CHECKED: dict[tuple[str, str, int], float] = {}


def check(ctx: Ctx, reference: str) -> Any:
    """The policy's :class:`ImageRef` for ``reference`` (raises ``Refused``)."""
    return policy.check_image_reference(reference, ctx.policy)


def engine_name(ref: Any) -> str:
    """``repository:tag`` as the engine knows it (``nginx:latest``)."""
    return str(ref.name)


def _size(api: APIClient, name: str) -> int | None:
    try:
        return int(api.inspect_image(name).get("Size") or 0)
    except ImageNotFound:
        return None


def _pull(api: APIClient, name: str, max_bytes: int) -> tuple[str, bool]:
    """Blocking pull; returns the last status line and whether the image was new."""
    before = _size(api, name)
    repository, _, tag = name.rpartition(":")
    last = ""
    for event in api.pull(repository, tag=tag, stream=True, decode=True):
        if "error" in event:
            raise APIError(event["error"], explanation=event["error"])
        last = event.get("status", last)
    after = _size(api, name)
    if after is not None and after > max_bytes:
        if before is None:
            # in use by someone already: it stays, but the size check refuses it every time
            with contextlib.suppress(APIError):
                api.remove_image(name)
        raise UserError("sandbox.image_too_big", image=name, size=after, limit=max_bytes)
    return last, before is None


async def ensure_present(ctx: Ctx, ref: Any, pull: bool = True) -> list[str]:
    """Pull ``ref`` (checked) when the worker does not have it yet; notes for the user."""
    name = engine_name(ref)
    key = (ctx.worker.name, name, ctx.settings.max_image_bytes)
    if time.monotonic() - _CHECKED.get(key, -CHECK_SECONDS) < CHECK_SECONDS:
        return []
    size = await ctx.run(_size, name)
    if size is not None and size <= ctx.settings.max_image_bytes:
        _CHECKED[key] = time.monotonic()
    if size is None and not pull:
        raise UserError(
            "sandbox.engine_error",
            message=f"No such image: {name}",
            hint=ctx.tr("sandbox.hint.no_such_image"),
        )
    if size is not None:
        if size > ctx.settings.max_image_bytes:
            raise UserError(
                "sandbox.image_too_big", image=name, size=size, limit=ctx.settings.max_image_bytes
            )
        return []
    await _pull_checked(ctx, name)
    return [ctx.tr("sandbox.pulled_first", image=name)]


async def _pull_checked(ctx: Ctx, name: str) -> tuple[str, bool]:
    seconds = ctx.settings.pull_timeout_seconds
    try:
        return await ctx.worker.slow(_pull, name, ctx.settings.max_image_bytes, timeout=seconds)
    except APIError as exc:
        raise UserError("sandbox.pull_failed", image=name, reason=ctx.engine_text(exc)) from exc
    except TookTooLong as exc:
        raise UserError("sandbox.pull_slow", image=name, seconds=round(seconds)) from exc


async def pull(ctx: Ctx, cmd: Any) -> Output:
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
            try:
                policy.check_image_reference(tag, config)
            except UserError:
                continue
            yield image, tag


async def images(ctx: Ctx, cmd: Any) -> Output:
    """The allowlisted images present on the worker (images are shared by its sandboxes)."""
    wanted = cmd.args[0] if cmd.args else None
    views: list[render.ImageView] = []
    for image, tag in allowed_tags(await ctx.call("images"), ctx.policy):
        repository, _, version = tag.rpartition(":")
        if wanted and repository != wanted.split(":")[0]:
            continue
        created = image.get("Created")
        views.append(
            render.ImageView(
                repository,
                version,
                image["Id"],
                int(image.get("Size") or 0),
                datetime.fromtimestamp(created, UTC) if created else None,
            )
        )
    views.sort(key=lambda v: (v.repository, v.tag))
    text = render.images_table(views, ctx.now, quiet=cmd.has("quiet"), no_trunc=cmd.has("no-trunc"))
    return Output(text=text, name="docker-images.txt")


async def inspect(ctx: Ctx, ref: Any) -> Any:
    try:
        return await ctx.call("inspect_image", engine_name(ref))
    except ImageNotFound as exc:
        raise UserError("sandbox.no_such_object", ref=engine_name(ref)) from exc


def search_term(index: str, term: str) -> str:
    """Docker Hub takes the term as is; any other index is addressed by prefixing it."""
    if index in ("docker.io", "index.docker.io", "registry-1.docker.io", ""):
        return term
    return f"{index}/{term}"


async def search(ctx: Ctx, cmd: Any) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_term")
    term = cmd.args[0]
    limit = cmd.flag("limit", None)
    try:
        limit_n = int(limit) if limit is not None else 25
    except (TypeError, ValueError):
        raise UserError("sandbox.bad_number", value=str(limit)[:20]) from None
    try:
        results = await ctx.worker.slow(
            APIClient.search,
            search_term(ctx.settings.search_index, term),
            limit=max(1, min(limit_n, 100)),
            timeout=SEARCH_TIMEOUT,
        )
    except APIError as exc:
        raise UserError("sandbox.index_unreachable", reason=ctx.engine_text(exc)[:300]) from exc
    except TookTooLong as exc:
        raise UserError("sandbox.index_unreachable", reason=str(exc)[:300]) from exc
    found = [
        render.SearchResult(
            str(r.get("name", "")),
            str(r.get("description") or ""),
            int(r.get("star_count") or 0),
            bool(r.get("is_official")),
        )
        for r in results
    ]
    filters = cli.parse_filters(cmd)
    for value in filters.get("is-official", ()):
        found = [r for r in found if r.official == (value == "true")]
    for value in filters.get("stars", ()):
        found = [r for r in found if r.stars >= int(value)]
    template = cmd.flag("format")
    text = render.search_table(
        found,
        no_trunc=cmd.has("no-trunc"),
        template=template if isinstance(template, str) else None,
    )
    return Output(text=text, name="docker-search.txt")
