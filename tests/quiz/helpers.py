"""Helpers to play quiz rounds through the coach, as a front end would."""

from __future__ import annotations

from bot.coach import Coach
from bot.core.context import Actor
from bot.core.reply import Reply
from bot.quiz.content import QUESTIONS, Question
from bot.quiz.question_types.buttons import ButtonQuestion


def asks(reply: Reply) -> bool:
    """Whether ``reply`` asks something: a prompt, or choices that can still be pressed (a
    finished round shows its last question's buttons, disabled)."""
    return reply.prompt is not None or any(not c.disabled for c in reply.choices)


def question_reply(replies: list[Reply]) -> Reply:
    """The reply that asks a question (buttons or a typed prompt)."""
    asking = [r for r in replies if asks(r)]
    assert asking, [r.title for r in replies]
    return asking[-1]


def correct_option(question: Question) -> int:
    """The content position of the right option of a choice or true/false question."""
    kind = question.kind
    assert isinstance(kind, ButtonQuestion), question.id
    return kind.correct_option(question)


async def current_question(coach: Coach, reply: Reply) -> tuple[int, int, Question, tuple]:
    """Round id, position, question and option order behind a question reply."""
    action = reply.prompt.action if reply.prompt else reply.choices[0].action
    parts = action.split(":")
    round_id, position = int(parts[2]), int(parts[3])
    assert coach.store is not None
    round_ = await coach.store.quiz.round(round_id)
    assert round_ is not None
    slot = round_.questions[position]
    return round_id, position, coach.library.items(QUESTIONS)[slot.question_id], slot.option_order


async def answer(coach: Coach, actor: Actor, reply: Reply, right: bool) -> list[Reply]:
    """Answer the question in ``reply`` rightly or wrongly."""
    _, _, question, order = await current_question(coach, reply)
    if reply.prompt is not None:  # a typed command
        typed = str(question.answer) if right else "docker ps"
        return await coach.press(actor, reply.prompt.action, typed)
    shown = order or (0, 1)
    button = next(
        i for i, option in enumerate(shown) if (option == correct_option(question)) == right
    )
    return await coach.press(actor, reply.choices[button].action)
