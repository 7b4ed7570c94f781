"""The one safety policy: every rule refuses its example and allows its counterpart; image
references; and every message key the parser and the policy use exists in both languages."""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.core.errors import Refused
from bot.core.i18n import Catalog
from bot.dockercli import CliError, Difference, DockerCommand, hub, parse_docker
from bot.dockercli.values import ImageRef, parse_image_reference
from bot.sandbox import policy
from bot.sandbox.policy import (
    RULES,
    PolicyConfig,
    Rule,
    check,
    check_image_reference,
    enforce,
)
from bot.sandbox.presenter import HINTS
from bot.settings import SandboxSettings
from tests.conftest import CONTENT

CONFIG = PolicyConfig.from_settings(SandboxSettings())


def test_config_from_settings() -> None:
    settings = SandboxSettings()
    assert CONFIG.image_allowlist == settings.image_allowlist
    assert CONFIG.max_memory_bytes == settings.limits.memory_bytes
    assert CONFIG.max_nano_cpus == settings.limits.nano_cpus
    assert CONFIG.label_prefix == "org.docker-coach."


def test_rule_names_are_unique() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_each_rule_refuses_its_example(rule: Rule) -> None:
    cmd = parse_docker("docker " + rule.refused)
    assert cmd.path in rule.commands
    verdict = check(cmd, CONFIG)
    assert not verdict.allowed
    assert verdict.refusal is not None
    assert verdict.refusal.key == rule.message_key
    params = verdict.refusal.params
    assert params["flag"] == (f"--{rule.flag}" if rule.flag else rule.label)
    # the message names the flag, or for a positional (image, term) the argument itself
    named = params["flag"] if rule.flag else params["value"]
    for locale in ("en", "ko"):
        assert named and named in _CATALOG.t(locale, rule.message_key, **params)
    with pytest.raises(Refused) as caught:
        enforce(cmd, CONFIG)
    assert caught.value.key == rule.message_key


@pytest.mark.parametrize("rule", [r for r in RULES if r.allowed], ids=lambda rule: rule.name)
def test_each_rule_allows_its_counterpart(rule: Rule) -> None:
    assert rule.allowed is not None
    verdict = check(parse_docker("docker " + rule.allowed), CONFIG)
    assert verdict.allowed, verdict.refusal
    assert verdict.refusal is None


_CATALOG, _PROBLEMS = Catalog.load(CONTENT / "i18n")


def _message(key: str, params: dict[str, object]) -> str:
    return _CATALOG.t("en", key, **params)


@pytest.mark.parametrize(
    "line",
    [
        "run --privileged busybox",
        "run -v /:/host busybox",
        "run --pid host busybox",
        "run --network host busybox",
        "volume create -o type=none -o o=bind -o device=/etc x",
        "run --network container:abc busybox",
        "run -v /var/run/docker.sock:/s busybox",
        "run --mount type=bind,src=/,dst=/host busybox",
        "run -w //proc/self/fd/8 busybox",
        "run -w /proc/../proc/1 busybox",
        "run --label ORG.DOCKER-COACH.owner=bob busybox",
        "run -m 1g busybox",
        "run --cpus 1.5 busybox",
        "run 127.0.0.1:5000/busybox",
        "run localhost/busybox",
        "pull quay.io/prometheus/busybox",
        "run library/ubuntu",
        "exec --privileged web sh",
        "exec -w /proc/1/root web sh",
        "network create --subnet 10.0.0.0/8 x",
        "run --restart=on-failure:3 busybox",
    ],
)
def test_the_issue_refusals(line: str) -> None:
    with pytest.raises(Refused):
        enforce(parse_docker(line), CONFIG)


@pytest.mark.parametrize(
    "line",
    [
        "run -d --name web busybox httpd -f -p 80",
        "run --rm -it -e MODE=dev -w /app busybox sh",
        "run -d -p 8080:80 -v site:/usr/share/nginx/html:ro nginx",
        "run --mount type=volume,source=data,target=/data busybox",
        "run --tmpfs /cache --read-only -u 1000 --init busybox",
        "run -m 64m --cpus 0.5 --restart no --cap-drop ALL busybox",
        "run --network none --hostname box -l app=shop busybox",
        "run docker.io/library/busybox:1.36",
        "run busybox@sha256:" + "a" * 64,
        "create --name db redis:7",
        "exec -u 0 web id",
        "cp -L web:/etc/hostname .",
        "pull alpine:3.20",
        "volume create -d local data",
        "network create --internal backend",
        "network connect --alias db backend web",
        "stop -t 10 web",
        "search nginx",
        "ps -a",
    ],
)
def test_ordinary_commands_are_allowed(line: str) -> None:
    verdict = check(parse_docker(line), CONFIG)
    assert verdict.allowed, verdict.refusal


def test_limits_are_named_in_the_refusal() -> None:
    with pytest.raises(Refused) as caught:
        enforce(parse_docker("run -m 1g busybox"), CONFIG)
    assert caught.value.params["limit"] == "128m"
    assert "128m" in _message(caught.value.key, caught.value.params)
    with pytest.raises(Refused) as caught:
        enforce(parse_docker("run --cpus 2 busybox"), CONFIG)
    assert caught.value.params["limit"] == "0.5"


def test_notes_from_parser_and_policy() -> None:
    notes = enforce(parse_docker("run -it -p 8080:80 nginx"), CONFIG)
    assert notes == ("cli.note_interactive",)  # the run itself tells what -p does
    assert enforce(parse_docker("ps"), CONFIG) == ()


