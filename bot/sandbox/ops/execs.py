"""Running a process in a container: ``docker exec``, ``/sh`` in the host shell, and the
page fetches practice checks make from the host shell.

Output is read as a bounded stream (``output_bytes``, a wall-clock limit); ``exec`` runs the
command under ``timeout -s KILL`` so that it ends for sure (every allowlisted image has
``timeout``; without it the bare command runs).
"""

from __future__ import annotations

from docker.api import APIClient

from bot.core.errors import UserError
from bot.dockercli.model import DockerCommand
from bot.sandbox import objects
from bot.sandbox.errors import EngineConflict
from bot.sandbox.ops import files
from bot.sandbox.ops.base import Ctx, Output, captured_output, note
from bot.sandbox.provision import HOME, Sandbox, ensure_host_running
from bot.sandbox.streams import Captured, read_multiplexed
from bot.settings import SandboxSettings

STREAM_SLACK_SECONDS = 30  # beyond the read's own deadline, for the engine calls around it
DETACHED_EXEC_SECONDS = 3600


def exec_wrapper(command: list[str], seconds: float) -> list[str]:
    """Run ``command`` under ``timeout -s KILL`` so that it ends for sure."""
    return ["timeout", "-s", "KILL", str(int(seconds) + 1), *command]


def _no_timeout_program(captured: Captured, code: int | None) -> bool:
    return code in (126, 127) and b'exec: "timeout"' in captured.data[:1000]


def exec_read(
    api: APIClient, exec_id: str, cap: int, seconds: float
) -> tuple[Captured, int | None]:
    """Blocking: start exec ``exec_id`` and read its output (at most ``cap`` bytes, at most
    ``seconds``); its exit code when it ended."""
    sock = api.exec_start(exec_id, socket=True)
    captured = read_multiplexed(sock, cap, seconds)
    code: int | None = None
    if captured.ended:
        code = api.exec_inspect(exec_id).get("ExitCode")
    return captured, code


async def exec_in(
    sandbox: Sandbox,
    settings: SandboxSettings,
    target: str,
    command: list[str],
    *,
    seconds: float,
    workdir: str | None = None,
    env: list[str] | None = None,
    user: str = "",
) -> tuple[Captured, int | None]:
    """Run ``command`` in container ``target`` (an id or real name) and read its output."""
    created = await sandbox.worker.run(
        lambda api: api.exec_create(
            target,
            command,
            environment=env or None,
            workdir=workdir or None,
            user=user,
            privileged=False,
        ),
        timeout=settings.api_timeout_seconds,
    )
    exec_id, cap = str(created["Id"]), settings.output_bytes
    return await sandbox.worker.stream(
        lambda api: exec_read(api, exec_id, cap, seconds), timeout=seconds + STREAM_SLACK_SECONDS
    )


async def run_exec(
    ctx: Ctx,
    cid: str,
    command: list[str],
    workdir: str | None = None,
    env: list[str] | None = None,
    user: str = "",
) -> tuple[Captured, int | None]:
    """``docker exec``'s process under ``timeout`` (the bare command where there is none)."""
    seconds = ctx.settings.exec_timeout_seconds
    wrapped = exec_wrapper(command, seconds)
    found = await exec_in(
        ctx.sandbox, ctx.settings, cid, wrapped, seconds=seconds, workdir=workdir, env=env,
        user=user,
    )  # fmt: skip
    if _no_timeout_program(*found):
        return await exec_in(
            ctx.sandbox, ctx.settings, cid, command, seconds=seconds, workdir=workdir, env=env,
            user=user,
        )  # fmt: skip
    return found


async def exec_(ctx: Ctx, cmd: DockerCommand) -> Output:
    if not cmd.args:
        raise UserError("sandbox.missing_container")
    command = list(cmd.container_command)
    if not command:
        raise UserError("sandbox.missing_command")
    found = await objects.container(ctx.worker, ctx.scope, cmd.args[0])
    if found.raw.get("State") != "running":
        # what the engine answers, without a round-trip to ask it
        raise EngineConflict(f"Container {found.name} is not running")
    env = await files.environment(ctx, cmd)
    workdir = cmd.text("workdir")
    user = cmd.text("user") or ""
    if cmd.has("detach"):
        wrapped = exec_wrapper(command, DETACHED_EXEC_SECONDS)
        created = await ctx.run(
            lambda api: api.exec_create(
                found.id, wrapped, environment=env or None, workdir=workdir or None, user=user
            )
        )
        exec_id = str(created["Id"])
        await ctx.run(lambda api: api.exec_start(exec_id, detach=True))
        return Output(text="")
    captured, code = await run_exec(ctx, found.id, command, workdir, env, user)
    out = captured_output(ctx, captured, "docker-exec.txt", [])
    if not captured.ended:
        out.notes.append(
            note("sandbox.exec_stopped", seconds=round(ctx.settings.exec_timeout_seconds))
        )
    elif code:
        out.notes.append(note("sandbox.exit_code", code=code))
    return out


async def host_exec(ctx: Ctx, command_line: str) -> tuple[Captured, int | None]:
    """``sh -c`` in the host shell; when it is not running although the reaper did not
    stop it (the engine restarted, say), it is started and the command runs once more."""
    command = ["sh", "-c", command_line]
    seconds = ctx.settings.exec_timeout_seconds
    host = ctx.scope.host_name
    try:
        return await exec_in(
            ctx.sandbox, ctx.settings, host, command, seconds=seconds, workdir=HOME
        )
    except EngineConflict:  # "is not running" / "is paused"
        await ensure_host_running(ctx.sandbox, ctx.settings.api_timeout_seconds)
    return await exec_in(ctx.sandbox, ctx.settings, host, command, seconds=seconds, workdir=HOME)


async def fetch_from_host(
    sandbox: Sandbox, settings: SandboxSettings, url: str, seconds: float
) -> str | None:
    """The body of ``url`` fetched with ``wget`` from the learner's host shell (None when
    the fetch failed or did not end within ``seconds``)."""
    # busybox wget's own -T crashes in the stand-in image: bound it from outside
    command = exec_wrapper(["wget", "-q", "-O", "-", url], seconds)
    captured, code = await exec_in(
        sandbox, settings, sandbox.scope.host_name, command, seconds=seconds + 2
    )
    if code != 0 or not captured.ended:
        return None
    return captured.text
