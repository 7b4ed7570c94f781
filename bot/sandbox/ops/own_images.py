"""Images a learner makes and keeps: commit, tag, rmi, history, image prune.

A learner's image is theirs alone (see :mod:`bot.sandbox.ops.images`): its tags live under the
sandbox's prefix and a committed image carries the sandbox's labels, so it is listed, run and
removed only in that sandbox, and removed with it. Each name (tag) counts against
``quotas.images``; an untagged image of theirs counts as one too. Shared images are never
removed: ``rmi`` of one only ever untags the learner's own name for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from docker.api import APIClient

from bot.core.errors import NotFound, UserError
from bot.dockercli import output
from bot.dockercli.errors import CliError
from bot.dockercli.layout import human_size
from bot.dockercli.model import DockerCommand
from bot.dockercli.parser import parse_filters
from bot.dockercli.values import parse_image_reference
from bot.dockercli.views import HistoryRow, OwnImageView
from bot.sandbox import naming, objects
from bot.sandbox.errors import EngineConflict, EngineError, EngineNotFound
from bot.sandbox.ops import ports
from bot.sandbox.ops.base import Ctx, Output, for_each, prune_selects
from bot.sandbox.ops.images import (
    Visible,
    clean_image,
    ensure_present,
    inspect_resolved_image,
    listed_images,
    resolve,
    used_images,
)
from bot.sandbox.workers import Worker, inspect_image


def _reference(text: str) -> tuple[str, str]:
    """A target name as ``(repository, tag)``; CliError when it is not a valid one."""
    ref = parse_image_reference(text)
    if ref.digest:
        raise CliError("cli.bad_image", image=text)
    return ref.repository, ref.tag


def _count(found: Visible) -> int:
    """What the image quota counts: the learner's names, and their untagged images."""
    untagged = [i for i in found.own_ids if not found.names.get(i)]
    return len(found.own) + len(untagged)


def check_quota(ctx: Ctx, found: Visible, new_name: str | None) -> None:
    if new_name is not None and new_name in found.own:
        return  # the name moves to another image: nothing more to count
    limit = ctx.settings.quotas.images
    if _count(found) >= limit:
        raise UserError("sandbox.quota.images", limit=limit)


# --------------------------------------------------------------------------------------------
# commit, tag
# --------------------------------------------------------------------------------------------


def _label_changes(scope: naming.Scope, name: str) -> list[str]:
    """Dockerfile ``LABEL`` lines marking the image as the learner's (and clearing the
    container's published ports, which must not pass on to containers of the image, and the
    build cache key, which belongs to the built image only)."""
    # A container of a built image carries the build-cache key of its last step: cleared, or a
    # rebuild would take the committed image (with whatever the learner changed) from cache.
    labels = {
        **scope.labels(naming.KIND_IMAGE, name),
        ports.PORTS_LABEL: "",
        naming.BUILD_CACHE: "",
    }
    return [f"LABEL {json.dumps(k)}={json.dumps(v)}" for k, v in labels.items()]


async def commit(ctx: Ctx, cmd: DockerCommand) -> Output:
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    target = cmd.args[1] if len(cmd.args) > 1 else None
    repository, tag = _reference(target) if target else ("", "")
    name = f"{repository}:{tag}" if target else None
    images = await listed_images(ctx)
    check_quota(ctx, images, name)
    changes = [*cmd.values("change"), *_label_changes(ctx.scope, name or "<none>")]
    pause = cmd.flag("pause", True) is not False
    message, author = cmd.text("message"), cmd.text("author")
    engine_repo = ctx.scope.image_real(repository) if target else None

    def call(api: APIClient) -> dict[str, Any]:
        result: dict[str, Any] = api.commit(
            found.id, repository=engine_repo, tag=tag or None, message=message,
            author=author, pause=pause, changes=changes,
        )  # fmt: skip
        return result

    created = await ctx.run(call, timeout=ctx.settings.api_timeout_seconds * 4)
    return Output(text=str(created.get("Id", "")))


