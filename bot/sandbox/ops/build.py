"""``docker build``: the classic builder, done by the coach with sandbox containers.

There is no build daemon: every ``RUN`` is a container the coach creates with every sandbox
limit (memory, CPU, pids, the disk quota of ``--storage-opt size``, no network at all), reads
with a deadline and commits; ``COPY``/``ADD`` put files from the context into a created
container that is committed; the other instructions commit the image's new configuration.
Each step's image carries a cache key (parent image + instruction + the digest of the files
it copies + the build args it sees) under the sandbox's labels, so a rebuild with no change
takes every step from cache, and no learner ever gets another learner's cache. Whatever a
step leaves behind (its container, and on failure its image) is removed before the build
answers. Images are the learner's own (:mod:`bot.sandbox.ops.own_images`): tagged under the
sandbox's prefix, counted by the image quota and the disk budget, removed with the sandbox.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import io
import json
import posixpath
import tarfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from docker.api import APIClient
from docker.utils.build import PatternMatcher

from bot.core.errors import UserError
from bot.dockercli.dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    arg_default,
    command_words,
    pairs,
    parse_dockerfile,
    substitute,
)
from bot.dockercli.errors import CliError
from bot.dockercli.layout import human_size
from bot.dockercli.model import DockerCommand
from bot.dockercli.values import parse_duration, parse_image_reference
from bot.sandbox import naming, policy
from bot.sandbox.errors import EngineError, EngineNotFound, TooBig
from bot.sandbox.limits import DiskSupport, for_container
from bot.sandbox.ops import files, ports
from bot.sandbox.ops import images as image_ops
from bot.sandbox.ops.base import Ctx, Output
from bot.sandbox.ops.own_images import check_quota
from bot.sandbox.streams import Captured, read_multiplexed
from bot.sandbox.workers import engine_call, inspect_image

CACHE_LABEL = naming.BUILD_CACHE
KIND_BUILD = "build"  # a build step's container (never a learner's container)
DEFAULT_SHELL = ("/bin/sh", "-c")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# build args Docker passes to RUN without an ARG for them
PREDEFINED_ARGS = frozenset(
    {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
     "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"}
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The context: the folder of the host shell, as a tar read once, .dockerignore applied
# --------------------------------------------------------------------------------------------


@dataclass
class Context:
    """The build context: every file by its path relative to the context folder."""

    members: dict[str, tuple[tarfile.TarInfo, bytes]] = field(default_factory=dict)
    size: int = 0

    @classmethod
    def from_archive(cls, archive: bytes) -> Context:
        found = cls()
        with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
            for member in opened:
                _top, _, rest = member.name.partition("/")
                if not rest:
                    continue
                data = b""
                if member.isfile():
                    extracted = opened.extractfile(member)
                    data = extracted.read() if extracted else b""
                    found.size += len(data)
                found.members[posixpath.normpath(rest)] = (member, data)
        return found

    def ignoring(self, patterns: list[str]) -> Context:
        """Without what ``.dockerignore`` excludes (the Dockerfile and .dockerignore stay
        readable to the builder, like Docker)."""
        if not patterns:
            return self
        matcher = PatternMatcher(patterns)
        kept = Context()
        for path, item in self.members.items():
            ignored = matcher.matches(path)  # type: ignore[arg-type]
            if not ignored or path in ("Dockerfile", ".dockerignore"):
                kept.members[path] = item
                kept.size += len(item[1])
        return kept

    def file(self, path: str) -> bytes | None:
        item = self.members.get(posixpath.normpath(path))
        return item[1] if item and item[0].isfile() else None


def _dockerignore(text: str) -> list[str]:
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line.lstrip("/") if not line.startswith("!") else line)
    return patterns


# --------------------------------------------------------------------------------------------
# The image being built: its configuration, as the engine's Config
# --------------------------------------------------------------------------------------------


@dataclass
class State:
    """One stage's image so far."""

    image: str  # engine id
    config: dict[str, Any]
    args: dict[str, str]  # ARG values in scope
    shell: tuple[str, ...] = DEFAULT_SHELL
    author: str = ""

    @property
    def env(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for item in self.config.get("Env") or []:
            key, _, value = str(item).partition("=")
            found[key] = value
        return found

    def set_env(self, values: Mapping[str, str]) -> None:
        env = {**self.env, **values}
        self.config["Env"] = [f"{k}={v}" for k, v in env.items()]

    @property
    def substitutions(self) -> dict[str, str]:
        """What ``$NAME`` means in an instruction: ARGs, then ENV over them."""
        return {**self.args, **self.env}


@dataclass
class Run:
    """One build: what it prints, how long it may take, what it made."""

    ctx: Ctx
    context: Context
    build_args: dict[str, str]
    no_cache: bool
    deadline: float
    lines: list[str] = field(default_factory=list)
    step: int = 0
    steps: int = 0
    stage_images: dict[int, str] = field(default_factory=dict)
    made: list[str] = field(default_factory=list)  # images committed by this build
    found: image_ops.Visible | None = None  # the images listed when the build began
    # The sandbox's build cache (key -> image id), listed once when first asked: every
    # image committed during this build has a new parent, so no later key can be in it.
    cache: dict[str, str] | None = None

    def say(self, line: str) -> None:
        self.lines.append(line)

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()


def _short(ident: str) -> str:
    return ident.removeprefix("sha256:")[:12]


# --------------------------------------------------------------------------------------------
# Engine calls (blocking: they run on the worker's pool)
# --------------------------------------------------------------------------------------------


def _create(
    api: APIClient,
    image: str,
    words: list[str],
    state: State,
    ctx: Ctx,
    run_step: bool,
    support: DiskSupport | None,
) -> str:
    """A step's container: every sandbox limit, no network, the image's user and folder; a
    RUN step may write ``build.disk_bytes`` into its layer where the engine caps it."""
    limits = ctx.settings.limits
    disk = ctx.settings.build.disk_bytes
    if run_step and disk:
        limits = limits.model_copy(update={"writable_bytes": disk})
    host = for_container(api, limits, support, image)
    host_config = api.create_host_config(network_mode="none", **host)
    # The step's command is its Cmd (the engine writes it into the history as CREATED BY),
    # unless the image has neither CMD nor ENTRYPOINT: the commit would then take the step's
    # Cmd as the image's own (see _commit), so it goes in the entrypoint instead.
    if state.config.get("Cmd") or state.config.get("Entrypoint"):
        entrypoint: list[str] = []
        command: list[str] | None = words
    else:
        entrypoint, command = words, None
    env = {**state.env, **{k: v for k, v in state.args.items() if k not in state.env}}
    if "PATH" not in env:
        env["PATH"] = DEFAULT_PATH
    environment = [f"{k}={v}" for k, v in env.items()]
    created = api.create_container(
        image, command=command, entrypoint=entrypoint, environment=environment,
        working_dir=state.config.get("WorkingDir") or None, user=state.config.get("User") or "",
        labels=ctx.scope.labels(KIND_BUILD, "build"), host_config=host_config,
        network_disabled=True, detach=True,
    )  # fmt: skip
    return str(created["Id"])


def _remove(api: APIClient, cid: str) -> None:
    with contextlib.suppress(EngineNotFound):
        engine_call(api.remove_container, cid, force=True, v=True)


def _commit(api: APIClient, cid: str, state: State, labels: Mapping[str, str]) -> str:
    conf = dict(state.config)
    conf["Labels"] = {**(conf.get("Labels") or {}), **labels}
    conf["Entrypoint"] = conf.get("Entrypoint") or []  # explicit: never the step's own
    if not conf.get("Cmd"):
        conf.pop("Cmd", None)
    result = api.commit(cid, conf=conf, author=state.author or None)
    return str(result["Id"])


def _start_and_read(api: APIClient, cid: str, cap: int, seconds: float) -> tuple[Captured, int]:
    sock = api.attach_socket(cid, params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 1})
    api.start(cid)
    captured = read_multiplexed(sock, cap, seconds)
    if not captured.ended:
        return captured, -1
    code = engine_call(api.wait, cid, timeout=30).get("StatusCode", 1)
    return captured, int(code)


