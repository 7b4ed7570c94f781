"""Every example command in the concepts does what the content claims, in a real sandbox.

``sandbox: runs`` examples run in order, per concept, in a fresh sandbox, and succeed;
``sandbox: refused`` examples come back as an error that gives a reason. ``not-in-sandbox``
examples are explanations only and are not sent.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.coach import Coach, load_content
from bot.concepts.models import Concept, SandboxSupport
from bot.concepts.validation import CONCEPTS
from bot.core.context import Actor
from bot.core.reply import Reply, Tone
from bot.settings import REPO_ROOT

pytestmark = pytest.mark.docker

CONCEPTS: list[Concept] = sorted(
    load_content(REPO_ROOT / "content").items(CONCEPTS).values(), key=lambda c: (c.order, c.id)
)
TRIED = [
    c for c in CONCEPTS if any(e.sandbox is not SandboxSupport.NOT_IN_SANDBOX for e in c.examples)
]


def _describe(replies: list[Reply]) -> str:
    return "\n".join(f"[{r.tone}] {r.title or ''} {r.body or ''}\n{r.code or ''}" for r in replies)


@pytest.mark.parametrize("concept", TRIED, ids=[c.id for c in TRIED])
async def test_examples_do_what_the_concept_says(coach: Coach, concept: Concept) -> None:
    actor = Actor(user_id=f"ex-{concept.id[:20]}-{uuid.uuid4().hex[:6]}", display_name="ex")
    try:
        for example in concept.examples:
            if example.sandbox is SandboxSupport.NOT_IN_SANDBOX:
                continue
            kind = "sh" if example.shell else "docker"
            replies = await coach.run(actor, (kind,), {"command": example.command})
            shown = f"{concept.id}: `{example.command}` →\n{_describe(replies)}"
            tones = {reply.tone for reply in replies}
            if example.sandbox is SandboxSupport.RUNS:
                assert Tone.ERROR not in tones and Tone.WARNING not in tones, shown
            else:
                refusal = next((r for r in replies if r.tone is Tone.ERROR), None)
                assert refusal is not None, f"expected a refusal: {shown}"
                assert len((refusal.body or "").strip()) > 10, f"refusal gives no reason: {shown}"
    finally:
        await _clean_up(coach, actor)


async def _clean_up(coach: Coach, actor: Actor) -> None:
    """Destroy the sandbox; once more after a pause if a ``--rm`` removal was still running."""
    service = coach.sandbox.reader
    try:
        await service.destroy_user(actor.user_id)
    except Exception:
        await asyncio.sleep(1.0)
        await service.destroy_user(actor.user_id)
