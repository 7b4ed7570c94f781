"""``docker build`` and ``docker compose`` in a sandbox, against the real engine."""

from __future__ import annotations

import os
import time

import docker
import pytest
import pytest_asyncio
from pydantic import TypeAdapter

from bot.core.errors import NotFound, Refused, UserError
from bot.practice.checks import CheckContext, evaluate
from bot.practice.content import Check
from bot.sandbox.service import SandboxService
from tests.sandbox.engine_support import (
    changed_settings,
    docker_text,
    new_actor,
    sh_text,
    started_service,
)

pytestmark = [pytest.mark.docker, pytest.mark.asyncio(loop_scope="module")]
ALICE, BOB = new_actor("alice"), new_actor("bob")
parse_check = TypeAdapter(Check).validate_python
# a host image with the published-port forwarder (CI builds docker-coach/host:latest with it)
HOST = (
    {"host_image": os.environ["COACH_TEST_HOST_IMAGE"]}
    if "COACH_TEST_HOST_IMAGE" in os.environ
    else {}
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service():
    build = {"step_seconds": 5.0, "disk_bytes": 64 * 1024 * 1024}
    quotas = {"containers": 10, "running_containers": 6, "networks": 3, "volumes": 5}
    async with started_service(ALICE, BOB, build=build, quotas=quotas, **HOST) as svc:
        yield svc


SITE = (
    "mkdir -p site && cd site && echo hello-site > index.html && "
    "printf 'FROM busybox\\nCOPY index.html /www/\\n"
    'CMD ["httpd","-f","-p","80","-h","/www"]\\n\' > Dockerfile'
)


def _owned(owner: str) -> tuple[list[str], list[str]]:
    client = docker.from_env()
    try:
        wanted = {"label": [f"org.docker-coach.owner={owner}"]}
        containers = [c.name for c in client.containers.list(all=True, filters=wanted)]
        images = [i.id for i in client.images.list(all=True, filters=wanted)]
        return [c for c in containers if not c.endswith("--host")], images
    finally:
        client.close()


async def test_done_when_build_run_cache_and_isolation(service: SandboxService) -> None:
    await sh_text(service, ALICE, SITE)
    started = time.perf_counter()
    first = await docker_text(service, ALICE, "build -t site site")
    first_seconds = time.perf_counter() - started
    assert "Step 2/3 : COPY index.html /www/" in first
    assert "Successfully built" in first and "Successfully tagged site:latest" in first
    started = time.perf_counter()
    again = await docker_text(service, ALICE, "build -t site site")
    again_seconds = time.perf_counter() - started
    assert again.count(" ---> Using cache") == 2  # every step after FROM
    print(f"build: first {first_seconds:.2f} s, cached {again_seconds:.2f} s, "
          f"{first_seconds / again_seconds:.1f}x")  # fmt: skip
    assert "site " in await docker_text(service, ALICE, "images")
    await docker_text(service, ALICE, "run -d --name s -p 8080:80 site")
    assert "hello-site" in await sh_text(service, ALICE, "wget -qO- localhost:8080")
    assert "site " not in await docker_text(service, BOB, "images")
    with pytest.raises(NotFound) as caught:  # as docker answers: no such image anywhere
        await docker_text(service, BOB, "run -d site")
    assert caught.value.key == "sandbox.image_nowhere"
    await docker_text(service, ALICE, "rm -f s")


@pytest.mark.parametrize(
    ("step", "key"),
    [
        ("RUN dd if=/dev/zero of=/x bs=1M count=4096", "build.step_failed"),
        ("RUN wget -T 3 http://example.com", "build.step_failed"),
        ("RUN sleep 100000", "build.step_timeout"),
    ],
)
async def test_build_limits_leave_nothing_behind(
    service: SandboxService, step: str, key: str
) -> None:
    await sh_text(
        service, ALICE, f"mkdir -p lim && printf 'FROM busybox\\n{step}\\n' > lim/Dockerfile"
    )
    _containers, images_before = _owned(ALICE.user_id)
    with pytest.raises(UserError) as caught:
        await docker_text(service, ALICE, "build -t lim lim")
    assert caught.value.key == key
    if "dd" in step:
        assert "Disk quota exceeded" in caught.value.params["output"]
    containers, images = _owned(ALICE.user_id)
    assert containers == [] and sorted(images) == sorted(images_before)


async def test_a_cached_rebuild_lists_the_build_cache_once(
    service: SandboxService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild with no change asks the engine for its cache once, not once per step: its
    cost must not grow with the Dockerfile (the rebuild is to be near-instant)."""
    await sh_text(
        service,
        ALICE,
        "mkdir -p many && echo hi > many/a.txt && printf 'FROM busybox\\nENV A=1\\n"
        "LABEL x=y\\nWORKDIR /srv\\nCOPY a.txt /srv/\\nENV B=2\\nEXPOSE 80\\n' > many/Dockerfile",
    )
    await docker_text(service, ALICE, "build -t many many")
    lookups: list[object] = []
    original = docker.APIClient.images

    def counted(self: docker.APIClient, *args: object, **kwargs: object) -> object:
        labels = (kwargs.get("filters") or {}).get("label") or []  # type: ignore[union-attr]
        if any(str(label).startswith("org.docker-coach.build-cache") for label in labels):
            lookups.append(labels)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(docker.APIClient, "images", counted)
    again = await docker_text(service, ALICE, "build -t many many")
    assert again.count(" ---> Using cache") == 6
    assert len(lookups) == 1
    await docker_text(service, ALICE, "rmi many")


async def test_a_step_image_above_the_image_size_is_removed_not_cached(
    service: SandboxService,
) -> None:
    """A RUN step whose image is larger than ``max_image_bytes`` fails the build and leaves no
    image: kept, it would be a cache entry, and the rebuild would tag it without a check."""
    await sh_text(
        service, ALICE,
        "mkdir -p fat && printf 'FROM busybox\\nRUN dd if=/dev/zero of=/x bs=1M count=8\\n' "
        "> fat/Dockerfile",
    )  # fmt: skip
    _containers, images_before = _owned(ALICE.user_id)
    # busybox (about 2 MB) fits, with 8 MB more it does not
    with changed_settings(service, max_image_bytes=6 * 1024 * 1024):
        for _attempt in range(2):  # the second build must not find the first one's image
            with pytest.raises(UserError) as caught:
                await docker_text(service, ALICE, "build -t fat fat")
            containers, images = _owned(ALICE.user_id)
            assert containers == [] and sorted(images) == sorted(images_before)
            assert caught.value.key == "build.image_too_big"
            assert "Using cache" not in caught.value.params["output"]
    assert "fat " not in await docker_text(service, ALICE, "images")


async def test_one_refusal_in_all_three_paths_through_the_service(
    service: SandboxService,
) -> None:
    """The same power asked for by ``docker run``, by a Dockerfile step and by a compose
    service, each through the learner's command: the same rule refuses it, naming what was
    written, before the engine is asked for anything."""
    await sh_text(
        service, BOB,
        "mkdir -p three && printf 'FROM busybox\\nRUN --security=insecure id\\n' "
        "> three/Dockerfile && printf 'services:\\n  web:\\n    image: busybox\\n"
        "    privileged: true\\n' > three/compose.yaml",
    )  # fmt: skip
    before = _owned(BOB.user_id)
    refused = []
    for line in ("run -d --privileged busybox sleep 60", "build -t three three",
                 "compose -f three/compose.yaml up -d"):  # fmt: skip
        with pytest.raises(Refused) as caught:
            await docker_text(service, BOB, line)
        refused.append(caught.value)
    assert {r.key for r in refused} == {"policy.privileged"}
    assert [str(r.params["flag"]) for r in refused[1:]] == [
        "Dockerfile:2 RUN --security=insecure",
        "services.web.privileged",
    ]
    assert _owned(BOB.user_id) == before
    assert "three" not in await docker_text(service, BOB, "network ls")


async def test_the_classic_builders_lines_and_history(service: SandboxService) -> None:
    """Each step prints what the classic builder prints (COPY/ADD: the new image only; every
    other step: the container it ran in, then its removal), and each step's instruction is in
    the image's history, a CMD after an ENTRYPOINT and a RUN after it too (what practice
    checks read as the image's build steps)."""
    await sh_text(
        service, ALICE,
        "mkdir -p cls && echo classic > cls/index.html && printf 'FROM busybox\\n"
        "WORKDIR /w\\nCOPY index.html .\\nENTRYPOINT [\"cat\"]\\nRUN echo ran > /ran\\n"
        "CMD [\"index.html\"]\\n' > cls/Dockerfile",
    )  # fmt: skip
    built = (await docker_text(service, ALICE, "build -t cls cls")).splitlines()
    steps = [i for i, line in enumerate(built) if line.startswith("Step ")]
    blocks = {built[i].split(" : ", 1)[1]: built[i + 1 : j] for i, j in
              zip(steps, [*steps[1:], len(built) - 2], strict=True)}  # fmt: skip
    assert [line.split()[0] for line in blocks["COPY index.html ."]] == ["--->"]
    for step in ("WORKDIR /w", 'ENTRYPOINT ["cat"]', "RUN echo ran > /ran", 'CMD ["index.html"]'):
        lines = blocks[step]
        assert lines[0].startswith(" ---> Running in "), (step, lines)
        cid = lines[0].rsplit(" ", 1)[1]
        assert lines[-2:][0] == f"Removing intermediate container {cid}", (step, lines)
        assert lines[-1].startswith(" ---> ") and cid not in lines[-1]
    assert "classic" in await docker_text(service, ALICE, "run --rm cls")
    history = await docker_text(service, ALICE, "history --no-trunc cls")
    assert '#(nop) CMD ["index.html"]' in history and "echo ran > /ran" in history
    state = await service.reader.state(ALICE)
    own = {name: image for image in state.own_images for name in image.names}
    assert own["cls:latest"].steps == (
        "WORKDIR /w", "COPY index.html .", 'ENTRYPOINT ["cat"]', "RUN echo ran > /ran",
        'CMD ["index.html"]',
    )  # fmt: skip
    assert own["cls:latest"].entrypoint == ("cat",) and own["cls:latest"].cmd == ("index.html",)
    await docker_text(service, ALICE, "rmi cls")


LIMITED = "FROM busybox\\nRUN sleep 30\\nENV A=1\\n"


@pytest.mark.parametrize(
    ("section", "changes", "key"),
    [
        ("build", {"context_bytes": 1024}, "build.context_too_big"),
        ("build", {"steps": 2}, "build.too_many_steps"),
        ("build", {"build_seconds": 2.0}, "build.too_slow"),
        ("quotas", {"images": 0}, "sandbox.quota.images"),
        ("quotas", {"image_bytes": 0}, "build.disk_budget"),
    ],
)
async def test_each_build_limit_bites_and_leaves_nothing(
    service: SandboxService, section: str, changes: dict[str, object], key: str
) -> None:
    """Every bound of a build has its setting and stops the build with its own message,
    leaving no container and no image (the build's wall clock stops a step that the step's
    own limit, 5 s in this module, would still let run)."""
    await sh_text(
        service, BOB,
        f"mkdir -p bounded && head -c 4096 /dev/zero > bounded/blob && "
        f"printf '{LIMITED}' > bounded/Dockerfile",
    )  # fmt: skip
    before = _owned(BOB.user_id)
    settings = service.manager.settings
    changed = getattr(settings, section).model_copy(update=changes)
    with changed_settings(service, **{section: changed}), pytest.raises(UserError) as caught:
        await docker_text(service, BOB, "build -t bounded bounded")
    assert caught.value.key == key
    assert _owned(BOB.user_id) == before
    assert "bounded " not in await docker_text(service, BOB, "images")


async def test_dockerignore_keeps_files_out_of_the_context(service: SandboxService) -> None:
    await sh_text(
        service, BOB,
        "mkdir -p ign/logs && cd ign && echo keep > keep.txt && echo s3cret > secret.txt && "
        "echo x > logs/a.log && printf 'secret.txt\\nlogs\\n' > .dockerignore && "
        "printf 'FROM busybox\\nCOPY . /ctx/\\n' > Dockerfile",
    )  # fmt: skip
    await docker_text(service, BOB, "build -t ign ign")
    listed = await docker_text(service, BOB, "run --rm ign find /ctx")
    assert "/ctx/keep.txt" in listed and "/ctx/Dockerfile" in listed
    assert "secret" not in listed and "logs" not in listed
    await sh_text(service, BOB, "printf 'FROM busybox\\nCOPY secret.txt /\\n' > ign/Dockerfile")
    with pytest.raises(UserError) as caught:
        await docker_text(service, BOB, "build -t ign ign")
    assert caught.value.key == "build.copy_missing"
    await docker_text(service, BOB, "rmi ign")


async def test_the_compose_services_quota_bites_before_anything_is_made(
    service: SandboxService,
) -> None:
    await sh_text(service, BOB, f"mkdir -p many && cat > many/compose.yaml <<'EOF'\n{COMPOSE}EOF")
    before = _owned(BOB.user_id)
    quotas = service.manager.settings.quotas.model_copy(update={"compose_services": 1})
    with changed_settings(service, quotas=quotas), pytest.raises(UserError) as caught:
        await docker_text(service, BOB, "compose -f many/compose.yaml up -d")
    assert caught.value.key == "compose.too_many"
    assert _owned(BOB.user_id) == before
    assert "many" not in await docker_text(service, BOB, "network ls")
    assert "many" not in await docker_text(service, BOB, "volume ls")


@pytest.mark.parametrize("dest", [".", "./", "..", "../app/"])
async def test_copy_into_the_workdir_as_tutorials_write_it(
    service: SandboxService, dest: str
) -> None:
    """``WORKDIR /app`` then ``COPY app.txt .``: "." (or "..") names a folder, as in docker."""
    await sh_text(
        service,
        ALICE,
        "mkdir -p wd && echo from-the-context > wd/app.txt && "
        f"printf 'FROM busybox\\nWORKDIR /app\\nCOPY app.txt {dest}\\n' > wd/Dockerfile",
    )
    await docker_text(service, ALICE, "build -t wd wd")
    where = "/app/app.txt" if dest in (".", "./", "../app/") else "/app.txt"
    assert "from-the-context" in await docker_text(service, ALICE, f"run --rm wd cat {where}")
    await docker_text(service, ALICE, "rmi wd")


async def test_run_rm_returns_once_the_container_is_gone(service: SandboxService) -> None:
    """As with the docker CLI, ``run --rm`` answers after the engine removed the container:
    ``rmi`` of its image right after finds nothing using it."""
    await sh_text(
        service, ALICE, "mkdir -p rmx && printf 'FROM busybox\\nENV X=1\\n' > rmx/Dockerfile"
    )
    for _ in range(3):
        await docker_text(service, ALICE, "build -t rmx rmx")
        await docker_text(service, ALICE, "run --rm rmx true")
        assert _owned(ALICE.user_id)[0] == []
        await docker_text(service, ALICE, "rmi rmx")


COMPOSE = """\
services:
  web:
    image: busybox
    command: httpd -f -p 80 -h /www
    volumes: [pages:/www]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  client:
    image: busybox
    command: sleep 3600
    depends_on:
      web: {condition: service_healthy}
volumes:
  pages:
"""


async def test_done_when_compose_up_ps_exec_down(service: SandboxService) -> None:
    await sh_text(service, BOB, f"mkdir -p shop && cat > shop/compose.yaml <<'EOF'\n{COMPOSE}EOF")
    up = await docker_text(service, BOB, "compose -f shop/compose.yaml up -d")
    assert "Network shop_default" in up and "Container shop-client-1" in up
    ps = await docker_text(service, BOB, "compose -f shop/compose.yaml ps")
    assert "shop-web-1" in ps and "shop-client-1" in ps and "(healthy)" in ps
    await docker_text(
        service, BOB, "compose -f shop/compose.yaml exec web sh -c 'echo hi > /www/index.html'"
    )
    got = await docker_text(
        service, BOB, "compose -f shop/compose.yaml exec client wget -qO- http://web"
    )
    assert "hi" in got
    down = await docker_text(service, BOB, "compose -f shop/compose.yaml down -v")
    assert "Volume shop_pages" in down
    assert "shop" not in await docker_text(service, BOB, "ps -a")
    assert "shop" not in await docker_text(service, BOB, "volume ls")
    assert "shop" not in await docker_text(service, BOB, "network ls")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("    privileged: true\n", "services.web.privileged"),
        ("    volumes: ['/etc:/host-etc']\n", "services.web.volumes[0]"),
    ],
)
async def test_compose_refusal_creates_nothing(
    service: SandboxService, body: str, key: str
) -> None:
    text = f"services:\n  web:\n    image: busybox\n{body}"
    await sh_text(service, BOB, f"mkdir -p bad && cat > bad/compose.yaml <<'EOF'\n{text}EOF")
    with pytest.raises(Refused) as caught:
        await docker_text(service, BOB, "compose -f bad/compose.yaml up -d")
    assert caught.value.params["flag"] == key
    networks = (await docker_text(service, BOB, "network ls --format '{{.Name}}'")).split()
    assert not [name for name in networks if name.startswith("bad")], networks
    assert "bad-web-1" not in await docker_text(service, BOB, "ps -a")


