"""Checks of the course's wording and of its quiz design, as pure functions over plain data.

Nothing here reads files or imports a capability: callers pass strings, lists and mappings
(the glossary as parsed from ``content/glossary.yaml``, a question's options and answer) and
get back a list of problems, each a short sentence. ``content check`` runs them over every
Korean text and every question; the tests in ``tests/content/test_lint.py`` pin each rule.

* :func:`glossary_problems` — one Korean term per English term: spellings and literal
  translations the glossary rules out, ``연결`` where a mount is meant, ``Docker가`` for
  ``도커가``, a lowercase ``id`` in Korean prose.
* :func:`particle_problems` — a particle written after a placeholder (``{flag}``) must not
  guess the final consonant of a value it cannot see: ``이(가)``, ``은(는)``, ``(으)로`` or no
  particle. After code it checks what can be read for sure: a Korean word or a number.
* :func:`typo_problems` — the study text's typos never appear in our own text.
* :func:`strictly_longest` and :func:`longest_option_stats` — a multiple-choice question whose
  right option is the strictly longest can be guessed; ``content check`` warns about each one
  and the course keeps them under :data:`MAX_LONGEST_SHARE`.
* :func:`variant_problems` — a typed-command question lists the variants it accepts and at
  least one near miss it rejects; given a grader, each must grade as the content claims.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_LONGEST_SHARE = 0.25
"""At most this share of multiple-choice questions may have the strictly longest right option."""

# --- glossary --------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One English term, its Korean translation and the spellings that must not be used."""

    en: str
    ko: str
    avoid: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phrase:
    """A literal translation found in review, and what to write instead."""

    avoid: str
    use: str


@dataclass(frozen=True)
class ContextRule:
    """``avoid`` must not appear in a sentence that also contains one of ``near``."""

    avoid: str
    near: tuple[str, ...]
    use: str


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...] = ()
    phrases: tuple[Phrase, ...] = ()
    contexts: tuple[ContextRule, ...] = ()
    typos: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Glossary:
        """The glossary from ``content/glossary.yaml`` as parsed (a plain mapping)."""
        return cls(
            terms=tuple(
                Term(str(t["en"]), str(t["ko"]), tuple(map(str, t.get("avoid") or ())))
                for t in data.get("terms") or ()
            ),
            phrases=tuple(
                Phrase(str(p["avoid"]), str(p["use"])) for p in data.get("phrases") or ()
            ),
            contexts=tuple(
                ContextRule(str(c["avoid"]), tuple(map(str, c["near"])), str(c["use"]))
                for c in data.get("contexts") or ()
            ),
            typos=tuple(map(str, data.get("typos") or ())),
        )


_FENCE = re.compile(r"```.*?(```|$)", re.S)
_CODE = re.compile(r"`[^`\n]*`")
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# "Docker" written straight before a Korean particle: Korean text says 도커 (product names
# such as "Docker Hub" or "Docker Desktop" are followed by a space and stay as they are).
_DOCKER_PARTICLE = re.compile(r"Docker(?=[가-힣])")
# A lowercase "id" in prose (code spans are removed first): Korean text writes "ID".
_LOWERCASE_ID = re.compile(r"(?<![A-Za-z0-9_./{-])id(?![A-Za-z0-9_-])")


def prose(text: str) -> str:
    """``text`` without code blocks, code spans and placeholders (each becomes one space)."""
    text = _FENCE.sub(" ", text)
    text = _CODE.sub(" ", text)
    return _PLACEHOLDER.sub(" ", text)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def glossary_problems(text: str, glossary: Glossary) -> list[str]:
    """Problems with the terms used in a Korean ``text`` (code and placeholders ignored)."""
    plain = prose(text)
    found: list[str] = []
    for term in glossary.terms:
        for bad in term.avoid:
            if bad in plain:
                found.append(f"uses {bad!r}; the glossary says {term.ko!r} ({term.en})")
    for phrase in glossary.phrases:
        if phrase.avoid in plain:
            found.append(f"literal translation {phrase.avoid!r}; write {phrase.use!r}")
    for rule in glossary.contexts:
        for sentence in sentences(text):
            if rule.avoid in prose(sentence) and any(n in sentence for n in rule.near):
                found.append(f"{rule.avoid!r} next to {_first(rule.near, sentence)!r}: {rule.use}")
                break
    if _DOCKER_PARTICLE.search(plain):
        found.append("'Docker' before a Korean particle: write 도커 (Docker Hub stays as is)")
    if _LOWERCASE_ID.search(plain):
        found.append("lowercase 'id' in Korean prose: write ID (or put the flag in `code`)")
    return found


