"""End-to-end checks of the production stack (issue 12's "Done when"), run by
``deploy/dev.sh stack test`` against a stack it has just started: the coach image built from
deploy/Dockerfile, the DinD worker reached over mutual TLS, the registry cache, and the
loopback Discord stand-in in place of Discord.

The tests run in order and build on each other (a learner's container is made, the coach is
stopped and started again, the container is still there). Environment, set by stack.sh:
``STACK_COMPOSE`` (the compose command line, one word per line), ``STACK_INSTANCE``,
``COACH_METRICS_PORT``, ``STACK_DISCORD_PORT``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

import docker
import pytest

from tests.discord.standin import command_data, interaction_payload

COMPOSE = [word for word in os.environ.get("STACK_COMPOSE", "").splitlines() if word]
INSTANCE = os.environ.get("STACK_INSTANCE", "")
METRICS = f"http://127.0.0.1:{os.environ.get('COACH_METRICS_PORT', '9464')}"
DISCORD = f"http://127.0.0.1:{os.environ.get('STACK_DISCORD_PORT', '18080')}"
SLASH_USER = 5151
CONSOLE_USER = "carol"
CONSOLE_INSTANCE = f"{INSTANCE}-console"
RUN_WEB = "run -d --name web busybox sleep 60"
LABEL = "org.docker-coach."

pytestmark = pytest.mark.skipif(not COMPOSE, reason="run by deploy/dev.sh stack test")


def compose(
    *args: str, stdin: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMPOSE, *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


def http(url: str, data: Any = None, timeout: float = 90) -> tuple[int, str]:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def slash(command: str, user_id: int = SLASH_USER, count: int = 2) -> list[dict[str, Any]]:
    """Send ``/docker <command>`` through the stand-in's gateway; the REST answers."""
    payload = interaction_payload(
        2, command_data(("docker",), {"command": command}), user_id=user_id, name="dana"
    )
    event = {"event": "INTERACTION_CREATE", "data": payload}
    status, text = http(f"{DISCORD}/_control/dispatch", event)
    assert status == 200, text
    query = f"interaction={payload['id']}&token={payload['token']}&count={count}&within=60"
    status, text = http(f"{DISCORD}/_control/answers?{query}")
    assert status == 200, text
    return json.loads(text)["answers"]


def text_of(answer: dict[str, Any]) -> str:
    body = answer.get("body") or {}
    message = (body.get("data") or {}) if "type" in body else body
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


def worker_containers(owner: str, instance: str = INSTANCE) -> list[dict[str, str]]:
    """The learner's containers on the worker's engine (asked inside the worker)."""
    listed = compose(
        "exec", "-T", "worker", "docker", "ps", "-a", "--no-trunc",
        "--filter", f"label={LABEL}instance={instance}",
        "--filter", f"label={LABEL}owner={owner}",
        "--filter", f"label={LABEL}kind=container",
        "--format", "{{json .}}",
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]


def host_engine_objects() -> list[str]:
    """Anything of this stack's instances on the host's own engine (there must be none)."""
    client = docker.from_env()
    try:
        found = [
            container
            for instance in (INSTANCE, CONSOLE_INSTANCE)
            for container in client.containers.list(
                all=True, filters={"label": f"{LABEL}instance={instance}"}
            )
        ]
        return [c.name for c in found]
    finally:
        client.close()


def wait_ready(deadline_s: float = 180) -> tuple[int, str]:
    """Poll /healthz until 200 (a readiness wait, bounded; the stack test is not timed)."""
    deadline = time.monotonic() + deadline_s
    status, text = 0, ""
    while time.monotonic() < deadline:
        try:
            status, text = http(f"{METRICS}/healthz", timeout=10)
        except OSError as exc:
            status, text = 0, str(exc)
        if status == 200:
            break
        time.sleep(1)
    return status, text


def test_healthz_reports_gateway_database_and_worker():
    status, text = wait_ready()
    assert status == 200, text
    checks = json.loads(text)["checks"]
    assert checks["gateway"]["ok"] and checks["database"]["ok"]
    assert checks["worker:worker"]["ok"], checks


def test_slash_command_runs_on_the_workers_engine_not_the_hosts():
    deferral, result = slash(RUN_WEB)
    assert deferral["body"]["type"] == 5  # deferred at once, answered by a follow-up
    output = text_of(result)
    assert re.search(r"\b[0-9a-f]{12,64}\b", output), output
    names = [c["Names"] for c in worker_containers(str(SLASH_USER))]
    assert len(names) == 1 and names[0].endswith("-web"), names
    assert host_engine_objects() == []