async def test_practice_reads_built_images_and_compose_projects(service: SandboxService) -> None:
    """What practice checks read: the learner's image with its build steps and CMD (a tag of
    a shared image is not built; a commit of a container from the build takes no build cache
    key), and a compose project's services with their health."""
    script = (
        "mkdir -p rm1 && cd rm1 && echo one > index.html && "
        "printf 'FROM busybox\\nRUN echo built > /made\\nCOPY index.html /www/\\n"
        'CMD ["httpd","-f","-p","80","-h","/www"]\\n\' > Dockerfile'
    )
    await sh_text(service, ALICE, script)
    await docker_text(service, ALICE, "build -t rm1 rm1")
    await docker_text(service, ALICE, "tag busybox mybox")
    await docker_text(service, ALICE, "run -d --name rm1c rm1")
    await docker_text(service, ALICE, "commit rm1c rm1copy")
    state = await service.reader.state(ALICE)
    own = {name: image for image in state.own_images for name in image.names}
    assert {"rm1:latest", "mybox:latest", "rm1copy:latest"} <= set(state.images)
    assert own["rm1:latest"].built and own["rm1:latest"].steps == (
        "RUN echo built > /made",
        "COPY index.html /www/",
        'CMD ["httpd","-f","-p","80","-h","/www"]',
    )
    assert own["rm1:latest"].cmd == ("httpd", "-f", "-p", "80", "-h", "/www")
    assert not own["mybox:latest"].built and own["mybox:latest"].steps == ()
    assert not own["rm1copy:latest"].built
    ctx = CheckContext(reader=service.reader, actor=ALICE)
    built = {"image": {"name": "rm1", "built": True, "steps": ["RUN echo", "COPY index.html"]}}
    assert await evaluate(parse_check(built), ctx)
    assert not await evaluate(parse_check({"image": {"name": "mybox", "built": True}}), ctx)
    # the commit did not take the build's cache key: a rebuild uses the build's own steps
    again = await docker_text(service, ALICE, "build -t rm1 rm1")
    assert again.count(" ---> Using cache") == 3
    assert own["rm1:latest"].id in again or own["rm1:latest"].id[7:19] in again
    await docker_text(service, ALICE, "rm -f rm1c")

    await sh_text(service, BOB, f"mkdir -p pr && cat > pr/compose.yaml <<'EOF'\n{COMPOSE}EOF")
    await docker_text(service, BOB, "compose -f pr/compose.yaml up -d")
    bob = CheckContext(reader=service.reader, actor=BOB)
    up = {"compose": {"project": "pr", "running": 2, "services": ["web", "client"]}}
    assert await evaluate(parse_check(up), bob)
    assert await evaluate(parse_check({"compose": {"project": "pr", "healthy": True}}), bob)
    await docker_text(service, BOB, "compose -f pr/compose.yaml down -v")
    gone = {"compose": {"project": "pr", "exists": False}}
    assert await evaluate(parse_check(gone), CheckContext(reader=service.reader, actor=BOB))