def _cache_entries(api: APIClient, scope: naming.Scope) -> dict[str, str]:
    """The sandbox's build cache: each step's key and the image it made."""
    filters = scope.filters()
    filters["label"] = [*filters["label"], CACHE_LABEL]
    entries: dict[str, str] = {}
    for image in api.images(all=True, filters=filters):
        labels = image.get("Labels") or {}
        if scope.owns(labels) and labels.get(CACHE_LABEL):
            entries.setdefault(str(labels[CACHE_LABEL]), str(image["Id"]))
    return entries


async def _cached(run: Run, key: str) -> str | None:
    if run.cache is None:
        ctx = run.ctx
        run.cache = await ctx.run(lambda api: _cache_entries(api, ctx.scope))
    return run.cache.get(key)


def _tar(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return out.getvalue()


def _directory(path: str, uid: int = 0, gid: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path.strip("/"))
    info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, uid, gid
    return info


def _parents(path: str) -> list[tarfile.TarInfo]:
    parts = [p for p in path.strip("/").split("/") if p]
    return [_directory("/".join(parts[: i + 1])) for i in range(len(parts))]


# --------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------


async def _run_container(run: Run, state: State, words: list[str], item: Instruction) -> str:
    """Create, start and read a RUN step's container; its id (the caller commits/removes)."""
    ctx = run.ctx
    support = await ctx.disk.support(ctx.worker)
    cid = await ctx.run(lambda api: _create(api, state.image, words, state, ctx, True, support))
    run.say(f" ---> Running in {_short(cid)}")
    step_seconds = ctx.settings.build.step_seconds
    seconds = max(1.0, min(step_seconds, run.seconds_left()))
    cap = ctx.settings.output_bytes
    try:
        captured, code = await ctx.worker.stream(
            lambda api: _start_and_read(api, cid, cap, seconds), timeout=seconds + 30
        )
    except BaseException:
        await ctx.run(lambda api: _remove(api, cid))
        raise
    if captured.text:
        run.say(captured.text.rstrip("\n"))
    if code != 0:
        await ctx.run(lambda api: _remove(api, cid))
        if code == -1 and seconds < step_seconds:  # the build's time ran out, not the step's
            raise UserError(
                "build.too_slow", seconds=round(ctx.settings.build.build_seconds),
                output="\n".join(run.lines),
            )  # fmt: skip
        if code == -1:
            raise UserError(
                "build.step_timeout", step=item.text[:200], seconds=round(seconds),
                output="\n".join(run.lines),
            )  # fmt: skip
        raise UserError(
            "build.step_failed", step=item.text[:200], code=code, output="\n".join(run.lines)
        )
    return cid


def _copy_entries(
    run: Run, state: State, item: Instruction, sources: dict[str, tuple[tarfile.TarInfo, bytes]]
) -> list[tuple[tarfile.TarInfo, bytes]]:
    """What ``COPY a b /dest/`` puts where, as tar entries rooted at ``/``."""
    env = state.substitutions
    args = [substitute(a, env) for a in item.args]
    if len(args) < 2:
        raise CliError("build.bad_copy", line=item.line, instruction=item.keyword)
    *wanted, dest = args
    workdir = state.config.get("WorkingDir") or "/"
    target = posixpath.normpath(dest if dest.startswith("/") else posixpath.join(workdir, dest))
    # a folder as docker reads it: "dir/", or "." and ".." (`COPY app.py .` into WORKDIR)
    into_dir = dest.endswith("/") or posixpath.basename(dest) in (".", "..") or len(wanted) > 1
    uid, gid = _owner(item.flags.get("chown"), item)
    mode = int(item.flags["chmod"], 8) if item.flags.get("chmod") else None
    entries: list[tuple[tarfile.TarInfo, bytes]] = []
    for pattern in wanted:
        matched = _matching(sources, pattern)
        if not matched:
            raise UserError("build.copy_missing", step=item.text[:200], source=pattern)
        for root, path, (info, data) in matched:
            relative = posixpath.relpath(path, root) if path != root else ""
            is_dir_root = info.isdir() and path == root
            if is_dir_root:
                destination = target
            elif relative:
                destination = posixpath.join(target, relative)
            else:
                base = posixpath.basename(path)
                destination = posixpath.join(target, base) if into_dir else target
            if item.keyword == "ADD" and info.isfile() and _is_archive(data):
                entries += _extracted(data, target)
                continue
            entries.append((_retarget(info, destination, uid, gid, mode), data))
    parents = _parents(posixpath.dirname(target.rstrip("/")) if not into_dir else target)
    return [(p, b"") for p in parents] + entries


def _matching(
    sources: dict[str, tuple[tarfile.TarInfo, bytes]], pattern: str
) -> list[tuple[str, str, tuple[tarfile.TarInfo, bytes]]]:
    """``(root, path, member)`` for every member a COPY source names (a file, a folder and
    everything under it, or a glob)."""
    clean = posixpath.normpath(pattern.lstrip("/")) if pattern not in (".", "./", "/") else "."
    found = []
    for path, member in sorted(sources.items()):
        if clean == ".":
            found.append((".", path, member))
        elif path == clean or path.startswith(clean + "/"):
            found.append((clean, path, member))
        elif any(c in clean for c in "*?[") and fnmatch.fnmatchcase(path, clean):
            found.append((path, path, member))
        elif any(c in clean for c in "*?["):
            head = path.split("/")
            for depth in range(1, len(head)):
                top = "/".join(head[:depth])
                if fnmatch.fnmatchcase(top, clean):
                    found.append((top, path, member))
                    break
    return found


def _retarget(
    info: tarfile.TarInfo, path: str, uid: int, gid: int, mode: int | None
) -> tarfile.TarInfo:
    copied = tarfile.TarInfo(path.strip("/"))
    copied.type, copied.size, copied.linkname = info.type, info.size, info.linkname
    copied.mode = mode if mode is not None else info.mode
    copied.mtime, copied.uid, copied.gid = info.mtime, uid, gid
    return copied


def _is_archive(data: bytes) -> bool:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)):
            return True
    except tarfile.TarError:
        return False


