"""The docker command-line grammar: routes, flags like pflag, errors that name the flag,
values, grading."""

from __future__ import annotations

import pytest

from bot.dockercli import (
    COMMANDS,
    ROUTES,
    CliError,
    Difference,
    DockerCommand,
    differences,
    equivalent,
    flag_label,
    normalize,
    parse_docker,
    parse_filters,
    split_words,
)
from bot.dockercli.parser import parse_copy
from bot.dockercli.values import (
    CopySpec,
    PortSpec,
    VolumeSpec,
    parse_duration,
    parse_mount,
    parse_publish,
    parse_volume,
)


def error(line: str) -> CliError:
    with pytest.raises(CliError) as caught:
        parse_docker(line)
    return caught.value


# --- routes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("docker ps", ("ps",)),
        ("ps", ("ps",)),
        ("docker container ls", ("ps",)),
        ("docker container list", ("ps",)),
        ("docker container ps", ("ps",)),
        ("docker images", ("images",)),
        ("docker image ls", ("images",)),
        ("docker image list", ("images",)),
        ("docker container run busybox", ("run",)),
        ("docker container create busybox", ("create",)),
        ("docker container rm web", ("rm",)),
        ("docker container remove web", ("rm",)),
        ("docker container inspect web", ("inspect",)),
        ("docker container prune -f", ("container", "prune")),
        ("docker image pull alpine", ("pull",)),
        ("docker volume list", ("volume", "ls")),
        ("docker volume remove data", ("volume", "rm")),
        ("docker volume inspect data", ("volume", "inspect")),
        ("docker network list", ("network", "ls")),
        ("docker network remove backend", ("network", "rm")),
        ("docker network inspect backend", ("network", "inspect")),
        ("docker network connect backend web", ("network", "connect")),
        ("docker network disconnect backend web", ("network", "disconnect")),
        ("docker network prune -f", ("network", "prune")),
        ("docker container logs web", ("logs",)),
        ("docker container exec web ls", ("exec",)),
        ("docker container cp web:/a .", ("cp",)),
        ("docker container stats --no-stream", ("stats",)),
    ],
)
def test_routes_reach_canonical_paths(line: str, path: tuple[str, ...]) -> None:
    assert parse_docker(line).path == path


def test_every_route_leads_to_a_command_spec() -> None:
    assert set(ROUTES.values()) == set(COMMANDS)


@pytest.mark.parametrize("word", ["attach", "login", "push", "export", "swarm"])
def test_real_commands_the_sandbox_does_not_run(word: str) -> None:
    problem = error(f"docker {word} x")
    assert problem.key == "cli.not_in_sandbox"
    assert problem.params["command"] == word


def test_group_subcommand_not_in_sandbox_and_unknown() -> None:
    assert error("docker image import x.tar").params["command"] == "image import"
    assert error("docker compose push").params["command"] == "compose push"
    assert error("docker system events").params["command"] == "system events"
    problem = error("docker volume lss")
    assert problem.key == "cli.unknown_command_hint"
    assert problem.params["hint"] == "volume ls"
    assert error("docker volume").key == "cli.missing_subcommand"


def test_unknown_command_suggests_the_closest() -> None:
    problem = error("docker rnu busybox")
    assert (problem.key, problem.params["hint"]) == ("cli.unknown_command_hint", "run")
    assert error("docker frobnicate").key == "cli.unknown_command"


def test_empty_and_global_options() -> None:
    assert error("docker").key == "cli.empty"
    assert error("   ").key == "cli.empty"
    problem = error("docker -H tcp://evil:2375 ps")
    assert (problem.key, problem.params["option"]) == ("cli.global_option", "-H")


# --- words and flags -----------------------------------------------------------------------


def test_split_words_is_posix_shell_like() -> None:
    assert split_words("""run busybox sh -c 'echo "hi there"' a\\ b""") == [
        "run", "busybox", "sh", "-c", 'echo "hi there"', "a b",
    ]  # fmt: skip
    with pytest.raises(CliError) as caught:
        split_words("run busybox echo 'oops")
    assert caught.value.key == "cli.bad_quotes"


