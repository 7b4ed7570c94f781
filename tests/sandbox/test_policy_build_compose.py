"""The one policy decides for ``docker run``, Dockerfile steps and compose services alike:
the same rule refuses the same power in all three, each refusal naming what was written."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.errors import Refused
from bot.dockercli.compose import load_compose, run_command
from bot.dockercli.dockerfile import parse_dockerfile
from bot.dockercli.parser import parse_docker
from bot.sandbox import policy
from bot.settings import SandboxSettings
from tests.sandbox.engine_support import tr

CONFIG = policy.PolicyConfig.from_settings(SandboxSettings())


def _run(line: str) -> Refused:
    verdict = policy.check(parse_docker(line), CONFIG)
    assert verdict.refusal is not None
    return verdict.refusal


def _dockerfile(text: str) -> Refused:
    with pytest.raises(Refused) as caught:
        policy.check_dockerfile(parse_dockerfile(text), CONFIG)
    return caught.value


def _service(body: str) -> Refused:
    model = load_compose(f"services:\n  web:\n    image: busybox\n{body}", {})
    service = model.services["web"]
    translated = run_command("web", service, "busybox", {}, {}, "p-web-1", "p_default", {})
    with pytest.raises(Refused) as caught:
        policy.check_service(translated, CONFIG)
    return caught.value


@pytest.mark.parametrize(
    ("run_line", "dockerfile", "compose", "key", "compose_key"),
    [
        ("run --privileged busybox", "FROM busybox\nRUN --security=insecure id\n",
         "    privileged: true\n", "policy.privileged", "services.web.privileged"),
        ("run --network host busybox", "FROM busybox\nRUN --network=host id\n",
         "    network_mode: host\n", "policy.network_host", "services.web.network_mode"),
        ("run -v /etc:/etc busybox", None, "    volumes: ['/etc:/etc']\n", "policy.bind_mount",
         "services.web.volumes[0]"),
        ("run --cap-add NET_ADMIN busybox", None, "    cap_add: [NET_ADMIN]\n",
         "policy.cap_add", "services.web.cap_add"),
        ("run -l org.docker-coach.owner=x busybox",
         "FROM busybox\nLABEL org.docker-coach.owner=x\n",
         "    labels: {org.docker-coach.owner: x}\n", "policy.label_prefix", "services.web.labels"),
        ("run --restart always busybox", None, "    restart: always\n", "policy.restart",
         "services.web.restart"),
    ],
)  # fmt: skip
def test_one_rule_refuses_in_all_three_paths(
    run_line: str, dockerfile: str | None, compose: str, key: str, compose_key: str
) -> None:
    assert _run(run_line).key == key
    if dockerfile is not None:
        refused = _dockerfile(dockerfile)
        assert refused.key == key
        assert str(refused.params["flag"]).startswith("Dockerfile:2 ")
    refused = _service(compose)
    assert refused.key == key
    assert refused.params["flag"] == compose_key
    for locale in ("en", "ko"):
        assert compose_key in tr(locale)(refused.key, **refused.params)


@pytest.mark.parametrize(
    ("text", "key", "flag"),
    [
        ("FROM busybox\nRUN --mount=type=cache,target=/x ls\n", "policy.build_mount",
         "Dockerfile:2 RUN --mount"),
        ("FROM busybox\nRUN --network=default ls\n", "policy.build_network",
         "Dockerfile:2 RUN --network"),
        ("FROM busybox\nADD https://example.com/a.tgz /a\n", "policy.add_url", "Dockerfile:2 ADD"),
        ("FROM busybox\nCOPY --from=nginx /etc/nginx /x\n", "policy.copy_from",
         "Dockerfile:2 COPY --from"),
        ("FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\n", "policy.copy_from",
         "Dockerfile:2 COPY --from"),
        ("FROM busybox\nONBUILD RUN id\n", "policy.onbuild", "Dockerfile:2 ONBUILD"),
        ("FROM busybox\nWORKDIR /proc/self/fd/8\n", "policy.workdir_proc", "Dockerfile:2 WORKDIR"),
        ("FROM busybox\nHEALTHCHECK --interval=10ms CMD true\n", "policy.health_interval",
         "Dockerfile:2 HEALTHCHECK --interval"),
    ],
)  # fmt: skip
def test_dockerfile_refusals_name_the_instruction(text: str, key: str, flag: str) -> None:
    refused = _dockerfile(text)
    assert refused.key == key and refused.params["flag"] == flag
    for locale in ("en", "ko"):
        assert flag in tr(locale)(refused.key, **refused.params)


def test_a_plain_dockerfile_passes() -> None:
    text = (
        "FROM busybox AS build\nRUN --network=none echo hi > /x\nFROM busybox\n"
        "COPY --from=build /x /x\nCOPY --chown=1000:1000 index.html /www/\nEXPOSE 80\n"
        'HEALTHCHECK --interval=5s CMD wget -q localhost\nCMD ["sh"]\n'
    )
    policy.check_dockerfile(parse_dockerfile(text), CONFIG)


def test_from_outside_the_allowlist_is_refused_naming_the_line() -> None:
    item = parse_dockerfile("FROM ubuntu\n").stages[0].instruction
    with pytest.raises(Refused) as caught:
        policy.check_base_image(item, "ubuntu", CONFIG)
    assert caught.value.key == "policy.image_not_allowed"
    assert caught.value.params["flag"] == "Dockerfile:1 FROM"
    own = replace(CONFIG, own_images=frozenset({"site:latest"}))
    policy.check_base_image(item, "site", own)


def test_build_flags_pass_the_run_rules() -> None:
    assert _run("build --network host .").key == "policy.build_network"
    assert _run("build --security-opt seccomp=unconfined .").key == "policy.security_opt"
    assert _run("build --label org.docker-coach.owner=x .").key == "policy.label_prefix"
    assert policy.check(parse_docker("build -t site --network none ."), CONFIG).allowed