def _extracted(data: bytes, target: str) -> list[tuple[tarfile.TarInfo, bytes]]:
    entries = []
    with tarfile.open(fileobj=io.BytesIO(data)) as opened:
        for member in opened:
            content = b""
            if member.isfile():
                extracted = opened.extractfile(member)
                content = extracted.read() if extracted else b""
            path = posixpath.join(target, posixpath.normpath(member.name).lstrip("/"))
            entries.append((_retarget(member, path, member.uid, member.gid, None), content))
    return entries


def _owner(value: str | None, item: Instruction) -> tuple[int, int]:
    if not value:
        return 0, 0
    user, _, group = value.partition(":")
    names = {"root": 0}
    try:
        uid = names[user] if user in names else int(user)
        gid = names[group] if group in names else int(group or uid)
    except ValueError:
        raise UserError("build.chown_name", step=item.text[:200], owner=value) from None
    return uid, gid


async def _stage_files(run: Run, ref: str, item: Instruction) -> dict[str, Any]:
    """``COPY --from=stage``: the files of an earlier stage's image under the source paths."""
    dockerfile_stage = run.stage_images
    index = int(ref) if ref.isdigit() else None
    image = dockerfile_stage.get(index) if index is not None else None
    if image is None:
        raise UserError("build.copy_missing", step=item.text[:200], source=ref)
    ctx = run.ctx
    support = await ctx.disk.support(ctx.worker)
    *wanted, _dest = item.args
    found: dict[str, tuple[tarfile.TarInfo, bytes]] = {}
    limit = ctx.settings.build.context_bytes

    def read(api: APIClient) -> None:
        created = api.create_container(
            image, command=["true"], entrypoint=[], labels=ctx.scope.labels(KIND_BUILD, "build"),
            host_config=api.create_host_config(
                network_mode="none", **for_container(api, ctx.settings.limits, support, image)
            ),
            network_disabled=True,
        )  # fmt: skip
        cid = str(created["Id"])
        try:
            for source in wanted:
                path = "/" + source.lstrip("/")
                try:
                    archive = files.read_archive(api, cid, path, limit)
                except EngineNotFound:
                    continue
                with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
                    top = posixpath.basename(path.rstrip("/")) or "."
                    for member in opened:
                        rest = posixpath.relpath(member.name, top) if member.name != top else ""
                        key = posixpath.normpath(posixpath.join(source.lstrip("/"), rest))
                        data = b""
                        if member.isfile():
                            extracted = opened.extractfile(member)
                            data = extracted.read() if extracted else b""
                        found[key] = (member, data)
        finally:
            _remove(api, cid)

    try:
        await ctx.run(read, timeout=ctx.settings.api_timeout_seconds * 2)
    except TooBig as exc:
        raise UserError("build.context_too_big", limit=exc.limit) from exc
    return {posixpath.normpath(k.lstrip("/")): v for k, v in found.items()}


