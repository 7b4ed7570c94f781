"""Typed-command grading takes every command a Docker engineer would accept for the task, and
still rejects near misses: the equivalences of :mod:`bot.dockercli.compare`, one by one."""

from __future__ import annotations

import pytest

from bot.dockercli import parse_docker
from bot.dockercli.compare import (
    Difference,
    differences,
    equivalent,
    grading_form,
    program_form,
    same_task,
)
from bot.quiz.grading import compare_command

SAME_TASK = [
    # docker cp: the destination folder as `.`, `./` or the file's own name
    ("docker cp web:/etc/nginx/nginx.conf .", "docker cp web:/etc/nginx/nginx.conf ./"),
    ("docker cp web:/etc/nginx/nginx.conf .", "docker cp web:/etc/nginx/nginx.conf nginx.conf"),
    ("docker cp web:/etc/nginx/nginx.conf .", "docker cp web:/etc/nginx/nginx.conf ./nginx.conf"),
    ("docker cp web:/a/index.html index.html", "docker cp web:/a/index.html ."),
    # … a folder in a container with or without its trailing slash, or the file's full path
    ("docker cp index.html web:/srv/html/", "docker cp index.html web:/srv/html"),
    ("docker cp index.html web:/srv/html/", "docker cp ./index.html web:/srv/html/index.html"),
    ("docker cp a.txt web:/tmp/", "docker container cp a.txt web:/tmp"),
    # inspect without the object's kind, or with --type
    ("docker volume inspect notes", "docker inspect notes"),
    ("docker volume inspect notes", "docker inspect --type=volume notes"),
    ("docker network inspect shop", "docker inspect shop"),
    ("docker inspect web", "docker inspect --type container web"),
    ("docker inspect -f '{{.State.Status}}' a", "docker inspect --format '{{ .State.Status }}' a"),
    # --mount for -v
    ("docker run -d -v data:/data redis", "docker run -d --mount source=data,target=/data redis"),
    ("docker run -d -v d:/data redis", "docker run -d --mount type=volume,src=d,dst=/data redis"),
    ("docker run -v d:/d:ro busybox", "docker run --mount source=d,target=/d,readonly busybox"),
    # … and the path in the container with or without its trailing slash
    ("docker run -d -v data:/data redis", "docker run -d -v data:/data/ redis"),
    ("docker run -v d:/d:ro busybox", "docker run -v d:/d/:ro busybox"),
    # defaults spelled out
    ("docker network create app-net", "docker network create -d bridge app-net"),
    ("docker volume create notes", "docker volume create --driver=local notes"),
    ("docker run -d nginx", "docker run -d --network bridge --restart no nginx"),
    ("docker search redis", "docker search --limit 25 redis"),
    ("docker stop web", "docker stop -t 10 web"),
    ("docker run -d -p 8080:80 nginx", "docker run -d -p 0.0.0.0:8080:80 nginx"),
    # flags that only change how the output looks, added by the learner
    ("docker search redis", "docker search --no-trunc redis"),
    ("docker ps -a", "docker ps -a --no-trunc"),
    ("docker logs --tail 5 talker", "docker logs -t -n 5 talker"),
    ("docker exec box ps", "docker exec -it box ps"),
    # aliases
    ("docker run --rm busybox echo hi", "docker container run --rm busybox echo hi"),
    ("docker ps -a", "docker container list --all"),
    ("docker images", "docker image ls"),
    # what runs in the container, in any spelling that prints the same
    ("docker run --rm busybox wget -qO- http://web", "docker run --rm busybox wget -qO- http://web/"),
    ("docker run --rm busybox wget -qO- http://web", "docker run --rm busybox wget -q -O - http://web"),
    ("docker run --rm busybox wget -qO- http://web", "docker run --rm busybox wget -O- -q web"),
    ("docker run --rm busybox wget -qO- web", "docker run --rm busybox wget --quiet -O - web"),
    ("docker exec two ls /tmp", "docker exec two ls -la /tmp/"),
    ("docker exec two ls /tmp", "docker exec two sh -c 'ls /tmp'"),
    ("docker exec two ls /tmp", "docker exec two /bin/ls /tmp"),
    ("docker exec box hostname", "docker exec box cat /etc/hostname"),
    ("docker run --rm --net none busybox ip addr", "docker run --rm --net none busybox ip a"),
    ("docker run --rm busybox uname -m", "docker run --rm busybox arch"),
    ("docker run --rm -e MODE=prod alpine env", "docker run --rm -e MODE=prod alpine printenv"),
    ("docker exec box ps", "docker exec box ps aux"),
    # the processes of a container, from inside where the prompt allows it
    ("docker top sleeper", "docker exec sleeper ps"),
    ("docker top sleeper", "docker container exec -it sleeper ps -ef"),
    # docker build: the context folder in any spelling, the default tag and Dockerfile said
    ("docker build -t site .", "docker build -t site ./"),
    ("docker build -t site .", "docker build --tag=site:latest ."),
    ("docker build -t site .", "docker image build -t site -f Dockerfile ."),
    ("docker build -t site .", "docker build -f ./Dockerfile --rm -t site ."),
    ("docker build -t site site", "docker build -t site ./site/"),
    ("docker build -t site site", "docker build -t site -f site/Dockerfile site"),
    # … and flags that change how, not what, or only how it is shown
    ("docker build -t site .", "docker build --no-cache -t site ."),
    ("docker build -t site .", "docker build -q -t site ."),
    # docker compose: the file compose finds anyway, long flags, Compose v1's program
    ("docker compose up -d", "docker compose up --detach"),
    ("docker compose up -d", "docker compose -f compose.yaml up -d"),
    ("docker compose up -d", "docker compose up -d --build"),
    ("docker compose up -d", "docker-compose up -d"),
    ("docker compose down -v", "docker compose down --volumes"),
    ("docker compose exec client wget -qO- http://web", "docker compose exec client wget -qO- http://web/"),
]  # fmt: skip