def test_run_with_everything_after_the_image_for_the_container() -> None:
    cmd = parse_docker("docker run -d --name web busybox httpd -f -p 80")
    assert cmd.path == ("run",)
    assert dict(cmd.flags) == {"detach": True, "name": "web"}
    assert cmd.image == "busybox"
    assert cmd.container_command == ("httpd", "-f", "-p", "80")


@pytest.mark.parametrize(
    ("line", "flags"),
    [
        ("run --name=web x", {"name": "web"}),
        ("run --name web x", {"name": "web"}),
        ("run -e A=B -eC=D -e=E=F x", {"env": ("A=B", "C=D", "E=F")}),
        ("run -dit x", {"detach": True, "interactive": True, "tty": True}),
        ("run -dp 8080:80 x", {"detach": True, "publish": ("8080:80",)}),
        ("run -dp8080:80 x", {"detach": True, "publish": ("8080:80",)}),
        ("run --rm=false x", {"rm": False}),
        ("run -d=false x", {"detach": False}),
        ("run --net backend x", {"network": "backend"}),
        ("run --network=backend x", {"network": "backend"}),
        ("run -v data:/data -v logs:/logs:ro x", {"volume": ("data:/data", "logs:/logs:ro")}),
        ("run --name a --name b x", {"name": "b"}),  # the last one wins, like pflag
        ("run -w /app --entrypoint sh x", {"workdir": "/app", "entrypoint": "sh"}),
        ("run --name -weird x", {"name": "-weird"}),  # a value may start with a dash
    ],
)
def test_flag_spellings(line: str, flags: dict[str, object]) -> None:
    assert dict(parse_docker(line).flags) == flags


def test_double_dash_ends_options() -> None:
    assert parse_docker("docker rm -f -- -odd").args == ("-odd",)
    cmd = parse_docker("docker run busybox -- echo hi")
    assert cmd.container_command == ("--", "echo", "hi")


def test_options_may_follow_positionals_where_docker_allows_it() -> None:
    cmd = parse_docker("docker rm web -f")
    assert (cmd.args, cmd.has("force")) == (("web",), True)
    cmd = parse_docker("docker logs web --tail 5")
    assert (cmd.container, cmd.flag("tail")) == ("web", "5")


def test_exec_and_top_stop_at_the_container() -> None:
    cmd = parse_docker('docker exec -it web sh -c "ls -l /"')
    assert cmd.container == "web"
    assert cmd.container_command == ("sh", "-c", "ls -l /")
    assert cmd.notes == ("cli.note_interactive",)
    assert parse_docker("docker top web -ef").args == ("web", "-ef")


def test_has_values_and_int_flag() -> None:
    cmd = parse_docker("docker run --rm=false -e A=1 -m 64m busybox")
    assert not cmd.has("rm")
    assert cmd.flag("rm") is False
    assert cmd.values("env") == ("A=1",)
    assert cmd.values("volume") == ()
    assert parse_docker("docker logs --tail all web").int_flag("tail", 10) is None
    assert parse_docker("docker logs -n 7 web").int_flag("tail", 10) == 7
    assert parse_docker("docker logs web").int_flag("tail", 10) == 10


@pytest.mark.parametrize(
    ("line", "note"),
    [
        ("run -it busybox sh", "cli.note_interactive"),
        ("exec -t web sh", "cli.note_interactive"),
        ("logs -f web", "cli.note_follow"),
        ("start -a web", "cli.note_attach"),
        ("stats", "cli.note_one_sample"),
    ],
)
def test_notes(line: str, note: str) -> None:
    assert note in parse_docker(line).notes


def test_no_notes_when_flags_are_false_or_absent() -> None:
    assert parse_docker("run -i=false busybox").notes == ()
    assert parse_docker("stats --no-stream").notes == ()