def _digest(entries: list[tuple[tarfile.TarInfo, bytes]]) -> str:
    digest = hashlib.sha256()
    for info, data in entries:
        digest.update(f"{info.name}\0{info.mode}\0{info.uid}\0{info.type!r}\0".encode())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def _metadata(state: State, item: Instruction) -> None:
    """The image configuration an instruction other than RUN/COPY/ADD changes."""
    env, config = state.substitutions, state.config
    keyword = item.keyword
    if keyword == "ENV":
        state.set_env(dict(pairs(item, env)))
    elif keyword == "LABEL":
        config["Labels"] = {**(config.get("Labels") or {}), **dict(pairs(item, env))}
    elif keyword == "WORKDIR":
        path = substitute(" ".join(item.args), env)
        config["WorkingDir"] = posixpath.normpath(
            path if path.startswith("/") else posixpath.join(config.get("WorkingDir") or "/", path)
        )
    elif keyword == "USER":
        config["User"] = substitute(" ".join(item.args), env)
    elif keyword == "EXPOSE":
        exposed = dict(config.get("ExposedPorts") or {})
        for word in " ".join(substitute(a, env) for a in item.args).split():
            exposed[word if "/" in word else f"{word}/tcp"] = {}
        config["ExposedPorts"] = exposed
    elif keyword == "VOLUME":
        volumes = dict(config.get("Volumes") or {})
        words = item.args if item.json else " ".join(item.args).split()
        volumes.update({substitute(w, env): {} for w in words})
        config["Volumes"] = volumes
    elif keyword == "CMD":
        config["Cmd"] = command_words(item, state.shell)
    elif keyword == "ENTRYPOINT":
        config["Entrypoint"] = command_words(item, state.shell)
        config["Cmd"] = None  # Docker resets CMD when ENTRYPOINT is set
    elif keyword == "STOPSIGNAL":
        config["StopSignal"] = substitute(item.args[0], env)
    elif keyword == "SHELL":
        if not item.json:
            raise CliError("build.shell_json", line=item.line)
        state.shell = tuple(item.args)
        config["Shell"] = list(item.args)
    elif keyword == "HEALTHCHECK":
        config["Healthcheck"] = _healthcheck(item, state.shell)
    elif keyword == "MAINTAINER":
        state.author = " ".join(item.args)


