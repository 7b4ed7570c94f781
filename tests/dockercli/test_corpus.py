"""Parser fidelity: real command lines from Docker's documentation either run in the sandbox,
are refused by the policy with a reason, or (rarely) are not supported.

The lines are data (``corpus/docker_docs.tsv``, each with the page it comes from). A line
*runs* when the grammar reads it and the policy allows it (its operation exists); it is
*refused* when the policy says no, naming the flag and why, in both languages; anything else
— a command the sandbox does not run, a flag it does not know, a value it cannot read — is
*unsupported*. The share of each is printed; unsupported must stay under 5 %.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.content.library import load_library
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.dockercli import CliError, parse_docker
from bot.sandbox import policy
from bot.sandbox.ops import OPERATIONS
from bot.settings import REPO_ROOT, SandboxSettings

CORPUS = Path(__file__).parent / "corpus" / "docker_docs.tsv"
CONFIG = policy.PolicyConfig.from_settings(SandboxSettings())
MAX_UNSUPPORTED = 0.05


def corpus() -> list[tuple[str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            source, command = line.split("\t", 1)
            rows.append((source, command))
    return rows


def classify(command: str) -> tuple[str, str]:
    """``(runs | refused | unsupported, detail)`` for one command line."""
    try:
        cmd = parse_docker(command)
    except CliError as exc:
        return "unsupported", exc.key
    verdict = policy.check(cmd, CONFIG)
    if verdict.refusal is not None:
        return "refused", verdict.refusal.key
    assert cmd.path in OPERATIONS
    return "runs", " ".join(cmd.path)


def test_the_corpus_is_real_and_large() -> None:
    rows = corpus()
    assert len(rows) >= 300
    assert all(source and command.startswith("docker ") for source, command in rows)
    pages = {source for source, _ in rows}
    assert len(pages) >= 40  # many pages, not one page's lines repeated


def test_share_that_runs_is_refused_or_is_unsupported(capsys: pytest.CaptureFixture[str]) -> None:
    rows = corpus()
    outcome = [(source, command, *classify(command)) for source, command in rows]
    counts = Counter(kind for _s, _c, kind, _d in outcome)
    total = len(outcome)
    unsupported = [(s, c, d) for s, c, kind, d in outcome if kind == "unsupported"]
    with capsys.disabled():
        print(f"\nDocker docs corpus: {total} command lines from {len({s for s, _ in rows})} pages")
        for kind in ("runs", "refused", "unsupported"):
            print(f"  {kind:<12} {counts[kind]:>4}  {100 * counts[kind] / total:5.1f} %")
        refusals = Counter(d for _s, _c, kind, d in outcome if kind == "refused")
        print("  refusals by rule: " + ", ".join(f"{k} {n}" for k, n in refusals.most_common()))
        for source, command, detail in unsupported:
            print(f"  unsupported ({detail}): {command}    [{source}]")
    assert counts["unsupported"] / total < MAX_UNSUPPORTED


_CATALOG = load_library(REPO_ROOT / "content").catalog


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_every_refusal_names_the_flag_and_says_why(locale: str) -> None:
    tr = Translator(_CATALOG, locale)
    for _source, command in corpus():
        try:
            cmd = parse_docker(command)
        except CliError:
            continue
        verdict = policy.check(cmd, CONFIG)
        if verdict.refusal is None:
            continue
        refusal: Refused = verdict.refusal
        assert refusal.params.get("flag"), command
        text = tr(refusal.key, **refusal.params)
        assert text and refusal.key not in text, (command, text)
