"""Concept lookup behaves with the real content: names, aliases, prefixes, typos."""

from __future__ import annotations

import pytest

from bot.concepts.index import ConceptIndex
from bot.concepts.validation import CONCEPTS
from bot.content.library import ContentLibrary


@pytest.fixture(scope="module")
def index(library: ContentLibrary) -> ConceptIndex:
    return ConceptIndex(library.items(CONCEPTS).values())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("볼륨", "volume"),
        ("volume", "volume"),
        ("volum", "volume"),
        ("container lifecycle", "container-lifecycle"),
        ("컨테이너 생명주기", "container-lifecycle"),
        ("lifecycle", "container-lifecycle"),
        ("라이프사이클", "container-lifecycle"),
        ("도커 허브", "docker-hub"),
        ("docker hub", "docker-hub"),
        ("포트", "port-publishing"),
        ("port", "port-publishing"),
        ("cp", "docker-cp"),
        ("copy", "docker-cp"),
        ("복사", "docker-cp"),
        ("docker cp", "docker-cp"),
        ("이미지", "image"),
        ("네트워크", "user-defined-network"),
        ("가상머신", "vm-vs-container"),
        ("vm", "vm-vs-container"),
        ("wsl", "docker-desktop"),
        ("chroot", "container-history"),
        ("환경 변수", "env-vars"),
        ("bind mount", "bind-mount"),
        ("네임스페이스", "namespaces"),
        ("cgroups", "cgroups"),
        ("compose", "docker-compose"),
        ("Dockerfile", "dockerfile"),
        ("CLI", "cli"),
        ("프로세스", "program-process"),
    ],
)
def test_names_people_type_open_the_concept(index: ConceptIndex, query: str, expected: str) -> None:
    found = index.find(query)
    assert found is not None and found.id == expected, (query, found and found.id)


def test_a_typo_gets_did_you_mean(index: ConceptIndex) -> None:
    assert index.find("contaner") is None
    assert index.suggest("contaner")[0].id == "container"


def test_every_name_of_a_concept_opens_that_concept(
    library: ContentLibrary, index: ConceptIndex
) -> None:
    wrong = {}
    for concept in library.items(CONCEPTS).values():
        for name in concept.names():
            found = index.exact(name)
            if found is None or found.id != concept.id:
                wrong[name] = (concept.id, found and found.id)
    assert wrong == {}
