"""The wording and quiz-design rules of :mod:`bot.content.lint`, one rule at a time."""

from __future__ import annotations

import pytest

from bot.content.lint import (
    MAX_LONGEST_SHARE,
    Glossary,
    glossary_problems,
    korean_problems,
    longest_option_stats,
    longest_option_warning,
    particle_problems,
    prose,
    strictly_longest,
    typo_problems,
    variant_problems,
)

GLOSSARY = Glossary.from_mapping(
    {
        "terms": [
            {"en": "routing table", "ko": "라우팅 테이블", "avoid": ["라우팅 표"]},
            {"en": "package", "ko": "패키지", "avoid": ["꾸러미"]},
        ],
        "phrases": [{"avoid": "계수기", "use": "사용량 카운터"}],
        "contexts": [{"avoid": "연결", "near": ["볼륨", "-v "], "use": "마운트"}],
        "typos": ["Doxker"],
    }
)


# --- glossary ---------------------------------------------------------------------------
def test_avoided_terms_and_literal_translations_are_named() -> None:
    problems = glossary_problems("라우팅 표와 계수기를 봐요. 이미지는 꾸러미예요.", GLOSSARY)
    assert any("'라우팅 표'" in p and "'라우팅 테이블'" in p for p in problems)
    assert any("'계수기'" in p and "사용량 카운터" in p for p in problems)
    assert any("'꾸러미'" in p for p in problems)
    assert glossary_problems("라우팅 테이블과 사용량 카운터를 봐요.", GLOSSARY) == []


def test_code_and_placeholders_are_not_prose() -> None:
    assert prose("`라우팅 표` 는 {avoid} 예요") == "  는   예요"
    assert glossary_problems("명령은 `echo 계수기` 예요.", GLOSSARY) == []
    assert glossary_problems("```\n라우팅 표\n```\n좋아요.", GLOSSARY) == []


def test_a_word_is_wrong_only_next_to_its_context() -> None:
    assert glossary_problems("컨테이너를 네트워크에 연결해요.", GLOSSARY) == []
    problems = glossary_problems("볼륨을 /data 에 연결해요. 네트워크는 좋아요.", GLOSSARY)
    assert len(problems) == 1 and "마운트" in problems[0]
    assert glossary_problems("`-v data:/data` 로 연결해요.", GLOSSARY)


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("Docker가 이름을 지어 줬어요.", True),
        ("Docker는 공개 레지스트리예요.", True),
        ("Docker Hub에서 받아요.", False),
        ("Docker Desktop은 가상 머신을 띄워요.", False),
        ("도커가 이름을 지어 줬어요.", False),
        ("`Docker가` 라고 쓰지 마세요.", False),
    ],
)
def test_docker_before_a_korean_particle_is_written_dokeo(text: str, wrong: bool) -> None:
    assert bool(glossary_problems(text, GLOSSARY)) is wrong


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("컨테이너 id를 출력해요.", True),
        ("짧은 id가 보여요.", True),
        ("컨테이너 ID를 출력해요.", False),
        ("`docker exec web id` 를 실행해요.", False),
        ("`{id}` 개념이 없어요.", False),
        ("idle 상태", False),
    ],
)
def test_a_lowercase_id_in_korean_prose_is_flagged(text: str, wrong: bool) -> None:
    assert bool(glossary_problems(text, GLOSSARY)) is wrong


def test_typos_are_found_anywhere() -> None:
    assert typo_problems("`Doxker` 라고 쓴 곳", GLOSSARY.typos) == [
        "the study text's typo 'Doxker'"
    ]
    assert typo_problems("Docker", GLOSSARY.typos) == []


def test_the_glossary_reads_its_yaml_shape() -> None:
    empty = Glossary.from_mapping({})
    assert empty.terms == () and empty.typos == ()
    assert GLOSSARY.terms[0].avoid == ("라우팅 표",)


# --- particles --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "`{flag}` 가 빠졌어요.",
        "`{value}` 는 안 돼요.",
        "“{topic}” 이라는 개념은 없어요.",
        "이제부터 {name}로 답할게요.",
        "`{expected}` 여야 해요.",
        "다음 복습은 {when}이에요.",
    ],
)
def test_a_particle_after_a_placeholder_must_not_guess(text: str) -> None:
    [problem] = particle_problems(text)
    assert "unknown" in problem


