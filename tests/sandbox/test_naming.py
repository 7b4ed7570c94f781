"""Instances in labels: each coach sees its own objects; unlabeled ones are "default"."""

from __future__ import annotations

import pytest

from bot.core.errors import ConfigError
from bot.sandbox import naming
from bot.settings import load_settings


def _labeled(scope: naming.Scope, drop_instance: bool = False) -> dict:
    labels = scope.labels(naming.KIND_CONTAINER, "web")
    if drop_instance:
        del labels[naming.INSTANCE]
    return {"Id": scope.instance + ("-old" if drop_instance else ""), "Labels": labels}


def test_scopes_of_two_instances_never_own_each_others_objects() -> None:
    staging = naming.Scope("alice", "ab12cd34", "staging")
    default = naming.Scope("alice", "ab12cd34")
    assert staging.labels(naming.KIND_HOST, "host")[naming.INSTANCE] == "staging"
    assert f"{naming.INSTANCE}=staging" in staging.filters()["label"]
    assert not any(f.startswith(naming.INSTANCE) for f in default.filters()["label"])
    listed = [_labeled(staging), _labeled(default), _labeled(default, drop_instance=True)]
    assert [item["Id"] for item in staging.mine(listed)] == ["staging"]
    assert [item["Id"] for item in default.mine(listed)] == ["default", "default-old"]
    assert naming.instance_of({}) == naming.DEFAULT_INSTANCE


@pytest.mark.parametrize("value", ["", "-x", "has space", "a/b", "x" * 64])
def test_instance_must_be_a_plain_label_value(value: str) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ={"COACH_SANDBOX__INSTANCE": value})


def test_instance_from_the_environment() -> None:
    settings = load_settings(environ={"COACH_SANDBOX__INSTANCE": "staging-2"})
    assert settings.sandbox.instance == "staging-2"
    assert load_settings(environ={}).sandbox.instance is None  # the database's own


def test_engine_text_in_the_learners_names() -> None:
    scope = naming.Scope("u1", "ab12cd34", "prod")
    web, other = "a" * 64, "b" * 64
    text = (
        f'Conflict. The container name "/dc-ab12cd34-web" is already in use by container "{web}".'
        f" Network dc-ab12cd34--net, host dc-ab12cd34--host, elsewhere dc-00ff00ff-db, {other}"
    )
    assert naming.has_full_id(text) and not naming.has_full_id("id " + "a" * 63)
    shown = naming.for_user(text, scope, {web: "web"})
    assert shown == (
        'Conflict. The container name "/web" is already in use by container "web".'
        f" Network bridge, host host, elsewhere db, {other[:12]}"
    )
    assert "dc-" not in shown and not naming.has_full_id(shown)