def test_console_in_the_coach_container_runs_on_the_workers_engine():
    """The running bot holds the database's instance; a console beside it, on the same
    database and worker, works in an instance of its own (as docs/deploy.md says)."""
    console = compose(
        "exec", "-T", "coach", "python", "-m", "bot", "console", "--user", CONSOLE_USER,
        "--instance", CONSOLE_INSTANCE, stdin=f"/docker {RUN_WEB}\n",
    )  # fmt: skip
    assert console.returncode == 0, console.stderr
    assert re.search(r"^[0-9a-f]{64}$", console.stdout, re.M), console.stdout  # run -d's id
    names = [c["Names"] for c in worker_containers(CONSOLE_USER, CONSOLE_INSTANCE)]
    assert len(names) == 1 and names[0].endswith("-web"), names
    assert host_engine_objects() == []


def test_metrics_count_interactions_and_list_every_family():
    status, text = http(f"{METRICS}/metrics")
    assert status == 200
    counted = re.search(
        r'^coach_interactions_total\{command="docker",outcome="ok"\} (\d+\.\d+)$', text, re.M
    )
    assert counted and float(counted.group(1)) >= 1, text[:2000]
    for family in (
        "coach_command_seconds_bucket",
        "coach_sandboxes",
        "coach_executor_queue_depth",
        "coach_executor_timeouts_total",
        "coach_executor_queue_timeouts_total",
        "coach_engine_errors_total",
        "coach_quiz_answers_total",
        "coach_practice_steps_completed_total",
    ):
        assert family in text, family
    assert re.search(r'^coach_sandboxes\{worker="worker"\} [1-9]', text, re.M), "no sandbox counted"


def in_coach(*args: str) -> subprocess.CompletedProcess[str]:
    return compose("exec", "-T", "coach", "python", "-m", "bot", *args)


def checks_out(check: subprocess.CompletedProcess[str]) -> bool:
    return check.returncode == 0 and check.stdout.strip().endswith("OK")


def test_backup_while_running_passes_check():
    backup = in_coach("db", "backup", "/data/live.sqlite3")
    assert backup.returncode == 0, backup.stderr
    check = in_coach("db", "check", "--db", "/data/live.sqlite3")
    assert checks_out(check), check.stdout + check.stderr


def test_restore_refuses_while_the_coach_runs():
    restore = in_coach("db", "restore", "/data/live.sqlite3")
    assert restore.returncode == 2
    assert "running" in restore.stderr


def test_stop_is_graceful_and_the_database_checks_out():
    started = time.monotonic()
    stopped = compose("stop", "-t", "10", "coach")  # past 10 s Docker would SIGKILL: exit 137
    elapsed = time.monotonic() - started
    print(f"\n`compose stop coach` took {elapsed:.1f} s")
    assert stopped.returncode == 0, stopped.stderr
    container = compose("ps", "-q", "coach").stdout.strip()
    state = json.loads(subprocess.run(
        ["docker", "inspect", "-f", "{{json .State}}", container], capture_output=True, text=True
    ).stdout)  # fmt: skip
    assert state["Status"] == "exited" and state["ExitCode"] == 0, state
    logs = compose("logs", "--no-color", "--tail", "30", "coach").stdout
    assert "stop signal received" in logs, logs
    check = compose("run", "--rm", "--no-deps", "-T", "coach", "db", "check")
    assert checks_out(check), check.stdout + check.stderr


def test_after_starting_again_the_sandbox_is_reconciled():
    started = compose("up", "-d", "coach")
    assert started.returncode == 0, started.stderr
    status, text = wait_ready()
    assert status == 200, text
    _deferral, listing = slash("ps -a")
    assert re.search(r"\bweb\b", text_of(listing)), text_of(listing)
    assert len(worker_containers(str(SLASH_USER))) == 1  # adopted, not made again


def exit_code(service: str) -> int:
    container = compose("ps", "-q", service).stdout.strip()
    inspected = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.ExitCode}}", container],
        capture_output=True, text=True,
    )  # fmt: skip
    return int(inspected.stdout.strip())


def test_a_stop_while_the_coach_starts_is_obeyed_at_once():
    """`docker compose stop` right after a start: the coach (PID 1 in its container) ends
    by itself (0, or 143 when the signal came before Python had imported the bot), never
    killed at the end of the grace period (137)."""
    assert compose("stop", "-t", "10", "coach").returncode == 0
    assert compose("up", "-d", "--no-deps", "coach").returncode == 0
    stopped = compose("stop", "-t", "10", "coach")
    assert stopped.returncode == 0, stopped.stderr
    assert exit_code("coach") in (0, 143)