async def tag(ctx: Ctx, cmd: DockerCommand) -> Output:
    images = await listed_images(ctx)
    source = await resolve(ctx, cmd.args[0], images)
    repository, version = _reference(cmd.args[1])
    check_quota(ctx, images, f"{repository}:{version}")
    if not source.own and source.ref is not None:
        await ensure_present(ctx, source.ref)
    engine, target = source.engine, ctx.scope.image_real(repository)
    await ctx.run(lambda api: api.tag(engine, target, version))
    return Output(text="")


# --------------------------------------------------------------------------------------------
# rmi, image prune
# --------------------------------------------------------------------------------------------


def _removed_lines(scope: naming.Scope, result: list[Mapping[str, str]]) -> list[str]:
    lines: list[str] = []
    for item in result:
        for key in ("Untagged", "Deleted"):
            if item.get(key):
                lines.append(f"{key}: {naming.for_user(str(item[key]), scope)}")
    return lines


async def _remove(ctx: Ctx, engine: str, force: bool, no_prune: bool) -> list[str]:
    result = await ctx.run(
        lambda api: api.remove_image(engine, force=force, noprune=no_prune),
        timeout=ctx.settings.api_timeout_seconds * 2,
    )
    return _removed_lines(ctx.scope, list(result or []))


async def rmi(ctx: Ctx, cmd: DockerCommand) -> Output:
    images = await listed_images(ctx)
    force, no_prune = cmd.has("force"), cmd.has("no-prune")
    lines: list[str] = []

    async def remove_one(ref: str) -> None:
        try:
            resolved = await resolve(ctx, ref, images)
        except EngineNotFound as exc:  # not theirs, not shared: docker's words for rmi
            raise NotFound("sandbox.no_such_image", ref=ref) from exc
        if not resolved.own:
            raise UserError("sandbox.rmi_shared", image=resolved.shown)
        if resolved.engine in images.images:  # an id: each of the learner's names for it
            names = [
                images.own[n] for n in images.names.get(resolved.engine, []) if n in images.own
            ]
            if len(names) > 1 and not force:
                short = resolved.engine.removeprefix("sha256:")[:12]
                raise EngineConflict(
                    f"conflict: unable to delete {short} (must be forced) - image is "
                    "referenced in multiple repositories"
                )
            for engine in names or [resolved.engine]:
                lines.extend(await _remove(ctx, engine, force, no_prune))
            return
        lines.extend(await _remove(ctx, resolved.engine, force, no_prune))

    async def action(found: objects.Found) -> None:
        await remove_one(found.name)

    def find(ref: str) -> objects.Found:
        return objects.Found(ref, ref, ref, {})

    out = await for_each(ctx, cmd, action, find)
    done = [line for line in out.text.splitlines() if line.startswith("Error response")]
    return Output(text="\n".join(lines + done), notes=out.notes, error=out.error)


async def image_prune(ctx: Ctx, cmd: DockerCommand) -> Output:
    """Remove the learner's untagged images (``-a``: every image of theirs no container
    uses); shared images are never pruned."""
    images, used = await asyncio.gather(listed_images(ctx), used_images(ctx))
    filters = parse_filters(cmd)
    lines: list[str] = []
    reclaimed = 0
    for ident in sorted(images.own_ids):
        image = images.images[ident]
        names = [n for n in images.names.get(ident, []) if n in images.own]
        if used.get(ident) or (names and not cmd.has("all")):
            continue
        created = objects.engine_time(image.get("Created"))
        if not prune_selects(
            naming.strip_our_labels(image.get("Labels")), filters, created, ctx.now
        ):
            continue
        try:
            for engine in [images.own[n] for n in names] or [ident]:
                lines.extend(await _remove(ctx, engine, False, False))
        except EngineError:
            continue  # in use by something made meanwhile: not reclaimed
        reclaimed += int(image.get("Size") or 0)
    text = (["Deleted Images:", *lines, ""] if lines else []) + [
        f"Total reclaimed space: {human_size(reclaimed)}"
    ]
    return Output(text="\n".join(text))


# --------------------------------------------------------------------------------------------
# history
# --------------------------------------------------------------------------------------------


async def _history(ctx: Ctx, engine: str) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = await ctx.run(lambda api: api.history(engine))  # type: ignore[no-untyped-call]
    return layers