def _first(words: Iterable[str], text: str) -> str:
    return next(word for word in words if word in text)


def typo_problems(text: str, typos: Iterable[str]) -> list[str]:
    return [f"the study text's typo {typo!r}" for typo in typos if typo in text]


# --- particles -------------------------------------------------------------------------

# Particles whose form depends on the final consonant of the word before: (after a final
# consonant, after a vowel). Longer ones first so that 이에요 is not read as 이.
_PAIRS: tuple[tuple[str, str], ...] = (
    ("이에요", "예요"),
    ("이어야", "여야"),
    ("이라는", "라는"),
    ("이라고", "라고"),
    ("이라도", "라도"),
    ("이랑", "랑"),
    ("이나", "나"),
    ("으로", "로"),
    ("이", "가"),
    ("은", "는"),
    ("을", "를"),
    ("과", "와"),
)
_PARTICLE = "|".join(sorted({p for pair in _PAIRS for p in pair}, key=len, reverse=True))
# A particle is a whole word: nothing Korean right after it (이미지 is not the particle 이).
_AFTER = re.compile(rf"[`”\"'’]?\s?({_PARTICLE})(?![가-힣])")
_COMBINED = re.compile(r"[`”\"'’]?\s?(\(으\)로|\(이\)|[이은을과가는를와]\([이은을과가는를와]\))")
_DIGITS = "영일이삼사오육칠팔구"


def _final_consonant(word: str) -> str | None:
    """'yes', 'no' or 'rieul' (ㄹ) for how ``word`` ends when read aloud; None: cannot tell."""
    if not word:
        return None
    last = word[-1]
    if "가" <= last <= "힣":
        tail = (ord(last) - ord("가")) % 28
        return "no" if tail == 0 else "rieul" if tail == 8 else "yes"
    number = re.search(r"(\d+(?:\.\d+)?)$", word)
    if number:
        return _number_ending(number.group(1))
    return None


def _number_ending(number: str) -> str:
    """How a number read in Sino-Korean ends: 80 팔십 (yes), 8 팔 (rieul), 5 오 (no)."""
    whole, _, fraction = number.partition(".")
    if fraction:
        return _final_consonant(_DIGITS[int(fraction[-1])]) or "no"
    if set(whole) == {"0"}:
        return "yes"  # 영
    stripped = whole.rstrip("0")
    if len(stripped) < len(whole):
        return "yes"  # 십, 백, 천, 만 all end in a consonant
    return _final_consonant(_DIGITS[int(stripped[-1])]) or "no"


def _right_form(particle: str, ending: str) -> bool:
    for with_consonant, without in _PAIRS:
        if particle in (with_consonant, without):
            if with_consonant == "으로":
                return particle == ("로" if ending in ("no", "rieul") else "으로")
            return particle == (with_consonant if ending != "no" else without)
    return True


def _pair_of(particle: str) -> str:
    for with_consonant, without in _PAIRS:
        if particle in (with_consonant, without):
            if with_consonant == "으로":
                return "(으)로"
            if len(with_consonant) > 1:
                return f"(이){with_consonant[1:]}"
            return f"{with_consonant}({without})"
    return particle


def particle_problems(text: str) -> list[str]:
    """Particles that guess (after a placeholder) or get wrong (after code that ends in a
    Korean syllable or a number) the final consonant of the word before them."""
    found: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        rest = text[match.end() :]
        if _COMBINED.match(rest):
            continue
        particle = _AFTER.match(rest)
        if particle:
            found.append(
                f"{match.group()} {particle.group(1)}: the value is unknown, "
                f"write {_pair_of(particle.group(1))} or no particle"
            )
    for match in _CODE.finditer(text):
        code = match.group()[1:-1]
        ending = _final_consonant(code)
        if ending is None or _PLACEHOLDER.search(code[-12:]):
            continue
        rest = text[match.end() :]
        if _COMBINED.match(rest):
            continue
        particle = _AFTER.match(rest)
        if particle and not _right_form(particle.group(1), ending):
            found.append(
                f"`{code}` {particle.group(1)}: `{code}` is read with "
                f"{'a final consonant' if ending != 'no' else 'no final consonant'}"
            )
    return found