NEAR_MISSES = [
    ("docker pull alpine:3.20", "docker pull alpine"),
    ("docker pull alpine:3.20", "docker pull alpine:latest"),
    ("docker cp web:/etc/nginx/nginx.conf .", "docker cp nginx.conf web:/etc/nginx/nginx.conf"),
    ("docker cp web:/etc/nginx/nginx.conf .", "docker cp web:/etc/nginx ."),
    ("docker cp index.html web:/srv/html/", "docker cp index.html web:/srv/"),
    ("docker volume inspect notes", "docker network inspect notes"),
    ("docker run -d -v data:/data redis", "docker run -d -v /data redis"),
    ("docker run -d -v data:/data redis", "docker run -d -v data:/data/db redis"),
    ("docker run --rm busybox wget -qO- http://web", "docker run --rm busybox wget -qO /tmp/p web"),
    ("docker run --rm busybox wget -qO- http://web", "docker run --rm busybox wget -qO- http://db"),
    ("docker run --rm busybox wget -qO- http://web", "docker run --rm busybox wget -S -qO- web"),
    ("docker run -d -v data:/data redis", "docker run -d --mount type=tmpfs,target=/data redis"),
    ("docker network create app-net", "docker network create -d overlay app-net"),
    ("docker ps -a --no-trunc", "docker ps -a"),  # asked for, so required
    ("docker run -d -p 8080:80 nginx", "docker run -d -p 127.0.0.1:8080:80 nginx"),
    ("docker inspect -f '{{.State.ExitCode}}' app", "docker inspect app"),
    ("docker exec box hostname", "docker exec box hostname lab"),
    ("docker run --rm busybox uname -r", "docker run --rm busybox uname -m"),
    ("docker exec two ls /tmp", "docker exec one ls /tmp"),
    ("docker exec box ps", "docker top box"),  # the other way round is another view
    ("docker run -d busybox sleep 300", "docker run -dit busybox sleep 300"),
    ("docker top sleeper", "docker ps"),
    ("docker run -d --name web nginx", "docker run --name web nginx -d"),
    ("docker build -t site .", "docker build ."),  # no name: only an ID
    ("docker build -t site .", "docker build -t site:v1 ."),
    ("docker build -t site .", "docker build -t site site"),  # another folder
    ("docker build -t site .", "docker build -t site -f Dockerfile.dev ."),
    ("docker build --no-cache -t site .", "docker build -t site ."),  # asked for, so required
    ("docker compose up -d", "docker compose up"),  # in the foreground
    ("docker compose up -d", "docker compose -f other.yaml up -d"),
    ("docker compose down -v", "docker compose down"),  # the volumes stay
    ("docker compose up -d", "docker compose start"),
]  # fmt: skip


@pytest.mark.parametrize(("expected", "typed"), SAME_TASK)
def test_a_docker_engineer_would_accept_it(expected: str, typed: str) -> None:
    assert differences(parse_docker(expected), parse_docker(typed)) == []
    assert compare_command([expected], typed).correct


@pytest.mark.parametrize(("expected", "typed"), NEAR_MISSES)
def test_a_near_miss_is_wrong_and_says_why(expected: str, typed: str) -> None:
    assert not same_task(parse_docker(expected), parse_docker(typed))
    grade = compare_command([expected], typed)
    assert not grade.correct and grade.hints


def test_a_strict_question_wants_its_own_way() -> None:
    top, exec_ps = parse_docker("docker top box"), parse_docker("docker exec box ps")
    assert same_task(top, exec_ps)
    assert not same_task(top, exec_ps, strict=True)
    assert not compare_command(["docker top box"], "docker exec box ps", strict=True).correct
    assert compare_command(["docker top box"], "docker container top box", strict=True).correct


def test_equivalence_is_symmetric_where_only_one_direction_is_lenient() -> None:
    assert equivalent(
        parse_docker("docker volume inspect v"), parse_docker("docker inspect --type volume v")
    )
    assert not equivalent(parse_docker("docker ps"), parse_docker("docker ps --no-trunc"))
    assert not equivalent(parse_docker("docker top box"), parse_docker("docker exec box ps"))


def test_hints_name_commands_and_values_as_typed() -> None:
    found = differences(
        parse_docker("docker volume inspect notes"), parse_docker("docker volume ls")
    )
    assert found == [
        Difference("subcommand", expected="docker volume inspect", given="docker volume ls")
    ]
    found = differences(
        parse_docker("docker run -d -v data:/data redis"),
        parse_docker("docker run -d -v /data redis"),
    )
    assert found == [
        Difference("flag_value", flag="-v/--volume", expected="data:/data", given="/data")
    ]


def test_the_grading_form_of_a_few_commands() -> None:
    form = grading_form(
        parse_docker("docker run --mount source=d,target=/d --net=bridge busybox sh -c 'ls /d/'")
    )
    assert dict(form.flags) == {"volume": ("d:/d",)}
    assert form.args == ("busybox", "ls", "/d")
    assert program_form(("sh", "-c", "echo hi > /tmp/x")) == ("sh", "-c", "echo hi > /tmp/x")
    assert program_form(("wget", "-qO-", "https://example.com")) == (
        "wget",
        "-q",
        "-O",
        "-",
        "https://example.com/",
    )
    assert program_form(("wget", "-qO", "-", "web:8080")) == (
        "wget",
        "-q",
        "-O",
        "-",
        "http://web:8080/",
    )
    assert program_form(("wget", "--spider", "web")) == ("wget", "--spider", "web")