@pytest.mark.parametrize(
    "text",
    [
        "`{flag}` 이(가) 빠졌어요.",
        "`{value}` 은(는) 안 돼요.",
        "{name}(으)로 답할게요.",
        "`{flag}` 옵션이 빠졌어요.",
        "{seconds}초가 지났어요.",
        "`{image}` 이미지를 받았어요.",
        "`{command}` 에는 값이 필요해요.",
    ],
)
def test_combined_forms_or_no_particle_are_fine(text: str) -> None:
    assert particle_problems(text) == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("`docker stop 이름` 은 멈춰요.", True),
        ("`docker stop 이름` 는 멈춰요.", False),
        ("`-p 8080:80` 은 게시해요.", True),  # 팔십: a final consonant
        ("`-p 8080:80` 는 게시해요.", False),
        ("`sleep 5` 가 끝나요.", True),  # 오: no final consonant
        ("`sleep 5` 이 끝나요.", False),
        ("`exit 1` 로 끝나요.", True),  # 일 ends in ㄹ: 로
        ("`exit 3` 으로 끝나요.", True),
        ("`exit 3` 로 끝나요.", False),
        ("`cpus 0.5` 는 절반이에요.", True),
        ("`nginx` 는 웹 서버예요.", True),  # Latin: not judged
        ("`nginx` 은 웹 서버예요.", True),
        ("(보통 `overlay2`)이 보여 줘요.", True),  # the particle belongs to the word before
    ],
)
def test_particles_after_code_that_can_be_read_for_sure(text: str, ok: bool) -> None:
    assert (particle_problems(text) == []) is ok


def test_korean_problems_combines_both_checks() -> None:
    problems = korean_problems("라우팅 표에서 `{value}` 는 없어요.", GLOSSARY)
    assert len(problems) == 2


# --- multiple choice --------------------------------------------------------------------
def test_strictly_longest_needs_every_other_option_shorter() -> None:
    assert strictly_longest(["a long right answer", "short", "tiny"], 0)
    assert not strictly_longest(["same size", "same size"], 0)
    assert not strictly_longest(["short", "a longer wrong one"], 0)


def test_longest_option_stats_per_language_and_either() -> None:
    questions = [
        ({"en": ["right and long", "no"], "ko": ["짧음", "더 긴 오답"]}, 0),
        ({"en": ["ok", "wrong one"], "ko": ["맞음", "틀림"]}, 0),
        ({"en": ["x", "yy"], "ko": ["가나다라", "가"]}, 0),
        ({"en": ["aa", "b"], "ko": ["가나", "다"]}, 1),
    ]
    stats = longest_option_stats(questions)
    assert (stats.total, stats.longest["en"], stats.longest["ko"], stats.either) == (4, 1, 1, 2)
    assert stats.share() == 0.5 and not stats.ok()
    assert "either language 2/4" in stats.render()
    assert longest_option_stats([]).share() == 0.0 and MAX_LONGEST_SHARE == 0.25


def test_longest_option_warning_names_the_languages() -> None:
    warning = longest_option_warning(
        {"en": ["right and long", "no"], "ko": ["짧음", "더 긴 오답"]}, 0
    )
    assert warning is not None and "(en)" in warning
    assert longest_option_warning({"en": ["a", "bb"], "ko": ["가", "나다"]}, 0) is None


# --- typed commands ---------------------------------------------------------------------
def test_a_typed_question_needs_variants_and_a_near_miss() -> None:
    problems = variant_problems("docker ps -a", [], [])
    assert any(p.startswith("variants:") for p in problems)
    assert any(p.startswith("reject:") for p in problems)
    assert variant_problems("docker ps -a", [], ["docker ps"], variants=["docker ps --all"]) == []
    assert variant_problems("docker top box", ["docker exec box ps"], ["docker ps"]) == []


def test_a_line_listed_twice_is_a_problem() -> None:
    problems = variant_problems("docker ps -a", [], ["docker ps"], variants=["docker ps -a"])
    assert problems == ["'docker ps -a' is listed more than once"]


def test_the_grader_must_agree_with_the_lists() -> None:
    right = {"docker ps -a", "docker ps --all"}
    grade = right.__contains__
    assert variant_problems("docker ps -a", [], ["docker ps"], grade, ["docker ps --all"]) == []
    problems = variant_problems(
        "docker ps -a", [], ["docker ps --all"], grade, ["docker container ls -a"]
    )
    assert "accepted line 'docker container ls -a' is graded wrong" in problems
    assert "rejected line 'docker ps --all' is graded right" in problems


def test_an_accept_line_the_equivalences_already_take_belongs_in_variants() -> None:
    by_answer = {"docker ps -a", "docker ps --all"}.__contains__
    problems = variant_problems(
        "docker ps -a", ["docker ps --all"], ["docker ps"], grade_answer_only=by_answer
    )
    assert problems == [
        "accept line 'docker ps --all' is already graded right by the grader's "
        "equivalences: move it to variants"
    ]
