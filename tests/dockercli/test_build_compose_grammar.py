"""``docker build`` and ``docker compose`` as the grammar reads them: command lines,
Dockerfiles (Docker's own parser) and compose files (strict, keys named by their path)."""

from __future__ import annotations

import pytest

from bot.dockercli.compose import load_compose, run_command, start_order
from bot.dockercli.dockerfile import pairs, parse_dockerfile, substitute
from bot.dockercli.errors import CliError
from bot.dockercli.parser import parse_docker


def test_build_line() -> None:
    cmd = parse_docker("docker build -t site:v1 -f web/Dockerfile --build-arg A=1 --no-cache web")
    assert cmd.path == ("build",)
    assert cmd.values("tag") == ("site:v1",)
    assert cmd.text("file") == "web/Dockerfile" and cmd.has("no-cache")
    assert parse_docker("docker image build .").path == ("build",)
    with pytest.raises(CliError) as caught:
        parse_docker("docker build -t 'Not Valid' .")
    assert caught.value.key == "cli.bad_image"


def test_compose_options_before_and_after_the_subcommand() -> None:
    cmd = parse_docker("docker compose -f app/compose.yaml -p demo up -d web")
    assert cmd.path == ("compose", "up")
    assert cmd.values("file") == ("app/compose.yaml",) and cmd.text("project-name") == "demo"
    assert cmd.has("detach") and cmd.args == ("web",)
    logs = parse_docker("docker compose -f a.yaml logs -f web")
    assert logs.values("file") == ("a.yaml",) and logs.has("follow")
    exec_ = parse_docker("docker compose exec client wget -qO- http://web")
    assert exec_.args == ("client", "wget", "-qO-", "http://web")


def test_compose_commands_the_sandbox_does_not_run_say_so() -> None:
    with pytest.raises(CliError) as caught:
        parse_docker("docker compose push")
    assert caught.value.key == "cli.not_in_sandbox"


DOCKERFILE = """\
ARG BASE=busybox
FROM $BASE AS build
ENV GREETING="hello world" TARGET=/www
WORKDIR ${TARGET}
RUN echo "$GREETING" > index.html
FROM busybox
COPY --from=build /www /www
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
"""


def test_dockerfile_stages_and_values() -> None:
    parsed = parse_dockerfile(DOCKERFILE)
    assert [a.keyword for a in parsed.global_args] == ["ARG"]
    assert [s.name for s in parsed.stages] == ["build", None]
    assert parsed.stage_index("build") == 0 and parsed.stage_index("1") == 1
    env = parsed.stages[0].steps[0]
    assert pairs(env, {}) == [("GREETING", "hello world"), ("TARGET", "/www")]
    assert substitute("${TARGET}/x ${MISSING:-d} \\$HOME", {"TARGET": "/www"}) == "/www/x d $HOME"
    cmd = parsed.stages[1].steps[-1]
    assert cmd.json and cmd.args == ("httpd", "-f", "-p", "80", "-h", "/www")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("RUN echo hi\n", "build.no_from"),
        ("FROM busybox\nFROBNICATE x\n", "build.unknown_instruction"),
        ("FROM busybox AS 9x\n", "build.bad_stage_name"),
    ],
)
def test_dockerfile_errors_name_the_line(text: str, key: str) -> None:
    with pytest.raises(CliError) as caught:
        parse_dockerfile(text)
    assert caught.value.key == key


COMPOSE = """\
x-common: &common
  image: busybox
services:
  web:
    <<: *common
    command: httpd -f -p 80
    ports: ["8080:80"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  client:
    image: busybox
    depends_on:
      web: {condition: service_healthy}
    environment: ['MODE=${MODE:-dev}']
"""


def test_compose_file_reads_and_orders_services() -> None:
    model = load_compose(COMPOSE, {})
    assert start_order(model) == ["web", "client"]
    assert model.services["client"].dependencies()["web"].condition == "service_healthy"
    translated = run_command(
        "client", model.services["client"], "busybox", {"MODE": "dev"}, {}, "p-client-1",
        "p_default", {},
    )  # fmt: skip
    assert translated.command.path == ("create",)
    assert translated.command.values("env") == ("MODE=dev",)
    assert translated.keys["network"] == "services.client.networks"


@pytest.mark.parametrize(
    ("text", "key", "path"),
    [
        ("services:\n  web:\n    imgae: busybox\n", "compose.unknown_key", "services.web.imgae"),
        ("services:\n  web:\n    image: busybox\n    ports: 80\n", "compose.bad_value",
         "services.web.ports"),
        ("services:\n  web:\n    image: busybox\n    depends_on: [db]\n",
         "compose.unknown_reference", "services.web.depends_on"),
        ("servics:\n  web:\n    image: busybox\n", "compose.unknown_key", "servics"),
    ],
)  # fmt: skip
def test_compose_errors_name_the_key(text: str, key: str, path: str) -> None:
    with pytest.raises(CliError) as caught:
        load_compose(text, {})
    assert caught.value.key == key
    assert caught.value.params["path"] == path


def test_compose_cycle_is_refused() -> None:
    text = (
        "services:\n  a: {image: busybox, depends_on: [b]}\n"
        "  b: {image: busybox, depends_on: [a]}\n"
    )
    with pytest.raises(CliError) as caught:
        load_compose(text, {})
    assert caught.value.key == "compose.cycle"
