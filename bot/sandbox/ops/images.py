"""Image subcommands: search, pull, images, image inspect; the checked pull that ``run``
uses; and how a reference resolves for a learner.

Allowlisted images are shared by every sandbox on a worker: only references the policy
allows are ever pulled or shown; a pull has a timeout and its size is checked afterwards.
Images a learner makes (``commit``, ``tag``; ``build`` next) are theirs alone: their tags live
under the sandbox's prefix (``dc-<sandbox>/mysite:v1``, shown as ``mysite:v1``), committed
images carry the sandbox's labels, and :func:`resolve` looks at the learner's own images
first, so another learner can neither see, run nor remove them.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from docker.api import APIClient

from bot.core.errors import NotFound, Refused, UserError
from bot.dockercli import hub, output
from bot.dockercli.errors import CliError
from bot.dockercli.model import DockerCommand
from bot.dockercli.parser import parse_filters
from bot.dockercli.values import ImageRef, is_registry, parse_image_reference, parse_timestamp
from bot.dockercli.views import ImageView, SearchResult
from bot.sandbox import naming, objects, policy
from bot.sandbox.errors import EngineError, EngineNotFound, TookTooLong
from bot.sandbox.ops.base import Ctx, Note, Output, label_matches, note
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


async def ensure_present(
    ctx: Ctx, ref: ImageRef, pull: bool = True, size: int | None = None
) -> list[Note]:
    """Pull ``ref`` (checked) when the worker does not have it yet; notes for the user
    (``size``: the image's size, when the caller has just read it from the engine)."""
    name = engine_name(ref)
    limit = ctx.settings.max_image_bytes
    key = (ctx.worker.name, name, limit)
    if time.monotonic() - _CHECKED.get(key, -CHECK_SECONDS) < CHECK_SECONDS:
        return []
    if size is None:
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
    await ctx.disk.before_pull(ctx.sandbox)  # the worker's free-space floor, pulls per hour
    try:
        return await ctx.worker.slow(lambda api: pull_blocking(api, name, limit), timeout=seconds)
    except EngineError as exc:
        reason = naming.for_user(exc.explanation, ctx.scope)
        raise UserError("sandbox.pull_failed", image=name, reason=reason) from exc
    except TookTooLong as exc:
        raise UserError("sandbox.pull_slow", image=name, seconds=round(seconds)) from exc


PULL_DENIED = (
    "pull access denied for {repository}, repository does not exist or may require "
    "'docker login': denied: requested access to the resource is denied"
)


def checked_pull(ctx: Ctx, reference: str, lead: str = "") -> ImageRef:
    """:func:`check` for a command that pulls: a name that exists nowhere a pull reaches
    (``mysite:v1`` that is not the learner's, see :mod:`bot.dockercli.hub`) gets docker's
    answer after ``lead`` (what docker prints first), not the allowlist's refusal."""
    try:
        return check(ctx, reference)
    except Refused as refusal:
        image = parse_image_reference(reference)  # check read it: well formed
        if refusal.key != "policy.image_not_allowed" or hub.could_exist(image):
            raise
        denied = PULL_DENIED.format(repository=image.repository)
        raise NotFound(
            "sandbox.image_nowhere",
            lines=f"{lead}Error response from daemon: {denied}",
            image=reference,
            allowed=", ".join(ctx.policy.image_allowlist),
        ) from None


async def pull(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_image")
    untagged = _untagged(cmd.args[0])
    ref = checked_pull(ctx, cmd.args[0], "Using default tag: latest\n" if untagged else "")
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


# --------------------------------------------------------------------------------------------
# The learner's own images: tags under the sandbox's prefix, committed images labeled
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visible:
    """Every image the learner can see: engine listing entries by id, with the names they
    see for it (their own tags without the prefix, allowed shared tags as they are)."""

    images: dict[str, dict[str, Any]]  # id → listed image
    names: dict[str, list[str]]  # id → the learner's names ("mysite:v1", "nginx:latest")
    own: dict[str, str]  # the learner's name → engine name, for their own tags
    own_ids: set[str]  # ids of images that are the learner's (own tags or own labels)


def _mine(scope: naming.Scope, image: Mapping[str, Any]) -> bool:
    labels = image.get("Labels") or {}
    return scope.owns(labels) and labels.get(naming.KIND) == naming.KIND_IMAGE


def visible(
    scope: naming.Scope, listed: Iterable[dict[str, Any]], config: policy.PolicyConfig
) -> Visible:
    found = Visible({}, {}, {}, set())
    for image in listed:
        ident = str(image["Id"])
        names: list[str] = []
        for tag in image.get("RepoTags") or []:
            if tag.startswith(scope.image_prefix):
                name = tag.removeprefix(scope.image_prefix)
                found.own[name] = tag
                found.own_ids.add(ident)
                names.append(name)
            elif policy.image_allowed(tag, config):
                names.append(tag)
        if _mine(scope, image):
            found.own_ids.add(ident)
        if names or ident in found.own_ids:
            found.images[ident] = image
            found.names[ident] = sorted(set(names))
    return found


async def listed_images(ctx: Ctx) -> Visible:
    """Every image the learner can see, listed now (in their turn: their own names are
    kept for :func:`resolve` until a command that can change them, :func:`forget_own`)."""
    listed: list[dict[str, Any]] = await ctx.run(lambda api: api.images())
    found = visible(ctx.scope, listed, ctx.policy)
    ctx.sandbox.own_images = dict(found.own)
    return found


async def own_tags(ctx: Ctx) -> Mapping[str, str]:
    """The learner's own image names → engine tags: as known since their last listing (no
    command since could change them), else listed now."""
    known = ctx.sandbox.own_images
    if known is not None:
        return known
    return (await listed_images(ctx)).own


def forget_own(ctx: Ctx) -> None:
    """After a command that can make, tag or remove the learner's images: the next
    :func:`resolve` lists them again."""
    ctx.sandbox.own_images = None


def own_names(found: Visible) -> frozenset[str]:
    return frozenset(found.own)


@dataclass(frozen=True)
class Resolved:
    """An image reference resolved for the learner."""

    engine: str  # what the engine is given: an engine tag or an image id
    shown: str  # how the learner names it
    own: bool
    ref: ImageRef | None = None  # the shared image's reference (None for own images)
    known: bool = False  # an own name taken from the names known since an earlier listing


def _id_prefix(reference: str) -> str | None:
    """The hex digits of ``reference`` when it can be an image id prefix (4 or more)."""
    body = reference.removeprefix("sha256:")
    if len(body) < 4 or any(c not in "0123456789abcdef" for c in body):
        return None
    return body


def _by_id(found: Visible, reference: str) -> str | None:
    """A visible image whose id starts with ``reference`` (a hex prefix), when exactly one."""
    body = _id_prefix(reference)
    if body is None:
        return None
    matches = [i for i in found.images if i.removeprefix("sha256:").startswith(body)]
    return matches[0] if len(matches) == 1 else None


def _untagged(reference: str) -> bool:
    return "@" not in reference and ":" not in reference.rsplit("/", 1)[-1]


def _familiar(reference: str) -> str:
    """How the daemon names a reference in its errors (``mysite`` is ``mysite:latest``)."""
    try:
        return parse_image_reference(reference).name
    except CliError:
        return reference


async def resolve(
    ctx: Ctx, reference: str, found: Visible | None = None, pulls: bool = False
) -> Resolved:
    """``reference`` as the learner means it: their own image first (by name or id prefix),
    else a shared image the policy allows. Any other name is not there for them: the daemon's
    ``No such image`` (:class:`EngineNotFound`); for a command that ``pulls``, the policy's
    refusal, or docker's pull error for a name that exists nowhere (:func:`checked_pull`).
    The images are listed only when ``reference`` can be an id prefix or the learner's own
    names are not known (:func:`own_tags`): ``run -d nginx`` in a class costs no listing."""
    if found is None and _id_prefix(reference) is not None:
        found = await listed_images(ctx)
    try:
        name = parse_image_reference(reference)
    except CliError:
        name = None
    if name is not None and name.registry is None and name.digest is None:
        known = found is None and ctx.sandbox.own_images is not None
        own = found.own if found is not None else await own_tags(ctx)
        engine = own.get(name.name)
        if engine is not None:
            return Resolved(engine, name.name, True, known=known)
    ident = _by_id(found, reference) if found is not None else None
    if ident is not None and found is not None:
        names = found.names.get(ident) or [reference]
        return Resolved(ident, names[0], ident in found.own_ids)
    if pulls:
        lead = f"Unable to find image '{_familiar(reference)}' locally\n"
        ref = checked_pull(ctx, reference, lead)
    else:
        try:
            ref = check(ctx, reference)
        except Refused:
            raise EngineNotFound(f"No such image: {_familiar(reference)}") from None
    return Resolved(engine_name(ref), engine_name(ref), False, ref)


async def inspect_resolved_image(
    ctx: Ctx, reference: str, resolved: Resolved, pulls: bool = False
) -> tuple[Resolved, dict[str, Any]]:
    """The inspect data of the image ``reference`` resolved to. An own name known from an
    earlier listing whose image is gone (removed behind the coach's back) is resolved again
    from a listing of now: the answer is what it would have been without the known names."""
    engine = resolved.engine
    try:
        return resolved, await ctx.run(lambda api: inspect_image(api, engine))
    except EngineNotFound:
        if not resolved.known:
            raise
    forget_own(ctx)
    resolved = await resolve(ctx, reference, pulls=pulls)
    engine = resolved.engine
    return resolved, await ctx.run(lambda api: inspect_image(api, engine))


def _created(image: Mapping[str, Any]) -> datetime | None:
    created = image.get("Created")
    return datetime.fromtimestamp(created, UTC) if created else None


def _digest(image: Mapping[str, Any]) -> str:
    for item in image.get("RepoDigests") or []:
        _repository, _, digest = str(item).partition("@")
        if digest:
            return digest
    return "<none>"


def image_views(found: Visible, used: Mapping[str, int]) -> list[ImageView]:
    """One row per name (an image with no name the learner sees is ``<none>``)."""
    views: list[ImageView] = []
    for ident, image in found.images.items():
        names = found.names.get(ident) or ["<none>:<none>"]
        for name in names:
            repository, _, tag = name.rpartition(":")
            views.append(
                ImageView(
                    repository, tag, ident, int(image.get("Size") or 0), _created(image),
                    _digest(image), naming.strip_our_labels(image.get("Labels")),
                    used.get(ident, 0), ident in found.own_ids,
                )
            )  # fmt: skip
    return views


def _matches_reference(view: ImageView, patterns: tuple[str, ...]) -> bool:
    full = view.reference
    return any(
        fnmatch.fnmatchcase(full, p) or fnmatch.fnmatchcase(view.repository, p)
        or fnmatch.fnmatchcase(full, p + ":latest")
        for p in patterns
    )  # fmt: skip


def _image_time(views: list[ImageView], ref: str) -> datetime | None:
    for view in views:
        if ref in (view.reference, view.repository, view.short_id) or view.id.removeprefix(
            "sha256:"
        ).startswith(ref):
            return view.created_at
    raise EngineNotFound(f"No such image: {ref}")


def filter_images(
    views: list[ImageView], filters: Mapping[str, tuple[str, ...]], now: float
) -> list[ImageView]:
    """docker's image filters: values of one key are OR-ed, keys AND-ed."""
    for key, values in filters.items():
        if key == "dangling":
            want = values[-1] == "true"
            views = [v for v in views if (v.repository == "<none>") == want]
        elif key == "reference":
            views = [v for v in views if _matches_reference(v, values)]
        elif key == "label":
            views = [v for v in views if all(label_matches(v.labels, x) for x in values)]
        elif key in ("before", "since"):
            moments = [_image_time(views, ref) for ref in values]
            edge = min(m for m in moments if m) if key == "before" else max(m for m in moments if m)
            views = [
                v for v in views if v.created_at
                and (v.created_at < edge if key == "before" else v.created_at > edge)
            ]  # fmt: skip
        elif key == "until":
            edges = [parse_timestamp(x, now) for x in values]
            views = [v for v in views if v.created_at and v.created_at.timestamp() < min(edges)]
    return views


async def used_images(ctx: Ctx) -> dict[str, int]:
    """How many of the learner's containers use each image id."""
    counts: dict[str, int] = {}
    for summary in await objects.containers(ctx.worker, ctx.scope, all=True):
        ident = str(summary.get("ImageID") or "")
        counts[ident] = counts.get(ident, 0) + 1
    return counts


async def images(ctx: Ctx, cmd: DockerCommand) -> Output:
    """The shared images the policy allows and the learner's own ones."""
    found, used = await asyncio.gather(listed_images(ctx), used_images(ctx))
    views = image_views(found, used)
    if not cmd.has("all"):
        views = [v for v in views if v.repository != "<none>" or v.id in found.own_ids]
    if cmd.args:
        wanted = cmd.args[0]
        repository, _, tag = wanted.partition(":")
        views = [v for v in views if v.repository == repository and (not tag or v.tag == tag)]
    views = filter_images(views, parse_filters(cmd), ctx.now.timestamp())
    views.sort(
        key=lambda v: (
            v.created_at is None,
            -(v.created_at.timestamp() if v.created_at else 0),
            v.repository,
            v.tag,
        )
    )
    text = output.images_table(
        views, ctx.now, quiet=cmd.has("quiet"), no_trunc=cmd.has("no-trunc"),
        digests=cmd.has("digests"), template=cmd.text("format"),
    )  # fmt: skip
    return Output(text=text, name="docker-images.txt")


def _shown_tags(scope: naming.Scope, tags: Iterable[str], config: policy.PolicyConfig) -> list[str]:
    shown: list[str] = []
    for tag in tags:
        if tag.startswith(scope.image_prefix):
            shown.append(tag.removeprefix(scope.image_prefix))
        elif policy.image_allowed(tag, config):
            shown.append(tag)
    return shown


def _shown_digests(digests: Iterable[str], config: policy.PolicyConfig) -> list[str]:
    shown: list[str] = []
    for item in digests:
        repository, _, digest = item.partition("@")
        parts = repository.split("/")
        if len(parts) > 1 and is_registry(parts[0]):
            parts = parts[1:]
        if parts[:1] == ["library"]:
            parts = parts[1:]
        name = "/".join(parts)
        if policy.image_allowed(name, config):
            shown.append(f"{name}@{digest}")
    return shown


def clean_image(ctx: Ctx, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Image inspect data in the learner's names: their tags, allowed shared tags only."""
    data = dict(attrs)
    data["RepoTags"] = _shown_tags(ctx.scope, attrs.get("RepoTags") or [], ctx.policy)
    data["RepoDigests"] = _shown_digests(attrs.get("RepoDigests") or [], ctx.policy)
    for key in ("Config", "ContainerConfig"):
        section = attrs.get(key)
        if isinstance(section, Mapping):
            data[key] = {
                **section,
                "Labels": naming.strip_our_labels(section.get("Labels")) or None,
            }
    container = str(attrs.get("Container") or "")
    if container:
        data["Container"] = container[:12] if len(container) == 64 else container
    return data


async def inspect(ctx: Ctx, ref: ImageRef) -> Any:
    name = engine_name(ref)
    try:
        attrs = await ctx.run(lambda api: inspect_image(api, name))
    except EngineNotFound as exc:
        raise NotFound("sandbox.no_such_object", ref=name) from exc
    return clean_image(ctx, attrs)


async def inspect_resolved(ctx: Ctx, reference: str) -> Any:
    """``docker image inspect REF``: the learner's own image or an allowed shared one."""
    resolved = await resolve(ctx, reference)
    if not resolved.own and resolved.ref is not None:
        return await inspect(ctx, resolved.ref)
    _resolved, attrs = await inspect_resolved_image(ctx, reference, resolved)
    return clean_image(ctx, attrs)


async def image_inspect(ctx: Ctx, cmd: DockerCommand) -> Output:
    results = []
    for ref in cmd.args:
        try:
            results.append(await inspect_resolved(ctx, ref))
        except (EngineNotFound, NotFound) as exc:
            raise NotFound("sandbox.no_such_image", ref=ref) from exc
    template = cmd.text("format")
    text = output.inspect_text(template, results)
    return Output(text=text, name="inspect.txt" if template is not None else "inspect.json")


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