def _healthcheck(item: Instruction, shell: tuple[str, ...]) -> dict[str, Any]:
    if item.args and item.args[0].upper() == "NONE":
        return {"Test": ["NONE"]}
    rest = item.args[1:]
    if item.json or (rest and rest[0].startswith("[")):
        try:
            test = ["CMD", *json.loads(" ".join(rest))]
        except ValueError:
            test = ["CMD-SHELL", " ".join(rest)]
    else:
        test = ["CMD-SHELL", " ".join(rest)]
    check: dict[str, Any] = {"Test": test}
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout"),
                      ("start-period", "StartPeriod")):  # fmt: skip
        if flag in item.flags:
            check[key] = int(parse_duration(item.flags[flag]) * 1_000_000_000)
    if "retries" in item.flags:
        check["Retries"] = int(item.flags["retries"])
    return check


def _step_text(item: Instruction, state: State) -> str:
    """The instruction as it takes part in the cache key: variables substituted (a RUN sees
    its args as environment variables: they are part of its key)."""
    if item.keyword == "RUN":
        used = sorted(f"{k}={v}" for k, v in state.args.items())
        return item.text + "\0" + "\0".join(used)
    return substitute(item.text, state.substitutions)


async def _step(run: Run, state: State, item: Instruction, dockerfile: Dockerfile) -> None:
    ctx = run.ctx
    run.step += 1
    run.say(f"Step {run.step}/{run.steps} : {item.text}")
    if run.seconds_left() <= 0:
        raise UserError("build.too_slow", seconds=round(ctx.settings.build.build_seconds))
    if item.keyword == "ARG":
        name, default = arg_default(item, state.substitutions)
        value = run.build_args.get(name, default)
        if value is not None:
            state.args[name] = value
        elif name in run.build_args:
            state.args[name] = run.build_args[name]
        else:
            state.args.setdefault(name, "")
    entries: list[tuple[tarfile.TarInfo, bytes]] = []
    if item.keyword in ("COPY", "ADD"):
        source = item.flags.get("from")
        if source is not None:
            index = dockerfile.stage_index(source)
            files_from = await _stage_files(run, str(index), item)
        else:
            files_from = run.context.members
        entries = _copy_entries(run, state, item, files_from)
    before = dict(state.config)
    if item.keyword not in ("RUN", "COPY", "ADD", "ARG"):
        _metadata(state, item)
    if item.keyword == "WORKDIR":
        entries = [(p, b"") for p in _parents(state.config["WorkingDir"])]
    key = hashlib.sha256(
        "\n".join([state.image, _step_text(item, state), _digest(entries),
                   json.dumps(state.config, sort_keys=True, default=str)]).encode()
    ).hexdigest()  # fmt: skip
    labels = {
        **ctx.scope.labels(naming.KIND_IMAGE, "<none>"),
        CACHE_LABEL: key,
        ports.PORTS_LABEL: "",
    }
    if not run.no_cache:
        cached = await _cached(run, key)
        if cached is not None:
            run.say(" ---> Using cache")
            run.say(f" ---> {_short(cached)}")
            state.image = cached
            return
    copies = item.keyword in ("COPY", "ADD")
    if item.keyword == "RUN":
        words = command_words(item, state.shell)
        cid = await _run_container(run, state, words, item)
    else:
        nop = [*DEFAULT_SHELL, f"#(nop) {item.text}"]
        # the container as the image was before the step, its command placed for the
        # configuration the commit writes (the step's CMD or ENTRYPOINT)
        after = {key: state.config.get(key) for key in ("Cmd", "Entrypoint")}
        state_for_nop = replace(state, config={**before, **after})
        support = await ctx.disk.support(ctx.worker)
        cid = await ctx.run(
            lambda api: _create(api, state.image, nop, state_for_nop, ctx, False, support)
        )
        if not copies:  # the classic builder names the container of every step but COPY/ADD
            run.say(f" ---> Running in {_short(cid)}")
        if entries:
            data = _tar(entries)
            try:
                await ctx.run(lambda api: api.put_archive(cid, "/", data))
            except BaseException:
                await ctx.run(lambda api: _remove(api, cid))
                raise
    try:
        image = await ctx.run(
            lambda api: _commit(api, cid, state, labels),
            timeout=ctx.settings.api_timeout_seconds * 4,
        )
    finally:
        await ctx.run(lambda api: _remove(api, cid))
    run.made.append(image)
    await _check_size(run, image, item)
    if not copies:
        run.say(f"Removing intermediate container {_short(cid)}")
    run.say(f" ---> {_short(image)}")
    state.image = image


