"""Evaluating checks against a sandbox state (an in-memory fake of the sandbox's views)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import TypeAdapter

from bot.content.base import ContentModel
from bot.content.library import ContentLibrary
from bot.dockercli.compose import PROJECT_LABEL, SERVICE_LABEL
from bot.dockercli.views import ContainerView, MountView, OwnImageView, PortView
from bot.practice.checks import EVALUATORS, CheckContext, UnknownCheck, evaluate, same_image
from bot.practice.content import CHECK_KINDS, CHECK_MODELS, SCENARIOS, Check
from bot.practice.uses import CommandUse, record
from tests.conftest import make_actor
from tests.practice.fakes import FakeSandbox, container

ALICE = make_actor("alice")
parse_check = TypeAdapter(Check).validate_python


@pytest.fixture
def sandbox() -> FakeSandbox:
    fake = FakeSandbox()
    fake.put(
        "alice",
        container(
            "web",
            image="nginx:latest",
            mounts=(MountView("volume", "site", "/usr/share/nginx/html/"),),
            networks=("bridge", "appnet"),
            env={"GREETING": "hello", "EMPTY": ""},
            ports=(PortView(80, host_port=8080), PortView(443)),
            cid="a" * 64,
        ),
        container("old", status="exited", cid="b" * 64),
        volumes=("site",),
        networks=("appnet",),
        images=("busybox:latest", "nginx:latest"),
    )
    fake.files[("alice", "web", "/usr/share/nginx/html/index.html")] = b"<h1>Hello</h1>"
    fake.files[("alice", None, "/home/coach/index.html")] = b"draft"
    fake.pages[("alice", "http://web/")] = "<h1>Hello</h1>"
    return fake


async def holds(sandbox: FakeSandbox, check: dict[str, Any], **context: Any) -> bool:
    ctx = CheckContext(reader=sandbox, actor=ALICE, **context)
    return await evaluate(parse_check(check), ctx)


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ({"container": {"name": "web"}}, True),
        ({"container": {"name": "nope"}}, False),
        ({"container": {"name": "nope", "exists": False}}, True),
        ({"container": {"name": "web", "running": True, "image": "nginx"}}, True),
        ({"container": {"name": "web", "image": "busybox"}}, False),
        ({"container": {"name": "web", "image": "nginx:1.25"}}, False),
        ({"container": {"name": "old", "status": ["exited", "created"]}}, True),
        ({"container": {"name": "old", "running": True}}, False),
        ({"container": {"image": "busybox", "status": "exited"}}, True),
        (
            {
                "container": {
                    "name": "web",
                    "mount": {"volume": "site", "destination": "/usr/share/nginx/html"},
                }
            },
            True,
        ),
        (
            {"container": {"name": "web", "mount": {"volume": "site", "destination": "/data"}}},
            False,
        ),
        ({"container": {"name": "web", "mount": {"volume": "other"}}}, False),
        ({"container": {"name": "web", "network": "appnet"}}, True),
        ({"container": {"name": "old", "network": "appnet"}}, False),
        ({"container": {"name": "web", "env": {"GREETING": "hello"}}}, True),
        ({"container": {"name": "web", "env": {"GREETING": "bye"}}}, False),
        ({"container": {"name": "web", "env": {"EMPTY": None}}}, True),
        ({"container": {"name": "web", "env": {"MISSING": None}}}, False),
        ({"container": {"name": "web", "port": {"container": 80}}}, True),
        ({"container": {"name": "web", "port": {"container": 80, "host": 8080}}}, True),
        ({"container": {"name": "web", "port": {"container": 80, "host": 9090}}}, False),
        ({"container": {"name": "web", "port": {"container": 443}}}, False),  # not published
        (
            {
                "file": {
                    "container": "web",
                    "path": "/usr/share/nginx/html/index.html",
                    "contains": "Hello",
                }
            },
            True,
        ),
        (
            {
                "file": {
                    "container": "web",
                    "path": "/usr/share/nginx/html/index.html",
                    "contains": "Bye",
                }
            },
            False,
        ),
        ({"file": {"path": "/home/coach/index.html"}}, True),
        ({"file": {"path": "/home/coach/index.html", "contains": "Hello"}}, False),
        ({"file": {"path": "/home/coach/gone.txt", "exists": False}}, True),
        ({"http": {"url": "http://web/", "contains": "Hello"}}, True),
        ({"http": {"url": "http://web/", "contains": "nginx"}}, False),
        ({"http": {"url": "http://db/"}}, False),
        ({"volume": {"name": "site"}}, True),
        ({"volume": {"name": "data"}}, False),
        ({"network": {"name": "appnet"}}, True),
        ({"network": {"name": "bridge"}}, False),
        ({"image": {"name": "nginx"}}, True),
        ({"image": {"name": "docker.io/library/busybox:latest"}}, True),
        ({"image": {"name": "redis"}}, False),
        ({"all": [{"volume": {"name": "site"}}, {"network": {"name": "appnet"}}]}, True),
        ({"all": [{"volume": {"name": "site"}}, {"network": {"name": "x"}}]}, False),
        ({"any": [{"volume": {"name": "x"}}, {"network": {"name": "appnet"}}]}, True),
        ({"not": {"volume": {"name": "site"}}}, False),
    ],
)
async def test_checks(sandbox: FakeSandbox, check: dict[str, Any], expected: bool) -> None:
    assert await holds(sandbox, check) is expected


def docker(line: str, output: str = "") -> CommandUse:
    return record("docker", line, output)


def shell(line: str, output: str = "") -> CommandUse:
    return record("sh", line, output)


async def test_used_since_step_or_session(sandbox: FakeSandbox) -> None:
    used = {
        "used_since_step": [docker("ps")],
        "used_in_session": [docker("run -d nginx"), docker("ps"), shell("wget -qO- http://web/")],
    }
    assert await holds(sandbox, {"used": {"command": "ps"}}, **used)
    assert not await holds(sandbox, {"used": {"command": "run"}}, **used)
    assert await holds(sandbox, {"used": {"command": "run", "since": "session"}}, **used)
    assert await holds(sandbox, {"used": {"shell": "wget", "since": "session"}}, **used)
    assert not await holds(sandbox, {"used": {"shell": "wget"}}, **used)


@pytest.mark.parametrize(
    ("line", "check", "expected"),
    [
        ("container ls -a", {"command": "ps", "flags": ["-a"]}, True),
        ("ps --all --no-trunc", {"command": "ps", "flags": ["--all"]}, True),
        ("ps", {"command": "ps", "flags": ["-a"]}, False),
        ("exec web ps", {"command": "exec", "program": "ps"}, True),
        ("exec -it web ps aux", {"command": "exec", "program": "ps", "container": "web"}, True),
        ('exec two sh -c "ps > /tmp/seen.txt"', {"command": "exec", "program": "ps"}, True),
        ("exec web /bin/ps", {"command": "exec", "program": "ps"}, True),
        ("exec old ps", {"command": "exec", "program": "ps", "container": "web"}, False),
        ("exec aaaaaaaa ps", {"command": "exec", "container": "web"}, True),  # an ID prefix
        ("exec web cat /etc/hostname", {"command": "exec", "program": "ps"}, False),
        ("run --rm busybox uname -r", {"command": "run", "program": "uname"}, True),
        ("logs --tail 5 web", {"command": "logs", "container": "web"}, True),
        ("cp web:/etc/hosts .", {"command": "cp", "container": "web"}, True),
        ("top web", {"command": "exec"}, False),
    ],
)
async def test_used_matches_flags_containers_and_programs(
    sandbox: FakeSandbox, line: str, check: dict[str, Any], expected: bool
) -> None:
    assert await holds(sandbox, {"used": check}, used_since_step=[docker(line)]) is expected


async def test_output_reads_the_last_matching_command(sandbox: FakeSandbox) -> None:
    uses = [
        docker("exec web ps", "PID USER COMMAND\n1 root sleep 600\n"),
        docker("exec old ps", "PID USER COMMAND\n1 root sleep 900\n"),
        docker("ps -a", "NAMES STATUS\napp Exited (3) 2 seconds ago\n"),
    ]
    ctx = {"used_since_step": uses}
    seen_in_old = {"command": "exec", "program": "ps", "contains": "sleep 900"}
    assert await holds(sandbox, {"output": seen_in_old}, **ctx)
    in_web = {**seen_in_old, "container": "web"}
    assert not await holds(sandbox, {"output": in_web}, **ctx)
    assert await holds(sandbox, {"output": {**in_web, "contains": "sleep 600"}}, **ctx)
    lacking = {"command": "exec", "program": "ps", "contains": "sleep", "lacks": "sleep 600"}
    assert await holds(sandbox, {"output": lacking}, **ctx)  # the last one is old's
    exited = {"command": "ps", "flags": ["-a"], "contains": ["Exited (3)", "app"]}
    assert await holds(sandbox, {"output": exited}, **ctx)
    assert not await holds(sandbox, {"output": {**exited, "since": "session"}})


async def test_output_that_was_not_kept_does_not_hold(sandbox: FakeSandbox) -> None:
    old = docker("ps -a", "app Exited (3)").without_output()
    assert not await holds(
        sandbox, {"output": {"command": "ps", "contains": "Exited"}}, used_since_step=[old]
    )


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ({"hostname": "lab"}, True),
        ({"hostname": "web"}, False),
        ({"memory": "64m"}, True),
        ({"memory": 67108864, "cpus": 0.25}, True),
        ({"memory": "128m"}, False),
        ({"cpus": 0.5}, False),
        ({"health": "healthy"}, True),
        ({"health": "unhealthy"}, False),
        ({"oom_killed": False}, True),
    ],
)
async def test_inspected_fields_of_a_running_container(
    sandbox: FakeSandbox, check: dict[str, Any], expected: bool
) -> None:
    sandbox.put(
        "alice",
        container(
            "capped",
            hostname="lab",
            memory=64 * 1024**2,
            nano_cpus=250_000_000,
            health="healthy",
        ),
    )
    assert await holds(sandbox, {"container": {"name": "capped", **check}}) is expected


async def test_exit_code_and_oom_kill_of_an_exited_container(sandbox: FakeSandbox) -> None:
    sandbox.put("alice", container("hog", status="exited", exit_code=137, oom_killed=True))
    assert await holds(sandbox, {"container": {"name": "hog", "exit_code": 137}})
    assert await holds(sandbox, {"container": {"name": "hog", "oom_killed": True}})
    assert not await holds(sandbox, {"container": {"name": "hog", "exit_code": 0}})
    sandbox.put("alice", container("hog", status="running", exit_code=0))
    assert not await holds(sandbox, {"container": {"name": "hog", "exit_code": 0}})


async def test_removed_and_remembered_follow_the_id(sandbox: FakeSandbox) -> None:
    same = {"remembered": {"web": "a" * 64, "gone": "c" * 64}}
    assert await holds(sandbox, {"removed": {"name": "gone"}}, **same)
    assert not await holds(sandbox, {"removed": {"name": "web"}}, **same)
    assert await holds(sandbox, {"container": {"name": "web", "remembered": "same"}}, **same)
    assert not await holds(sandbox, {"container": {"name": "web", "remembered": "new"}}, **same)
    # A new container under the old name: the remembered one was removed.
    recreated = {"remembered": {"web": "f" * 64}}
    assert await holds(sandbox, {"removed": {"name": "web"}}, **recreated)
    assert await holds(sandbox, {"container": {"name": "web", "remembered": "new"}}, **recreated)
    # Nothing remembered: removed means no container by that name.
    assert await holds(sandbox, {"removed": {"name": "nope"}})
    assert not await holds(sandbox, {"removed": {"name": "web"}})


async def test_one_round_reads_the_state_once(sandbox: FakeSandbox) -> None:
    check = {
        "all": [
            {"container": {"name": "web"}},
            {"volume": {"name": "site"}},
            {"image": {"name": "nginx"}},
        ]
    }
    assert await holds(sandbox, check)
    assert sandbox.reads == 1


async def test_another_users_objects_are_not_seen(sandbox: FakeSandbox) -> None:
    ctx = CheckContext(reader=sandbox, actor=make_actor("bob"))
    assert not await evaluate(parse_check({"container": {"name": "web"}}), ctx)


@pytest.mark.parametrize(
    ("actual", "wanted", "expected"),
    [
        ("nginx:latest", "nginx", True),
        ("nginx", "nginx:latest", True),
        ("docker.io/library/nginx:latest", "nginx", True),
        ("nginx:1.25", "nginx", True),
        ("nginx:1.25", "nginx:latest", False),
        ("nginxinc/nginx-unprivileged:latest", "nginx", False),
        ("127.0.0.1:5000/library/busybox", "busybox", False),
    ],
)
def test_same_image(actual: str, wanted: str, expected: bool) -> None:
    assert same_image(actual, wanted) is expected


def test_every_kind_of_check_has_an_evaluator() -> None:
    assert set(EVALUATORS) == set(CHECK_MODELS.values())
    assert set(CHECK_MODELS) == set(CHECK_KINDS)


async def test_a_check_without_an_evaluator_is_an_error(sandbox: FakeSandbox) -> None:
    class Unevaluated(ContentModel):
        pass

    with pytest.raises(UnknownCheck, match="no evaluator for Unevaluated"):
        await evaluate(Unevaluated(), CheckContext(sandbox, ALICE))


async def test_the_oom_step_holds_before_docker_records_the_oom_kill(
    sandbox: FakeSandbox, library: ContentLibrary
) -> None:
    """Docker sets State.OOMKilled from an event that can trail the exit: right after the
    foreground run, exit code 137 of a container nobody killed passes limits/hit-the-limit;
    a 137 the learner caused with ``docker kill`` does not, and gets its own hint."""
    step = next(s for s in library.items(SCENARIOS)["limits"].steps if s.id == "hit-the-limit")
    run = docker('run --name hog -m 16m busybox sh -c "head -c 64m /dev/zero | tail"')
    killed = [docker("run -d --name hog -m 16m busybox sleep 600"), docker("kill hog")]

    async def state(*uses: CommandUse) -> tuple[bool, list[str]]:
        ctx = CheckContext(reader=sandbox, actor=ALICE, used_since_step=list(uses))
        fails = [f.id for f in step.fail_checks if await evaluate(f.when, ctx)]
        return await evaluate(step.check, ctx), fails

    sandbox.put("alice", container("hog", status="exited", exit_code=137, oom_killed=False))
    assert await state(run) == (True, [])
    assert await state(*killed) == (False, ["killed-by-hand"])
    sandbox.put("alice", container("hog", status="exited", exit_code=137, oom_killed=True))
    assert (await state(*killed, run))[0]  # recreated after a kill: the recorded OOM kill counts
    sandbox.put("alice", container("hog", status="exited", exit_code=0))
    assert await state(run) == (False, ["enough-memory"])


# -- images the learner built, compose projects ------------------------------------------------

HTTPD = ("httpd", "-f", "-p", "80", "-h", "/www")


def _own_images(sandbox: FakeSandbox) -> None:
    site = OwnImageView(
        "sha256:" + "1" * 64, ("site:latest",), built=True, cmd=HTTPD,
        steps=("COPY index.html /www/", 'CMD ["httpd","-f","-p","80","-h","/www"]'),
    )  # fmt: skip
    tagged = OwnImageView("sha256:" + "2" * 64, ("mybox:latest",), cmd=("sh",))
    sandbox.put("alice", images=("busybox:latest", "mybox:latest", "site:latest"))
    sandbox.states["alice"] = replace(sandbox.states["alice"], own_images=(site, tagged))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"name": "site"}, True),
        ({"name": "site", "built": True}, True),
        ({"name": "site:latest", "steps": "COPY"}, True),
        ({"name": "site", "steps": ["copy index.html", "CMD"]}, True),
        ({"name": "site", "steps": ["COPY index.html /www/"], "cmd": list(HTTPD)}, True),
        ({"name": "site", "steps": ["COPY other.html"]}, False),
        ({"name": "site", "steps": ["RUN"]}, False),
        ({"name": "site", "cmd": ["httpd"]}, False),
        ({"name": "site:v1", "built": True}, False),  # another tag
        ({"name": "mybox"}, True),
        ({"name": "mybox", "built": True}, False),  # tagged, not built
        ({"name": "mybox", "built": False}, True),
        ({"name": "busybox", "built": True}, False),  # a shared image is nobody's build
        ({"name": "busybox"}, True),
    ],
)
async def test_image_built_by_the_learner(
    sandbox: FakeSandbox, spec: dict[str, Any], expected: bool
) -> None:
    _own_images(sandbox)
    assert await holds(sandbox, {"image": spec}) is expected


def test_an_image_check_names_real_instructions() -> None:
    with pytest.raises(ValueError, match="not a Dockerfile instruction"):
        parse_check({"image": {"name": "site", "steps": ["COPYY index.html"]}})


def _service(project: str, service: str, status: str = "running", **extra: Any) -> ContainerView:
    labels = {PROJECT_LABEL: project, SERVICE_LABEL: service}
    return container(f"{project}-{service}-1", status=status, labels=labels, **extra)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"project": "shop"}, True),
        ({"project": "shop", "running": 2}, True),
        ({"project": "shop", "running": 3}, False),
        ({"project": "shop", "services": ["web", "client"]}, True),
        ({"project": "shop", "services": "db"}, False),  # stopped
        ({"project": "shop", "healthy": True}, True),
        ({"project": "blog"}, False),
        ({"project": "blog", "exists": False}, True),
        ({"project": "shop", "exists": False}, False),
    ],
)
async def test_compose_project(sandbox: FakeSandbox, spec: dict[str, Any], expected: bool) -> None:
    sandbox.put(
        "alice",
        _service("shop", "web", health="healthy"),
        _service("shop", "client"),
        _service("shop", "db", status="exited"),
        container("shopkeeper"),  # not of the project: no compose labels
        networks=("shop_default",),
    )
    assert await holds(sandbox, {"compose": spec}) is expected


async def test_compose_health_and_leftovers(sandbox: FakeSandbox) -> None:
    sandbox.put("alice", _service("shop", "web", health="starting"), networks=("shop_default",))
    assert not await holds(sandbox, {"compose": {"project": "shop", "healthy": True}})
    sandbox.put("alice", _service("shop", "web"))  # running, without a health check
    assert not await holds(sandbox, {"compose": {"project": "shop", "healthy": True}})
    sandbox.remove("alice", "shop-web-1")
    # every container gone, the project's network left: not yet down
    assert not await holds(sandbox, {"compose": {"project": "shop", "exists": False}})
    sandbox.put("alice", networks=())
    assert await holds(sandbox, {"compose": {"project": "shop", "exists": False}})


def test_facets_of_image_and_compose_checks() -> None:
    assert set(parse_check({"image": {"name": "busybox"}}).facets()) == {"cmd:pull"}
    assert set(parse_check({"image": {"name": "s", "built": True}}).facets()) == {"cmd:build"}
    up = parse_check({"compose": {"project": "shop", "running": 2}})
    assert set(up.facets()) == {"cmd:compose up"}
    down = parse_check({"compose": {"project": "shop", "exists": False}})
    assert set(down.facets()) == {"cmd:compose down"}
    with pytest.raises(ValueError, match="must be gone"):
        parse_check({"compose": {"project": "shop", "exists": False, "running": 1}})