# --- errors name the flag -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key", "named"),
    [
        ("run --foo busybox", "cli.unknown_flag", "--foo"),
        ("run --nmae web busybox", "cli.unknown_flag_hint", "--nmae"),
        ("run -Z busybox", "cli.unknown_shorthand", "Z"),
        ("ps --foo", "cli.unknown_flag", "--foo"),
        ("images --tree", "cli.unsupported_flag", "--tree"),
        ("run --cgroup-rw busybox", "cli.unsupported_flag", "--cgroup-rw"),
        ("run --expose 80-x busybox", "cli.bad_expose", "--expose"),
        ("run -c many busybox", "cli.bad_count", "-c"),
        ("logs --since yesterday web", "cli.bad_timestamp", "--since"),
        ("run -a stdfoo busybox", "cli.bad_attach", "-a"),
        ("run --cpuset-cpus 0-x busybox", "cli.bad_cpuset", "--cpuset-cpus"),
        ("run --ip 10.0.0.300 busybox", "cli.bad_ip", "--ip"),
        ("run --health-interval often busybox", "cli.bad_duration", "--health-interval"),
        ("run --name", "cli.missing_value", "--name"),
        ("run busybox -e", None, None),  # -e after the image belongs to the container
        ("run -e", "cli.missing_value", "-e"),
        ("run --rm=maybe busybox", "cli.bad_bool", "--rm"),
        ("logs --tail ten web", "cli.bad_tail", "--tail"),
        ("logs -n -1 web", "cli.bad_tail", "-n"),
        ("stop -t soon web", "cli.bad_count", "-t"),
        ("ps -n x", "cli.bad_count", "-n"),
        ("run -m lots busybox", "cli.bad_size", "-m"),
        ("run --cpus none busybox", "cli.bad_cpus", "--cpus"),
        ("run --cpus 0 busybox", "cli.bad_cpus", "--cpus"),
        ("kill -s 'not a signal' web", "cli.bad_signal", "-s"),
        ("run --restart sometimes busybox", "cli.bad_restart", "--restart"),
        ("run --pull often busybox", "cli.bad_pull", "--pull"),
        ("search --limit 500 nginx", "cli.bad_limit", "--limit"),
        ("run -l =x busybox", "cli.bad_label", "-l"),
        ("volume create -o nothing x", "cli.bad_option", "-o"),
        ("run --tmpfs run busybox", "cli.bad_path", "--tmpfs"),
        ("inspect --type plugin nginx", "cli.bad_type", "--type"),
    ],
)
def test_errors_name_the_flag(line: str, key: str | None, named: str | None) -> None:
    if key is None:
        parse_docker(line)
        return
    problem = error(line)
    assert problem.key == key
    assert named in problem.params.values()


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("run", "cli.needs_args"),
        ("exec web", "cli.needs_args"),
        ("logs", "cli.needs_args"),
        ("logs web db", "cli.too_many_args"),
        ("ps web", "cli.too_many_args"),
        ("rename web", "cli.needs_args"),
        ("cp a", "cli.needs_args"),
        ("search", "cli.needs_args"),
        ("network create", "cli.needs_args"),
    ],
)
def test_argument_counts(line: str, key: str) -> None:
    problem = error(line)
    assert problem.key == key
    assert problem.params["command"] == "docker " + " ".join(parse_path(line))


def parse_path(line: str) -> tuple[str, ...]:
    words = line.split()
    return ROUTES.get(tuple(words[:2]), ROUTES.get((words[0],), ()))


def test_too_many_args_names_the_extra_argument() -> None:
    assert error("logs web db").params["arg"] == "db"


def test_unknown_flag_suggests_a_known_flag() -> None:
    problem = error("docker run --detatch busybox")
    assert problem.params["hint"] == "--detach"
    assert problem.params["command"] == "docker run"


# --- structured values --------------------------------------------------------------------


def test_parse_publish() -> None:
    assert parse_publish("80") == [PortSpec(80)]
    assert parse_publish("8080:80") == [PortSpec(80, "tcp", None, 8080)]
    assert parse_publish("127.0.0.1:8080:80/udp") == [PortSpec(80, "udp", "127.0.0.1", 8080)]
    assert parse_publish("127.0.0.1::80") == [PortSpec(80, "tcp", "127.0.0.1", None)]
    assert parse_publish("[::1]:8080:80") == [PortSpec(80, "tcp", "::1", 8080)]
    assert [p.host_port for p in parse_publish("8000-8001:80-81")] == [8000, 8001]
    for bad in ("", "http", "70000", "80/icmp", "1:2:3:4", "8000-8002:80-81", "1-100"):
        with pytest.raises(CliError) as caught:
            parse_publish(bad)
        assert caught.value.key == "cli.bad_publish"