async def history(ctx: Ctx, cmd: DockerCommand) -> Output:
    resolved = await resolve(ctx, cmd.args[0])
    if not resolved.own and resolved.ref is not None:
        await ensure_present(ctx, resolved.ref)
    try:
        layers = await _history(ctx, resolved.engine)
    except EngineNotFound as exc:
        if not resolved.known:
            raise EngineNotFound(f"No such image: {cmd.args[0]}") from exc
        # an own name known from an earlier listing, its image gone: as without the cache
        try:
            resolved, _attrs = await inspect_resolved_image(ctx, cmd.args[0], resolved)
            layers = await _history(ctx, resolved.engine)
        except EngineNotFound as again:
            raise EngineNotFound(f"No such image: {cmd.args[0]}") from again
    rows = []
    for layer in layers:
        ident = str(layer.get("Id") or "<missing>")
        tags = clean_image(ctx, {"RepoTags": layer.get("Tags") or []})["RepoTags"]
        rows.append(
            HistoryRow(
                ident, objects.engine_time(layer.get("Created")),
                str(layer.get("CreatedBy") or ""), int(layer.get("Size") or 0),
                str(layer.get("Comment") or ""), tuple(tags),
            )
        )  # fmt: skip
    text = output.history_table(
        rows, ctx.now, quiet=cmd.has("quiet"), no_trunc=cmd.has("no-trunc"),
        human=cmd.flag("human", True) is not False, template=cmd.text("format"),
    )  # fmt: skip
    return Output(text=text, name="docker-history.txt")


# --------------------------------------------------------------------------------------------
# what practice checks read: the learner's images, how each was made
# --------------------------------------------------------------------------------------------

_NOP = "#(nop) "


def step_instruction(created_by: str) -> str:
    """A build step's instruction from its history entry: ``/bin/sh -c #(nop) COPY a /b``
    is ``COPY a /b``; a command run is ``RUN …`` (``/bin/sh -c echo hi`` is ``RUN echo hi``)."""
    text = created_by.strip()
    if _NOP in text:
        return text.split(_NOP, 1)[1].strip()
    for shell in ("/bin/sh -c ", "sh -c "):
        if text.startswith(shell):
            text = text.removeprefix(shell)
            break
    return f"RUN {text}"


def _describe(api: APIClient, ident: str, steps: set[str]) -> tuple[dict[str, Any], list[str]]:
    """The image's config and the instructions of the learner's own build steps in its
    history (newest first there; oldest first here), up to the first layer not built here."""
    attrs = inspect_image(api, ident)
    layers: list[dict[str, Any]] = api.history(ident)  # type: ignore[no-untyped-call]
    own: list[str] = []
    for layer in layers:
        if str(layer.get("Id")) not in steps:
            break
        own.append(step_instruction(str(layer.get("CreatedBy") or "")))
    return attrs, own[::-1]


async def own_image_views(
    worker: Worker, scope: naming.Scope, found: Visible
) -> list[OwnImageView]:
    """The learner's own named images with what practice checks ask of them: built here or
    not, their build steps, CMD and ENTRYPOINT."""
    named = [ident for ident in sorted(found.own_ids) if found.names.get(ident)]
    if not named:
        return []
    filters = scope.filters(naming.KIND_IMAGE)
    listed = await worker.run(lambda api: api.images(all=True, filters=filters))
    steps = {
        str(image["Id"])
        for image in scope.mine(listed)
        if (image.get("Labels") or {}).get(naming.BUILD_CACHE)
    }
    views: list[OwnImageView] = []
    for ident in named:

        def describe(api: APIClient, ident: str = ident) -> tuple[dict[str, Any], list[str]]:
            return _describe(api, ident, steps)

        try:
            attrs, instructions = await worker.run(describe)
        except EngineNotFound:  # removed meanwhile
            continue
        config = attrs.get("Config") or {}
        views.append(
            OwnImageView(
                id=ident,
                names=tuple(found.names[ident]),
                built=ident in steps,
                steps=tuple(instructions),
                cmd=tuple(config.get("Cmd") or ()),
                entrypoint=tuple(config.get("Entrypoint") or ()),
            )
        )
    return views