def korean_problems(text: str, glossary: Glossary) -> list[str]:
    """Every wording problem of one Korean text."""
    return glossary_problems(text, glossary) + particle_problems(text)


# --- multiple choice --------------------------------------------------------------------


def strictly_longest(options: Sequence[str], answer: int) -> bool:
    """Whether the right option is longer than every other one (a giveaway)."""
    right = len(options[answer])
    return all(right > len(option) for index, option in enumerate(options) if index != answer)


@dataclass(frozen=True)
class OptionStats:
    """How many multiple-choice questions give their answer away by length, per language."""

    total: int = 0
    longest: Mapping[str, int] = field(default_factory=dict)
    either: int = 0  # strictly longest in at least one language

    def share(self, locale: str | None = None) -> float:
        count = self.either if locale is None else self.longest.get(locale, 0)
        return count / self.total if self.total else 0.0

    def ok(self) -> bool:
        return self.share() < MAX_LONGEST_SHARE

    def render(self) -> str:
        parts = [f"{loc} {n}/{self.total}" for loc, n in sorted(self.longest.items())]
        return (
            f"right option strictly longest: {', '.join(parts)}; in either language "
            f"{self.either}/{self.total} ({self.share():.0%}, limit {MAX_LONGEST_SHARE:.0%})"
        )


def longest_option_stats(
    questions: Iterable[tuple[Mapping[str, Sequence[str]], int]],
) -> OptionStats:
    """``questions``: each as (options per locale, index of the right option)."""
    total = either = 0
    longest: dict[str, int] = {}
    for by_locale, answer in questions:
        total += 1
        hits = [loc for loc, options in by_locale.items() if strictly_longest(options, answer)]
        for locale in by_locale:
            longest[locale] = longest.get(locale, 0) + (locale in hits)
        either += bool(hits)
    return OptionStats(total, longest, either)


def longest_option_warning(by_locale: Mapping[str, Sequence[str]], answer: int) -> str | None:
    """A warning when the right option is the strictly longest in some language."""
    hits = sorted(loc for loc, options in by_locale.items() if strictly_longest(options, answer))
    if not hits:
        return None
    return (
        f"the right option is the strictly longest ({', '.join(hits)}): "
        "make a wrong option as long, or the right one shorter"
    )


# --- typed commands ---------------------------------------------------------------------


def variant_problems(
    answer: str,
    accept: Sequence[str],
    reject: Sequence[str],
    grade: Callable[[str], bool] | None = None,
    variants: Sequence[str] = (),
    grade_answer_only: Callable[[str], bool] | None = None,
) -> list[str]:
    """Problems with a typed-command question's lines.

    ``accept`` lists other right answers that the grader cannot know (another way of doing
    the task); ``variants`` lists spellings a Docker engineer would type that the grader's
    equivalences must accept; ``reject`` lists near misses that must be graded wrong. A
    question needs at least one accepted line besides ``answer`` (in either list) and at
    least one near miss; no line may be listed twice.

    ``grade`` (typed line → graded right?) checks every line grades as listed;
    ``grade_answer_only`` (the same, with ``answer`` alone accepted) finds ``accept`` lines the
    equivalences already take: they belong in ``variants``, so that ``accept`` stays short.
    """
    found: list[str] = []
    if not accept and not variants:
        found.append(
            "variants: list spellings a Docker engineer would type (graded right by the "
            "grader's equivalences), or accept: other right answers"
        )
    if not reject:
        found.append("reject: list at least one near miss that must be graded wrong")
    lines = [answer, *accept, *variants, *reject]
    for line in sorted({line for line in lines if lines.count(line) > 1}):
        found.append(f"{line!r} is listed more than once")
    if grade_answer_only is not None:
        for line in accept:
            if grade_answer_only(line):
                found.append(
                    f"accept line {line!r} is already graded right by the grader's "
                    "equivalences: move it to variants"
                )
    if grade is None:
        return found
    for line in (answer, *accept, *variants):
        if not grade(line):
            found.append(f"accepted line {line!r} is graded wrong")
    for line in reject:
        if grade(line):
            found.append(f"rejected line {line!r} is graded right")
    return found