async def _check_size(run: Run, image: str, item: Instruction) -> None:
    """A step's image above the sandbox's image size is removed before the build fails:
    kept, it would be a cache entry that a rebuild takes without asking again."""
    ctx = run.ctx
    attrs = await ctx.run(lambda api: inspect_image(api, image))
    size = int(attrs.get("Size") or 0)
    limit = ctx.settings.max_image_bytes
    if size > limit:
        await ctx.run(lambda api: _remove_image(api, image))
        raise UserError(
            "build.image_too_big", step=item.text[:200], size=human_size(size),
            limit=human_size(limit),
        )  # fmt: skip


def _remove_image(api: APIClient, image: str) -> None:
    """A step's image no one uses yet (its parents stay: they are earlier steps' cache)."""
    with contextlib.suppress(EngineNotFound):
        engine_call(api.remove_image, image, noprune=True)


async def _from(
    run: Run, stage: Stage, dockerfile: Dockerfile, global_args: dict[str, str]
) -> State:
    ctx = run.ctx
    run.step += 1
    run.say(f"Step {run.step}/{run.steps} : {stage.instruction.text}")
    base = substitute(stage.base, global_args)
    earlier = dockerfile.stage_index(base)
    if earlier is not None and earlier < stage.index and not base.isdigit():
        image = run.stage_images[earlier]
    else:
        found = run.found or await image_ops.listed_images(ctx)
        allowed = replace(ctx.policy, own_images=image_ops.own_names(found))
        policy.check_base_image(stage.instruction, base, allowed)
        resolved = await image_ops.resolve(ctx, base, found)
        if resolved.ref is not None:
            await image_ops.ensure_present(ctx, resolved.ref)
        image = resolved.engine
    attrs = await ctx.run(lambda api: inspect_image(api, image))
    image = str(attrs["Id"])
    config = dict(attrs.get("Config") or {})
    for key in ("Hostname", "Domainname", "AttachStdin", "AttachStdout", "AttachStderr",
                "Tty", "OpenStdin", "StdinOnce", "Image"):  # fmt: skip
        config.pop(key, None)
    run.say(f" ---> {_short(image)}")
    shell = tuple(config.get("Shell") or DEFAULT_SHELL)
    return State(image, config, dict(global_args), shell)


