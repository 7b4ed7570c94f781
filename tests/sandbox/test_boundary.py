"""The one place docker-py's and requests' exceptions become the coach's own."""

from __future__ import annotations

import io

import pytest
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from bot.core.errors import CoachError
from bot.sandbox.errors import EngineConflict, EngineError, EngineNotFound, WorkerDown
from bot.sandbox.workers import engine_call, engine_failure


def _response(status: int, text: str = "") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.raw = io.BytesIO(text.encode())
    return response


@pytest.mark.parametrize(
    ("raised", "kind", "status"),
    [
        (NotFound("404", _response(404), explanation="No such container: x"), EngineNotFound, 404),
        (ImageNotFound("404", _response(404), explanation=b"No such image"), EngineNotFound, 404),
        (APIError("409", _response(409), explanation="is not running"), EngineConflict, 409),
        (APIError("500", _response(500), explanation="has active endpoints"), EngineError, 500),
        (requests.HTTPError(response=_response(404, "no such path")), EngineNotFound, 404),
    ],
)
def test_engine_answers_keep_status_and_explanation(
    raised: Exception, kind: type[EngineError], status: int
) -> None:
    mapped = engine_failure(raised)
    assert type(mapped) is kind and isinstance(mapped, CoachError)
    assert mapped.status == status and mapped.explanation
    assert isinstance(mapped.explanation, str)


@pytest.mark.parametrize(
    "raised",
    [
        requests.ConnectionError("refused"),
        requests.Timeout("read timed out"),
        ConnectionResetError("reset"),
        DockerException("Error while fetching server API version: connection refused"),
    ],
)
def test_an_engine_that_does_not_answer_is_a_worker_down(raised: Exception) -> None:
    assert isinstance(engine_failure(raised), WorkerDown)


def test_anything_else_is_not_the_boundarys_to_map() -> None:
    assert engine_failure(ValueError("a bug")) is None
    assert isinstance(engine_failure(DockerException("bad argument")), EngineError)


def test_engine_call_maps_and_chains() -> None:
    def refuse() -> None:
        raise APIError("409", _response(409), explanation="name in use")

    with pytest.raises(EngineConflict) as caught:
        engine_call(refuse)
    assert isinstance(caught.value.__cause__, APIError)
    with pytest.raises(ValueError):
        engine_call(int, "not a number")