def test_parse_volume() -> None:
    assert parse_volume("data:/data") == VolumeSpec("data", "/data")
    assert parse_volume("data:/data:ro").read_only
    assert parse_volume("/data") == VolumeSpec("", "/data")
    assert parse_volume("/data:ro") == VolumeSpec("", "/data", True, ("ro",))
    for path in ("/:/host", "./site:/usr/share/nginx/html", "~/x:/x", "a/b:/x"):
        assert parse_volume(path).is_path
    assert not parse_volume("data:/x").is_path
    for bad in ("data:relative", ":/x", "a:/b:c:d", "data:/x:weird"):
        with pytest.raises(CliError) as caught:
            parse_volume(bad)
        assert caught.value.key == "cli.bad_volume"


def test_parse_mount() -> None:
    mount = parse_mount("type=volume,src=data,dst=/data,readonly")
    assert (mount.type, mount.source, mount.target, mount.read_only) == (
        "volume", "data", "/data", True,
    )  # fmt: skip
    assert parse_mount("target=/x").type == "volume"
    assert parse_mount("type=tmpfs,target=/cache").source == ""
    for bad in ("type=volume,source=x", "type=volume,source=x,target=/x,bogus", "target=/x,ro=no"):
        with pytest.raises(CliError) as caught:
            parse_mount(bad)
        assert caught.value.key == "cli.bad_mount"


def test_parse_copy_both_directions() -> None:
    out = parse_copy(parse_docker("docker cp web:/etc/hostname ./hostname"))
    assert out == CopySpec("web", "/etc/hostname", "./hostname", to_container=False)
    into = parse_copy(parse_docker("docker cp index.html web:/usr/share/nginx/html/"))
    assert into == CopySpec("web", "/usr/share/nginx/html/", "index.html", to_container=True)
    assert parse_copy(parse_docker("docker cp /tmp/a:b web:/x")).local_path == "/tmp/a:b"
    assert error("docker cp a.txt b.txt").key == "cli.cp_no_container"
    assert error("docker cp web:/a db:/b").key == "cli.cp_two_containers"
    assert parse_copy(parse_docker("docker cp - web:/a")) == CopySpec("web", "/a", "-", True)
    assert parse_copy(parse_docker("docker cp web:/a -")) == CopySpec("web", "/a", "-", False)
    assert error("docker cp - -").key == "cli.cp_no_container"


def test_filters_are_validated() -> None:
    cmd = parse_docker("docker ps -a --filter name=web -f status=exited -f name=db")
    assert parse_filters(cmd) == {"name": ("web", "db"), "status": ("exited",)}
    assert error("docker ps -f color=red").params["filter"] == "color=red"
    assert error("docker ps -f status=sleepy").key == "cli.bad_filter_value"
    assert error("docker ps -f name").key == "cli.bad_filter"
    assert error("docker search -f stars=many nginx").key == "cli.bad_filter_value"
    parse_docker("docker search --filter is-official=true --limit 5 nginx")


def test_formats_are_validated() -> None:
    parse_docker("docker ps --format '{{.Names}}'")
    parse_docker("docker ps --format 'table {{.ID}}\\t{{.Names}}\\t{{.Status}}'")
    parse_docker("docker inspect -f '{{.State.Status}} {{json .Config.Env}}' web")
    parse_docker("docker ps --format '{{.Foo}}'")  # a field is known only when it runs
    parse_docker("docker inspect -f '{{range .Mounts}}{{.Source}}{{end}}' web")
    parse_docker("docker inspect -f '{{index .Config.Labels \"a.b\"}}' web")
    problem = error("docker ps --format '{{range .Names}}'")
    assert problem.key == "cli.template_error"
    assert problem.params["error"] == "template parsing error: template: :1: unexpected EOF"
    assert (
        'function "nope" not defined'
        in error("docker inspect -f '{{nope .X}}' web").params["error"]
    )
    assert error("docker ps --format '{{.Names'").key == "cli.template_error"