async def _read_context(ctx: Ctx, path: str) -> Context:
    real, host = files.host_path(path), ctx.scope.host_name
    limit = ctx.settings.build.context_bytes
    try:
        archive = await ctx.run(lambda api: files.read_archive(api, host, real, limit))
    except TooBig as exc:
        raise UserError("build.context_too_big", limit=exc.limit) from exc
    except EngineNotFound as exc:
        raise EngineError(f'unable to prepare context: path "{path}" not found') from exc
    context = Context.from_archive(archive)
    if context.size > limit:
        raise UserError("build.context_too_big", limit=limit)
    ignore = context.file(".dockerignore")
    return context.ignoring(_dockerignore(ignore.decode(errors="replace")) if ignore else [])


async def _read_dockerfile(ctx: Ctx, context: Context, path: str, name: str | None) -> str:
    if name is None:
        data = context.file("Dockerfile") or context.file("dockerfile")
        if data is None:
            raise EngineError(
                "unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                f"lstat {files.host_path(path)}/Dockerfile: no such file or directory"
            )
        return data.decode(errors="replace")
    real = files.host_path(name)
    host = ctx.scope.host_name
    try:
        _archive, single = await ctx.run(lambda api: files.read_file(api, host, real, 256 * 1024))
    except (EngineNotFound, TooBig):
        single = None
    if single is None:
        raise EngineError(f"unable to prepare context: the Dockerfile ({name}) cannot be empty")
    return single[1].decode(errors="replace")


