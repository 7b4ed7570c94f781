"""The engine's words for a worker in trouble never reach a learner: they get our message,
with the infrastructure's title (issue 11: Docker's raw "could not find an available,
non-overlapping IPv4 address pool" reached 30 learners of a class)."""

from __future__ import annotations

import pytest

from bot.core.errors import Unavailable
from bot.sandbox.presenter import Presenter
from tests.sandbox.engine_support import tr

DAEMON = "Error response from daemon: "


@pytest.mark.parametrize(
    ("engine_text", "key"),
    [
        (
            "could not find an available, non-overlapping IPv4 address pool among the "
            "defaults to assign to the network",
            "sandbox.networks_full",
        ),
        ("write /var/lib/docker/tmp/x: no space left on device", "sandbox.worker_disk_full"),
        ("failed to create shim task: OCI runtime create failed", "sandbox.worker_trouble"),
    ],
)
def test_a_worker_in_trouble_is_our_message(engine_text: str, key: str) -> None:
    error = Presenter.engine_error(tr(), DAEMON + engine_text)
    assert isinstance(error, Unavailable) and error.key == key
    shown = tr()(error.key, **error.params)
    assert engine_text[:20] not in shown and "not your mistake" in shown


def test_the_learners_own_doing_is_still_the_engines_answer_with_a_hint() -> None:
    taken = DAEMON + "driver failed programming external connectivity: port is already allocated"
    error = Presenter.engine_error(tr(), taken)
    assert not isinstance(error, Unavailable) and error.params["hint"]


def test_a_network_name_taken_is_told_how_to_remove_a_network() -> None:
    error = Presenter.engine_error(tr(), DAEMON + "network with name n1 already exists")
    assert "/docker network rm NAME" in error.params["hint"]
    assert "rm -f" not in error.params["hint"]  # a container's removal