def test_recognised_but_refused_flags_parse() -> None:
    for flag in (
        "--privileged", "--cap-add X", "--device /dev/x", "--gpus all", "--pid host",
        "--ipc host", "--uts host", "--userns host", "--cgroupns host", "--security-opt x",
        "--sysctl a=b", "--cgroup-parent x", "--runtime x", "--oom-kill-disable",
        "--volumes-from web", "--volume-driver x", "--add-host a:1.2.3.4", "--dns 1.1.1.1",
        "--link web", "--shm-size 1g", "--ulimit nofile=1", "--memory-swap -1",
        "--pids-limit 1", "--log-driver none", "--log-opt a=b", "--platform linux/arm64",
        "--pull always", "--env-file x.env", "--cap-drop ALL",
    ):  # fmt: skip
        cmd = parse_docker(f"docker run {flag} busybox")
        assert cmd.flags, flag


def test_flag_table_is_consistent() -> None:
    for path, spec in COMMANDS.items():
        shorts = [f.short for f in spec.flags if f.short]
        assert len(shorts) == len(set(shorts)), path
        for flag in spec.flags:
            assert flag.check is None or callable(flag.check), (path, flag.name)
        for unsupported in spec.unsupported:
            short, _, long = unsupported.rpartition("|")
            assert long not in spec.by_long, (path, long)
            assert not short or short not in spec.by_short, (path, short)


# --- equivalence and differences (quiz grading) ----------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("docker run -d --name web nginx", "docker run --name=web --detach nginx"),
        ("docker run -d --name web nginx", "run --name web -d nginx"),
        ("docker run -d -i -t busybox sh", "docker run -dit busybox sh"),
        ("docker run -p 8080:80 -e A=1 nginx", "docker run -eA=1 --publish=8080:80 nginx"),
        ("docker run -e A=1 -e B=2 nginx", "docker run -e B=2 -e A=1 nginx"),
        ("docker run --network backend nginx", "docker run --net=backend nginx"),
        ("docker run --rm=false nginx", "docker run nginx"),
        ("docker ps -a", "docker container ls --all"),
        ("docker rm -f web", "docker rm web -f"),
        ("docker volume ls", "docker volume list"),
        ("docker run -p 80 nginx", "docker run -p 80/tcp nginx"),
        ("docker run -v data:/data nginx", "docker run -v data:/data:rw nginx"),
        ("docker run -m 64m nginx", "docker run --memory=67108864 nginx"),
        ("docker run nginx", "docker run docker.io/library/nginx:latest"),
        ("docker pull alpine", "docker image pull library/alpine:latest"),
    ],
)
def test_equivalent_commands(a: str, b: str) -> None:
    first, second = parse_docker(a), parse_docker(b)
    assert equivalent(first, second)
    assert first == second
    assert hash(first) == hash(second)
    assert normalize(first) == normalize(second)
    assert differences(first, second) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("docker run -d nginx", "docker run nginx"),
        ("docker run nginx echo a b", "docker run nginx echo b a"),
        ("docker run -d nginx", "docker run nginx -d"),
        ("docker rm web db", "docker rm db web"),
    ],
)
def test_different_commands(a: str, b: str) -> None:
    assert not equivalent(parse_docker(a), parse_docker(b))


def diff(expected: str, given: str) -> list[Difference]:
    return differences(parse_docker(expected), parse_docker(given))


def test_difference_missing_flag() -> None:
    assert diff("docker run -d --name web nginx", "docker run --name web nginx") == [
        Difference("missing_flag", flag="-d/--detach", expected="true")
    ]


def test_difference_wrong_name() -> None:
    assert diff("docker run -d --name web nginx", "docker run -d --name wbe nginx") == [
        Difference("flag_value", flag="--name", expected="web", given="wbe")
    ]


def test_difference_option_after_image() -> None:
    found = diff("docker run -d --name web nginx", "docker run --name web nginx -d")
    assert found == [Difference("option_after_image", flag="-d/--detach", expected="nginx")]
    found = diff("docker exec -it web sh", "docker exec web -it sh")
    assert {d.kind for d in found} == {"option_after_container", "args"}