def _build_args(values: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for item in values:
        key, has, value = item.partition("=")
        if has:
            found[key] = value
    return found


def _stages_needed(dockerfile: Dockerfile, target: str | None) -> list[Stage]:
    if target is None:
        last = dockerfile.stages[-1].index
    else:
        index = dockerfile.stage_index(target)
        if index is None or target.isdigit():
            raise UserError("build.no_target", target=target)
        last = index
    return list(dockerfile.stages[: last + 1])


async def build_image(
    ctx: Ctx,
    path: str,
    *,
    dockerfile_name: str | None = None,
    build_args: tuple[str, ...] = (),
    no_cache: bool = False,
    target: str | None = None,
    tags: tuple[str, ...] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[str, list[str]]:
    """Build the Dockerfile of ``path`` (a folder of the host shell); the image id and the
    classic builder's lines. Shared by ``docker build`` and ``docker compose build``."""
    settings = ctx.settings.build
    names = [_tag_name(tag) for tag in tags]
    found = await image_ops.listed_images(ctx)
    for name in names:
        check_quota(ctx, found, name)
    await _check_disk(ctx, found)
    await ctx.disk.before_build(ctx.sandbox)  # the worker's free-space floor
    context = await _read_context(ctx, path)
    text = await _read_dockerfile(ctx, context, path, dockerfile_name)
    dockerfile = parse_dockerfile(text)
    policy.check_dockerfile(dockerfile, ctx.policy)
    stages = _stages_needed(dockerfile, target)
    count = len(stages) + sum(len(s.steps) for s in stages) + (1 if labels else 0)
    if count > settings.steps:
        raise UserError("build.too_many_steps", limit=settings.steps)
    run = Run(ctx, context, _build_args(build_args), no_cache,
              time.monotonic() + settings.build_seconds, steps=count, found=found)  # fmt: skip
    run.say(f"Sending build context to Docker daemon  {human_size(context.size)}")
    global_args: dict[str, str] = {}
    for item in dockerfile.global_args:
        name, default = arg_default(item, global_args)
        value = run.build_args.get(name, default)
        global_args[name] = value if value is not None else ""
    try:
        state = None
        for stage in stages:
            state = await _from(run, stage, dockerfile, global_args)
            for item in stage.steps:
                await _step(run, state, item, dockerfile)
            run.stage_images[stage.index] = state.image
        assert state is not None
        if labels:
            label_text = " ".join(f"{json.dumps(k)}={json.dumps(v)}" for k, v in labels.items())
            extra = Instruction("LABEL", {}, tuple(x for kv in labels.items() for x in kv), False,
                                f"LABEL {label_text}", 0)  # fmt: skip
            await _step(run, state, extra, dockerfile)
    except UserError as exc:
        if "output" not in exc.params:
            exc.params["output"] = "\n".join(run.lines)
        raise
    image = state.image
    run.say(f"Successfully built {_short(image)}")
    for _tag, name in zip(tags, names, strict=True):
        repository, _, version = name.rpartition(":")
        await ctx.run(_tagger(image, ctx.scope.image_real(repository), version))
        run.say(f"Successfully tagged {name}")
    return image, run.lines


def _tagger(image: str, repository: str, version: str) -> Callable[[APIClient], object]:
    return lambda api: api.tag(image, repository, version, force=True)


def _tag_name(tag: str) -> str:
    ref = parse_image_reference(tag)
    if ref.registry is not None or ref.digest:
        raise CliError("cli.bad_image", image=tag)
    return f"{ref.repository}:{ref.tag}"


async def _check_disk(ctx: Ctx, found: image_ops.Visible) -> None:
    limit = ctx.settings.quotas.image_bytes
    used = sum(int(found.images[i].get("Size") or 0) for i in found.own_ids if i in found.images)
    if used >= limit:
        raise UserError("build.disk_budget", used=human_size(used), limit=human_size(limit))


async def build(ctx: Ctx, cmd: DockerCommand) -> Output:
    labels = {}
    for item in cmd.values("label"):
        key, _, value = item.partition("=")
        labels[key] = value
    image, lines = await build_image(
        ctx, cmd.args[0], dockerfile_name=cmd.text("file"), build_args=cmd.values("build-arg"),
        no_cache=cmd.has("no-cache"), target=cmd.text("target"), tags=cmd.values("tag"),
        labels=labels,
    )  # fmt: skip
    if cmd.has("quiet"):
        return Output(text=image, name="docker-build.txt")
    return Output(text="\n".join(lines), name="docker-build.txt")