# --- image references -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("nginx", ImageRef("nginx", "latest")),
        ("nginx:1.27", ImageRef("nginx", "1.27")),
        ("library/nginx", ImageRef("nginx")),
        ("docker.io/library/nginx:alpine", ImageRef("nginx", "alpine")),
        ("index.docker.io/nginx", ImageRef("nginx")),
        ("bitnami/nginx", ImageRef("bitnami/nginx")),
        ("quay.io/x/y:1", ImageRef("x/y", "1", None, "quay.io")),
        ("127.0.0.1:5000/busybox", ImageRef("busybox", "latest", None, "127.0.0.1:5000")),
        ("localhost/busybox", ImageRef("busybox", "latest", None, "localhost")),
        ("nginx@sha256:" + "0" * 64, ImageRef("nginx", "latest", "sha256:" + "0" * 64)),
    ],
)
def test_parse_image_reference(ref: str, expected: ImageRef) -> None:
    assert parse_image_reference(ref) == expected


@pytest.mark.parametrize("ref", ["Nginx", "nginx:", "nginx@sha256:xyz", "-x", "a//b", "nginx:a b"])
def test_malformed_image_references(ref: str) -> None:
    with pytest.raises(CliError) as caught:
        parse_image_reference(ref)
    assert caught.value.key == "cli.bad_image"
    assert caught.value.params["image"] == ref


def test_check_image_reference() -> None:
    assert check_image_reference("busybox", CONFIG).name == "busybox:latest"
    assert check_image_reference("docker.io/library/redis:7", CONFIG).name == "redis:7"
    with pytest.raises(Refused) as caught:
        check_image_reference("ubuntu", CONFIG)
    assert caught.value.key == "policy.image_not_allowed"
    assert "busybox" in caught.value.params["allowed"]
    with pytest.raises(Refused) as caught:
        check_image_reference("quay.io/busybox", CONFIG)
    assert (caught.value.key, caught.value.params["registry"]) == ("policy.registry", "quay.io")


def test_allowlist_entries_may_be_namespaces_or_full_names() -> None:
    config = PolicyConfig(("docker.io/library/nginx", "bitnami/*"), 1 << 30, 10**9)
    assert check_image_reference("nginx:1.27", config).repository == "nginx"
    assert check_image_reference("bitnami/redis", config).repository == "bitnami/redis"
    with pytest.raises(Refused):
        check_image_reference("bitnamix/redis", config)


# --- message catalogs -------------------------------------------------------------------

_PACKAGES = (Path(policy.__file__ or "").parent, Path(parse_docker.__code__.co_filename).parent)
_SOURCES = sorted(path for package in _PACKAGES for path in package.rglob("*.py"))


def _keys_in_sources() -> set[str]:
    """Every message key the grammar and the sandbox name in their source."""
    keys: set[str] = set()
    for source in _SOURCES:
        text = source.read_text(encoding="utf-8")
        keys |= set(re.findall(r'"((?:cli|policy|sandbox)\.[a-z_.]*[a-z])"', text))
        keys |= {
            "cli.bad_" + kind for kind in re.findall(r'bad_value\(flag, value, "(\w+)"\)', text)
        }
    keys |= {rule.message_key for rule in RULES}
    kinds = ("subcommand", "missing_flag", "extra_flag", "flag_value", "image", "args")
    keys |= {Difference(kind).key for kind in (*kinds, "option_after_image")}
    keys |= {Difference("option_after_container").key}
    keys |= {key for _needle, key in HINTS}
    return keys


def test_every_key_exists_in_both_languages() -> None:
    keys = _keys_in_sources()
    assert len(keys) > 150
    assert {"cli.bad_duration", "sandbox.rename_alias_failed", "policy.undecided"} <= keys
    missing = sorted(key for key in keys if not _CATALOG.has(key))
    assert missing == []
    assert not [p for p in _PROBLEMS if p.endswith(("cli.yaml", "policy.yaml", "sandbox.yaml"))]
    for key in keys:
        english = _CATALOG.t("en", key)
        if "Error" in english.split(":", 1)[0]:
            continue  # docker's own words, which docker prints in English everywhere
        assert _CATALOG.t("ko", key) != english, key


def test_rule_table_prints_for_the_docs() -> None:
    table = policy.rules_markdown()
    assert table.count("\n") == len(RULES) + 1
    assert "`docker run --privileged busybox`" in table


def test_check_never_raises_even_for_a_hand_made_command() -> None:
    made = DockerCommand(("run",), MappingProxyType({}), ("Not An Image!",))
    verdict = check(made, CONFIG)
    assert verdict.refusal is not None
    assert verdict.refusal.key == "policy.image_not_allowed"


# --- images that exist nowhere vs images the sandbox will not pull ---------------------


@pytest.mark.parametrize(
    ("ref", "could"),
    [("mysite:v1", False), ("nosuchimage", False), ("ubuntu", True), ("hello-world", True),
     ("library/postgres:16", True), ("bitnami/redis", True), ("quay.io/mysite", True)],
)  # fmt: skip
def test_a_one_word_name_outside_dockers_official_images_exists_nowhere(
    ref: str, could: bool
) -> None:
    assert hub.could_exist(parse_image_reference(ref)) is could


def test_pulling_a_name_that_exists_nowhere_is_not_a_refusal() -> None:
    """docker's own answer (pull access denied) comes from the operation; a name a registry may
    have is still the allowlist's refusal."""
    assert check(parse_docker("docker pull mysite:v1"), CONFIG).refusal is None
    for line in ("docker pull ubuntu", "docker pull bitnami/redis"):
        refusal = check(parse_docker(line), CONFIG).refusal
        assert refusal is not None and refusal.key == "policy.image_not_allowed"
    refusal = check(parse_docker("docker pull quay.io/mysite"), CONFIG).refusal
    assert refusal is not None and refusal.key == "policy.registry"