def test_difference_extra_flag_image_args_and_subcommand() -> None:
    assert diff("docker run nginx", "docker run --rm nginx") == [
        Difference("extra_flag", flag="--rm", given="true")
    ]
    assert diff("docker run -d nginx", "docker run -d httpd") == [
        Difference("image", expected="nginx", given="httpd")
    ]
    assert diff("docker run busybox echo hi", "docker run busybox echo bye") == [
        Difference("args", expected="echo hi", given="echo bye")
    ]
    assert diff("docker stop web", "docker kill web") == [
        Difference("subcommand", expected="docker stop", given="docker kill")
    ]
    assert diff("docker stop web", "docker stop db") == [
        Difference("args", expected="web", given="db")
    ]


def test_difference_keys_and_params() -> None:
    found = Difference("flag_value", flag="--name", expected="web", given="wbe")
    assert found.key == "cli.diff_flag_value"
    assert found.params == {"flag": "--name", "expected": "web", "given": "wbe"}


def test_command_repr_helpers() -> None:
    cmd = parse_docker("docker volume create data")
    assert cmd.command_name == "docker volume create"
    assert isinstance(cmd, DockerCommand)
    assert cmd.raw == "docker volume create data"
    assert flag_label(("run",), "detach") == "-d/--detach"
    assert flag_label(("run",), "rm") == "--rm"


def test_image_references_are_checked_when_parsing() -> None:
    problem = error("docker run Nginx")
    assert (problem.key, problem.params["image"]) == ("cli.bad_image", "Nginx")
    assert error("docker pull nginx:").key == "cli.bad_image"
    assert parse_docker("docker run nginx@sha256:" + "0" * 64).image.startswith("nginx@")


def test_differences_show_values_as_typed() -> None:
    found = diff("docker run -p 8080:80 nginx", "docker run -p 8081:80 nginx")
    assert found == [
        Difference("flag_value", flag="-p/--publish", expected="8080:80", given="8081:80")
    ]
    assert diff("docker run nginx", "docker run nginx:latest") == []
    assert diff("docker pull alpine", "docker pull alpine:3.20") == [
        Difference("image", expected="alpine", given="alpine:3.20")
    ]


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("10s", 10), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200), ("1.5h", 5400),
     ("+3s", 3), ("1h2m3s4ms", 3723.004)],
)  # fmt: skip
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "-1s", "1d", "s", "1m30", "1 s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_filter_keys_come_from_the_table() -> None:
    for path, spec in COMMANDS.items():
        takes_filters = "filter" in spec.flag_names
        assert takes_filters == bool(spec.filters), path
    assert error("docker volume ls -f dangling=maybe").key == "cli.bad_filter_value"
    assert error("docker container prune --filter color=red").key == "cli.bad_filter"
    parse_docker("docker network prune -f --filter label!=keep")


@pytest.mark.parametrize(
    ("line", "operator"),
    [
        ("logs web | tail -3", "|"),
        ("ps -a && docker rm web", "&&"),
        ("logs web > out.txt", ">"),
        ("logs web 2>&1 | grep GET", ">&"),
        ("logs web 2>/dev/null", ">"),
        ("run -d nginx; docker ps", ";"),
    ],
)
def test_a_shell_operator_outside_quotes_is_named_not_misread_as_an_argument(
    line: str, operator: str
) -> None:
    with pytest.raises(CliError) as caught:
        parse_docker(line)
    assert caught.value.key == "cli.shell_operator"
    assert caught.value.params == {"operator": operator}


def test_quoted_or_escaped_operators_are_plain_text() -> None:
    cmd = parse_docker("""run busybox sh -c 'echo a | tr a b > /tmp/x' "x;y" \\| \\&""")
    assert cmd.container_command == ("sh", "-c", "echo a | tr a b > /tmp/x", "x;y", "|", "&")


def test_a_trailing_2_to_1_is_what_the_sandbox_does_anyway() -> None:
    cmd = parse_docker("exec side wget -qO- http://api/ 2>&1")
    assert cmd.container_command == ("wget", "-qO-", "http://api/")