async def test_env_file_is_read_from_the_host_shell(service: SandboxService) -> None:
    """``run --env-file`` (and ``exec --env-file``) read the file where the sandbox's CLI runs,
    the learner's host shell, in docker's format: values as written, comments skipped, a name
    alone set only if the CLI had it (it has none), ``-e`` last."""
    await sh_text(
        service, ALICE, "printf '# app\\nMODE=test\\n  GREETING=\"hi\"\\nLONELY\\n' > app.env"
    )
    printed = await docker_text(
        service, ALICE, "run --rm --env-file app.env -e MODE=prod busybox env"
    )
    assert "MODE=prod" in printed and 'GREETING="hi"' in printed and "LONELY" not in printed
    await docker_text(service, ALICE, "run -d --name envy busybox sleep 600")
    assert "MODE=test" in await docker_text(service, ALICE, "exec --env-file app.env envy env")
    with pytest.raises(UserError) as caught:
        await docker_text(service, ALICE, "run --rm --env-file nope.env busybox env")
    assert caught.value.key == "sandbox.no_env_file"
    await sh_text(service, ALICE, "printf 'BAD NAME=1\\n' > bad.env")
    with pytest.raises(UserError) as caught:
        await docker_text(service, ALICE, "run --rm --env-file bad.env busybox env")
    assert caught.value.key == "cli.bad_env_line"
    await docker_text(service, ALICE, "rm -f envy")


def _engine_volumes(owner: str) -> list[dict]:
    client = docker.from_env()
    try:
        wanted = {"label": [f"org.docker-coach.owner={owner}"]}
        return client.api.volumes(filters=wanted).get("Volumes") or []
    finally:
        client.close()


async def test_an_image_volume_is_a_volume_of_the_sandbox(service: SandboxService) -> None:
    """A ``VOLUME`` in a Dockerfile: the container gets a volume as Docker's anonymous one,
    but under the sandbox's labels (counted, listed, removed by ``rm -v`` and with the
    sandbox); a ``-v`` on the same path takes its place; the quota bites."""
    await sh_text(
        service, BOB, "mkdir -p vol && printf 'FROM busybox\\nVOLUME /data\\n' > vol/Dockerfile"
    )
    await docker_text(service, BOB, "build -t vol vol")
    before = {v["Name"] for v in _engine_volumes(BOB.user_id)}
    await docker_text(service, BOB, "run -d --name v1 vol sleep 600")
    made = [v for v in _engine_volumes(BOB.user_id) if v["Name"] not in before]
    assert len(made) == 1 and made[0]["Labels"]["org.docker-coach.anonymous-for"] == "v1"
    hex_name = made[0]["Name"].rsplit("-", 1)[-1]
    assert len(hex_name) == 64 and hex_name in await docker_text(service, BOB, "volume ls")
    await docker_text(service, BOB, "exec v1 sh -c 'echo kept > /data/f'")
    await docker_text(service, BOB, "run -d --name v2 -v named:/data vol sleep 600")
    assert len(_engine_volumes(BOB.user_id)) == len(before) + 2  # v2 made `named` only
    await docker_text(service, BOB, "rm -f -v v1")
    assert hex_name not in await docker_text(service, BOB, "volume ls")
    await docker_text(service, BOB, "rm -f v2")
    await docker_text(service, BOB, "volume rm named")
    # every image VOLUME counts against the volume quota (5 in this module)
    for index in range(5 - len(before)):
        await docker_text(service, BOB, f"create --name q{index} vol")
    with pytest.raises(UserError) as caught:
        await docker_text(service, BOB, "create --name over vol")
    assert caught.value.key == "sandbox.quota.volumes"
    for index in range(5 - len(before)):
        await docker_text(service, BOB, f"rm -v q{index}")
    assert {v["Name"] for v in _engine_volumes(BOB.user_id)} == before
